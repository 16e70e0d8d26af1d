"""The OCFL 1.1 storage root: immutable, versioned raw bytes.

Contract:
- One OCFL object per document. The object id is ``provarchive:`` + the
  percent-encoded document name; objects are placed with the storage layout
  extension ``0004-hashed-n-tuple-storage-layout`` (sha256, 3 tuples of 3).
- Inventories use sha512 (``digestAlgorithm``) and carry sha256 in ``fixity``
  for every content file; both come from one streamed read (:mod:`digests`).
- Writes are crash-safe and never in place: a transaction stages whole objects
  or whole version directories under ``staging/`` (outside the root), writes a
  journal, fsyncs, renames them into the root, then replaces the root
  inventory and its sidecar last (OCFL implementation notes). A crash at any
  point leaves either the old committed state or a journal from which
  :meth:`Store.recover` finishes the job; staged data without a journal is
  simply deleted.
- Each batch folder in staging is locked (``flock``) by the process writing it for
  as long as it lives, so recovery, which may run in one writer while others
  work (shared writers, :mod:`.lock`), finishes or discards only the batches of
  writers that are gone.
- Nothing is committed that could not be read back: :meth:`Transaction.prepare`
  refuses a name whose paths in staging or in the root exceed the file system's
  limits (``os.pathconf``) or would leave the object, whoever the caller.
- Readers only ever read the root inventory (replaced atomically), so they
  never see a half-written version and never need the writer lock.

We write OCFL ourselves rather than with ocfl-py because its writer is not
crash-safe and leaves the fixity block empty; ocfl-py's validator checks our
output in the tests. We deliberately do not write ``ocfl_layout.json``: ocfl-py
2.1.0 does not know extension 0004 and rejects a root that declares it (E071),
so the layout is declared by its extension ``config.json`` alone, which holds
every parameter another implementation needs.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from ..digests import Digests, hash_stream, load_json
from ..errors import CorruptArchiveError, InputError, StorageError
from . import durable
from .ocfl import (
    CONTENT_DIR,
    INVENTORY,
    JOURNAL,
    LAYOUT_CONFIG,
    LAYOUT_EXTENSION,
    OBJECT_DECLARATION,
    ROOT_DECLARATION,
    SIDECAR,
    SPEC_VERSION,
    VERSION_DIR,
    ObjectState,
    add_version,
    add_withdrawal,
    content_path_problem,
    inventory_bytes,
    is_foreign_id,
    name_for_object_id,
    new_inventory,
    object_id_for,
    object_path_for,
    parse_sidecar,
    read_journal,
    sha512_hex,
    sidecar_bytes,
    versions_from_inventory,
)

log = logging.getLogger(__name__)


FALLBACK_PATH_MAX = 4096
FALLBACK_NAME_MAX = 255


def path_limits(directory: Path) -> tuple[int, int]:
    """(longest path in bytes a system call accepts, longest file name in bytes) on the
    file system of ``directory`` (or of its nearest existing parent), by ``os.pathconf``."""
    probe = Path(os.path.abspath(directory))
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    values = []
    for key, fallback in (("PC_PATH_MAX", FALLBACK_PATH_MAX), ("PC_NAME_MAX", FALLBACK_NAME_MAX)):
        try:
            value = os.pathconf(probe, key)
        except (OSError, ValueError):
            value = fallback
        values.append(value if value > 0 else fallback)
    return values[0] - 1, values[1]  # PC_PATH_MAX counts the terminating NUL


def path_problem(path: Path, limits: tuple[int, int]) -> str | None:
    """Why the file system would refuse ``path`` (absolute) as too long, or None."""
    path_max, name_max = limits
    for segment in path.parts:
        if len(os.fsencode(segment)) > name_max:
            return (
                f"a path segment is {len(os.fsencode(segment))} bytes, over the store file "
                f"system's limit of {name_max} bytes per name"
            )
    size = len(os.fsencode(path))
    if size > path_max:
        return (
            f"its path in the store would be {size} bytes, over the file system's limit "
            f"of {path_max}: shorten the name"
        )
    return None


@dataclass
class StagedFile:
    """Bytes copied into the staging area, with the digests of exactly those bytes."""

    path: Path
    digests: Digests


@dataclass
class PreparedVersion:
    """A version fully written in staging, waiting for :meth:`Transaction.commit`."""

    name: str
    object_id: str
    object_path: str
    number: int
    inventory: dict[str, Any]
    digests: Digests
    content_path: str
    new_object: bool
    staged_tree: Path
    created: str
    message: str
    user: dict[str, str]
    inventory_sha512: str = ""
    """sha512 of the version's own inventory.json (what its sidecar records)."""
    root_inventory: Path | None = None
    """For a new version of an existing object: the staged root inventory and..."""
    root_sidecar: Path | None = None
    """...its sidecar, moved over the object's root files once the version is in."""
    withdrawn: bool = False
    """A withdrawal: the version holds no file; ``digests`` and ``content_path`` are
    those of the file it withdraws (the latest version holding it)."""


