"""The content half of an object's checks: every file under a content directory walked
through descriptors and read once, against every digest any inventory records for it."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..validation_codes import (
    DIGEST_ALGORITHMS,
)
from .base import (
    DIR,
    FILE,
    INVENTORY,
    LINK,
    MAX_DEPTH,
    _describe,
    _feed,
    _list_dir,
    _new_hashers,
    _open_dir,
    _open_file,
)
from .inventory import (
    _Inventory,
)

# -- objects -------------------------------------------------------------------------------


@dataclass
class _Expectation:
    algorithm: str
    digest: str
    code: str
    where: str


class _ContentChecks:
    """Mixed into the object validator, whose state it shares (set in its ``__init__``)."""

    check_digests: bool
    root: _Inventory | None
    listings: dict[str, dict[str, str]]
    priors: dict[str, _Inventory]
    seen: dict[str, str]
    files_by_version: dict[str, list[str]]
    expect: dict[str, list[_Expectation]]
    digests: dict[str, dict[str, str]]
    unreadable: dict[str, str]
    content_fds: dict[str, int]
    bytes_read: int
    files_hashed: int

    def add(
        self,
        code: str,
        path: str,
        message: str,
        expected: str | None = None,
        found: str | None = None,
    ) -> None:
        raise NotImplementedError

    def _collect_expectations(self) -> None:
        """Every digest some inventory records for a content path (each check once)."""
        sources = [self.root, *self.priors.values()]
        for inv in sources:
            if inv is None or inv.data is None:
                continue
            if inv.algorithm in DIGEST_ALGORITHMS:
                for path, digest in inv.manifest.items():
                    self._expect(path, _Expectation(inv.algorithm, digest, "E092", inv.where))
            for name, block in inv.fixity.items():
                for path, digest in block.items():
                    self._expect(path, _Expectation(name, digest, "E093", inv.where))

    def _expect(self, path: str, expectation: _Expectation) -> None:
        known = self.expect.setdefault(path, [])
        if not any(
            e.algorithm == expectation.algorithm and e.digest == expectation.digest for e in known
        ):
            known.append(expectation)

    def _walk_contents(self, fd: int, versions: list[str]) -> None:
        content_dir = self.root.content_dir if self.root is not None else "content"
        for name in versions:
            entries = self.listings.get(name)
            if entries is None:
                continue
            files: list[str] = []
            self.files_by_version[name] = files
            if entries.get(content_dir) != DIR:
                continue
            rel = f"{name}/{content_dir}"
            cfd = self.content_fds.pop(name, None)
            try:
                if cfd is None:
                    vfd = _open_dir(name, fd)
                    try:
                        cfd = _open_dir(content_dir, vfd)
                    finally:
                        os.close(vfd)
            except OSError as exc:
                self.add("E023", rel, f"{rel} cannot be opened: {_describe(exc)}")
                continue
            try:
                self._walk(cfd, rel, files, 0)
            finally:
                os.close(cfd)

    def _walk(self, dir_fd: int, rel: str, files: list[str], depth: int) -> None:
        try:
            entries = _list_dir(dir_fd)
        except OSError as exc:
            self.add("E023", rel, f"{rel} cannot be listed: {_describe(exc)}")
            return
        if not entries:
            if depth == 0:
                self.add(
                    "W003",
                    rel,
                    f"{rel} is empty: a version without content should have no content directory",
                )
            else:
                self.add("E024", rel, f"{rel} is an empty directory inside a content directory")
        for name, kind in entries.items():
            path = f"{rel}/{name}"
            self.seen[path] = kind
            if kind == FILE:
                files.append(path)
                self._hash(dir_fd, name, path)
            elif kind == DIR:
                self._descend(dir_fd, name, path, files, depth + 1)
            elif kind == LINK:
                self.add("E090", path, f"{path} is a symbolic link (not followed)")
            else:
                self.add(
                    "E089",
                    path,
                    f"{path} is a special file (FIFO, socket or device) and was not read",
                )

    def _descend(self, dir_fd: int, name: str, path: str, files: list[str], depth: int) -> None:
        if depth > MAX_DEPTH:
            self.add(
                "E089",
                path,
                f"{path} is nested more than {MAX_DEPTH} levels deep and was not examined",
            )
            return
        try:
            sub = _open_dir(name, dir_fd)
        except OSError as exc:
            self.add("E023", path, f"{path} cannot be opened: {_describe(exc)}")
            return
        try:
            self._walk(sub, path, files, depth)
        finally:
            os.close(sub)

    def _hash(self, dir_fd: int, name: str, path: str) -> None:
        """Read ``path`` once, feeding every algorithm recorded for it."""
        wanted = self.expect.get(path)
        if not wanted or not self.check_digests:
            return
        hashers = _new_hashers({e.algorithm for e in wanted})
        if not hashers:
            return
        try:
            fd, size = _open_file(name, dir_fd)
        except OSError as exc:
            self.unreadable[path] = _describe(exc)
            return
        try:
            count = _feed(fd, size, list(hashers.values()))
        except OSError as exc:
            self.unreadable[path] = _describe(exc)
            return
        finally:
            os.close(fd)
        self.bytes_read += count
        self.files_hashed += 1
        digests = {a: h.hexdigest() for a, h in hashers.items()}
        digests.setdefault("size", str(count))  # the "size" digest of extension 0009, for free
        self.digests[path] = digests

    def _check_contents(self, versions: list[str]) -> None:
        root = self.root
        if root is None or root.data is None:
            return
        if root.manifest_ok:
            self._check_manifest_files(root, versions)
        for name, block in root.fixity.items():
            for path in block:
                if self.seen.get(path) != FILE:
                    self.add(
                        "E093",
                        path,
                        f"fixity {name} lists {path}, {self._what(path)}",
                        "a file",
                        self.seen.get(path),
                    )
        for path, wanted in self.expect.items():
            if path in self.unreadable:
                self.add(wanted[0].code, path, f"{path} cannot be read: {self.unreadable[path]}")
                continue
            got = self.digests.get(path, {})
            for e in wanted:
                actual = got.get(e.algorithm)
                if (
                    actual is not None
                    and DIGEST_ALGORITHMS[e.algorithm].normalize(actual) != e.digest
                ):
                    # Located where the wrong record is: the content file when the root
                    # inventory disagrees with it, else the older inventory.
                    where = path if e.where == INVENTORY else e.where
                    message = f"{path} does not match its {e.algorithm} in {e.where}"
                    self.add(e.code, where, message, e.digest, actual)
        for version, prior in self.priors.items():
            if prior.manifest_ok:
                self._check_prior_files(prior, root, versions[: versions.index(version) + 1])

    def _what(self, path: str) -> str:
        kind = self.seen.get(path)
        return "which does not exist" if kind is None else f"which is a {kind}"

    def _check_manifest_files(self, root: _Inventory, versions: list[str]) -> None:
        for path in root.manifest:
            if self.seen.get(path) != FILE:
                self.add(
                    "E092",
                    path,
                    f"the manifest lists {path}, {self._what(path)}",
                    "a file",
                    self.seen.get(path),
                )
        for version in versions:
            for path in self.files_by_version.get(version, []):
                if path not in root.manifest:
                    self.add("E023", path, f"{path} is not in the manifest", None, path)
            entries = self.listings.get(version)
            prefix = f"{version}/{root.content_dir}/"
            if (
                entries is not None
                and entries.get(root.content_dir) != DIR
                and any(p.startswith(prefix) for p in root.manifest)
            ):
                self.add(
                    "E016",
                    version,
                    f"version {version} has content but no {root.content_dir}/ directory",
                )

    def _check_prior_files(self, prior: _Inventory, root: _Inventory, versions: list[str]) -> None:
        for version in versions:
            for path in self.files_by_version.get(version, []):
                if path not in prior.manifest:
                    self.add(
                        "E023",
                        prior.where,
                        f"{path} is not in the manifest of {prior.where}",
                        None,
                        path,
                    )
        for path in prior.manifest:
            if path not in root.manifest and self.seen.get(path) != FILE:
                self.add(
                    "E092",
                    prior.where,
                    f"{prior.where} lists {path}, {self._what(path)}",
                    "a file",
                    self.seen.get(path),
                )
