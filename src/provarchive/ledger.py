"""The archive's transparency log: what every state change appends, signed checkpoints,
proofs, and the checks that prove nothing was changed on purpose.

Contract:
- The log (:mod:`provarchive.tlog`) lives in the OCFL storage root's extension
  folder ``extensions/provarchive-transparency-log/``, beside the store it
  attests, so ``rebuild`` keeps it. Three kinds of leaves:
  ``version`` (a stored version's digests and the sha512 of its own inventory),
  appended inside the store's commit protocol (prepared durably before the
  journal is written, committed after the inventories are published, kept by
  recovery exactly when the store holds that version); ``event`` (one per
  catalog event, with a digest of the whole row) and ``derivation`` (for each
  derivation event: the cleaning run's digest and the RFC 9162 root over its
  passages, so one passage can be proved), appended by :func:`log_events` after
  the catalog commit. Every writer runs it before it releases the lock and
  recovery runs it first, so an event is never left out for long and never
  logged twice.
- After every writing command a checkpoint (C2SP tlog-checkpoint in a signed
  note, Ed25519) is written to ``checkpoint`` in the log folder and appended to
  ``checkpoints``. The signing key is ``signing.key`` in the archive home (mode
  0600, created by ``init``), or the key given with ``--key``/
  ``PROVARCHIVE_SIGNING_KEY``; ``provarchive.json`` records the verifier key
  and the origin. A copy of a checkpoint kept outside the archive is a witness:
  :func:`check` proves today's log extends it and re-derives every leaf from the
  store and the catalog.
- An archive made before the log existed has its log seeded by the first writer
  (every stored version in creation order, then every catalog event), logged as
  an event that says so.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .catalog import DerivationRecord, Event, queries
from .config import AGENT, agent_for
from .digests import canonical_json, sha256_hex
from .errors import (
    CatalogError,
    CatalogValueError,
    CorruptArchiveError,
    DocumentNotFoundError,
    PassageNotFoundError,
    StorageError,
    VersionNotFoundError,
)
from .findings import BAD_CATALOG_VALUE, Finding, bad_catalog_value
from .home import Home
from .store import durable
from .store.lock import wait_flock
from .store.ocfl import INVENTORY, ObjectState, sha512_hex
from .store.storage import BATCH_LOCK, PreparedVersion, Repair
from .timestamps import parse as parse_stamp
from .tlog.checkpoint import open_checkpoint, peek_checkpoint, sign_checkpoint
from .tlog.errors import (
    LeafFormatError,
    LogCorruptError,
    LogMismatchError,
    ProofError,
    SigningKeyError,
)
from .tlog.keys import ENV_VAR, generate_key, load_key, save_key, signer_from_env
from .tlog.leaf import (
    EVENT_DERIVATION,
    EVENT_VERSION,
    EventLeaf,
    Leaf,
    derivation_digest,
    event_digest,
    format_time,
    make_event_leaf,
    make_leaf,
    make_passage_entry,
    parse_any_leaf,
    passages_root,
)
from .tlog.log import LogFinding, PreparedAppend, TransparencyLog
from .tlog.note import Signer, Verifier

log = logging.getLogger(__name__)

EXTENSION = "provarchive-transparency-log"
CHECKPOINT = "checkpoint"
CHECKPOINTS = "checkpoints"
EVENT_WITHDRAWAL = "withdrawal"
"""Type of the leaf recording a withdrawal: a stored version without the file; its
digests and size are those of the file withdrawn (the latest version holding it)."""
STORE_LEAVES = (EVENT_VERSION, EVENT_WITHDRAWAL)
"""The leaves appended inside the store's commit protocol (one per stored version)."""


def log_dir(home: Home) -> Path:
    return home.store.root / "extensions" / EXTENSION


def exists(home: Home) -> bool:
    return (log_dir(home) / "leaves").exists()


def open_log(home: Home, *, writable: bool = False, wait: float | None = None) -> TransparencyLog:
    return TransparencyLog.open(log_dir(home), writable=writable, wait=wait)


# -- keys ---------------------------------------------------------------------------------


def signer(home: Home) -> Signer:
    """The key that signs this archive's checkpoints (see the module docstring)."""
    config = home.config
    key = signer_from_env() if config.signing_key is None else None
    source = f"in ${ENV_VAR}"
    if key is None:
        path = (
            config.signing_key
            if config.signing_key and config.signing_key.exists()
            else config.key_path
        )
        if not path.exists():
            raise SigningKeyError(
                str(path),
                "no such file: give the archive's key with --key FILE or PROVARCHIVE_SIGNING_KEY",
            )
        key, source = load_key(path), str(path)
    expected = home.settings.verifier_key
    if expected is not None and key.verifier.verifier_key != expected:
        want = "+".join(expected.split("+")[:2])
        raise SigningKeyError(
            source,
            f"{key.verifier.name} is not this archive's key (provarchive.json expects {want})",
        )
    return key