@dataclass
class Repair:
    """Something :meth:`Store.recover` fixed, for the event log."""

    action: str
    name: str | None
    detail: str


@dataclass
class Transaction:
    """A batch of new versions written together; see the module docstring for the protocol."""

    store: Store
    directory: Path
    prepared: list[PreparedVersion] = field(default_factory=list)
    _counter: int = 0
    journaled: bool = False
    committed: bool = False
    _fd: int | None = None
    """The open folder whose ``flock`` says this batch's writer is alive."""

    def stage(self, source: IO[bytes]) -> StagedFile:
        """Copy ``source`` into staging while hashing it (one read, one block of memory;
        blocks of zeros become holes)."""
        self._counter += 1
        target = self.directory / f"blob-{self._counter}"
        with durable.storage_errors(target), open(target, "xb") as sink:
            digests = hash_stream(source, sink=sink, sparse=True)
        return StagedFile(target, digests)

    def prepare(
        self,
        name: str,
        staged: StagedFile,
        *,
        current: ObjectState | None,
        created: str,
        message: str,
        user: dict[str, str],
    ) -> PreparedVersion | None:
        """Stage a new version of ``name`` holding ``staged``; None if it equals the head.

        Raises InputError, having dropped ``staged``, if the store cannot hold the name."""
        if any(p.name == name for p in self.prepared):
            raise ValueError(f"{name!r} is already part of this transaction")
        if current is not None and current.versions[-1].sha512 == staged.digests.sha512:
            staged.path.unlink(missing_ok=True)
            return None
        object_id = object_id_for(name)
        base = current.inventory if current is not None else new_inventory(object_id)
        inventory, number, content_path = add_version(
            base,
            logical_path=name,
            digests=staged.digests,
            created=created,
            message=message,
            user=user,
        )
        k = len(self.prepared) + 1
        tree = self.directory / f"obj-{k}"
        version_dir = tree / f"v{number}" if current is None else tree
        if content_path is not None:
            self._check_storable(name, staged, content_path, version_dir / CONTENT_DIR / name)
        data = inventory_bytes(inventory)
        with durable.storage_errors(tree):
            version_dir.mkdir(parents=True)
            if content_path is not None:
                target = version_dir / CONTENT_DIR / name
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged.path, target)
            else:
                staged.path.unlink()
            (version_dir / INVENTORY).write_bytes(data)
            (version_dir / SIDECAR).write_bytes(sidecar_bytes(data))
            if current is None:
                (tree / OBJECT_DECLARATION).write_text(f"ocfl_object_{SPEC_VERSION}\n")
                (tree / INVENTORY).write_bytes(data)
                (tree / SIDECAR).write_bytes(sidecar_bytes(data))
                root_inventory = root_sidecar = None
            else:
                root_inventory, root_sidecar = self._stage_root_inventory(k, data)
        resolved = content_path or inventory["manifest"][staged.digests.sha512][0]
        prepared = PreparedVersion(
            name=name,
            object_id=object_id,
            object_path=object_path_for(object_id),
            number=number,
            inventory=inventory,
            digests=staged.digests,
            content_path=resolved,
            inventory_sha512=sha512_hex(data),
            new_object=current is None,
            staged_tree=tree,
            created=created,
            message=message,
            user=user,
            root_inventory=root_inventory,
            root_sidecar=root_sidecar,
        )
        self.prepared.append(prepared)
        return prepared

    def _check_storable(
        self, name: str, staged: StagedFile, content_path: str, staged_path: Path
    ) -> None:
        """Refuse (InputError, the staged bytes dropped) a name the store could commit but
        not read back: every path it will have, in staging and in the root, must fit the
        file system's limits, and stay inside its object (issue #20: one such object
        wedged every later command). Checked here so that no caller can get past it."""
        reason = content_path_problem(name)
        if reason is None:
            final = Path(os.path.abspath(self.store.root)) / object_path_for(object_id_for(name))
            reason = path_problem(final / content_path, self.store.limits()) or path_problem(
                Path(os.path.abspath(staged_path)), self.store.limits(staging=True)
            )
        if reason is not None:
            staged.path.unlink(missing_ok=True)
            raise InputError(name, f"cannot be stored: {reason}")

    def _stage_root_inventory(self, k: int, data: bytes) -> tuple[Path, Path]:
        """The new root inventory and sidecar of an existing object, staged for commit."""
        root_inventory = self.directory / f"root-inventory-{k}"
        root_sidecar = self.directory / f"root-sidecar-{k}"
        root_inventory.write_bytes(data)
        root_sidecar.write_bytes(sidecar_bytes(data))
        return root_inventory, root_sidecar

    def prepare_withdrawal(
        self, current: ObjectState, *, created: str, message: str, user: dict[str, str]
    ) -> PreparedVersion:
        """Stage a version of ``current`` without its file (nothing is deleted: the bytes of
        the earlier versions stay in the object, as OCFL intends)."""
        name = current.name
        last = current.last_file()
        if any(p.name == name for p in self.prepared) or last is None:
            raise ValueError(f"{name!r} cannot be withdrawn in this transaction")
        inventory, number = add_withdrawal(
            current.inventory, created=created, message=message, user=user
        )
        k = len(self.prepared) + 1
        tree = self.directory / f"obj-{k}"
        data = inventory_bytes(inventory)
        with durable.storage_errors(tree):
            tree.mkdir(parents=True)
            (tree / INVENTORY).write_bytes(data)
            (tree / SIDECAR).write_bytes(sidecar_bytes(data))
            root_inventory, root_sidecar = self._stage_root_inventory(k, data)
        size = (self.store.root / current.path / last.content_path).stat().st_size
        prepared = PreparedVersion(
            name=name,
            object_id=current.object_id,
            object_path=current.path,
            number=number,
            inventory=inventory,
            digests=Digests(sha512=last.sha512, sha256=last.sha256, size=size),
            content_path=last.content_path,
            inventory_sha512=sha512_hex(data),
            new_object=False,
            staged_tree=tree,
            created=created,
            message=message,
            user=user,
            root_inventory=root_inventory,
            root_sidecar=root_sidecar,
            withdrawn=True,
        )
        self.prepared.append(prepared)
        return prepared

    def commit(self) -> list[PreparedVersion]:
        """Make every prepared version durable and visible, in journal order.

        If writing into the root fails part-way (disk full, read-only), the
        versions of this batch already moved in are rolled back so the previous
        state stays valid; should the roll-back itself fail, the journal stays
        and :meth:`Store.recover` finishes the batch on the next run.
        """
        if not self.prepared:
            self.committed = True
            return []
        journal = [
            {
                "name": p.name,
                "object_path": p.object_path,
                "version": p.number,
                "sha512": p.digests.sha512,
            }
            for p in self.prepared
        ]
        listener = self.store.listener
        token = listener.prepare(self.prepared) if listener is not None else None
        durable.write_file(
            self.directory / JOURNAL, json.dumps(journal).encode("utf-8"), sync=False
        )
        step = self.store.step
        step("staged")
        # Barrier 1: staged trees and journal are durable before the root changes.
        durable.barrier(self.store.root, [self.directory])
        self.journaled = True
        step("journaled")
        done: list[PreparedVersion] = []
        root = self.store.root
        try:
            for k, p in enumerate(self.prepared, 1):
                # Rolled back only once moved in: a refused move (its version directory
                # exists: another writer's) must not make the roll-back delete it.
                self.store._move_in(p, k)
                done.append(p)
                step(f"moved {k}")
            # Barrier 2: the new directories are in place before any inventory names them.
            durable.barrier(root, [(root / p.object_path).parent for p in self.prepared])
            step("moved all")
            for k, p in enumerate(self.prepared, 1):
                if not p.new_object:
                    self.store._publish_staged(p, k)
                    step(f"published {k}")
            # Barrier 3: root inventories and sidecars, before the catalog records them.
            durable.barrier(root, [root / p.object_path for p in self.prepared if not p.new_object])
            step("published all")
        except StorageError:
            if self._rollback(done):
                self.journaled = False
                if listener is not None:
                    listener.aborted(token)
            raise
        if listener is not None:
            listener.committed(token)
        self.committed = True
        return list(self.prepared)

    def _rollback(self, installed: list[PreparedVersion]) -> bool:
        """Undo installed versions, newest first; True if the root is back as it was."""
        ok = True
        for p in reversed(installed):
            target = self.store.root / p.object_path
            try:
                if p.new_object:
                    if target.exists() and not p.staged_tree.exists():
                        shutil.rmtree(target)
                        self.store._prune_empty_parents(target)
                    else:
                        self.store._prune_empty_parents(target)
                    continue
                version_dir = target / f"v{p.number}"
                if not version_dir.exists():
                    continue
                previous = target / f"v{p.number - 1}"
                if (target / INVENTORY).read_bytes() != (previous / INVENTORY).read_bytes():
                    self.store._publish_inventory(target, previous)
                shutil.rmtree(version_dir)
            except (OSError, StorageError) as exc:
                log.warning("roll-back of %s v%d failed: %s", p.name, p.number, exc)
                ok = False
        return ok

    def close(self) -> None:
        """Forget the staging directory (after the catalog has recorded the commit)."""
        try:
            durable.remove_tree(self.directory)
        finally:
            self._release()

    def close_uncommitted(self) -> None:
        """Drop staged work that never touched the root. A journaled but unfinished
        (or committed but not yet catalogued) batch is left for :meth:`Store.recover`
        (which any writer may run from now on: the batch's lock is let go)."""
        try:
            if not self.committed and not self.journaled:
                with contextlib.suppress(OSError):
                    durable.remove_tree(self.directory)
        finally:
            self._release()

    def detach(self) -> None:
        """Keep this batch's lock past :meth:`Store.release_batches` (a thread may still
        record it in the catalog): only :meth:`close` or :meth:`close_uncommitted` let
        it go."""
        self.store._live.discard(self)

    def _release(self) -> None:
        fd, self._fd = self._fd, None  # once, if two threads release it at once
        if fd is not None:
            os.close(fd)
        self.store._live.discard(self)

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other


