"""The checks of one OCFL object: declaration, inventories and sidecars, version
directories, every content file read once against every digest recorded for it."""

from __future__ import annotations

import contextlib
import os

from ..validation_codes import (
    REGISTERED_EXTENSIONS,
    SPEC_VERSIONS,
)
from .base import (
    _DIR_FLAGS,
    _HEX,
    _OBJECT_DECLARATION,
    _OBJECT_DECLARATION_T,
    _SIDECAR,
    _VERSION_NAME,
    DIR,
    FILE,
    INVENTORY,
    KEEP_OPEN,
    LINK,
    MAX_INVENTORY_BYTES,
    MAX_SMALL_FILE,
    OTHER,
    Issue,
    ObjectReport,
    _describe,
    _hash_bytes,
    _list_dir,
    _names,
    _one_line,
    _open_dir,
    _parse_json,
    _read_file,
    _show,
    _show_bytes,
    _version_key,
)
from .contents import _ContentChecks, _Expectation
from .inventory import (
    _Inventory,
    _InventoryChecker,
)

# -- objects -------------------------------------------------------------------------------


def _parse_sidecar(data: bytes) -> tuple[str | None, bool]:
    """(the digest it records, whether it reads exactly ``DIGEST inventory.json``)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, False
    m = _SIDECAR.fullmatch(text)
    if m:
        return m.group(1), True
    words = text.split()
    return (words[0] if words and _HEX.fullmatch(words[0]) else None), False


def validate_object(
    path: str | os.PathLike[str], *, check_digests: bool = True, expected_id: str | None = None
) -> ObjectReport:
    """Validate the OCFL object whose root is ``path``; see the module contract.

    ``check_digests=False`` skips hashing content files (inventories and their
    sidecars are still checked). ``expected_id``: the id the caller expects the
    object to hold (E083 if it holds another).
    """
    return _ObjectValidator(os.fspath(path), check_digests, expected_id).run()


class _ObjectValidator(_ContentChecks):
    """One run of the object checks; state shared by the steps of :meth:`run`."""

    def __init__(
        self,
        path: str,
        check_digests: bool,
        expected_id: str | None,
        report_path: str | None = None,
    ) -> None:
        self.path = path
        self.report_path = path if report_path is None else report_path
        self.check_digests = check_digests
        self.expected_id = expected_id
        self.issues: list[Issue] = []
        self.spec_version: str | None = None
        self.root: _Inventory | None = None
        self.reported: set[str] = set()
        """Object paths whose entry was already dealt with (declarations, sidecars...)."""
        self.listings: dict[str, dict[str, str]] = {}
        self.priors: dict[str, _Inventory] = {}
        self.inventory_sha512: dict[str, str] = {}
        self.spec_of: dict[str, str | None] = {}
        self.seen: dict[str, str] = {}
        """Kind of every entry found under a content directory, by object path."""
        self.files_by_version: dict[str, list[str]] = {}
        self.expect: dict[str, list[_Expectation]] = {}
        self.digests: dict[str, dict[str, str]] = {}
        self.unreadable: dict[str, str] = {}
        self.content_fds: dict[str, int] = {}
        self.bytes_read = 0
        self.files_hashed = 0

    def add(
        self,
        code: str,
        path: str,
        message: str,
        expected: str | None = None,
        found: str | None = None,
    ) -> None:
        self.issues.append(Issue(code, path, _one_line(message), expected, found))

    def run(self) -> ObjectReport:
        try:
            fd = os.open(self.path, _DIR_FLAGS)
        except OSError as exc:
            self.add("E003", ".", f"the object directory cannot be opened: {_describe(exc)}")
            return self._report()
        try:
            try:
                listing = _list_dir(fd)
            except OSError as exc:
                self.add("E003", ".", f"the object directory cannot be listed: {_describe(exc)}")
                return self._report()
            return self.run_open(fd, listing)
        finally:
            os.close(fd)

    def run_open(self, fd: int, listing: dict[str, str]) -> ObjectReport:
        """Validate the object whose root is open as ``fd`` and holds ``listing``."""
        try:
            self._validate(fd, listing)
        finally:
            for kept in self.content_fds.values():
                os.close(kept)
            self.content_fds.clear()
        return self._report()

    def _report(self) -> ObjectReport:
        root = self.root
        return ObjectReport(
            path=self.report_path,
            issues=tuple(self.issues),
            inventory=root.data if root is not None else None,
            object_id=root.object_id if root is not None else None,
            head=root.head if root is not None else None,
            spec_version=self.spec_version,
            digests=self.digests,
            inventory_sha512=self.inventory_sha512,
            bytes_read=self.bytes_read,
            files_hashed=self.files_hashed,
        )

    def _validate(self, fd: int, listing: dict[str, str]) -> None:
        self.spec_version = self._check_declaration(fd, listing)
        self.root = self._load_inventory(fd, listing, "", None)
        if self.root is not None:
            self._check_root_inventory(self.root)
        versions = self._version_dirs(listing)
        self._check_root_entries(fd, listing, versions)
        self._check_version_dirs(fd, listing, versions)
        self._collect_expectations()
        self._walk_contents(fd, versions)
        self._check_contents(versions)

    # -- declaration and root entries

    def _check_declaration(self, fd: int, listing: dict[str, str]) -> str | None:
        for name in listing:
            if "ocfl_object_" not in name or name.startswith("0="):
                continue
            if _OBJECT_DECLARATION_T.fullmatch(name):
                self.add(
                    "E005", name, f"declaration {name}: T must be 0", "0=ocfl_object_1.1", name
                )
                self.reported.add(name)
            elif name.startswith("ocfl_object_"):
                self.add(
                    "E004",
                    name,
                    f"declaration {name} is not named T=dvalue",
                    "0=ocfl_object_1.1",
                    name,
                )
                self.reported.add(name)
        names = [n for n in listing if n.startswith("0=")]
        if not names:
            self.add("E003", ".", "the object root has no declaration 0=ocfl_object_1.1")
            return None
        if len(names) > 1:
            self.add(
                "E003",
                ".",
                f"the object root has {len(names)} declarations; one is allowed",
                None,
                ", ".join(names),
            )
        found: list[str] = []
        for name in names:
            self.reported.add(name)
            m = _OBJECT_DECLARATION.fullmatch(name)
            if m is None or m.group(1) not in SPEC_VERSIONS:
                self.add(
                    "E006",
                    name,
                    f"declaration {name} does not name an OCFL object version",
                    "0=ocfl_object_1.1",
                    name,
                )
            elif listing[name] != FILE:
                self.add(
                    "E090" if listing[name] == LINK else "E003",
                    name,
                    f"declaration {name} is a {listing[name]}",
                )
            else:
                found.append(m.group(1))
                self._check_declaration_text(fd, name)
        return max(found, key=_version_key) if found else None

    def _check_declaration_text(self, fd: int, name: str) -> None:
        dvalue = name[2:]
        try:
            data = _read_file(name, fd, MAX_SMALL_FILE)
        except OSError as exc:
            self.add("E007", name, f"declaration {name} cannot be read: {_describe(exc)}")
            return
        if data != f"{dvalue}\n".encode():
            self.add(
                "E007",
                name,
                f"declaration {name} does not hold {dvalue!r} and a newline",
                f"{dvalue}\\n",
                _show_bytes(data),
            )

    def _version_dirs(self, listing: dict[str, str]) -> list[str]:
        """The version directories to examine: the inventory's, else the version-like ones."""
        if self.root is not None and self.root.versions_ok:
            return list(self.root.versions)
        names = [n for n, kind in listing.items() if kind == DIR and _VERSION_NAME.fullmatch(n)]
        return sorted(names, key=lambda n: int(n[1:]))

    def _check_root_entries(self, fd: int, listing: dict[str, str], versions: list[str]) -> None:
        known_versions = self.root is not None and self.root.versions_ok
        for name, kind in listing.items():
            if name in self.reported:
                continue
            if kind == LINK:
                self.add("E090", name, f"{name} is a symbolic link (not followed)")
            elif kind == OTHER:
                self.add("E089", name, f"{name} is a special file (FIFO, socket or device)")
            elif kind == DIR and (name in versions or name == "logs"):
                continue
            elif kind == DIR and name == "extensions":
                self._check_extensions(fd)
            elif kind == DIR and known_versions and _VERSION_NAME.fullmatch(name):
                self.add(
                    "E046", name, f"directory {name} is not a version of the inventory", None, name
                )
            elif name.lower() == INVENTORY or name.lower().startswith(INVENTORY + "."):
                self.add(
                    "E034",
                    name,
                    f"{name}: an inventory is named exactly {INVENTORY}",
                    INVENTORY,
                    name,
                )
            else:
                self.add("E001", name, f"unexpected {kind} {name} in the object root", None, name)

    def _check_extensions(self, fd: int) -> None:
        try:
            efd = _open_dir("extensions", fd)
            try:
                listing = _list_dir(efd)
            finally:
                os.close(efd)
        except OSError as exc:
            self.add("E067", "extensions", f"extensions cannot be listed: {_describe(exc)}")
            return
        for name, kind in listing.items():
            path = f"extensions/{name}"
            if kind == LINK:
                self.add("E090", path, f"{path} is a symbolic link (not followed)")
            elif kind != DIR:
                self.add(
                    "E067", path, f"{path} is a {kind}; extensions holds only extension directories"
                )
            elif name not in REGISTERED_EXTENSIONS:
                self.add(
                    "W013",
                    path,
                    f"extension {name!r} is not a registered extension name",
                    None,
                    name,
                )

    # -- inventories and sidecars

    def _load_inventory(
        self,
        fd: int,
        listing: dict[str, str],
        prefix: str,
        version_dir: str | None,
        raw: bytes | None = None,
    ) -> _Inventory | None:
        """Read, check and return the inventory of the directory ``prefix`` (None if unreadable)."""
        where = prefix + INVENTORY
        kind = listing.get(INVENTORY)
        self.reported.add(where)
        missing_code = "E063" if version_dir is None else "W010"
        if kind is None:
            holder = (
                "the object root" if version_dir is None else f"version directory {version_dir}"
            )
            self.add(missing_code, where, f"{holder} has no {INVENTORY}")
            return None
        if kind != FILE:
            self.add(
                "E090" if kind == LINK else missing_code, where, f"{where} is a {kind}, not a file"
            )
            return None
        if raw is None:
            try:
                raw = _read_file(INVENTORY, fd, MAX_INVENTORY_BYTES)
            except OSError as exc:
                self.add(
                    "E063" if version_dir is None else "E033",
                    where,
                    f"{where} cannot be read: {_describe(exc)}",
                )
                return None
        inv = _Inventory(where, raw)
        if len(raw) > MAX_INVENTORY_BYTES:
            self.add(
                "E033",
                where,
                f"{where} is larger than {MAX_INVENTORY_BYTES} bytes and was not parsed",
            )
            return inv
        data, problem = _parse_json(raw)
        if problem is not None:
            self.add("E033", where, f"{where} is {problem}")
        else:
            _InventoryChecker(inv, self.add, version_dir).run(data)
        self._check_sidecar(fd, listing, prefix, inv)
        return inv

    def _check_sidecar(
        self, fd: int, listing: dict[str, str], prefix: str, inv: _Inventory
    ) -> None:
        sidecars = [n for n in listing if n.startswith(INVENTORY + ".")]
        algorithm = inv.algorithm
        if algorithm is None and len(sidecars) == 1:
            algorithm = sidecars[0][len(INVENTORY) + 1 :]
        name = f"{INVENTORY}.{algorithm}" if algorithm else None
        if name is None and sidecars:  # several sidecars and no algorithm: none can be checked
            self.reported.update(prefix + s for s in sidecars)
            return
        if name is None or name not in listing:
            expected = prefix + (name or f"{INVENTORY}.<digestAlgorithm>")
            if sidecars and inv.algorithm is not None:
                other = prefix + sidecars[0]
                self.add(
                    "E059",
                    other,
                    f"the sidecar is {other}, but digestAlgorithm is {inv.algorithm}",
                    expected,
                    other,
                )
                self.reported.update(prefix + s for s in sidecars)
            else:
                self.add("E058", expected, f"{prefix}{INVENTORY} has no sidecar", expected, None)
            return
        where = prefix + name
        self.reported.add(where)
        if listing[name] != FILE:
            self.add(
                "E090" if listing[name] == LINK else "E058",
                where,
                f"{where} is a {listing[name]}, not a file",
            )
            return
        try:
            data = _read_file(name, fd, MAX_SMALL_FILE)
        except OSError as exc:
            self.add("E058", where, f"{where} cannot be read: {_describe(exc)}")
            return
        recorded, well_formed = _parse_sidecar(data)
        if not well_formed:
            self.add(
                "E061",
                where,
                f"{where} does not read 'DIGEST inventory.json'",
                "<digest> inventory.json",
                _show_bytes(data),
            )
        if recorded is None or algorithm is None:
            return
        actual = (
            inv.digest
            if inv.digest is not None and inv.digest_algorithm == algorithm
            else _hash_bytes(inv.raw, algorithm)
        )
        if actual is None:
            return
        inv.digest, inv.digest_algorithm = actual, algorithm
        if algorithm == "sha512":
            self.inventory_sha512[prefix] = actual
        if recorded.lower() != actual:
            self.add(
                "E060",
                where,
                f"{where} does not hold the {algorithm} of {prefix}{INVENTORY}",
                recorded,
                actual,
            )

    def _check_root_inventory(self, root: _Inventory) -> None:
        if self.spec_version and root.spec_version and root.spec_version != self.spec_version:
            self.add(
                "E038",
                INVENTORY,
                f"type is of OCFL {root.spec_version}, the declaration of OCFL {self.spec_version}",
                f"https://ocfl.io/{self.spec_version}/spec/#inventory",
                f"https://ocfl.io/{root.spec_version}/spec/#inventory",
            )
        if (
            self.expected_id is not None
            and root.data is not None
            and root.object_id != self.expected_id
        ):
            self.add(
                "E083",
                INVENTORY,
                "the object does not hold the id expected at its path",
                self.expected_id,
                root.object_id,
            )

    # -- version directories

    def _check_version_dirs(self, fd: int, listing: dict[str, str], versions: list[str]) -> None:
        present = []
        for index, name in enumerate(versions):
            kind = listing.get(name)
            if kind != DIR:
                detail = f" ({name} is a {kind})" if kind else ""
                self.add("E046", name, f"version {name} has no directory{detail}", name, kind)
                continue
            try:
                vfd = _open_dir(name, fd)
            except OSError as exc:
                self.add(
                    "E046", name, f"version directory {name} cannot be opened: {_describe(exc)}"
                )
                continue
            try:
                entries = _list_dir(vfd)
                self.listings[name] = entries
                self._check_version_inventory(vfd, entries, name, index, versions)
                self._keep_content_dir(vfd, name, entries)
            except OSError as exc:
                self.add(
                    "E046", name, f"version directory {name} cannot be listed: {_describe(exc)}"
                )
                continue
            finally:
                os.close(vfd)
            present.append(name)
            self._check_version_entries(name, entries)
        if self.root is not None and self.root.versions_ok and present:
            gaps = [v for v in versions[: versions.index(present[-1])] if v not in present]
            if gaps:
                self.add(
                    "E010",
                    ".",
                    f"version directories are not continuous: {_names(gaps)} missing",
                    None,
                    ", ".join(gaps),
                )
        self._check_spec_sequence(versions)

    def _keep_content_dir(self, vfd: int, version: str, entries: dict[str, str]) -> None:
        """Keep the content directory open for the content walk (saves reopening it)."""
        content_dir = self.root.content_dir if self.root is not None else "content"
        if entries.get(content_dir) == DIR and len(self.content_fds) < KEEP_OPEN:
            with contextlib.suppress(OSError):  # the content walk reports it
                self.content_fds[version] = _open_dir(content_dir, vfd)

    def _check_version_entries(self, version: str, entries: dict[str, str]) -> None:
        content_dir = self.root.content_dir if self.root is not None else "content"
        for name, kind in entries.items():
            path = f"{version}/{name}"
            if path in self.reported:
                continue
            if kind == LINK:
                self.add("E090", path, f"{path} is a symbolic link (not followed)")
            elif kind == OTHER:
                self.add("E089", path, f"{path} is a special file (FIFO, socket or device)")
            elif name == content_dir and kind == DIR:
                continue
            elif kind == DIR:
                self.add(
                    "W002",
                    path,
                    f"{path} is a directory other than the content directory (ignored)",
                )
            else:
                self.add(
                    "E015",
                    path,
                    f"{path}: a version directory holds only its inventory, sidecar and {content_dir}/",
                )

    def _check_version_inventory(
        self, vfd: int, entries: dict[str, str], version: str, index: int, versions: list[str]
    ) -> None:
        root = self.root
        prefix = version + "/"
        raw: bytes | None = None
        if index == len(versions) - 1 and root is not None and entries.get(INVENTORY) == FILE:
            try:
                raw = _read_file(INVENTORY, vfd, MAX_INVENTORY_BYTES)
            except OSError as exc:
                self.add(
                    "E033",
                    prefix + INVENTORY,
                    f"{prefix}{INVENTORY} cannot be read: {_describe(exc)}",
                )
                self.reported.add(prefix + INVENTORY)
                return
            if raw == root.raw:
                self.reported.add(prefix + INVENTORY)
                same = _Inventory(
                    prefix + INVENTORY,
                    raw,
                    algorithm=root.algorithm,
                    digest=root.digest,
                    digest_algorithm=root.digest_algorithm,
                )
                self._check_sidecar(vfd, entries, prefix, same)
                self.spec_of[version] = root.spec_version
                return
            self.add(
                "E064",
                prefix + INVENTORY,
                f"{prefix}{INVENTORY} is not the same file as the root inventory",
            )
        inv = self._load_inventory(vfd, entries, prefix, version, raw)
        if inv is None:
            return
        self.spec_of[version] = inv.spec_version
        if inv.data is not None and root is not None and root.data is not None and root.versions_ok:
            self.priors[version] = inv
            self._compare_prior(inv, root, version, index)

    def _check_spec_sequence(self, versions: list[str]) -> None:
        previous: tuple[str, str] | None = None
        for name in versions:
            spec = self.spec_of.get(name)
            if spec is None:
                continue
            if previous is not None and _version_key(spec) < _version_key(previous[1]):
                self.add(
                    "E103",
                    f"{name}/{INVENTORY}",
                    f"{name} conforms to OCFL {spec}, older than {previous[0]} (OCFL {previous[1]})",
                    f"OCFL {previous[1]} or later",
                    f"OCFL {spec}",
                )
            previous = (name, spec)

    # -- prior inventories against the root inventory

    def _compare_prior(self, prior: _Inventory, root: _Inventory, version: str, index: int) -> None:
        where = prior.where
        expected = root.versions[: index + 1]
        if prior.versions_ok and prior.versions != expected:
            self.add(
                "E066",
                where,
                f"{where} has versions {_names(prior.versions)}, expected {_names(expected)}",
                ", ".join(expected),
                ", ".join(prior.versions),
            )
        if root.object_id and prior.object_id and prior.object_id != root.object_id:
            self.add(
                "E037",
                where,
                f"{where} has id {prior.object_id!r}, the root inventory {root.object_id!r}",
                root.object_id,
                prior.object_id,
            )
            self.add(
                "E110",
                where,
                "the object id changed between versions",
                root.object_id,
                prior.object_id,
            )
        if prior.content_dir != root.content_dir:
            self.add(
                "E019" if index == 0 else "E020",
                where,
                f"contentDirectory is {prior.content_dir!r} here, {root.content_dir!r} in the root inventory",
                root.content_dir,
                prior.content_dir,
            )
        elif index == 0 and root.content_dir_set and not prior.content_dir_set:
            self.add(
                "E019",
                where,
                "the root inventory sets contentDirectory, the first version did not",
                root.content_dir,
                None,
            )
        for name in prior.versions:
            if name in prior.states and name in root.states:
                self._compare_state(prior, root, name)
            if name in prior.blocks and name in root.blocks:
                for key in ("created", "message", "user"):
                    mine, theirs = prior.blocks[name].get(key), root.blocks[name].get(key)
                    if mine != theirs:
                        self.add(
                            "W011",
                            where,
                            f"version {name}: {key} differs from the root inventory",
                            _show(theirs),
                            _show(mine),
                        )

    def _compare_state(self, prior: _Inventory, root: _Inventory, name: str) -> None:
        where = prior.where
        mine, theirs = prior.states[name], root.states[name]
        extra, lost = sorted(mine.keys() - theirs.keys()), sorted(theirs.keys() - mine.keys())
        if extra or lost:
            self.add(
                "E066",
                where,
                f"version {name} has other logical paths than in the root inventory "
                f"(only here: {_names(extra) or '-'}; only in the root: {_names(lost) or '-'})",
                ", ".join(lost) or None,
                ", ".join(extra) or None,
            )
        same_algorithm = prior.algorithm == root.algorithm
        for path in sorted(mine.keys() & theirs.keys()):
            a, b = mine[path], theirs[path]
            if same_algorithm:
                if a != b:
                    self.add(
                        "E066",
                        where,
                        f"version {name}: {path!r} has another digest than in the root inventory",
                        b,
                        a,
                    )
                continue
            here, there = set(prior.paths_of.get(a, ())), set(root.paths_of.get(b, ()))
            if here and there and not here <= there:
                self.add(
                    "E066",
                    where,
                    f"version {name}: {path!r} is other content than in the root inventory",
                    _names(sorted(there)),
                    _names(sorted(here)),
                )

    # -- content