def verifier(home: Home) -> Verifier:
    key = home.settings.verifier_key
    if key is None:
        raise SigningKeyError("", "this archive has no checkpoint key yet (run a writing command)")
    return Verifier.from_verifier_key(key)


def initialize(home: Home) -> list[Repair]:
    """Create the log, the signing key and the settings that name them (writers only);
    seeds the log from the store and catalog of an archive made before it existed."""
    home.require_writer()
    repairs: list[Repair] = []
    if home.settings.origin is None:
        key = _first_key(home)
        home.save_settings(origin=key.verifier.name, verifier_key=key.verifier.verifier_key)
    if not exists(home):
        durable.make_dirs(log_dir(home).parent)
        with TransparencyLog.create(log_dir(home)) as tl:
            seeded = _seed_versions(home, tl)
        if seeded:
            repairs.append(
                Repair("log-seeded", None, f"log started with {seeded} stored version(s)")
            )
    return repairs


def _first_key(home: Home) -> Signer:
    """The key a new log is signed with: the one given (``--key FILE``, kept as the
    archive's key file too, or PROVARCHIVE_SIGNING_KEY), the archive's key file, or a new one."""
    own = home.config.key_path
    given = home.config.signing_key
    if given is not None and given != own:
        key = load_key(given)
        if not own.exists():
            save_key(own, key)
        return key
    from_env = signer_from_env()
    if from_env is not None:
        return from_env
    if own.exists():
        return load_key(own)
    return generate_key(own, f"provarchive.local/{uuid.uuid4().hex}")


def _seed_versions(home: Home, tl: TransparencyLog) -> int:
    """Version leaves for every stored version, in creation order (an archive older than
    its log)."""
    states = [s for d in home.store.iter_object_dirs() if (s := _load(home, d)) is not None]
    leaves = sorted(
        ((sv.created, _version_leaf(home, st, sv.number)) for st in states for sv in st.versions),
        key=lambda pair: pair[0],
    )
    if leaves:
        tl.append([leaf for _c, leaf in leaves])
    return len(leaves)


def _load(home: Home, directory: Path, *, quiet: bool = False) -> ObjectState | None:
    """The object's state, or None if it is damaged (said in a warning, unless ``quiet``:
    verify reports the damage as a finding of its own)."""
    try:
        return home.store.load_dir(directory)
    except CorruptArchiveError as exc:
        if not quiet:
            log.warning("not in the transparency log: %s", exc)
        return None


# -- version leaves, in the store's commit --------------------------------------------------


def _file_of(state: ObjectState, number: int) -> tuple[str, Any]:
    """(leaf type, the version whose file the leaf's digests describe) of a stored version:
    itself, or for a withdrawal the latest version before it that holds the file."""
    sv = state.version(number)
    if not sv.withdrawn:
        return EVENT_VERSION, sv
    return EVENT_WITHDRAWAL, state.last_file(number) or sv


def _version_leaf(home: Home, state: ObjectState, number: int) -> bytes:
    sv = state.version(number)
    kind, file = _file_of(state, number)
    directory = home.store.root / state.path
    inventory = (directory / f"v{number}" / INVENTORY).read_bytes()
    size = (directory / file.content_path).stat().st_size
    return make_leaf(
        type=kind,
        document=state.name,
        version=number,
        inventory_sha512=sha512_hex(inventory),
        sha256=file.sha256,
        sha512=file.sha512,
        size=size,
        time=sv.created,
        agent=agent_for({"name": sv.user_name, "address": sv.user_address or ""}),
    )


OnOpen = Callable[[TransparencyLog], list[Repair]]
"""What a shared writer does each time it has the log to itself, before appending:
finish what writers that died left (store first, then :func:`recover_log`)."""