StepHook = Callable[[str], None]

_TEMP_NAME = re.compile(r".+-[0-9a-f]{32}")


BATCH_LOCK = "writer.lock"
"""In each batch folder: the regular file whose ``flock`` its live writer holds (a file,
not the folder: ``flock`` on NFS reaches the server only for files opened to write)."""


def _same_file(path: Path, fd: int) -> bool:
    """``fd`` is still the file at ``path`` (not removed meanwhile)."""
    try:
        st, own = os.stat(path), os.fstat(fd)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)


def _lock_batch(directory: Path) -> int | None:
    """Create and lock a new batch's lock file; None if a recovery got there first (it took
    the folder for a dead writer's, before it was locked, and removes it: start another)."""
    path = directory / BATCH_LOCK
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except (FileNotFoundError, FileExistsError):
        return None
    fcntl.flock(fd, fcntl.LOCK_EX)  # waits only while a recovery holds it, then removes it
    if _same_file(path, fd):
        return fd
    os.close(fd)
    return None


def _lock_if_dead(directory: Path) -> int | None:
    """The batch's lock file, locked, when no live writer holds the batch (None: its
    writer is at work, or the folder is already gone). A folder without a lock file is a
    dead writer's, or one a writer is making: the lock file made here tells that writer
    to start another folder (:func:`_lock_batch`)."""
    path = directory / BATCH_LOCK
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    if not _same_file(path, fd):
        os.close(fd)
        return None
    return fd


