"""The on-disk log: appends, proofs at every size, readers, crash recovery, audits.

The crash tests kill a real writer process with SIGKILL in the middle of its
two-phase appends and check that, after recovery, the log holds exactly the
leaves whose "store commit" happened (the store is simulated by a file of
committed batch ids, written between prepare and commit as the archive will).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from provarchive.tlog import merkle
from provarchive.tlog.errors import LogCorruptError, LogMismatchError, LogStateError
from provarchive.tlog.log import COMMIT_SIZE, HEADER, TransparencyLog

from .conftest import ocfl_py_validate, ocfl_validate


def leaves(n: int, start: int = 0) -> list[bytes]:
    return [json.dumps({"n": i, "pad": "x" * (i % 50)}).encode() for i in range(start, start + n)]


def hashes(items: list[bytes]) -> list[bytes]:
    return [merkle.leaf_hash(x) for x in items]


@pytest.fixture
def logdir(tmp_path: Path) -> Path:
    return tmp_path / "extensions" / "provarchive-transparency-log"


def build(logdir: Path, batches: list[int]) -> list[bytes]:
    written: list[bytes] = []
    with TransparencyLog.create(logdir) as log:
        for k in batches:
            batch = leaves(k, len(written))
            log.append(batch)
            written += batch
    return written


def test_create_makes_an_empty_log_with_the_empty_root(logdir: Path) -> None:
    stale = logdir.parent / f".{logdir.name}.tmp-0123"
    stale.mkdir(parents=True)  # a create that crashed before its rename
    with TransparencyLog.create(logdir) as log:
        assert log.size == 0 and log.root() == merkle.EMPTY_ROOT
    assert sorted(p.name for p in logdir.iterdir()) == ["commits", "hashes", "index", "leaves"]
    assert [p.name for p in logdir.parent.iterdir()] == [logdir.name]
    with pytest.raises(LogCorruptError):
        TransparencyLog.open(logdir.parent / "nothing-here")
    with pytest.raises(LogStateError, match="already exists"):
        TransparencyLog.create(logdir)


def test_roots_and_proofs_at_every_size_match_the_list_functions(logdir: Path) -> None:
    written = build(logdir, [1, 2, 5, 13, 0, 21, 3])
    hs = hashes(written)
    with TransparencyLog.open(logdir) as log:
        assert log.size == len(written) == 45
        assert log.entries() == written
        assert log.entries(7, 9) == written[7:9] and log.entry(44) == written[44]
        for size in range(0, 46):
            assert log.root(size) == merkle.root(hs[:size])
            for index in range(size):
                assert log.inclusion_proof(index, size) == merkle.inclusion_proof(index, hs[:size])
            for m in range(1, size + 1):
                assert log.consistency_proof(m, size) == merkle.consistency_proof(m, hs[:size])
        assert [c.size for c in log.commits()] == [0, 1, 3, 8, 21, 42, 45]
        assert log.audit() == []


def test_reads_beyond_the_committed_size_are_refused(logdir: Path) -> None:
    build(logdir, [4])
    with TransparencyLog.open(logdir) as log:
        with pytest.raises(ValueError):
            log.root(5)
        with pytest.raises(IndexError):
            log.leaf_hash(4)
        with pytest.raises(ValueError):
            log.entries(2, 5)


def test_readers_never_see_prepared_records(logdir: Path) -> None:
    written = build(logdir, [3])
    with TransparencyLog.open(logdir, writable=True) as writer:
        writer.recover()
        prepared = writer.prepare(leaves(4, 3))
        with TransparencyLog.open(logdir) as reader:
            assert reader.size == 3 and reader.entries() == written
            assert writer.size == 3
            writer.commit(prepared)
            assert reader.size == 3
            reader.refresh()
            assert reader.size == 7 and reader.entries() == written + leaves(4, 3)


def test_a_writer_must_recover_first_and_is_alone(logdir: Path) -> None:
    build(logdir, [2])
    with TransparencyLog.open(logdir, writable=True) as writer:
        with pytest.raises(LogStateError, match="recover"):
            writer.prepare(leaves(1))
        with pytest.raises(LogStateError, match="another writer"):
            TransparencyLog.open(logdir, writable=True)
        writer.recover()
        before = (logdir / "leaves").stat().st_size
        prepared = writer.prepare(leaves(1, 2))
        assert (logdir / "leaves").stat().st_size == prepared.end > before
        with pytest.raises(LogStateError, match="already prepared"):
            writer.prepare(leaves(1, 3))
        writer.abort(prepared)
        assert writer.size == 2 and (logdir / "leaves").stat().st_size == before
    with TransparencyLog.open(logdir) as reader, pytest.raises(LogStateError, match="read-only"):
        reader.recover()


def crash_image(logdir: Path, committed: int, prepared: int) -> list[bytes]:
    """A log as a writer killed between prepare and commit leaves it."""
    written = build(logdir, [committed])
    writer = TransparencyLog.open(logdir, writable=True)
    writer.recover()
    extra = leaves(prepared, committed)
    writer.prepare(extra)
    writer.close()  # no commit: the process "died"
    return written + extra


def test_recovery_keeps_prepared_records_the_store_committed(logdir: Path) -> None:
    everything = crash_image(logdir, 5, 4)
    with TransparencyLog.open(logdir) as reader:
        assert reader.size == 5
    with TransparencyLog.open(logdir, writable=True) as writer:
        seen: list[int] = []

        def committed(index: int, leaf: bytes) -> bool:
            seen.append(index)
            return leaf == everything[index]

        report = writer.recover(committed)
        assert (report.completed, report.discarded, report.torn_bytes) == (4, 0, 0)
        assert seen == [5, 6, 7, 8]
        assert writer.size == 9 and writer.entries() == everything
        assert writer.audit() == []


def test_recovery_discards_prepared_records_the_store_did_not_commit(logdir: Path) -> None:
    everything = crash_image(logdir, 5, 4)
    with TransparencyLog.open(logdir, writable=True) as writer:
        report = writer.recover(lambda index, leaf: index < 7)
        assert (report.completed, report.discarded) == (2, 2)
        assert writer.entries() == everything[:7]
        report = writer.recover(lambda index, leaf: True)
        assert not report.changed
    with TransparencyLog.open(logdir, writable=True) as writer:
        assert writer.recover().discarded == 0
        assert writer.audit() == []


def test_every_torn_tail_is_detected_and_dropped(logdir: Path, tmp_path: Path) -> None:
    everything = crash_image(logdir, 3, 3)
    with TransparencyLog.open(logdir) as reader:
        committed_end = HEADER + sum(4 + len(x) + 32 for x in reader.entries())
    full = (logdir / "leaves").read_bytes()
    ends = [committed_end]
    for leaf in everything[3:]:
        ends.append(ends[-1] + 4 + len(leaf) + 32)
    # Every cut inside the first prepared record and around each record boundary.
    cuts = set(range(committed_end, ends[1] + 2))
    cuts |= {e + d for e in ends[1:] for d in (-2, -1, 0, 1) if e + d <= len(full)}
    for cut in sorted(c for c in cuts if c < len(full)):
        trial = tmp_path / f"trial-{cut}"
        shutil.copytree(logdir, trial)
        with open(trial / "leaves", "r+b") as f:
            f.truncate(cut)
        with TransparencyLog.open(trial, writable=True) as writer:
            report = writer.recover(lambda index, leaf: True)
            whole = sum(1 for e in ends[1:] if e <= cut)
            assert writer.size == 3 + whole
            assert report.torn_bytes == cut - ends[whole]
            assert writer.entries() == everything[: 3 + whole]
            assert writer.audit() == []
        shutil.rmtree(trial)


def test_garbage_after_a_torn_record_is_dropped(logdir: Path) -> None:
    everything = crash_image(logdir, 2, 2)
    with open(logdir / "leaves", "r+b") as f:
        f.seek(0, os.SEEK_END)
        f.write(b"\x00\x00\x00\x10half a rec")  # a record whose bytes never all arrived
    with TransparencyLog.open(logdir, writable=True) as writer:
        report = writer.recover(lambda index, leaf: True)
        assert report.completed == 2 and report.torn_bytes == 14
        assert writer.entries() == everything


def test_a_torn_commit_record_leaves_the_previous_one_current(logdir: Path) -> None:
    written = build(logdir, [2, 3])
    commits = logdir / "commits"
    data = commits.read_bytes()
    for cut in (len(data) - COMMIT_SIZE + 1, len(data) - 1):
        commits.write_bytes(data[:cut])
        with TransparencyLog.open(logdir) as reader:
            assert reader.size == 2
        with TransparencyLog.open(logdir, writable=True) as writer:
            report = writer.recover(lambda index, leaf: True)
            assert report.completed == 3 and writer.size == 5
            assert writer.entries() == written
        commits.write_bytes(data)
    # A full-length record with a bad check is torn too (only the last one may be).
    damaged = bytearray(data)
    damaged[-1] ^= 1
    commits.write_bytes(bytes(damaged))
    with TransparencyLog.open(logdir) as reader:
        assert reader.size == 2
    damaged = bytearray(data)
    damaged[HEADER + COMMIT_SIZE + 3] ^= 1  # an earlier record
    commits.write_bytes(bytes(damaged))
    with TransparencyLog.open(logdir) as reader:
        assert [f.code for f in reader.audit()] == ["tlog-commit-damaged"]


def test_lost_or_damaged_cache_is_rebuilt_by_a_writer(logdir: Path) -> None:
    written = build(logdir, [10, 7])
    (logdir / "hashes").unlink()
    with pytest.raises(LogCorruptError, match="missing log file"):
        TransparencyLog.open(logdir)
    with TransparencyLog.open(logdir, writable=True) as writer:
        assert writer.recover().rebuilt
    with TransparencyLog.open(logdir) as reader:
        assert reader.root() == merkle.root(hashes(written)) and reader.audit() == []
    # An interior node flipped: the cheap open check passes, proofs and audit catch it.
    data = bytearray((logdir / "hashes").read_bytes())
    position = merkle.stored_hash_index(1, 0)
    data[HEADER + 32 * position] ^= 0xFF
    (logdir / "hashes").write_bytes(bytes(data))
    with TransparencyLog.open(logdir, writable=True) as writer:
        assert [f.code for f in writer.audit()] == ["tlog-hashes-mismatch"]
        with pytest.raises(LogCorruptError, match="inconsistent"):
            writer.inclusion_proof(2)
        writer.rebuild_cache()
        assert writer.audit() == []
        assert writer.inclusion_proof(2) == merkle.inclusion_proof(2, hashes(written))


def test_a_damaged_committed_leaf_is_reported_never_repaired(logdir: Path) -> None:
    build(logdir, [6])
    data = bytearray((logdir / "leaves").read_bytes())
    data[HEADER + 10] ^= 1
    (logdir / "leaves").write_bytes(bytes(data))
    with TransparencyLog.open(logdir) as reader:
        with pytest.raises(LogCorruptError, match="does not match its hash"):
            reader.entries()
        assert [f.code for f in reader.audit()] == ["tlog-record-damaged"]


def test_checkpoint_checks_detect_truncation_and_rewriting(logdir: Path, tmp_path: Path) -> None:
    written = build(logdir, [8])
    with TransparencyLog.open(logdir) as log:
        signed = log.checkpoint("archive.example/log")
        log.check_checkpoint(signed)
        assert log.audit([signed]) == []
    # The keeper extends the log: still consistent with the old checkpoint.
    with TransparencyLog.open(logdir, writable=True) as log:
        log.recover()
        log.append(leaves(4, 8))
        log.check_checkpoint(signed)
        assert log.audit([signed]) == []
        assert (
            merkle.verify_consistency(8, 12, signed.root, log.root(), log.consistency_proof(8))
            is None
        )
    # A rebuilt log without the last leaf, or with one leaf edited.
    short = tmp_path / "short"
    with TransparencyLog.create(short) as log:
        log.append(written[:7])
        with pytest.raises(LogMismatchError, match="leaves were removed"):
            log.check_checkpoint(signed)
        assert [f.code for f in log.audit([signed])] == ["tlog-truncated"]
    edited = tmp_path / "edited"
    with TransparencyLog.create(edited) as log:
        log.append([*written[:3], b'{"n":3,"pad":"forged"}', *written[4:]])
        with pytest.raises(LogMismatchError, match="rewritten"):
            log.check_checkpoint(signed)
        assert [f.code for f in log.audit([signed])] == ["tlog-rewritten"]


def test_edited_leaf_with_recomputed_record_hash_is_caught_by_the_cache(logdir: Path) -> None:
    # An attacker edits one leaf in place and fixes its record hash, but leaves the
    # cache: audit sees the cache disagree; with a checkpoint, the root disagrees.
    written = build(logdir, [5])
    with TransparencyLog.open(logdir) as log:
        signed = log.checkpoint("archive.example/log")
    raw = (logdir / "leaves").read_bytes()
    forged = written[2].replace(b'"n": 2', b'"n": 9')
    assert len(forged) == len(written[2])
    start = raw.index(written[2])
    raw = raw[:start] + forged + merkle.leaf_hash(forged) + raw[start + len(forged) + 32 :]
    (logdir / "leaves").write_bytes(raw)
    with TransparencyLog.open(logdir) as log:
        codes = {f.code for f in log.audit([signed])}
        assert {"tlog-hashes-mismatch", "tlog-rewritten", "tlog-commit-root"} <= codes


def test_ocfl_py_accepts_a_storage_root_holding_the_log(
    cli: object, seeded: Path, tmp_path: Path
) -> None:
    result = cli("ingest")  # type: ignore[operator]
    assert result.exit_code == 0, result.output
    root = tmp_path / "archive" / "ocfl"
    logdir = root / "extensions" / "provarchive-transparency-log"
    with TransparencyLog.open(logdir) as log:  # the ingest wrote it
        assert log.size > 0
    valid, messages = ocfl_py_validate(root)
    assert valid, messages
    assert all(m.startswith("[W901]") for m in messages), messages
    assert any("provarchive-transparency-log" in m for m in messages)
    checked = ocfl_validate(root)
    assert checked.returncode == 0, checked.stdout + checked.stderr


# -- a real writer killed with SIGKILL ---------------------------------------------------

WRITER = textwrap.dedent(
    """
    import json, os, random, sys, time
    from pathlib import Path
    from provarchive.tlog.log import TransparencyLog

    logdir, store, seed = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    done = set(store.read_text().split()) if store.exists() else set()
    log = TransparencyLog.open(logdir, writable=True)
    log.recover(lambda i, leaf: json.loads(leaf)["id"] in done)
    fd = os.open(store, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    batch = 0
    while True:
        batch += 1
        ids = [f"{seed}-{batch}-{k}" for k in range(rng.randint(1, 40))]
        prepared = log.prepare([json.dumps({"id": i, "pad": "p" * rng.randint(0, 300)}).encode()
                                for i in ids])
        time.sleep(rng.random() / 500)
        os.write(fd, "".join(i + "\\n" for i in ids).encode())  # the "store commit"
        os.fsync(fd)
        time.sleep(rng.random() / 500)
        log.commit(prepared, sync=False)  # the protocol the archive uses
        print(log.size, flush=True)
    """
)


def run_kill_trial(logdir: Path, store: Path, seed: int) -> int:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(logdir), str(store), str(seed)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    last = int(proc.stdout.readline())  # it is running and has committed once
    time.sleep(random.Random(seed).uniform(0.01, 0.25))
    proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate(timeout=30)
    sizes = [int(x) for x in out.split()]
    return max([last, *sizes])


def check_after_kill(logdir: Path, store: Path, reported: int) -> None:
    text = store.read_text()
    lines = text.split("\n")
    complete = lines[:-1]  # a partial last line is a store commit that did not happen
    with TransparencyLog.open(logdir, writable=True) as log:
        done = set(complete)
        log.recover(lambda i, leaf: json.loads(leaf)["id"] in done)
        ids = [json.loads(x)["id"] for x in log.entries()]
        assert ids == complete  # log and store agree, in order, after any SIGKILL
        assert log.size >= reported  # nothing committed was lost
        assert log.audit() == []


def crash_trials(tmp_path: Path, trials: int) -> None:
    logdir, store = tmp_path / "log", tmp_path / "store.txt"
    TransparencyLog.create(logdir).close()
    for seed in range(trials):
        reported = run_kill_trial(logdir, store, seed)
        check_after_kill(logdir, store, reported)


def test_sigkill_mid_append_leaves_log_and_store_in_agreement(tmp_path: Path) -> None:
    crash_trials(tmp_path, 4)


@pytest.mark.slow
def test_sigkill_mid_append_many_trials(tmp_path: Path) -> None:
    crash_trials(tmp_path, 40)