class LedgerWriter:
    """The log open for one writing command (writer lock held): made ready on entry (created,
    seeded or recovered), told about every store commit (it is the store's
    :class:`~provarchive.store.storage.CommitListener`), and sealed at the end: the
    command's events logged and a checkpoint signed.

    An exclusive writer holds the log open for its whole run. A ``shared`` writer (see
    :mod:`provarchive.store.lock`) opens it, waiting its turn, for each store commit
    (from the log's prepare to its commit, so the store commits of shared writers are
    serialised and one that died mid-commit left the log to nobody) and for the seal,
    and runs ``on_open`` each time first."""

    def __init__(self, home: Home, *, shared: bool = False, on_open: OnOpen | None = None) -> None:
        home.require_writer()
        self.home = home
        self.shared = shared
        self._on_open: OnOpen = on_open or (lambda tl: recover_log(home, tl))
        self.repairs = initialize(home)
        self.log: TransparencyLog | None = None
        if shared:
            with self.turn():
                pass
            return
        self.log = open_log(home, writable=True)
        try:
            self.repairs += recover_log(home, self.log)
        except BaseException:
            self.log.close()
            raise

    def __enter__(self) -> LedgerWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.log is not None:
            self.log.close()
            self.log = None

    @contextlib.contextmanager
    def turn(self) -> Iterator[TransparencyLog]:
        """The log to this writer alone: held open for an exclusive writer; opened (after
        the writers before it) and recovered for a shared one, and closed after."""
        if not self.shared:
            assert self.log is not None
            yield self.log
            return
        tl = self._open_turn()
        try:
            yield tl
        finally:
            tl.close()

    def _open_turn(self) -> TransparencyLog:
        tl = open_log(self.home, writable=True, wait=self.home.config.lock_timeout)
        try:
            self.repairs += self._on_open(tl)
        except BaseException:
            tl.close()
            raise
        return tl

    def prepare(self, versions: list[PreparedVersion]) -> PreparedAppend:
        leaves = [
            make_leaf(
                type=EVENT_WITHDRAWAL if p.withdrawn else EVENT_VERSION,
                document=p.name,
                version=p.number,
                inventory_sha512=p.inventory_sha512,
                sha256=p.digests.sha256,
                sha512=p.digests.sha512,
                size=p.digests.size,
                time=p.created,
                agent=agent_for(p.user),
            )
            for p in versions
        ]
        if self.shared:
            self.log = self._open_turn()  # held until committed() or aborted()
            try:
                _require_heads(self.home, versions)
            except BaseException:
                self._end_turn()
                raise
            _mark_committer(self.home, versions)
        assert self.log is not None
        try:
            return self.log.prepare(leaves)
        except BaseException:
            self._end_turn()
            raise

    def committed(self, token: PreparedAppend) -> None:
        assert self.log is not None
        try:
            self.log.commit(token, sync=False)
        finally:
            self._end_turn()

    def aborted(self, token: PreparedAppend) -> None:
        assert self.log is not None
        try:
            self.log.abort(token)
        finally:
            self._end_turn()

    def settle(self) -> None:
        """A turn of the log for nothing but ``on_open`` (shared writers; see the class)."""
        if self.shared:
            with self.turn():
                pass

    def _end_turn(self) -> None:
        if self.shared and self.log is not None:
            self.log.close()
            self.log = None

    def seal(self) -> str:
        """Log every event not logged yet and sign a checkpoint; returns the checkpoint."""
        with self.turn() as tl:
            log_events(self.home, tl)
            return write_checkpoint(self.home, tl)


COMMITTER_WAIT = 10.0
"""Seconds to wait for a dead committer's batch (bounded: a marker left stale by a failed
write may name a live writer's batch instead)."""
COMMITTER = "committing"
"""In the log folder: the staging batch of the shared writer whose store commit holds the
log (written, not synced, before each such commit; see :func:`wait_for_committer`)."""


def _require_heads(home: Home, versions: list[PreparedVersion]) -> None:
    """Each version still follows its object's head, in the store as it is now that this
    writer has its turn (shared writers: a document lock lost with its database
    connection would otherwise let two writers commit the same version number).
    Raises StorageError, before anything is written, if one does not."""
    for p in versions:
        state = home.store.load(p.name)
        head = state.head if state is not None else 0
        if head != p.number - 1:
            raise StorageError(
                home.store.root / p.object_path,
                f"{p.name} is at v{head} in the store, not v{p.number - 1} as when this "
                "writer prepared it: another writer wrote it meanwhile (its lock on the "
                "document was lost); run the command again",
            )


def _mark_committer(home: Home, versions: list[PreparedVersion]) -> None:
    batches = {str(p.staged_tree.parent) for p in versions}
    with contextlib.suppress(OSError):
        (log_dir(home) / COMMITTER).write_text("\n".join(sorted(batches)))


def wait_for_committer(home: Home, tl: TransparencyLog) -> None:
    """When the log holds an append nobody committed, the shared writer that prepared it
    is dead (a live one holds the log until it commits): wait until the kernel has let go
    of its batch too, so that the store's recovery sees that batch as dead and finishes it
    before :func:`recover_log` judges the leaves by the store."""
    if not tl.pending():
        return
    try:
        batches = (log_dir(home) / COMMITTER).read_text().split("\n")
    except OSError:
        return
    deadline = time.monotonic() + COMMITTER_WAIT
    for batch in map(Path, batches):
        if batch.parent != home.store.staging or not batch.name.startswith("txn-"):
            continue  # not a name the archive writes
        with contextlib.suppress(OSError):
            fd = os.open(batch / BATCH_LOCK, os.O_RDWR | os.O_CLOEXEC)
            try:
                wait_flock(fd, deadline)  # its writer is gone: a moment at most
            finally:
                os.close(fd)


