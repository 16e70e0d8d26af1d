"""The OCFL 1.1 format as this archive writes and reads it: names, layout, inventories.

Contract: the single home of OCFL knowledge shared by the writer
(:mod:`provarchive.store.storage`), ``verify`` and the validator: declaration and
inventory file names, the storage layout extension 0004 (object id -> object
path), object ids of documents, inventory construction and parsing, sidecars
and the staging journal format. Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from ..digests import Digests, load_json
from ..errors import CorruptArchiveError
from .validation import relative_path_problem

SPEC_VERSION = "1.1"
ROOT_DECLARATION = "0=ocfl_1.1"
OBJECT_DECLARATION = "0=ocfl_object_1.1"
INVENTORY = "inventory.json"
SIDECAR = "inventory.json.sha512"
INVENTORY_TYPE = "https://ocfl.io/1.1/spec/#inventory"
DIGEST_ALGORITHM = "sha512"
FIXITY_ALGORITHM = "sha256"
CONTENT_DIR = "content"
LAYOUT_EXTENSION = "0004-hashed-n-tuple-storage-layout"
LAYOUT_CONFIG = {
    "extensionName": LAYOUT_EXTENSION,
    "digestAlgorithm": "sha256",
    "tupleSize": 3,
    "numberOfTuples": 3,
    "shortObjectRoot": False,
}
OBJECT_ID_PREFIX = "provarchive:"
JOURNAL = "journal.json"
VERSION_DIR = re.compile(r"v([1-9][0-9]*)")  # use fullmatch
_CONTENT_PATH = re.compile(rf"v([1-9][0-9]*)/{CONTENT_DIR}/.+", re.DOTALL)


def read_journal(data: bytes) -> tuple[list[tuple[str, str]], int]:
    """The (document name, object path) of each entry of a staging batch's journal,
    and how many entries were malformed (not an object with a string name and a safe
    relative object path): a journal damaged on disk names what it can, never raises."""
    try:
        items = load_json(data)
    except ValueError:
        return [], 1
    if not isinstance(items, list):
        return [], 1
    good = [
        (item["name"], item["object_path"])
        for item in items
        if isinstance(item, dict)
        and isinstance(item.get("name"), str)
        and relative_path_problem(item.get("object_path")) is None
    ]
    return good, len(items) - len(good)


def object_id_for(name: str) -> str:
    """The OCFL object id of a document: a URI that round-trips to the name."""
    return OBJECT_ID_PREFIX + quote(name, safe="/")


def name_for_object_id(object_id: str) -> str:
    """Inverse of :func:`object_id_for`."""
    if not object_id.startswith(OBJECT_ID_PREFIX):
        raise ValueError(f"not a provarchive object id: {object_id!r}")
    return unquote(object_id[len(OBJECT_ID_PREFIX) :])


def is_foreign_id(object_id: object) -> bool:
    """True for an object id another tool wrote (a string without this archive's prefix):
    such an object is listed, never imported, changed or removed."""
    return isinstance(object_id, str) and not object_id.startswith(OBJECT_ID_PREFIX)


def object_path_for(object_id: str) -> str:
    """Object root relative to the storage root, per extension 0004."""
    digest = hashlib.sha256(object_id.encode("utf-8")).hexdigest()
    size = int(LAYOUT_CONFIG["tupleSize"])  # type: ignore[call-overload]
    count = int(LAYOUT_CONFIG["numberOfTuples"])  # type: ignore[call-overload]
    tuples = [digest[i * size : (i + 1) * size] for i in range(count)]
    return "/".join([*tuples, digest])


def content_path_problem(name: str) -> str | None:
    """Why ``name`` cannot be a logical and content path inside an object, or None: it
    must be a relative POSIX path of real segments, so that ``v<N>/content/<name>``
    stays inside the object's own folder."""
    if not name:
        return "the name is empty"
    if "\x00" in name:
        return "the name contains a NUL byte"
    if name.startswith("/"):
        return "the name is an absolute path"
    for segment in name.split("/"):
        if segment in ("", ".", ".."):
            return f"the name has a segment {segment!r}: it would not stay inside its object"
    return None


def inventory_bytes(inventory: dict[str, Any]) -> bytes:
    """The serialised form we write (stable, readable, sorted keys)."""
    return (json.dumps(inventory, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode(
        "utf-8"
    )


def sidecar_bytes(inventory_data: bytes) -> bytes:
    return f"{hashlib.sha512(inventory_data).hexdigest()}  {INVENTORY}\n".encode("ascii")


def parse_sidecar(data: bytes) -> str | None:
    """The digest recorded in a sidecar, or None if the sidecar is malformed."""
    try:
        text = data.decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    parts = text.split()
    if len(parts) != 2 or parts[1] != INVENTORY or not re.fullmatch(r"[0-9a-f]{128}", parts[0]):
        return None
    return parts[0]


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """One version of a document as its inventory records it."""

    number: int
    logical_path: str
    content_path: str
    sha512: str
    sha256: str
    created: str
    message: str
    user_name: str
    user_address: str | None

    @property
    def withdrawn(self) -> bool:
        """A withdrawal: a version whose state holds no file (``withdraw``)."""
        return not self.sha512


@dataclass(frozen=True)
class ObjectState:
    """A parsed, committed object: its root inventory and where it lives."""

    name: str
    object_id: str
    path: str
    inventory: dict[str, Any]
    versions: tuple[StoredVersion, ...]

    @property
    def head(self) -> int:
        return len(self.versions)

    def version(self, number: int) -> StoredVersion:
        return self.versions[number - 1]

    @property
    def withdrawn(self) -> bool:
        """The head version is a withdrawal: the document is withdrawn."""
        return bool(self.versions) and self.versions[-1].withdrawn

    def last_file(self, before: int | None = None) -> StoredVersion | None:
        """The latest version holding the file (below ``before``), or None."""
        for sv in reversed(self.versions[: (before or self.head + 1) - 1]):
            if not sv.withdrawn:
                return sv
        return None


def versions_from_inventory(
    inventory: dict[str, Any], where: Path | str
) -> tuple[StoredVersion, ...]:
    """Interpret an inventory as the versions of one single-file document.

    Raises CorruptArchiveError when the inventory is not one we could have written.
    """
    try:
        if inventory.get("digestAlgorithm") != DIGEST_ALGORITHM:
            raise CorruptArchiveError(where, "inventory digestAlgorithm is not sha512")
        manifest: dict[str, list[str]] = inventory["manifest"]
        fixity: dict[str, list[str]] = inventory.get("fixity", {}).get(FIXITY_ALGORITHM, {})
        sha256_of = {path: digest for digest, paths in fixity.items() for path in paths}
        content_of = {digest: paths[0] for digest, paths in manifest.items()}
        versions_block: dict[str, Any] = inventory["versions"]
        head = int(str(inventory["head"]).lstrip("v"))
        result = []
        for number in range(1, head + 1):
            block = versions_block[f"v{number}"]
            state: dict[str, list[str]] = block["state"]
            if len(state) > 1:
                raise CorruptArchiveError(where, f"v{number} state holds more than one file")
            # An empty state is a withdrawal: the file left the object at this version.
            ((sha512, logical_paths),) = state.items() if state else (("", [""]),)
            content_path = content_of[sha512] if sha512 else ""
            if sha512 and not _own_content_path(content_path, number):
                raise CorruptArchiveError(
                    where, f"v{number} content path {content_path!r} leaves its object"
                )
            user = block.get("user") or {}
            result.append(
                StoredVersion(
                    number=number,
                    logical_path=logical_paths[0],
                    content_path=content_path,
                    sha512=sha512,
                    sha256=sha256_of.get(content_path, ""),
                    created=str(block["created"]),
                    message=str(block.get("message", "")),
                    user_name=str(user.get("name", "")),
                    user_address=user.get("address"),
                )
            )
        return tuple(result)
    except CorruptArchiveError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CorruptArchiveError(where, f"inventory is not well formed ({exc!r})") from exc


def _own_content_path(path: object, number: int) -> bool:
    """A content path this archive writes: ``vK/content/...`` of this or an earlier
    version, with no absolute, empty, ``.`` or ``..`` element (so it stays in its object)."""
    if not isinstance(path, str) or relative_path_problem(path) is not None:
        return False
    m = _CONTENT_PATH.fullmatch(path)
    return m is not None and int(m.group(1)) <= number


def new_inventory(object_id: str) -> dict[str, Any]:
    return {
        "id": object_id,
        "type": INVENTORY_TYPE,
        "digestAlgorithm": DIGEST_ALGORITHM,
        "head": "v0",
        "contentDirectory": CONTENT_DIR,
        "manifest": {},
        "versions": {},
        "fixity": {FIXITY_ALGORITHM: {}},
    }


def add_version(
    inventory: dict[str, Any],
    *,
    logical_path: str,
    digests: Digests,
    created: str,
    message: str,
    user: dict[str, str],
) -> tuple[dict[str, Any], int, str | None]:
    """A new inventory with one more version; returns (inventory, number, new content path).

    The new content path is None when the bytes are already in the object
    (a document reverted to earlier bytes): OCFL deduplicates, the new version's
    state simply points at the existing content.
    """
    inv = json.loads(json.dumps(inventory))
    number = int(str(inv["head"]).lstrip("v")) + 1
    content_path: str | None = None
    if digests.sha512 not in inv["manifest"]:
        content_path = f"v{number}/{CONTENT_DIR}/{logical_path}"
        inv["manifest"][digests.sha512] = [content_path]
        inv["fixity"].setdefault(FIXITY_ALGORITHM, {}).setdefault(digests.sha256, []).append(
            content_path
        )
    inv["versions"][f"v{number}"] = {
        "created": created,
        "message": message,
        "user": dict(user),
        "state": {digests.sha512: [logical_path]},
    }
    inv["head"] = f"v{number}"
    return inv, number, content_path


def add_withdrawal(
    inventory: dict[str, Any], *, created: str, message: str, user: dict[str, str]
) -> tuple[dict[str, Any], int]:
    """A new inventory with one more version whose state is empty (the file withdrawn;
    its bytes stay in the manifest for the earlier versions, as OCFL intends)."""
    inv = json.loads(json.dumps(inventory))
    number = int(str(inv["head"]).lstrip("v")) + 1
    inv["versions"][f"v{number}"] = {
        "created": created,
        "message": message,
        "user": dict(user),
        "state": {},
    }
    inv["head"] = f"v{number}"
    return inv, number


def sha512_hex(data: bytes) -> str:
    return hashlib.sha512(data).hexdigest()
