"""The checks of one inventory (root or version): structure, digests, paths, versions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..validation_codes import (
    CONTENT_ALGORITHMS,
    DIGEST_ALGORITHMS,
    SPEC_VERSIONS,
    DigestAlgorithm,
)
from .base import (
    _BAD_ELEMENTS,
    _HEX,
    _INVENTORY_KEYS,
    _INVENTORY_TYPE,
    _URI,
    _USER_KEYS,
    _VERSION_KEYS,
    _VERSION_NAME,
    _conflicts,
    _datetime_problem,
    _duplicates,
    _names,
    _show,
)

# -- inventories ---------------------------------------------------------------------------

AddIssue = Callable[[str, str, str, str | None, str | None], None]


@dataclass
class _Inventory:
    """What the checks made of one inventory; only its well-formed parts are kept."""

    where: str
    """Path of the inventory in the object: ``inventory.json``, ``v2/inventory.json``."""
    raw: bytes
    data: dict[str, Any] | None = None
    object_id: str | None = None
    spec_version: str | None = None
    algorithm: str | None = None
    head: str | None = None
    content_dir: str = "content"
    content_dir_set: bool = False
    versions: list[str] = field(default_factory=list)
    """Well-formed version names, in order of number."""
    versions_ok: bool = False
    manifest_ok: bool = False
    manifest: dict[str, str] = field(default_factory=dict)
    """Content path -> normalised digest."""
    paths_of: dict[str, list[str]] = field(default_factory=dict)
    fixity: dict[str, dict[str, str]] = field(default_factory=dict)
    """Algorithm -> content path -> normalised digest."""
    states: dict[str, dict[str, str]] = field(default_factory=dict)
    """Version -> logical path -> normalised digest."""
    blocks: dict[str, dict[str, Any]] = field(default_factory=dict)
    digest: str | None = None
    """Digest of ``raw`` with ``digest_algorithm``, once the sidecar check computed it."""
    digest_algorithm: str | None = None


class _InventoryChecker:
    """The checks of one inventory on its own (no file system access)."""

    def __init__(self, inv: _Inventory, add: AddIssue, version_dir: str | None) -> None:
        self.inv = inv
        self._add = add
        self.version_dir = version_dir
        self.manifest_keys: dict[str, str] = {}
        """Normalised digest -> the manifest key as written."""
        self.manifest_exact: set[str] = set()
        self.states_complete = True

    def add(
        self, code: str, message: str, expected: str | None = None, found: str | None = None
    ) -> None:
        self._add(code, self.inv.where, message, expected, found)

    def run(self, data: Any) -> None:
        if not isinstance(data, dict):
            self.add("E033", f"{self.inv.where} is not a JSON object", "a JSON object", _show(data))
            return
        self.inv.data = data
        for key in _duplicates(data):
            self.add("E033", f"key {key!r} appears more than once", None, key)
        for key in sorted(data.keys() - _INVENTORY_KEYS):
            if key.lower() in ("versions", "version") and "versions" not in data:
                self.add("E044", f"the versions block is under the key {key!r}", "versions", key)
            elif key.lower() in ("fixity", "fixities") and "fixity" not in data:
                self.add("E055", f"the fixity block is under the key {key!r}", "fixity", key)
            else:
                self.add("E102", f"key {key!r} is not defined by the specification", None, key)
        self._check_id(data)
        self._check_type(data)
        self._check_algorithm(data)
        self._check_content_dir(data)
        versions = self._check_versions(data)
        self._check_manifest(data)
        used: set[str] = set()
        if versions is not None:
            for name in self.inv.versions:
                self._check_version(name, versions[name], used)
        self._check_head(data)
        if self.inv.manifest_ok and self.inv.versions_ok and self.states_complete:
            for norm, written in self.manifest_keys.items():
                if norm not in used:
                    paths = _names(self.inv.paths_of.get(norm, [])) or written
                    self.add(
                        "E107", f"manifest digest of {paths} is used by no version", None, written
                    )
        if "fixity" in data:
            self._check_fixity(data["fixity"])

    # -- basic keys

    def _check_id(self, data: dict[str, Any]) -> None:
        if "id" not in data:
            self.add("E036", "the inventory has no id")
            return
        value = data["id"]
        if not isinstance(value, str) or not value:
            self.add("E037", "id is not a non-empty string", "a string", _show(value))
            return
        self.inv.object_id = value
        if not _URI.fullmatch(value):
            self.add("W005", f"id {value!r} is not a URI", "a URI", value)

    def _check_type(self, data: dict[str, Any]) -> None:
        if "type" not in data:
            self.add("E036", "the inventory has no type")
            return
        value = data["type"]
        m = _INVENTORY_TYPE.fullmatch(value) if isinstance(value, str) else None
        if m is None or m.group(1) not in SPEC_VERSIONS:
            expected = "https://ocfl.io/1.1/spec/#inventory"
            self.add(
                "E038", "type is not the inventory URI of an OCFL version", expected, _show(value)
            )
            return
        self.inv.spec_version = m.group(1)

    def _check_algorithm(self, data: dict[str, Any]) -> None:
        if "digestAlgorithm" not in data:
            self.add("E036", "the inventory has no digestAlgorithm")
            return
        value = data["digestAlgorithm"]
        if not isinstance(value, str):
            self.add("E025", "digestAlgorithm is not a string", "sha512", _show(value))
            return
        self.inv.algorithm = value
        if value == "sha256":
            self.add("W004", "digestAlgorithm is sha256; sha512 is recommended", "sha512", value)
        elif value not in CONTENT_ALGORITHMS:
            self.add(
                "E025", f"digestAlgorithm {value!r} is neither sha512 nor sha256", "sha512", value
            )

    def _check_content_dir(self, data: dict[str, Any]) -> None:
        if "contentDirectory" not in data:
            return
        value = data["contentDirectory"]
        if not isinstance(value, str) or "/" in value:
            self.add(
                "E017",
                "contentDirectory is not a name without '/'",
                "a directory name",
                _show(value),
            )
        elif value in (".", ".."):
            self.add("E018", f"contentDirectory is {value!r}", "a directory name", value)
        elif not value or "\x00" in value:
            self.add(
                "E108", "contentDirectory is not a directory name", "a directory name", _show(value)
            )
        else:
            self.inv.content_dir = value
            self.inv.content_dir_set = True

    # -- versions

    def _check_versions(self, data: dict[str, Any]) -> dict[str, Any] | None:
        if "versions" not in data:
            if not any(k.lower() in ("versions", "version") for k in data):  # else E044
                self.add("E043", "the inventory has no versions block")
            return None
        versions = data["versions"]
        if not isinstance(versions, dict):
            self.add("E045", "versions is not a JSON object", "a JSON object", _show(versions))
            return None
        for key in _duplicates(versions):
            self.add("E033", f"version {key!r} appears more than once", None, key)
        if not versions:
            self.add("E008", "versions is empty: an object has at least one version")
            return None
        self.inv.versions = self._version_sequence(list(versions))
        self.inv.versions_ok = True
        return versions

    def _version_sequence(self, keys: list[str]) -> list[str]:
        """The well-formed version names in order; reports naming and sequence problems."""
        plain = [f"v{n}" for n in range(1, len(keys) + 1)]
        if set(keys) == set(plain):  # the common case: v1..vN, nothing to report
            return plain
        numbered: list[tuple[int, str]] = []
        for key in keys:
            if not _VERSION_NAME.fullmatch(key):
                self.add(
                    "E104", f"version name {key!r} is not 'v' and a number", "v1, v2, ...", key
                )
            elif int(key[1:]) == 0:
                self.add("E105", f"version {key}: version numbers start at 1", "v1, v2, ...", key)
            else:
                numbered.append((int(key[1:]), key))
        if len(numbered) < len(keys):
            self.states_complete = False
        if not numbered:
            return []
        numbered.sort()
        ones = [k for n, k in numbered if n == 1]
        if not ones:
            self.add(
                "E009",
                f"there is no version 1 (the first is {numbered[0][1]})",
                "v1",
                numbered[0][1],
            )
        ref = min(ones, key=len) if ones else numbered[0][1]
        width = len(ref) - 1 if ref[1] == "0" else 0
        if width:
            self.add("W001", f"version names are zero-padded ({ref})", "v1", ref)
        good: list[tuple[int, str]] = []
        for n, key in numbered:
            digits = key[1:]
            if width and not digits.startswith("0"):
                self.add(
                    "E011", f"{key} does not start with v0 although {ref} is zero-padded", None, key
                )
                self.add("E013", f"{key} breaks the naming convention set by {ref}", None, key)
            elif (width and len(digits) != width) or (not width and digits.startswith("0")):
                self.add("E012", f"{key} and {ref} use different naming conventions", None, key)
            else:
                good.append((n, key))
                continue
            self.states_complete = False
        numbers = {n for n, _ in good}
        top = max(numbers, default=0)
        missing = [
            f"v{n:0{width}d}" if width else f"v{n}" for n in range(2, top + 1) if n not in numbers
        ]
        if missing:
            self.add(
                "E010",
                f"versions are not continuous: {_names(missing)} missing",
                None,
                ", ".join(missing),
            )
        return [k for _, k in good]

    def _check_head(self, data: dict[str, Any]) -> None:
        if "head" not in data:
            self.add("E036", "the inventory has no head")
            return
        head = data["head"]
        highest = self.inv.versions[-1] if self.inv.versions else None
        if not isinstance(head, str):
            self.add("E040", "head is not a version name", highest, _show(head))
            return
        self.inv.head = head
        if self.version_dir is not None and head != self.version_dir:
            self.add(
                "E040",
                f"head is {head} in the inventory of {self.version_dir}",
                self.version_dir,
                head,
            )
        elif highest is not None and head != highest:
            self.add("E040", f"head is {head}, the highest version is {highest}", highest, head)

    def _check_version(self, name: str, block: Any, used: set[str]) -> None:
        if not isinstance(block, dict):
            self.add("E047", f"version {name} is not a JSON object", "a JSON object", _show(block))
            self.states_complete = False
            return
        for key in _duplicates(block):
            self.add("E033", f"version {name}: key {key!r} appears more than once", None, key)
        for key in sorted(block.keys() - _VERSION_KEYS):
            self.add(
                "E102",
                f"version {name}: key {key!r} is not defined by the specification",
                None,
                key,
            )
        self.inv.blocks[name] = block
        self._check_created(name, block)
        if "state" not in block:
            self.add("E048", f"version {name} has no state")
            self.states_complete = False
        else:
            self._check_state(name, block["state"], used)
        missing = [key for key in ("message", "user") if key not in block]
        if missing:
            self.add("W007", f"version {name} has no {' and no '.join(missing)}")
        if "message" in block and not isinstance(block["message"], str):
            self.add(
                "E094",
                f"version {name}: message is not a string",
                "a string",
                _show(block["message"]),
            )
        if "user" in block:
            self._check_user(name, block["user"])

    def _check_created(self, name: str, block: dict[str, Any]) -> None:
        if "created" not in block:
            self.add("E048", f"version {name} has no created")
            return
        value = block["created"]
        expected = "an RFC 3339 date-time with time zone, e.g. 2024-05-01T12:00:00Z"
        if not isinstance(value, str):
            self.add("E049", f"version {name}: created is not a string", expected, _show(value))
        elif (problem := _datetime_problem(value)) is not None:
            self.add("E049", f"version {name}: created {value!r} {problem}", expected, value)

    def _check_user(self, name: str, user: Any) -> None:
        if not isinstance(user, dict):
            self.add(
                "E054", f"version {name}: user is not a JSON object", "a JSON object", _show(user)
            )
            return
        for key in sorted(user.keys() - _USER_KEYS):
            self.add(
                "E102",
                f"version {name}: user key {key!r} is not defined by the specification",
                None,
                key,
            )
        if not isinstance(user.get("name"), str):
            self.add(
                "E054",
                f"version {name}: user has no name string",
                "a string",
                _show(user.get("name")),
            )
        if "address" not in user:
            self.add("W008", f"version {name}: user has no address")
        elif not isinstance(user["address"], str):
            self.add(
                "E054",
                f"version {name}: user address is not a string",
                "a URI",
                _show(user["address"]),
            )
        elif not _URI.fullmatch(user["address"]):
            self.add(
                "W009",
                f"version {name}: user address {user['address']!r} is not a URI",
                "a URI",
                user["address"],
            )

    def _check_state(self, name: str, state: Any, used: set[str]) -> None:
        if not isinstance(state, dict):
            self.add(
                "E050", f"version {name}: state is not a JSON object", "a JSON object", _show(state)
            )
            self.states_complete = False
            return
        for key in _duplicates(state):
            self.add("E050", f"version {name}: state lists digest {key} more than once", None, key)
        algorithm = DIGEST_ALGORITHMS.get(self.inv.algorithm or "")
        logical: dict[str, str] = {}
        for digest, paths in state.items():
            norm = algorithm.normalize(digest) if algorithm else digest.lower()
            used.add(norm)
            if self.inv.manifest_ok and digest not in self.manifest_exact:
                written = self.manifest_keys.get(norm)
                if written is not None:
                    self.add(
                        "E050",
                        f"version {name}: state digest differs in case from the manifest's",
                        written,
                        digest,
                    )
                else:
                    self.add(
                        "E050", f"version {name}: state digest is not in the manifest", None, digest
                    )
            if not isinstance(paths, list):
                self.add(
                    "E051",
                    f"version {name}: the logical paths of {digest} are not an array",
                    None,
                    _show(paths),
                )
                continue
            for path in paths:
                if self._logical_path_ok(name, path):
                    if path in logical:
                        self.add(
                            "E095",
                            f"version {name}: logical path {path!r} appears more than once",
                            None,
                            path,
                        )
                    else:
                        logical[path] = norm
        for prefix, path in _conflicts(logical):
            self.add(
                "E095",
                f"version {name}: logical path {prefix!r} is also a directory of {path!r}",
                None,
                prefix,
            )
        self.inv.states[name] = logical

    def _logical_path_ok(self, name: str, path: Any) -> bool:
        if not isinstance(path, str) or not path:
            self.add(
                "E051",
                f"version {name}: a logical path is not a non-empty string",
                None,
                _show(path),
            )
        elif path.startswith("/") or path.endswith("/"):
            self.add(
                "E053", f"version {name}: logical path {path!r} begins or ends with '/'", None, path
            )
        elif not _BAD_ELEMENTS.isdisjoint(path.split("/")):
            self.add(
                "E052",
                f"version {name}: logical path {path!r} has an empty, '.' or '..' element",
                None,
                path,
            )
        else:
            return True
        return False

    # -- manifest and fixity

    def _check_manifest(self, data: dict[str, Any]) -> None:
        if "manifest" not in data:
            self.add("E041", "the inventory has no manifest block")
            return
        manifest = data["manifest"]
        if not isinstance(manifest, dict):
            self.add("E106", "manifest is not a JSON object", "a JSON object", _show(manifest))
            return
        inv = self.inv
        inv.manifest_ok = True
        for key in _duplicates(manifest):
            self.add("E096", f"manifest digest {key} is listed more than once", None, key)
        algorithm = DIGEST_ALGORITHMS.get(inv.algorithm or "")
        for digest, paths in manifest.items():
            norm = self._digest_key(digest, algorithm, "manifest")
            self.manifest_exact.add(digest)
            if norm in self.manifest_keys:
                first = self.manifest_keys[norm]
                self.add(
                    "E096",
                    f"manifest digest {digest} repeats {first} (digests ignore case)",
                    first,
                    digest,
                )
            else:
                self.manifest_keys[norm] = digest
            if not isinstance(paths, list) or not paths:
                self.add(
                    "E092",
                    f"manifest entry {digest} is not a non-empty array of content paths",
                    None,
                    _show(paths),
                )
                continue
            for path in paths:
                if not self._content_path_ok(path, "E092", "manifest"):
                    continue
                if path in inv.manifest:
                    self.add("E101", f"content path {path} is listed more than once", None, path)
                    continue
                inv.manifest[path] = norm
                inv.paths_of.setdefault(norm, []).append(path)
        for prefix, path in _conflicts(inv.manifest):
            self.add("E101", f"content path {prefix} is also a directory of {path}", None, prefix)

    def _digest_key(self, digest: str, algorithm: DigestAlgorithm | None, block: str) -> str:
        """The normalised digest; reports a value that is not of ``algorithm``."""
        if algorithm is None:
            return digest.lower()
        if not algorithm.pattern.fullmatch(digest):
            is_hex = _HEX.fullmatch(digest) is not None
            if block == "manifest":
                code = "E039" if is_hex else (algorithm.hex_code or "E039")
            else:
                code = algorithm.hex_code if algorithm.hex_code and not is_hex else "E057"
            self.add(
                code,
                f"{block} key {digest!r} is not a {algorithm.name} value",
                f"a {algorithm.name} value",
                digest,
            )
        return algorithm.normalize(digest)

    def _content_path_ok(self, path: Any, code: str, block: str) -> bool:
        """Checks one content path of the manifest or a fixity block; reports and returns False if bad."""
        inv = self.inv
        if not isinstance(path, str):
            self.add(code, f"a {block} content path is not a string", None, _show(path))
            return False
        problem: tuple[str, str] | None = None
        parts = path.split("/")
        if not path or "\x00" in path:
            problem = ("E098", "is empty or contains NUL")
        elif path.startswith("/") or path.endswith("/"):
            problem = ("E100", "begins or ends with '/'")
        elif not _BAD_ELEMENTS.isdisjoint(parts):
            problem = ("E099", "has an empty, '.' or '..' element")
        elif len(parts) < 3:
            problem = (
                ("E035", "uses '\\' as separator")
                if "\\" in path
                else ("E042", f"is not inside a version's content directory ({inv.content_dir})")
            )
        elif inv.versions_ok and parts[0] not in inv.versions:
            problem = ("E014", f"is in {parts[0]}, which is not a version of this inventory")
        elif parts[1] != inv.content_dir and not inv.content_dir_set:
            problem = ("E021", "is not inside content/ (contentDirectory is not set)")
        elif parts[1] != inv.content_dir:
            problem = ("E042", f"is not inside the content directory {inv.content_dir!r}")
        if problem is None:
            return True
        self.add(problem[0], f"{block} content path {path!r} {problem[1]}", None, path)
        return False

    def _check_fixity(self, fixity: Any) -> None:
        if not isinstance(fixity, dict):
            self.add("E111", "fixity is not a JSON object", "a JSON object", _show(fixity))
            return
        for key in _duplicates(fixity):
            self.add("E056", f"fixity algorithm {key!r} appears more than once", None, key)
        for name, block in fixity.items():
            algorithm = DIGEST_ALGORITHMS.get(name)
            if algorithm is None:
                self.add(
                    "E056",
                    f"fixity algorithm {name!r} is not in the controlled vocabulary",
                    None,
                    name,
                )
                continue
            if not isinstance(block, dict):
                self.add(
                    "E057",
                    f"fixity block {name} is not a JSON object",
                    "a JSON object",
                    _show(block),
                )
                continue
            self.inv.fixity[name] = self._fixity_block(name, algorithm, block)

    def _fixity_block(
        self, name: str, algorithm: DigestAlgorithm, block: dict[str, Any]
    ) -> dict[str, str]:
        for key in _duplicates(block):
            self.add("E097", f"fixity {name} digest {key} is listed more than once", None, key)
        seen: dict[str, str] = {}
        result: dict[str, str] = {}
        for digest, paths in block.items():
            norm = self._digest_key(digest, algorithm, f"fixity {name}")
            if norm in seen:
                self.add(
                    "E097",
                    f"fixity {name} digest {digest} repeats {seen[norm]} (digests ignore case)",
                    seen[norm],
                    digest,
                )
            seen.setdefault(norm, digest)
            if not isinstance(paths, list):
                self.add(
                    "E057",
                    f"fixity {name} entry {digest} is not an array of content paths",
                    None,
                    _show(paths),
                )
                continue
            for path in paths:
                if not self._content_path_ok(path, "E057", f"fixity {name}"):
                    continue
                if self.inv.manifest_ok and path not in self.inv.manifest:
                    self.add(
                        "E057",
                        f"fixity {name} lists {path}, which the manifest does not",
                        None,
                        path,
                    )
                    continue
                result[path] = norm
        return result