def recover_log(home: Home, tl: TransparencyLog) -> list[Repair]:
    """Keep the version leaves the store committed, drop the others (after the store's
    own recovery)."""
    states: dict[str, ObjectState | None] = {}

    def committed(_index: int, data: bytes) -> bool:
        leaf = parse_any_leaf(data)
        if not isinstance(leaf, Leaf) or leaf.type not in STORE_LEAVES:
            return True
        if leaf.document not in states:
            states[leaf.document] = home.store.load(leaf.document)
        state = states[leaf.document]
        if state is None or state.head < leaf.version:
            return False
        inv = home.store.root / state.path / f"v{leaf.version}" / INVENTORY
        return sha512_hex(inv.read_bytes()) == leaf.inventory_sha512

    result = tl.recover(committed)
    repairs = _set_aside_bad_checkpoint(home, tl)
    if not result.changed:
        return repairs
    return [
        Repair(
            "log-recovered",
            None,
            f"{result.completed} leaf/leaves completed, {result.discarded} discarded",
        ),
        *repairs,
    ]


NOT_UTF8 = "not UTF-8"
MAX_REASON = 300
"""Characters of a set-aside checkpoint's fault kept in its recovery event."""


def _set_aside_bad_checkpoint(home: Home, tl: TransparencyLog) -> list[Repair]:
    """A latest checkpoint that ``verify`` would report (unreadable, not signed by this
    archive's key, or signing a root the log does not have: a forger's or a rewritten
    log's trace) is renamed aside, never signed over: the writer's next checkpoint
    takes its place, and the file stays, named by a ``recovery`` event."""
    own = _own_checkpoint(home)
    if isinstance(own, Finding):
        if own.detail != NOT_UTF8:  # missing, or unreadable just now: not moved for that
            return []
        reason = own.detail
    else:
        try:
            key = verifier(home)
        except SigningKeyError:
            return []  # nothing to judge it by (verify reports the key)
        found = _check_checkpoint(tl, own[0], own[1], key)
        if not found:
            return []
        reason = found[0].detail.removeprefix(own[0]).removeprefix(": ")
    if len(reason) > MAX_REASON:  # a forger's checkpoint may hold anything
        reason = reason[: MAX_REASON - 1] + "…"
    path = log_dir(home) / CHECKPOINT
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    aside = path.with_name(f"{CHECKPOINT}.invalid-{stamp}-{uuid.uuid4().hex[:8]}")
    with durable.storage_errors(path):
        os.rename(path, aside)
        durable.fsync_dir(path.parent)
    log.warning("the latest checkpoint was not valid (%s): kept as %s", reason, aside)
    return [
        Repair(
            "checkpoint-set-aside",
            None,
            f"the latest checkpoint was not valid ({reason}); kept as {aside.name}, "
            "a new one is signed",
        )
    ]


# -- event and derivation leaves ----------------------------------------------------------


def _time(value: Any) -> str:
    return format_time(value)


def event_leaf_digest(e: Any) -> str:
    """The digest an event's leaf records (``e``: an :class:`Event` or a row of its columns)."""
    return event_digest(
        e.id, _time(e.occurred_at), e.event_type, e.outcome, e.agent, e.document, e.version,
        e.detail,
    )  # fmt: skip


def _event_leaf(e: Event) -> bytes:
    return make_event_leaf(
        event_id=e.id,
        event_type=e.event_type,
        outcome=e.outcome,
        time=e.occurred_at,
        agent=e.agent,
        detail=e.detail,
        event=event_leaf_digest(e),
        document=e.document,
        version=e.version,
    )


def derivation_description(rec: DerivationRecord) -> dict[str, Any]:
    """What a derivation leaf attests about a cleaning run (nothing that changes later)."""
    return {
        "number": rec.number,
        "cleaner": rec.cleaner_name,
        "cleaner_version": rec.cleaner_version,
        "rules_digest": rec.rules_digest,
        "normalisation": rec.normalisation,
        "encoding": rec.encoding,
        "status": rec.status,
        "output_sha256": rec.output_sha256,
    }


def passage_entries(
    home: Home, passages: Sequence[Any], name: str, number: int, state: ObjectState | None = None
) -> list[bytes]:
    """The passage entries of a derivation's passages tree (each with its raw span's digest;
    ``state``: the object's state, if the caller has it loaded)."""
    if not passages:
        return []
    raw = home.read_bytes(name, number, state)
    return [
        make_passage_entry(
            id=p.passage_id,
            raw_start=p.raw_start,
            raw_end=p.raw_end,
            raw_sha256=hashlib.sha256(raw[p.raw_start : p.raw_end]).hexdigest(),
            text_sha256=p.sha256,
        )
        for p in passages
    ]


