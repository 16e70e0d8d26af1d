"""The append-only transparency log on disk: leaves, cached tree hashes, commit records.

Contract:
- A log is a directory the caller chooses (e.g. ``extensions/<name>/`` of the
  OCFL storage root) with four files, each opening with a 16-byte magic line:
  ``leaves`` (records ``u32 length || leaf bytes || SHA-256(0x00 || leaf)``),
  ``index`` (``u64`` byte offset of every record), ``hashes`` (the stored-hash
  layout of :mod:`.merkle`: each leaf hash followed by the interior nodes it
  completes) and ``commits`` (64-byte records ``u64 size || u64 end offset ||
  root || 16-byte check``, the check being a truncated SHA-256 of the rest).
  ``index`` and ``hashes`` are derived from ``leaves`` and rebuilt from it
  when damaged.
- The committed state is the last commit record. Readers see only leaves
  below its size and byte offset, so they never see a partial or uncommitted
  record; only the last commit record may be torn (it is then ignored), a
  damaged earlier one is :class:`LogCorruptError`.
- Two-phase append under the caller's writer lock: :meth:`prepare` writes the
  records and their derived hashes after the committed end and, with
  ``sync``, makes them (and the previous commit record) durable with one
  :func:`durable.barrier`, without moving the committed size; :meth:`commit`
  appends the commit record (fsynced with ``sync``). After a crash,
  :meth:`recover` (mandatory before a writer's first append) drops a torn
  tail, keeps the longest run of complete prepared records that the caller's
  ``is_committed`` predicate accepts, commits them, and discards the rest.
- Protocol for a store commit: ``prepare(leaves)`` (sync) before the store's
  journal is written, so no journaled version can lack its leaf; the store
  commit; then ``commit(token, sync=False)``: a lost commit record is either
  made durable by the next prepare's barrier or re-derived by
  ``recover(is_committed)``; ``abort(token)`` if the store rolled back.
- Root, leaf hash and proofs at any committed size cost O(log n) reads of
  ``hashes``; :meth:`audit` recomputes everything from ``leaves``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import struct
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LockTimeoutError
from ..store import durable
from ..store.lock import wait_flock
from .checkpoint import Checkpoint
from .errors import LogCorruptError, LogMismatchError, LogStateError
from .merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    CompactRange,
    consistency_proof_from,
    inclusion_proof_from,
    leaf_hash,
    peak_positions,
    root_from_inclusion_proof,
    stored_hash_count,
    stored_hash_index,
    subtree_root,
    verify_consistency,
)

log = logging.getLogger(__name__)

LEAVES, INDEX, HASHES, COMMITS = "leaves", "index", "hashes", "commits"
MAGIC = {
    LEAVES: b"PVTLOG leaves 1\n",
    INDEX: b"PVTLOG index  1\n",
    HASHES: b"PVTLOG hashes 1\n",
    COMMITS: b"PVTLOG commit 1\n",
}
HEADER = 16
MAX_RECORD = 1024 * 1024
COMMIT_SIZE = 64
_COMMIT = struct.Struct(">QQ32s")
_CHECK_DOMAIN = b"provarchive tlog commit\n"
_SCAN_CHUNK = 8 * 1024 * 1024

IsCommitted = Callable[[int, bytes], bool]
"""``is_committed(index, leaf)``: does the archive hold the state change this leaf records?"""


@dataclass(frozen=True)
class CommitRecord:
    size: int
    end: int
    root: bytes

    def encode(self) -> bytes:
        body = _COMMIT.pack(self.size, self.end, self.root)
        return body + hashlib.sha256(_CHECK_DOMAIN + body).digest()[:16]

    @classmethod
    def decode(cls, raw: bytes) -> CommitRecord | None:
        body, check = raw[:48], raw[48:]
        if len(raw) != COMMIT_SIZE or hashlib.sha256(_CHECK_DOMAIN + body).digest()[:16] != check:
            return None
        size, end, root = _COMMIT.unpack(body)
        return cls(size, end, root)


@dataclass(frozen=True)
class PreparedAppend:
    """Records written but not committed: leaves ``[start, start + count)``."""

    start: int
    count: int
    end: int
    root: bytes
    token: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def size(self) -> int:
        """The tree size once committed."""
        return self.start + self.count


@dataclass(frozen=True)
class Recovery:
    """What :meth:`TransparencyLog.recover` found and did."""

    completed: int = 0
    """Prepared leaves the predicate accepted, now committed."""
    discarded: int = 0
    """Complete prepared leaves the predicate refused, removed."""
    torn_bytes: int = 0
    """Bytes of a partial trailing record (or commit record) removed."""
    rebuilt: bool = False
    """The derived files were rebuilt from the leaves."""

    @property
    def changed(self) -> bool:
        return bool(self.completed or self.discarded or self.torn_bytes or self.rebuilt)


@dataclass(frozen=True)
class LogFinding:
    """One problem :meth:`TransparencyLog.audit` found."""

    code: str
    detail: str
    index: int | None = None


class _Files:
    """The four open file descriptors of a log."""

    def __init__(self, directory: Path, writable: bool) -> None:
        self.fds: dict[str, int] = {}
        flags = os.O_RDWR if writable else os.O_RDONLY
        try:
            for name in MAGIC:
                path = directory / name
                if writable and name in (INDEX, HASHES) and not path.exists():
                    # Derived data: an empty file, rebuilt from the leaves by recover().
                    durable.write_file(path, MAGIC[name])
                try:
                    self.fds[name] = os.open(path, flags | os.O_CLOEXEC)
                    header = os.pread(self.fds[name], HEADER, 0)
                except FileNotFoundError:
                    raise LogCorruptError(path, "missing log file") from None
                except OSError as exc:  # a directory, no permission, an I/O error
                    raise LogCorruptError(path, f"cannot read it: {exc.strerror}") from None
                if header != MAGIC[name]:
                    raise LogCorruptError(path, "not a provarchive transparency log file")
        except BaseException:
            self.close()
            raise

    def length(self, name: str) -> int:
        return os.fstat(self.fds[name]).st_size

    def read(self, name: str, size: int, offset: int) -> bytes:
        data = os.pread(self.fds[name], size, offset)
        while len(data) < size:
            more = os.pread(self.fds[name], size - len(data), offset + len(data))
            if not more:
                break
            data += more
        return data

    def write(self, name: str, data: bytes, offset: int) -> None:
        view = memoryview(data)
        while view:
            written = os.pwrite(self.fds[name], view, offset)
            view, offset = view[written:], offset + written

    def truncate(self, name: str, length: int) -> None:
        if self.length(name) != length:
            os.ftruncate(self.fds[name], length)

    def close(self) -> None:
        for fd in self.fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self.fds.clear()


def _record(data: bytes, hash_: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data + hash_


def _commit_offset(position: int) -> int:
    return HEADER + COMMIT_SIZE * position


class TransparencyLog:
    """An open log; readers use :meth:`open`, the single writer ``open(writable=True)``."""

    def __init__(self, directory: Path, files: _Files, writable: bool) -> None:
        self.directory = directory
        self._files = files
        self.writable = writable
        self._commit = CommitRecord(0, HEADER, EMPTY_ROOT)
        self._commit_position = 0
        self._commit_torn = 0
        self._derived_ok = False
        self._recovered = False
        self._prepared: PreparedAppend | None = None
        self._compact: CompactRange | None = None
        self._pending_range: CompactRange | None = None

    # -- creating and opening ----------------------------------------------------------

    @classmethod
    def create(cls, directory: Path) -> TransparencyLog:
        """Create an empty log at ``directory`` (which must not exist) and open it to write.

        The files are written in a temporary sibling and renamed into place, so
        ``directory`` either does not exist or holds a complete empty log.
        """
        if directory.exists():
            raise LogStateError(f"{directory} already exists; open it instead")
        parent = directory.parent
        durable.make_dirs(parent)
        for stale in parent.glob(f".{directory.name}.tmp-*"):
            durable.remove_tree(stale)  # left by a create that crashed
        tmp = parent / f".{directory.name}.tmp-{uuid.uuid4().hex}"
        with durable.storage_errors(tmp):
            tmp.mkdir()
            for name, magic in MAGIC.items():
                data = magic
                if name == COMMITS:
                    data += CommitRecord(0, HEADER, EMPTY_ROOT).encode()
                durable.write_file(tmp / name, data)
            durable.fsync_dir(tmp)
            try:
                os.rename(tmp, directory)
            except OSError:
                durable.remove_tree(tmp)
                raise
            durable.fsync_dir(parent)
        opened = cls.open(directory, writable=True)
        opened._recovered = True
        return opened

    @classmethod
    def open(
        cls, directory: Path, *, writable: bool = False, wait: float | None = None
    ) -> TransparencyLog:
        """Open an existing log; a writer must call :meth:`recover` before appending.
        A writer that may ``wait`` (seconds) takes its turn behind another writer holding
        the log open (shared archive writers append one at a time), and raises
        LockTimeoutError past that; without, another writer is an error."""
        if not directory.is_dir():
            raise LogCorruptError(directory, "no transparency log here")
        files = _Files(directory, writable)
        opened = cls(directory, files, writable)
        try:
            if writable:
                opened._lock(wait)
            opened._load_commit()
            opened._derived_ok = opened._derived_consistent()
            if not opened._derived_ok and not writable:
                raise LogCorruptError(
                    directory / HASHES, "the cached tree hashes disagree with the log"
                )
        except BaseException:
            files.close()
            raise
        return opened

    def _lock(self, wait: float | None = None) -> None:
        fd = self._files.fds[COMMITS]
        if wait is not None:
            if not wait_flock(fd, time.monotonic() + wait):
                raise LockTimeoutError(self.directory / COMMITS, wait, "another writer's turn")
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LogStateError(f"another writer has the log {self.directory} open") from None

    def close(self) -> None:
        self._files.close()

    def __enter__(self) -> TransparencyLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def paths(self) -> list[Path]:
        """The log's files, for a caller's :func:`durable.barrier` when ``sync=False``."""
        return [self.directory / name for name in MAGIC]

    # -- the committed state -------------------------------------------------------------

    def _load_commit(self) -> None:
        """Find the last valid commit record; only the very last may be torn."""
        length = self._files.length(COMMITS) - HEADER
        position = length // COMMIT_SIZE - 1
        record = self._commit_at(position)
        if record is None and position >= 1:
            # A torn last record (crash while committing): the one before is current.
            position -= 1
            record = self._commit_at(position)
        if record is None:
            raise LogCorruptError(self.directory / COMMITS, "no valid commit record")
        leaves_length = self._files.length(LEAVES)
        if record.end > leaves_length or record.size > (record.end - HEADER) // (4 + HASH_SIZE):
            raise LogCorruptError(
                self.directory / LEAVES,
                f"the last commit names {record.size} leaves ending at byte {record.end}, "
                f"but the file has {leaves_length} bytes",
            )
        self._commit = record
        self._commit_position = position
        self._commit_torn = length - (position + 1) * COMMIT_SIZE

    def _commit_at(self, position: int) -> CommitRecord | None:
        if position < 0:
            return None
        return CommitRecord.decode(self._files.read(COMMITS, COMMIT_SIZE, _commit_offset(position)))

    def refresh(self) -> None:
        """Re-read the committed state (a long-lived reader following a writer)."""
        if self._prepared is not None:
            raise LogStateError("cannot refresh with a prepared append outstanding")
        self._load_commit()
        self._derived_ok = self._derived_consistent()
        self._compact = None
        if not self._derived_ok and not self.writable:
            raise LogCorruptError(self.directory / HASHES, "the cached tree hashes are damaged")

    def pending(self) -> bool:
        """Records (or a torn commit record) past the committed state: a writer's
        append was prepared and never committed or aborted."""
        return bool(self._commit_torn) or self._files.length(LEAVES) > self._commit.end

    @property
    def size(self) -> int:
        """The number of committed leaves."""
        return self._commit.size

    @property
    def committed_root(self) -> bytes:
        return self._commit.root

    def _derived_consistent(self) -> bool:
        """Cheap check of ``index`` and ``hashes`` against the last commit record."""
        n = self._commit.size
        if self._files.length(INDEX) < HEADER + 8 * n:
            return False
        if self._files.length(HASHES) < HEADER + HASH_SIZE * stored_hash_count(n):
            return False
        if n:
            offset = self._offset(n - 1)
            header = self._files.read(LEAVES, 4, offset)
            if len(header) != 4:
                return False
            (length,) = struct.unpack(">I", header)
            if offset + 4 + length + HASH_SIZE != self._commit.end:
                return False
        return self._root_from_cache(n) == self._commit.root

    # -- reading --------------------------------------------------------------------------

    def _offset(self, index: int) -> int:
        (offset,) = struct.unpack(">Q", self._files.read(INDEX, 8, HEADER + 8 * index))
        return int(offset)

    def _node(self, level: int, index: int) -> bytes:
        position = stored_hash_index(level, index)
        data = self._files.read(HASHES, HASH_SIZE, HEADER + HASH_SIZE * position)
        if len(data) != HASH_SIZE:
            raise LogCorruptError(self.directory / HASHES, f"hash {position} is missing")
        return data

    def _root_from_cache(self, size: int) -> bytes:
        peaks = [self._node(level, index) for level, index in peak_positions(size)]
        return CompactRange(size, peaks).root()

    def _check_size(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not 0 <= size <= self.size:
            raise ValueError(f"tree size {size} is beyond the log's {self.size} leaves")
        return size

    def root(self, size: int | None = None) -> bytes:
        """The root hash of the first ``size`` leaves (default: all committed ones)."""
        return self._root_from_cache(self._check_size(size))

    def leaf_hash(self, index: int) -> bytes:
        if not 0 <= index < self.size:
            raise IndexError(f"leaf {index} is not in the log ({self.size} leaves)")
        return self._node(0, index)

    def iter_entries(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The committed leaves ``[start, end)`` in order, streamed in large reads, each
        checked against its record hash (:class:`LogCorruptError` if damaged)."""
        end = self._check_size(end)
        if not 0 <= start <= end:
            raise ValueError(f"bad leaf range [{start}, {end})")
        if start == end:
            return
        first = self._offset(start)
        last = self._offset(end) if end < self.size else self._commit.end
        count = 0
        for _, data, _ in self._records(first, last, strict=True):
            count += 1
            yield data
        if count != end - start:
            raise LogCorruptError(self.directory / LEAVES, f"leaves {start}..{end} are damaged")

    def entries(self, start: int = 0, end: int | None = None) -> list[bytes]:
        """The committed leaves ``[start, end)`` as a list (see :meth:`iter_entries`)."""
        return list(self.iter_entries(start, end))

    def entry(self, index: int) -> bytes:
        return self.entries(index, index + 1)[0]

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """``PATH(index, D[size])``, checked against the cached root before it is returned."""
        size = self._check_size(size)
        proof = inclusion_proof_from(index, size, self._subtree)
        expected = self.root(size)
        if root_from_inclusion_proof(index, size, self._node(0, index), proof) != expected:
            raise LogCorruptError(self.directory / HASHES, "cached tree hashes are inconsistent")
        return proof

    def consistency_proof(self, old_size: int, size: int | None = None) -> list[bytes]:
        """``PROOF(old_size, D[size])``, checked against the cached roots."""
        size = self._check_size(size)
        proof = consistency_proof_from(old_size, size, self._subtree)
        try:
            verify_consistency(old_size, size, self.root(old_size), self.root(size), proof)
        except Exception as exc:
            raise LogCorruptError(self.directory / HASHES, f"cached hashes: {exc}") from exc
        return proof

    def _subtree(self, start: int, end: int) -> bytes:
        return subtree_root(start, end, self._node)

    def checkpoint(self, origin: str, size: int | None = None) -> Checkpoint:
        """The (unsigned) checkpoint of the first ``size`` leaves."""
        size = self._check_size(size)
        return Checkpoint(origin, size, self.root(size))

    def check_checkpoint(self, cp: Checkpoint) -> None:
        """Raise :class:`LogMismatchError` unless this log extends the checkpoint ``cp``.

        Fast (cached hashes); :meth:`audit` with ``checkpoints=[cp]`` recomputes
        the root from the leaves themselves.
        """
        if cp.size > self.size:
            raise LogMismatchError(
                self.directory,
                f"the log holds {self.size} leaves but checkpoint {cp.origin} signed "
                f"{cp.size}: leaves were removed",
            )
        if self.root(cp.size) != cp.root:
            raise LogMismatchError(
                self.directory,
                f"the first {cp.size} leaves do not hash to the root signed by checkpoint "
                f"{cp.origin}: the log was rewritten",
            )

    # -- parsing records ---------------------------------------------------------------

    def _records(
        self, start: int, stop: int, *, strict: bool
    ) -> Iterator[tuple[int, bytes, bytes]]:
        """The records in ``leaves[start:stop]`` as (offset, leaf, record hash), in order.

        ``strict`` (committed data): a damaged or truncated record is
        :class:`LogCorruptError`. Otherwise (the uncommitted tail) iteration just
        stops before it: that is where a torn write begins.
        """
        buf, base, read_at = b"", start, start
        while True:
            pos = 0
            while len(buf) - pos >= 4:
                (length,) = struct.unpack_from(">I", buf, pos)
                end = pos + 4 + length + HASH_SIZE
                if length > MAX_RECORD or end > len(buf):
                    break
                data = buf[pos + 4 : pos + 4 + length]
                stored = buf[end - HASH_SIZE : end]
                if leaf_hash(data) != stored:
                    if strict:
                        raise LogCorruptError(
                            self.directory / LEAVES,
                            f"the record at byte {base + pos} does not match its hash",
                        )
                    return
                yield base + pos, data, stored
                pos = end
            buf, base = buf[pos:], base + pos
            if len(buf) >= 4 and struct.unpack_from(">I", buf)[0] > MAX_RECORD:
                break
            if read_at >= stop:
                break
            chunk = self._files.read(LEAVES, min(_SCAN_CHUNK, stop - read_at), read_at)
            if not chunk:
                break
            buf += chunk
            read_at += len(chunk)
        if strict and (buf or base < stop):
            raise LogCorruptError(
                self.directory / LEAVES, f"the record at byte {base} is damaged or truncated"
            )

    # -- writing -----------------------------------------------------------------------

    def _require_writer(self) -> None:
        if not self.writable:
            raise LogStateError("the log was opened read-only")
        if self._prepared is not None:
            raise LogStateError("an append is already prepared; commit or abort it first")

    def _committed_range(self) -> CompactRange:
        if self._compact is None or self._compact.size != self.size:
            peaks = [self._node(level, index) for level, index in peak_positions(self.size)]
            self._compact = CompactRange(self.size, peaks)
        return CompactRange(self._compact.size, self._compact.peaks)

    def _truncate_to_commit(self) -> None:
        n = self.size
        self._files.truncate(LEAVES, self._commit.end)
        self._files.truncate(INDEX, HEADER + 8 * n)
        self._files.truncate(HASHES, HEADER + HASH_SIZE * stored_hash_count(n))

    def prepare(self, leaves: Sequence[bytes], *, sync: bool = True) -> PreparedAppend:
        """Write ``leaves`` after the committed ones without committing them.

        With ``sync`` the records and their hashes are durable on return (one
        barrier); the committed size moves only with :meth:`commit`.
        """
        self._require_writer()
        if not self._recovered:
            raise LogStateError("call recover() before the first append of a writer")
        n, start = self.size, self._commit.end
        compact = self._committed_range()
        records, offsets, stored = bytearray(), bytearray(), bytearray()
        pos = start
        for leaf in leaves:
            if not isinstance(leaf, bytes) or len(leaf) > MAX_RECORD:
                raise ValueError(f"a leaf is bytes of at most {MAX_RECORD} bytes")
            h = leaf_hash(leaf)
            record = _record(leaf, h)
            offsets += struct.pack(">Q", pos)
            records += record
            pos += len(record)
            for _level, _index, node in compact.append(h):
                stored += node
        token = PreparedAppend(n, len(leaves), pos, compact.root())
        if leaves:
            try:
                with durable.storage_errors(self.directory / LEAVES):
                    self._truncate_to_commit()
                    self._files.write(LEAVES, bytes(records), start)
                    self._files.write(INDEX, bytes(offsets), HEADER + 8 * n)
                    self._files.write(
                        HASHES, bytes(stored), HEADER + HASH_SIZE * stored_hash_count(n)
                    )
                if sync:
                    durable.barrier(self.directory, self.paths())
            except BaseException:
                with contextlib.suppress(OSError):
                    self._truncate_to_commit()
                raise
        self._prepared = token
        self._pending_range = compact
        return token

    def commit(self, prepared: PreparedAppend, *, sync: bool = True) -> None:
        """Make a prepared append part of the log: one commit record, fsynced with ``sync``.

        If this raises, the records stay prepared: retry, :meth:`abort`, or let
        :meth:`recover` decide on the next open.
        """
        if self._prepared is None or self._prepared.token != prepared.token:
            raise LogStateError("this append is not the one prepared")
        if prepared.count:
            record = CommitRecord(prepared.size, prepared.end, prepared.root)
            position = self._commit_position + 1
            with durable.storage_errors(self.directory / COMMITS):
                self._files.truncate(COMMITS, _commit_offset(position))
                self._files.write(COMMITS, record.encode(), _commit_offset(position))
                if sync:
                    os.fsync(self._files.fds[COMMITS])
            self._commit, self._commit_position, self._commit_torn = record, position, 0
            self._compact = self._pending_range
        self._prepared = None

    def abort(self, prepared: PreparedAppend) -> None:
        """Forget a prepared append (the state change it records did not happen)."""
        if self._prepared is None or self._prepared.token != prepared.token:
            raise LogStateError("this append is not the one prepared")
        with durable.storage_errors(self.directory / LEAVES):
            self._truncate_to_commit()
        self._prepared = None

    def append(self, leaves: Sequence[bytes], *, sync: bool = True) -> PreparedAppend:
        """:meth:`prepare` and :meth:`commit` in one call (for leaves with no store change)."""
        prepared = self.prepare(leaves, sync=sync)
        self.commit(prepared, sync=sync)
        return prepared

    # -- recovery ----------------------------------------------------------------------

    def recover(self, is_committed: IsCommitted | None = None) -> Recovery:
        """Bring the files back to a committed state after a crash (writer lock held).

        Prepared records beyond the committed end are kept, in order, while
        ``is_committed(index, leaf)`` is true, then committed; the first refused
        record and everything after it is removed, as is any torn tail. Without
        a predicate every prepared record is removed.
        """
        self._require_writer()
        torn, rebuilt = 0, False
        with durable.storage_errors(self.directory / COMMITS):
            if self._commit_torn:
                torn += self._commit_torn
                self._files.truncate(COMMITS, _commit_offset(self._commit_position + 1))
                os.fsync(self._files.fds[COMMITS])
                self._commit_torn = 0
        if not self._derived_ok:
            self.rebuild_cache()
            rebuilt = True
        length = self._files.length(LEAVES)
        pending, end = [], self._commit.end
        for offset, data, _ in self._records(self._commit.end, length, strict=False):
            pending.append(data)
            end = offset + 4 + len(data) + HASH_SIZE
        torn += length - end
        verdicts = (
            [bool(is_committed(self.size + i, d)) for i, d in enumerate(pending)]
            if (is_committed)
            else [False] * len(pending)
        )
        keep = verdicts.index(False) if False in verdicts else len(verdicts)
        if any(verdicts[keep:]):
            log.warning(
                "tlog recovery: leaf %d refused but later ones accepted; discarding from %d",
                self.size + keep,
                self.size + keep,
            )
        with durable.storage_errors(self.directory / LEAVES):
            self._truncate_to_commit()
            if torn or len(pending) > keep:
                durable.barrier(self.directory, self.paths())
        self._recovered = True
        if keep:
            self.append(pending[:keep])
        result = Recovery(keep, len(pending) - keep, torn, rebuilt)
        if result.changed:
            log.info("tlog recovery of %s: %s", self.directory, result)
        return result

    def rebuild_cache(self) -> None:
        """Recompute ``index`` and ``hashes`` from the committed records (writer only).

        :meth:`recover` does it when the cheap checks fail; call it after an
        :meth:`audit` that reports a cache mismatch.
        """
        self._require_writer()
        compact = CompactRange()
        offsets, stored = bytearray(), bytearray()
        for offset, _data, h in self._records(HEADER, self._commit.end, strict=True):
            offsets += struct.pack(">Q", offset)
            for _level, _index, node in compact.append(h):
                stored += node
        if compact.size != self.size or compact.root() != self._commit.root:
            raise LogCorruptError(
                self.directory / LEAVES,
                f"the leaves give {compact.size} leaves with another root than the last commit "
                f"record ({self.size} leaves)",
            )
        for name, data in ((INDEX, offsets), (HASHES, stored)):
            path = self.directory / name
            tmp = self.directory / f".{name}.tmp-{uuid.uuid4().hex}"
            durable.write_file(tmp, MAGIC[name] + bytes(data))
            with durable.storage_errors(path):
                os.replace(tmp, path)
                os.close(self._files.fds[name])
                self._files.fds[name] = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        durable.fsync_dir(self.directory)
        self._derived_ok = True
        self._compact = compact

    # -- auditing ----------------------------------------------------------------------

    def commits(self) -> list[CommitRecord]:
        """Every commit record up to the committed one (oldest first)."""
        count = self._commit_position + 1
        raw = self._files.read(COMMITS, COMMIT_SIZE * count, HEADER)
        out = []
        for i in range(count):
            record = CommitRecord.decode(raw[i * COMMIT_SIZE : (i + 1) * COMMIT_SIZE])
            if record is None:
                raise LogCorruptError(self.directory / COMMITS, f"commit record {i} is damaged")
            out.append(record)
        return out

    def audit(
        self,
        checkpoints: Sequence[Checkpoint] = (),
        on_entry: Callable[[bytes], object] | None = None,
    ) -> list[LogFinding]:
        """Recompute every hash from the leaves and compare with the cache, the commit
        records and the given (already verified) checkpoints. Empty list: all agree.
        ``on_entry`` is given each committed leaf in order, up to a damaged record (so
        a caller that reads every leaf needs no second pass)."""
        findings: list[LogFinding] = []
        try:
            commits = self.commits()
        except LogCorruptError as exc:
            return [LogFinding("tlog-commit-damaged", exc.reason)]
        expected = {c.size: ("commit record", c.root) for c in commits}
        for cp in checkpoints:
            if cp.size > self.size:
                findings.append(
                    LogFinding(
                        "tlog-truncated",
                        f"checkpoint {cp.origin} signed {cp.size} leaves, the log holds {self.size}",
                    )
                )
        roots = {cp.size: cp for cp in checkpoints if cp.size <= self.size}
        compact = CompactRange()
        offsets, stored = bytearray(), bytearray()
        for size, (what, root_hash) in sorted(expected.items()):
            if size == 0 and root_hash != EMPTY_ROOT:
                findings.append(LogFinding("tlog-commit-root", f"{what} for size 0"))
        try:
            for offset, data, h in self._records(HEADER, self._commit.end, strict=True):
                if on_entry is not None:
                    on_entry(data)
                offsets += struct.pack(">Q", offset)
                for _level, _index, node in compact.append(h):
                    stored += node
                findings.extend(self._audit_roots(compact, expected, roots))
        except LogCorruptError as exc:
            findings.append(LogFinding("tlog-record-damaged", exc.reason, compact.size))
            return findings
        if compact.size != self.size:
            findings.append(
                LogFinding(
                    "tlog-commit-size",
                    f"{compact.size} records, the commit record says {self.size}",
                )
            )
        findings.extend(self._audit_cache(INDEX, bytes(offsets), 8))
        findings.extend(self._audit_cache(HASHES, bytes(stored), HASH_SIZE))
        tail = self._files.length(LEAVES) - self._commit.end
        if tail:
            findings.append(
                LogFinding("tlog-uncommitted-tail", f"{tail} bytes after the last committed leaf")
            )
        return findings

    @staticmethod
    def _audit_roots(
        compact: CompactRange,
        expected: dict[int, tuple[str, bytes]],
        checkpoints: dict[int, Checkpoint],
    ) -> list[LogFinding]:
        size = compact.size
        if size not in expected and size not in checkpoints:
            return []
        found = []
        actual = compact.root()
        if size in expected and expected[size][1] != actual:
            found.append(LogFinding("tlog-commit-root", f"root at size {size} differs", size))
        cp = checkpoints.get(size)
        if cp is not None and cp.root != actual:
            found.append(
                LogFinding(
                    "tlog-rewritten",
                    f"the first {size} leaves do not hash to the root checkpoint {cp.origin} signed",
                    size,
                )
            )
        return found

    def _audit_cache(self, name: str, expected: bytes, width: int) -> list[LogFinding]:
        actual = self._files.read(name, len(expected), HEADER)
        if actual == expected:
            return []
        first = next(
            (
                i
                for i in range(0, len(expected), width)
                if actual[i : i + width] != expected[i : i + width]
            ),
            len(actual),
        )
        return [
            LogFinding(f"tlog-{name}-mismatch", f"cached {name} differ from entry {first // width}")
        ]