def _staging_entry(entry: Path) -> bool:
    """True if ``entry`` is something the archive writes in staging: a batch folder
    (``txn-...``, :meth:`Store.begin`) or a temporary file (``NAME-<32 hex>``,
    :func:`durable.temp_path`). Recovery removes nothing else, and follows no link."""
    if entry.is_symlink():
        return False
    if entry.is_dir():
        return entry.name.startswith("txn-")
    return entry.is_file() and _TEMP_NAME.fullmatch(entry.name) is not None


class CommitListener(Protocol):
    """Told about every store commit, in the commit's own durable protocol (the
    transparency log appends its leaves this way): :meth:`prepare` runs before the
    journal is written and must be durable when it returns; :meth:`committed` after
    the last barrier; :meth:`aborted` after a roll-back. A crash between them is
    resolved by the listener's own recovery, which the store's state decides."""

    def prepare(self, versions: list[PreparedVersion]) -> Any: ...

    def committed(self, token: Any) -> None: ...

    def aborted(self, token: Any) -> None: ...

    def settle(self) -> None:
        """Finish what dead writers left (a writer sharing the archive calls it before it
        reads the state of documents it has just locked: see :mod:`.lock`)."""


def _no_step(_name: str) -> None:
    return None


LAYOUT_DEPTH = int(LAYOUT_CONFIG["numberOfTuples"])  # type: ignore[call-overload]
"""Folders between the storage root and an object (extension 0004 tuples)."""