class _Inventories:
    """sha512 of each version's own inventory, read from the store once per version."""

    def __init__(self, home: Home) -> None:
        self.home = home
        self._states: dict[str, ObjectState | None] = {}

    def state(self, name: str) -> ObjectState | None:
        if name not in self._states:
            self._states[name] = self.home.store.load(name)
        return self._states[name]

    def digest(self, name: str, number: int) -> str | None:
        state = self.state(name)
        if state is None or state.head < number:
            return None
        path = self.home.store.root / state.path / f"v{number}" / INVENTORY
        return sha512_hex(path.read_bytes())


def _derivation_leaf(
    home: Home,
    found: tuple[DerivationRecord, Any, str],
    passages: Sequence[Any],
    inventories: _Inventories,
) -> bytes | None:
    rec, v, name = found
    if v.size < 0:  # its content file was missing when the catalog was filled: no bytes
        return None  # to attest (verify reports the file; the event itself is logged)
    inventory = inventories.digest(name, v.number)
    if inventory is None:
        return None
    entries = passage_entries(home, passages, name, v.number, inventories.state(name))
    return make_leaf(
        type=EVENT_DERIVATION,
        document=name,
        version=v.number,
        inventory_sha512=inventory,
        sha256=v.sha256,
        sha512=v.sha512,
        size=v.size,
        time=rec.created_at,
        agent=AGENT,
        derivation=derivation_digest(derivation_description(rec)),
        derivation_output=rec.output_sha256,
        passages=len(entries) or None,
        passages_root=passages_root(entries) if entries else None,
    )


def log_events(home: Home, tl: TransparencyLog) -> int:
    """Append a leaf for every catalog event the log does not hold yet (and a derivation
    leaf for each derivation event); returns how many events were logged. Writers only."""
    home.require_writer()
    with home.catalog.session() as s:
        events = queries.unlogged_events(s)
        if not events:
            return 0
        already = _tail_event_ids(tl, 3 * len(events) + 8)
        ids = [e.derivation_id for e in events if e.derivation_id and e.event_type == "derivation"]
        derivations = queries.derivations_with_versions(s, ids)
        passages = queries.passages_for(s, list(derivations))
        inventories = _Inventories(home)
        leaves: list[bytes] = []
        for e in events:
            if already.get(e.id) == event_leaf_digest(e):
                continue  # logged by a writer that died before it could mark it
            leaves.append(_event_leaf(e))
            found = derivations.get(e.derivation_id or 0)
            if found is not None:
                extra = _derivation_leaf(home, found, passages[found[0].id], inventories)
                if extra is not None:
                    leaves.append(extra)
        if leaves:
            tl.append(leaves)
        queries.mark_events_logged(s, [e.id for e in events])
    return len(events)


def _tail_event_ids(tl: TransparencyLog, count: int) -> dict[int, str]:
    found: dict[int, str] = {}
    for data in tl.entries(max(0, tl.size - count), tl.size):
        leaf = parse_any_leaf(data)
        if isinstance(leaf, EventLeaf):
            found[leaf.event_id] = leaf.event
    return found


def logged_events(home: Home) -> list[dict[str, Any]]:
    """The catalog events the log holds, as rows to insert into a new catalog (for a
    rebuild whose old catalog is gone: the event log is derived from the log)."""
    if not exists(home):
        return []
    rows: dict[int, dict[str, Any]] = {}
    with open_log(home) as tl:
        for data in tl.iter_entries(0, tl.size):
            leaf = parse_any_leaf(data)
            if isinstance(leaf, EventLeaf):
                rows[leaf.event_id] = {
                    "id": leaf.event_id,
                    "occurred_at": parse_stamp(leaf.time),
                    "event_type": leaf.event_type,
                    "outcome": leaf.outcome,
                    "agent": leaf.agent,
                    "document": leaf.document,
                    "version": leaf.version,
                    "detail": leaf.detail,
                    "logged": True,
                    "derivation_id": None,
                }
    return [rows[k] for k in sorted(rows)]


# -- checkpoints ------------------------------------------------------------------------------


def write_checkpoint(home: Home, tl: TransparencyLog) -> str:
    """Sign a checkpoint of the log as it is now; keep it as the latest and in the history."""
    home.require_writer()
    key = signer(home)
    note = sign_checkpoint(tl.checkpoint(key.verifier.name), key)
    folder = log_dir(home)
    durable.atomic_write(folder / CHECKPOINT, note.encode(), home.config.staging)
    with durable.storage_errors(folder / CHECKPOINTS), open(folder / CHECKPOINTS, "ab") as fh:
        fh.write(canonical_json({"checkpoint": note}) + b"\n")
    return note


def latest_checkpoint(home: Home) -> str:
    """The latest checkpoint, checked against the archive's key: a damaged one is never
    handed out as a witness or put in a proof (:class:`CorruptArchiveError`)."""
    own = _own_checkpoint(home)
    if isinstance(own, Finding):
        reason = "no checkpoint has been written yet" if own.code == "CHECKPOINT_MISSING" else ""
        raise CorruptArchiveError(log_dir(home) / CHECKPOINT, reason or own.detail)
    try:
        open_checkpoint(own[1], [verifier(home)], allow_unknown=False)
    except (ProofError, SigningKeyError) as exc:
        raise CorruptArchiveError(own[0], f"not a valid signed checkpoint: {exc}") from None
    return own[1]


# -- proofs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Located:
    index: int
    leaf: Leaf


def find_leaves(tl: TransparencyLog, document: str, version: int, kind: str) -> list[Located]:
    found = []
    for i, data in enumerate(tl.iter_entries(0, tl.size)):
        leaf = parse_any_leaf(data)
        if (
            isinstance(leaf, Leaf)
            and leaf.type == kind
            and leaf.document == document
            and leaf.version == version
        ):
            found.append(Located(i, leaf))
    return found


def prove_version(home: Home, name: str, number: int | None) -> bytes:
    from .tlog.bundle import prove

    state = home.store.load(name)
    if state is None:
        raise DocumentNotFoundError(name)
    number = state.head if number is None else number
    if not 1 <= number <= state.head:  # a withdrawal is provable: it is a version
        raise VersionNotFoundError(name, number, state.head)
    checkpoint = latest_checkpoint(home)
    with open_log(home) as tl:
        matches = sorted(
            (m for kind in STORE_LEAVES for m in find_leaves(tl, name, number, kind)),
            key=lambda m: m.index,
        )
        covered = [m for m in matches if m.index < peek_checkpoint(checkpoint).size]
        if not covered:
            raise CorruptArchiveError(
                log_dir(home), f"no version leaf for {name} v{number} under the latest checkpoint"
            )
        return prove(tl, covered[-1].index, checkpoint)


def prove_passage(home: Home, passage_id: str) -> bytes:
    from .cleaning.passages import parse_passage_id
    from .tlog.bundle import passage_proof, prove

    parsed = parse_passage_id(passage_id)
    if parsed is None:
        raise PassageNotFoundError(passage_id)
    name, number, ordinal = parsed
    checkpoint = latest_checkpoint(home)
    with home.catalog.session() as s:
        chain = queries.passage_chain(s, name, number, ordinal, None)
        if chain is None:
            raise PassageNotFoundError(passage_id)
        _p, rec, _v, _doc = chain
        description = derivation_description(rec)
        passages = queries.passages_of(s, rec.id)
        entries = passage_entries(home, passages, name, number)
        k = [p.id for p in passages].index(_p.id)
    digest = derivation_digest(description)
    with open_log(home) as tl:
        size = peek_checkpoint(checkpoint).size
        matches = [
            m for m in find_leaves(tl, name, number, EVENT_DERIVATION)
            if m.leaf.derivation == digest and m.index < size
        ]  # fmt: skip
        if not matches:
            raise CorruptArchiveError(
                log_dir(home), f"no derivation leaf for {passage_id} under the latest checkpoint"
            )
        return prove(
            tl,
            matches[-1].index,
            checkpoint,
            passage=passage_proof(entries, k),
            derivation=description,
        )


# -- checks --------------------------------------------------------------------------------


def store_states(home: Home) -> dict[str, ObjectState]:
    """Every readable object's committed state (inventories only; no content is read)."""
    states = {}
    for directory in home.store.iter_object_dirs():
        state = _load(home, directory, quiet=True)
        if state is not None:
            states[state.name] = state
    return states


@dataclass
class LogCheck:
    """What the log check finds without the store's object states: the log's own
    integrity and checkpoints (``log``), the events against the catalog's (``events``),
    and what each stored version's leaf recorded, for :func:`check_versions`."""

    log: list[Finding]
    events: list[Finding]
    logged: dict[tuple[str, int], tuple[str, str, str, str]] | None
    """(name, version) -> (leaf type, sha512, sha256, inventory sha512) of the first leaf
    of each stored version; None when the log could not be read at all."""
    complete: bool = True
    """False when a damaged record hides the leaves after it: what they would have
    logged is not reported missing one by one (the damage is the finding)."""


def check(
    home: Home,
    states: dict[str, ObjectState],
    checkpoints: Sequence[tuple[str, str]] = (),
    trusted: Verifier | None = None,
) -> list[Finding]:
    """Findings about the log: its own integrity, every leaf re-derived from the store and
    the catalog, and each (name, text) checkpoint signed by the archive's key and extended
    by today's log."""
    return with_versions(home, states, check_log(home, checkpoints, trusted))


def with_versions(
    home: Home,
    states: dict[str, ObjectState],
    lc: LogCheck,
    inventories: Mapping[tuple[str, int], str] | None = None,
) -> list[Finding]:
    """The findings of a :class:`LogCheck` with those of the stored versions' leaves."""
    if lc.logged is None:
        return lc.log + lc.events
    found = check_versions(home, states, lc.logged, inventories)
    if not lc.complete:  # their leaves may be past the damaged record: not evidence
        found = [f for f in found if f.code != "LOG_VERSION_UNLOGGED"]
    return lc.log + found + lc.events