class Store:
    """An OCFL storage root on the local file system.

    ``on_step`` is called with the name of each step of :meth:`Transaction.commit`
    as it completes ("staged", "journaled", "layout K", "moved K", "moved all",
    "inventory K", "published K", "published all"; K counts the batch's versions
    from 1). It is the fault-injection point of the crash tests, which end the
    process there; it does nothing by default."""

    def __init__(self, root: Path, staging: Path, on_step: StepHook | None = None) -> None:
        self.root = root
        self.staging = staging
        self.step: StepHook = on_step or _no_step
        self.listener: CommitListener | None = None
        self._live: set[Transaction] = set()
        """Batches begun and not yet closed, whose locks this process holds."""
        self._limits: dict[bool, tuple[int, int]] = {}

    def limits(self, *, staging: bool = False) -> tuple[int, int]:
        """:func:`path_limits` of the root (or the staging area), measured once."""
        if staging not in self._limits:
            self._limits[staging] = path_limits(self.staging if staging else self.root)
        return self._limits[staging]

    # -- set-up -----------------------------------------------------------------

    def exists(self) -> bool:
        return (self.root / ROOT_DECLARATION).is_file()

    def initialize(self) -> bool:
        """Create the storage root if absent; returns True if it was created."""
        durable.make_dirs(self.staging)
        if self.exists():
            return False
        durable.make_dirs(self.root)
        with durable.storage_errors(self.root):
            ext_dir = self.root / "extensions" / LAYOUT_EXTENSION
            durable.make_dirs(ext_dir)
            config = json.dumps(LAYOUT_CONFIG, indent=2, sort_keys=True) + "\n"
            durable.atomic_write(ext_dir / "config.json", config.encode(), self.staging)
            # The declaration goes last: its presence means "this root is complete".
            durable.atomic_write(
                self.root / ROOT_DECLARATION, f"ocfl_{SPEC_VERSION}\n".encode(), self.staging
            )
        return True

    # -- reading ------------------------------------------------------------------

    def object_dir(self, name: str) -> Path:
        return self.root / object_path_for(object_id_for(name))

    def load(self, name: str) -> ObjectState | None:
        """The committed state of a document's object, or None if it has none."""
        directory = self.object_dir(name)
        return self.load_dir(directory, expected_name=name)

    def load_dir(self, directory: Path, expected_name: str | None = None) -> ObjectState | None:
        inv_path = directory / INVENTORY
        try:
            data = inv_path.read_bytes()
        except FileNotFoundError:
            if directory.exists() and expected_name is not None:
                raise CorruptArchiveError(inv_path, "object has no root inventory") from None
            return None
        except OSError as exc:
            raise CorruptArchiveError(inv_path, durable.describe_os_error(exc)) from exc
        try:
            inventory = load_json(data)
        except ValueError as exc:
            raise CorruptArchiveError(inv_path, f"inventory is not valid JSON ({exc})") from exc
        if not isinstance(inventory, dict) or not isinstance(inventory.get("id"), str):
            raise CorruptArchiveError(inv_path, "inventory has no id")
        try:
            name = name_for_object_id(inventory["id"])
        except ValueError as exc:
            raise CorruptArchiveError(inv_path, str(exc)) from exc
        if expected_name is not None and name != expected_name:
            raise CorruptArchiveError(
                inv_path, f"object holds {name!r}, expected {expected_name!r}"
            )
        versions = versions_from_inventory(inventory, inv_path)
        rel = directory.relative_to(self.root).as_posix()
        return ObjectState(name, inventory["id"], rel, inventory, versions)

    def content_file(self, state: ObjectState, number: int) -> Path:
        return self.root / state.path / state.version(number).content_path

    def iter_object_dirs(self) -> Iterator[Path]:
        """Every directory that the layout says may hold an object (sorted, deterministic)."""
        if not self.root.is_dir():
            return
        pattern = "/".join(["*"] * (LAYOUT_DEPTH + 1))
        for path in sorted(self.root.glob(pattern)):
            if path.is_dir() and path.relative_to(self.root).parts[0] != "extensions":
                yield path

    def foreign_objects(self) -> list[tuple[str, str]]:
        """(object id, path relative to the root) of every object at a layout path whose
        inventory names an id that is not one of ours: another tool's object, which we
        list but never import, change or remove."""
        found = []
        for directory in self.iter_object_dirs():
            object_id = self.foreign_id(directory)
            if object_id is not None:
                found.append((object_id, directory.relative_to(self.root).as_posix()))
        return found

    def foreign_id(self, directory: Path) -> str | None:
        """The id of the object in ``directory`` if it is not a provarchive id, else None
        (ours, or no readable inventory: a damaged object is verify's to report)."""
        here = self.root
        for part in directory.relative_to(self.root).parts:
            here = here / part
            if here.is_symlink():
                return None  # never read through a link (the validator reports it: E090)
        try:
            fd = os.open(directory / INVENTORY, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as fh:
                inventory = json.loads(fh.read())
        except (OSError, ValueError):
            return None
        object_id = inventory.get("id") if isinstance(inventory, dict) else None
        return object_id if is_foreign_id(object_id) else None

    @staticmethod
    def at_layout_path(rel: str) -> bool:
        """True if ``rel`` (relative to the root) is where the layout may put an object."""
        parts = rel.split("/")
        return len(parts) == LAYOUT_DEPTH + 1 and parts[0] != "extensions"

    def has_objects(self) -> bool:
        return next(self.iter_object_dirs(), None) is not None

    # -- writing --------------------------------------------------------------------

    def begin(self) -> Transaction:
        """A staging area for one batch; end it with :meth:`Transaction.close` once the
        catalog recorded it, or :meth:`Transaction.close_uncommitted` on failure."""
        durable.make_dirs(self.staging)
        while True:
            directory = self.staging / f"txn-{uuid.uuid4().hex}"
            with durable.storage_errors(directory):
                directory.mkdir()
                fd = _lock_batch(directory)
            if fd is not None:
                txn = Transaction(self, directory, _fd=fd)
                self._live.add(txn)
                return txn

    def release_batches(self) -> None:
        """Let go of the lock of every batch this store still holds (a writer's run has
        ended, by an error too: what it left is any next writer's to recover, as if this
        process had died)."""
        for txn in list(self._live):
            txn._release()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """:meth:`begin` as a context manager: uncommitted work is deleted on exit."""
        txn = self.begin()
        try:
            yield txn
        finally:
            txn.close_uncommitted()

    def _move_in(self, p: PreparedVersion, k: int) -> None:
        """Rename a staged object (or version directory) into the root; nothing moved if
        it raises (a new object's empty layout folders are pruned again)."""
        target = self.root / p.object_path
        if p.new_object:
            durable.make_dirs(target.parent, sync=False)
            self.step(f"layout {k}")
            try:
                with durable.storage_errors(target):
                    if target.exists():
                        raise StorageError(target, "object directory already exists")
                    os.rename(p.staged_tree, target)
            except StorageError:
                self._prune_empty_parents(target)
                raise
            return
        version_dir = target / f"v{p.number}"
        with durable.storage_errors(version_dir):
            if version_dir.exists():
                raise StorageError(version_dir, "version directory already exists")
            os.rename(p.staged_tree, version_dir)

    def _publish_staged(self, p: PreparedVersion, k: int) -> None:
        """Replace an object's root inventory, then its sidecar, with the staged ones."""
        assert p.root_inventory is not None and p.root_sidecar is not None
        target = self.root / p.object_path
        with durable.storage_errors(target):
            os.replace(p.root_inventory, target / INVENTORY)
            self.step(f"inventory {k}")
            os.replace(p.root_sidecar, target / SIDECAR)

    def _publish_inventory(self, object_dir: Path, version_dir: Path) -> None:
        """Copy a version's inventory + sidecar to the object root (inventory first)."""
        data = (version_dir / INVENTORY).read_bytes()
        durable.atomic_write(object_dir / INVENTORY, data, self.staging)
        durable.atomic_write(object_dir / SIDECAR, sidecar_bytes(data), self.staging)

    # -- recovery ---------------------------------------------------------------------

    def needs_recovery(self) -> bool:
        """True when a writer left something :meth:`recover` would finish or remove."""
        try:
            return self.staging.is_dir() and any(map(_staging_entry, self.staging.iterdir()))
        except OSError:
            return False

    def recover(self, *, alone: bool = True) -> tuple[list[Repair], set[str]]:
        """Finish or discard whatever crashed writers left; returns repairs and touched names.

        Must run under the writer lock. Batches of live writers (locked) are left
        alone; so are temporary files unless this writer is ``alone`` (a live writer
        may be writing one). Touched names are documents whose store state may now be
        ahead of the catalog.
        """
        repairs: list[Repair] = []
        touched: set[str] = set()
        if not self.staging.is_dir():
            return repairs, touched
        for entry in sorted(self.staging.iterdir()):
            if not _staging_entry(entry):
                log.warning("left alone in staging, not a name the archive writes: %r", entry.name)
                continue
            if not entry.is_dir():
                if alone:
                    repairs.append(
                        Repair("staging-discarded", None, f"stray temporary file {entry.name}")
                    )
                    durable.remove_tree(entry)
                continue
            fd = _lock_if_dead(entry)
            if fd is None:
                continue  # a live writer's batch
            try:
                repairs.extend(self._recover_batch(entry, touched))
                durable.remove_tree(entry)
            finally:
                os.close(fd)
        return repairs, touched

    def _recover_batch(self, entry: Path, touched: set[str]) -> list[Repair]:
        """Replay a dead writer's journal (its versions finished), or discard its batch."""
        journal_path = entry / JOURNAL
        if not journal_path.is_file():
            return [Repair("staging-discarded", None, f"uncommitted batch {entry.name}")]
        try:
            journal, malformed = read_journal(journal_path.read_bytes())
        except OSError:
            journal, malformed = [], 1
        repairs: list[Repair] = []
        for name, object_path in journal:
            touched.add(name)
            repairs.extend(self.complete_object(self.root / object_path, name))
        damaged = f"; {malformed} malformed entry(ies) left out" if malformed else ""
        repairs.append(
            Repair("journal-replayed", None, f"{entry.name}: {len(journal)} version(s){damaged}")
        )
        return repairs

    def complete_object(self, directory: Path, name: str | None) -> list[Repair]:
        """Roll a half-published version forward (its own inventory is complete) and
        prune empty layout directories left by an interrupted object creation."""
        repairs: list[Repair] = []
        if not directory.exists():
            self._prune_empty_parents(directory)
            return repairs
        root_inv = directory / INVENTORY
        try:
            head = int(json.loads(root_inv.read_bytes())["head"].lstrip("v"))
        except (OSError, ValueError, KeyError, AttributeError):
            head = 0
        numbers = sorted(
            int(m.group(1)) for p in directory.iterdir() if (m := VERSION_DIR.fullmatch(p.name))
        )
        if numbers and numbers[-1] > head:
            latest = directory / f"v{numbers[-1]}"
            if self._version_inventory_ok(latest):
                self._publish_inventory(directory, latest)
                repairs.append(Repair("version-completed", name, f"{latest.name} published"))
            else:
                shutil.rmtree(latest)
                repairs.append(
                    Repair("version-discarded", name, f"incomplete {latest.name} removed")
                )
        elif numbers:
            latest = directory / f"v{numbers[-1]}"
            sidecar = directory / SIDECAR
            try:
                ok = parse_sidecar(sidecar.read_bytes()) == sha512_hex(root_inv.read_bytes())
            except OSError:
                ok = False
            if (
                not ok
                and self._version_inventory_ok(latest)
                and ((latest / INVENTORY).read_bytes() == root_inv.read_bytes())
            ):
                self._publish_inventory(directory, latest)
                repairs.append(
                    Repair("sidecar-completed", name, f"root sidecar rewritten for {latest.name}")
                )
        return repairs

    def _version_inventory_ok(self, version_dir: Path) -> bool:
        try:
            data = (version_dir / INVENTORY).read_bytes()
            recorded = parse_sidecar((version_dir / SIDECAR).read_bytes())
        except OSError:
            return False
        return recorded == sha512_hex(data)

    def _prune_empty_parents(self, directory: Path) -> None:
        parent = directory.parent
        while parent != self.root and self.root in parent.parents:
            try:
                parent.rmdir()
            except OSError:
                return
            parent = parent.parent