def check_log(
    home: Home, checkpoints: Sequence[tuple[str, str]] = (), trusted: Verifier | None = None
) -> LogCheck:
    """Everything :func:`check` looks at but the store (``verify`` runs it beside the
    store check, in another process)."""
    if not exists(home):
        if home.settings.origin is None:
            return LogCheck(
                [Finding("LOG_NOT_STARTED", "the next writing command starts it")], [], None
            )
        return LogCheck(
            [Finding("LOG_MISSING", str(log_dir(home)), path=str(log_dir(home)))], [], None
        )
    findings = _key_findings(home)
    own = _own_checkpoint(home)  # read before the log: the log is never behind it
    try:
        tl = open_log(home)
    except (LogCorruptError, OSError) as exc:
        return LogCheck([Finding("LOG_DAMAGED", str(exc), path=str(log_dir(home)))], [], None)
    with tl:
        key = trusted
        if key is None:
            try:
                key = verifier(home)
            except SigningKeyError as exc:
                findings.append(Finding("CHECKPOINT_INVALID", str(exc)))
        if isinstance(own, Finding):
            findings.extend([own] if tl.size or own.code != "CHECKPOINT_MISSING" else [])
        for source, text in [*checkpoints, *([own] if isinstance(own, tuple) else [])]:
            findings.extend(_check_checkpoint(tl, source, text, key))
        entries: list[bytes] = []
        audit = tl.audit(on_entry=entries.append)  # one pass over the leaves for both
        if len(entries) < tl.size:  # the audit stopped early (damaged commit records)
            entries = _entries_up_to_damage(tl)
        complete = len(entries) == tl.size
        leaves = _leaves(entries, findings)
        findings.extend(_audit(tl, audit, leaves))
    logged: dict[tuple[str, int], tuple[str, str, str, str]] = {}
    for _i, leaf in leaves:
        if isinstance(leaf, Leaf) and leaf.type in STORE_LEAVES:
            logged.setdefault(
                (leaf.document, leaf.version),
                (leaf.type, leaf.sha512, leaf.sha256, leaf.inventory_sha512),
            )
    events: list[Finding] = []
    # An unreadable catalog is verify's finding already; its events cannot be compared.
    with contextlib.suppress(CatalogError):
        try:
            events = _check_events(home, leaves, complete)
        except CatalogValueError as exc:  # only the events are read here: say so
            events = [Finding("CATALOG_UNREADABLE", str(exc), path=home.catalog_url)]
        except BAD_CATALOG_VALUE as exc:
            events = [bad_catalog_value(exc, home.catalog_url)]
    return LogCheck(findings, events, logged, complete)


def _key_findings(home: Home) -> list[Finding]:
    """The key writers sign with, if it cannot be used: nothing stored is damaged, but
    every writing command fails until it is restored (a copy handed to an auditor may
    well lack it, so this is a warning). A key this user may not read is no finding:
    it is a reader, and the key is not for it."""
    try:
        signer(home)
    except SigningKeyError as exc:
        from_file = exc.source and not exc.source.startswith("in $")  # else: the variable
        path = exc.source if from_file else None
        if path is not None and os.path.exists(path) and not os.access(path, os.R_OK):
            return []
        detail = exc.reason if path else f"{exc.source}: {exc.reason}"
        return [Finding("SIGNING_KEY_UNUSABLE", detail, path=path)]
    return []


def _own_checkpoint(home: Home) -> tuple[str, str] | Finding:
    """The archive's latest checkpoint as a (source, text) pair to check, or why not."""
    path = log_dir(home) / CHECKPOINT
    try:
        return str(path), path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Finding("CHECKPOINT_MISSING", "the next writing command signs one", path=str(path))
    except (OSError, UnicodeDecodeError) as exc:
        reason = durable.describe_os_error(exc) if isinstance(exc, OSError) else NOT_UTF8
        return Finding("CHECKPOINT_INVALID", reason, path=str(path))


def _entries_up_to_damage(tl: TransparencyLog) -> list[bytes]:
    """The committed leaves in order, up to the first damaged record."""
    entries: list[bytes] = []
    with contextlib.suppress(LogCorruptError):
        for data in tl.iter_entries(0, tl.size):
            entries.append(data)
    return entries


def _leaves(entries: list[bytes], findings: list[Finding]) -> list[tuple[int, Leaf | EventLeaf]]:
    """The leaves that parse; one that does not (its record intact, its content not a
    leaf: a forger's work) is a finding."""
    leaves: list[tuple[int, Leaf | EventLeaf]] = []
    for i, data in enumerate(entries):
        try:
            leaves.append((i, parse_any_leaf(data)))
        except (ProofError, LeafFormatError) as exc:
            findings.append(Finding("LOG_DAMAGED", f"leaf {i}: {exc}"))
    return leaves


def _audit(
    tl: TransparencyLog, audit: list[LogFinding], leaves: list[tuple[int, Leaf | EventLeaf]]
) -> list[Finding]:
    by_index = dict(leaves)
    out = []
    for f in audit:
        leaf = by_index.get(f.index) if f.index is not None else None
        out.append(
            Finding(
                "LOG_DAMAGED",
                f"{f.code}: {f.detail}",
                document=getattr(leaf, "document", None),
                path=str(tl.directory),
            )
        )
    return out


def _check_checkpoint(
    tl: TransparencyLog, source: str, text: str, key: Verifier | None
) -> list[Finding]:
    try:
        cp = open_checkpoint(text, [key] if key else [], allow_unknown=False)
    except ProofError as exc:
        return [Finding("CHECKPOINT_INVALID", f"{source}: {exc}", path=source)]
    try:
        tl.check_checkpoint(cp)
    except LogMismatchError as exc:
        return [
            Finding(
                "LOG_INCONSISTENT",
                f"{source} (size {cp.size}): {exc.reason}",
                path=source,
                expected=cp.root.hex(),
            )
        ]
    return []


def check_versions(
    home: Home,
    states: dict[str, ObjectState],
    logged: dict[tuple[str, int], tuple[str, str, str, str]],
    inventories: Mapping[tuple[str, int], str] | None = None,
) -> list[Finding]:
    """Each stored version against its leaf, and no stored version without one.
    ``inventories``: (object path, version) -> sha512 of the version's inventory file,
    where the caller hashed it already; the others are read here."""
    known = inventories or {}
    out: list[Finding] = []
    for (name, number), recorded in sorted(logged.items()):
        state = states.get(name)
        if state is None or state.head < number:
            out.append(
                Finding(
                    "LOG_VERSION_MISSING",
                    f"{name} v{number} was logged but the store no longer holds it",
                    document=name,
                )
            )
            continue
        kind, sv = _file_of(state, number)
        inv_digest = known.get((state.path, number))
        if inv_digest is None:
            inventory = home.store.root / state.path / f"v{number}" / INVENTORY
            try:
                inv_digest = sha512_hex(inventory.read_bytes())
            except OSError:
                inv_digest = ""
        if (kind, sv.sha512, sv.sha256, inv_digest) != recorded:
            out.append(
                Finding(
                    "LOG_VERSION_MISMATCH",
                    f"{name} v{number} differs from what the log recorded when it was stored",
                    document=name,
                    expected=recorded[1],
                    found=sv.sha512,
                )
            )
    for name, state in sorted(states.items()):
        for sv in state.versions:
            if (name, sv.number) not in logged:
                out.append(Finding("LOG_VERSION_UNLOGGED", f"{name} v{sv.number}", document=name))
    return out


def _check_events(
    home: Home, leaves: list[tuple[int, Leaf | EventLeaf]], complete: bool = True
) -> list[Finding]:
    """The logged events against the catalog's, and (if the log could be read to its
    end) no event marked logged missing from it."""
    logged = {leaf.event_id: leaf for _i, leaf in leaves if isinstance(leaf, EventLeaf)}
    out: list[Finding] = []
    with home.catalog.session() as s:
        rows = {e.id: e for e in queries.event_facts(s)}
    for event_id, leaf in sorted(logged.items()):
        row = rows.get(event_id)
        if row is None:
            out.append(
                Finding(
                    "LOG_EVENT_MISSING",
                    f"event {event_id} ({leaf.event_type}) is in the log, not in the catalog",
                    document=leaf.document,
                    expected=leaf.event,
                )
            )
        elif event_leaf_digest(row) != leaf.event:
            out.append(
                Finding(
                    "LOG_EVENT_ALTERED",
                    f"event {event_id} ({leaf.event_type}) differs from the one logged",
                    document=leaf.document,
                    expected=leaf.event,
                    found=event_leaf_digest(row),
                )
            )
    unseen = sorted(i for i, row in rows.items() if row.logged and i not in logged)
    if unseen and not complete:
        out.append(
            Finding(
                "LOG_DAMAGED",
                f"{len(unseen)} event(s) marked logged (ids {unseen[0]} to {unseen[-1]}) "
                "cannot be checked: the log cannot be read past its damaged record",
            )
        )
        return out
    for event_id in unseen:
        row = rows[event_id]
        out.append(
            Finding(
                "LOG_EVENT_UNLOGGED",
                f"event {event_id} ({row.event_type}) is marked logged but the log lacks it",
                document=row.document,
            )
        )
    return out


def leaf_digest_hex(data: bytes) -> str:
    return sha256_hex(data)
