"""The OCFL store: layout, inventories, round trips, crash windows and their recovery."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provarchive.errors import StorageError
from provarchive.store.ocfl import (
    INVENTORY,
    JOURNAL,
    SIDECAR,
    name_for_object_id,
    object_id_for,
    object_path_for,
    parse_sidecar,
)
from provarchive.store.storage import Store

from .conftest import ocfl_py_validate

USER = {"name": "tester", "address": "mailto:tester@example.org"}


def make_store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "ocfl", tmp_path / "staging")
    store.initialize()
    return store


def write(store: Store, name: str, data: bytes, when: str = "2026-01-01T00:00:00Z"):
    with store.transaction() as txn:
        staged = txn.stage(io.BytesIO(data))
        prepared = txn.prepare(
            name,
            staged,
            current=store.load(name),
            created=when,
            message=f"ingest seeds/{name}",
            user=USER,
        )
        txn.commit()
        txn.close()
    return prepared


def test_layout_0004_matches_the_extension_examples() -> None:
    # Examples from the OCFL community extension 0004 specification (sha256, 3 x 3).
    assert object_path_for("object-01") == (
        "3c0/ff4/240/3c0ff4240c1e116dba14c7627f2319b58aa3d77606d0d90dfc6161608ac987d4"
    )
    assert object_path_for("..hor/rib:le-$id") == (
        "487/326/d8c/487326d8c2a3c0b885e23da1469b4d6671fd4e76978924b4443e9e3c316cda6d"
    )


@given(st.text(min_size=1, max_size=80))
def test_object_id_round_trips_to_the_name(name: str) -> None:
    object_id = object_id_for(name)
    assert object_id.startswith("provarchive:")
    assert " " not in object_id
    assert name_for_object_id(object_id) == name


def test_new_object_has_sha512_manifest_and_sha256_fixity(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    data = b"hello archive\n"
    write(store, "a/b.txt", data)
    state = store.load("a/b.txt")
    assert state is not None and state.head == 1
    inv = json.loads((store.object_dir("a/b.txt") / INVENTORY).read_bytes())
    sha512 = hashlib.sha512(data).hexdigest()
    sha256 = hashlib.sha256(data).hexdigest()
    assert inv["digestAlgorithm"] == "sha512"
    assert inv["manifest"] == {sha512: ["v1/content/a/b.txt"]}
    assert inv["fixity"] == {"sha256": {sha256: ["v1/content/a/b.txt"]}}
    assert inv["versions"]["v1"]["message"] == "ingest seeds/a/b.txt"
    assert inv["versions"]["v1"]["user"] == USER
    assert store.content_file(state, 1).read_bytes() == data
    sidecar = (store.object_dir("a/b.txt") / SIDECAR).read_bytes()
    assert (
        parse_sidecar(sidecar)
        == hashlib.sha512((store.object_dir("a/b.txt") / INVENTORY).read_bytes()).hexdigest()
    )
    ok, messages = ocfl_py_validate(store.root)
    assert ok, messages


def test_same_bytes_write_nothing_and_new_bytes_make_a_version(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    write(store, "doc.txt", b"one")
    assert write(store, "doc.txt", b"one") is None
    p = write(store, "doc.txt", b"two")
    assert p is not None and p.number == 2 and not p.new_object
    state = store.load("doc.txt")
    assert state is not None
    assert [store.content_file(state, n).read_bytes() for n in (1, 2)] == [b"one", b"two"]
    ok, messages = ocfl_py_validate(store.root)
    assert ok, messages


def test_reverting_to_old_bytes_reuses_the_stored_content(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    write(store, "doc.txt", b"one")
    write(store, "doc.txt", b"two")
    p = write(store, "doc.txt", b"one")
    assert p is not None and p.number == 3
    assert p.content_path == "v1/content/doc.txt"
    assert not (store.object_dir("doc.txt") / "v3" / "content").exists()
    state = store.load("doc.txt")
    assert state is not None and store.content_file(state, 3).read_bytes() == b"one"
    ok, messages = ocfl_py_validate(store.root)
    assert ok, messages


@settings(
    max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(versions=st.lists(st.binary(max_size=2000), min_size=1, max_size=4))
def test_every_version_reads_back_byte_for_byte(
    tmp_path_factory: pytest.TempPathFactory, versions: list[bytes]
) -> None:
    store = make_store(tmp_path_factory.mktemp("rt"))
    expected: list[bytes] = []
    for data in versions:
        if write(store, "x.bin", data) is not None:
            expected.append(data)
    state = store.load("x.bin")
    assert state is not None
    assert [store.content_file(state, n).read_bytes() for n in range(1, state.head + 1)] == expected


def test_uncommitted_staging_is_discarded_by_recover(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    with store.transaction() as txn:
        txn.stage(io.BytesIO(b"abc"))
        leftover = txn.directory
        txn.committed = True  # simulate a crash: the context manager must not clean up
    assert leftover.exists()
    repairs, touched = store.recover()
    assert not leftover.exists()
    assert [r.action for r in repairs] == ["staging-discarded"]
    assert touched == set()
    assert list(store.iter_object_dirs()) == []


CRASH_SCRIPT = """
import io, os, signal, sys
from pathlib import Path
from provarchive.store.storage import Store

root, fatal = Path(sys.argv[1]), sys.argv[2]

def step(name):
    if name == fatal:
        os.kill(os.getpid(), signal.SIGKILL)

store = Store(root / "ocfl", root / "staging", on_step=step)
user = {"name": "tester", "address": "mailto:tester@example.org"}
with store.transaction() as txn:
    for name, data in [("doc.txt", b"two"), ("fresh.txt", b"new")]:
        staged = txn.stage(io.BytesIO(data))
        txn.prepare(name, staged, current=store.load(name), created="2026-01-02T00:00:00Z",
                    message="ingest x", user=user)
    txn.commit()
print("committed")
"""

STEPS = [
    "staged",
    "journaled",
    "moved 1",
    "layout 2",
    "moved 2",
    "moved all",
    "inventory 1",
    "published 1",
    "published all",
]


@pytest.mark.parametrize("fatal", STEPS)
def test_a_commit_killed_at_any_step_leaves_each_version_whole(tmp_path: Path, fatal: str) -> None:
    """A real process is SIGKILLed at each step of Transaction.commit (the store's own
    fault-injection point); readers then see only whole versions, and recovery
    finishes or discards each version, leaving a valid storage root."""
    store = make_store(tmp_path)
    write(store, "doc.txt", b"one")
    result = subprocess.run(
        [sys.executable, "-c", CRASH_SCRIPT, str(tmp_path), fatal], capture_output=True, timeout=60
    )
    assert result.returncode == -signal.SIGKILL, result.stderr

    def contents() -> dict[str, list[bytes]]:
        out = {}
        for name in ("doc.txt", "fresh.txt"):
            state = store.load(name)
            if state is not None:
                out[name] = [
                    store.content_file(state, n).read_bytes() for n in range(1, state.head + 1)
                ]
        return out

    seen = contents()  # what a reader sees right after the crash: whole versions only
    assert seen["doc.txt"] in ([b"one"], [b"one", b"two"])
    assert seen.get("fresh.txt", [b"new"]) == [b"new"]
    repairs, touched = store.recover()
    after = contents()
    journaled = STEPS.index(fatal) >= STEPS.index("moved 1")
    assert after["doc.txt"] == ([b"one", b"two"] if journaled else [b"one"])
    fresh_in = STEPS.index(fatal) >= STEPS.index("moved 2")
    assert after.get("fresh.txt") == ([b"new"] if fresh_in else None)
    assert touched == {"doc.txt", "fresh.txt"}  # the journal was written before any step
    assert "journal-replayed" in [r.action for r in repairs]
    assert list(store.staging.iterdir()) == []
    layout = {p.relative_to(store.root).parts[0] for p in store.root.iterdir()}
    expected = {"0=ocfl_1.1", "extensions"} | {
        store.object_dir(n).relative_to(store.root).parts[0] for n in after
    }
    assert layout == expected  # no empty layout directories left behind
    ok, messages = ocfl_py_validate(store.root)
    assert ok, messages
    assert store.recover() == ([], set())  # nothing left to repair


def test_disk_full_while_staging_leaves_the_store_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store(tmp_path)
    write(store, "doc.txt", b"one")
    before = {p: p.read_bytes() for p in store.root.rglob("*") if p.is_file()}

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("provarchive.store.storage.hash_stream", full)
    with pytest.raises(StorageError, match="no space left on device"):
        write(store, "doc.txt", b"two")
    after = {p: p.read_bytes() for p in store.root.rglob("*") if p.is_file()}
    assert after == before
    assert list(store.staging.iterdir()) == []


def test_disk_full_while_publishing_rolls_the_batch_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store(tmp_path)
    write(store, "doc.txt", b"one")
    before = {p: p.read_bytes() for p in store.root.rglob("*") if p.is_file()}
    real = os.replace

    def failing_replace(src, dst, *args, **kwargs):
        # Fail after the root inventory was replaced, on the sidecar: the worst moment.
        if str(src).rsplit("/", 1)[-1].startswith("root-sidecar"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(StorageError, match="no space left on device"):
        write(store, "doc.txt", b"two")
    monkeypatch.setattr(os, "replace", real)
    after = {p: p.read_bytes() for p in store.root.rglob("*") if p.is_file()}
    assert after == before
    ok, messages = ocfl_py_validate(store.root)
    assert ok, messages
    assert list(store.staging.iterdir()) == []


# -- big and sparse files (issue #20) ---------------------------------------------------------


def _stage_file(store: Store, name: str, source: Path):
    with store.transaction() as txn:
        with open(source, "rb") as fh:
            staged = txn.stage(fh)
        txn.prepare(name, staged, current=None, created="2026-01-01T00:00:00Z",
                    message="test", user=USER)  # fmt: skip
        txn.commit()
        txn.close()
    state = store.load(name)
    assert state is not None
    return state


@pytest.mark.parametrize("tail", [b"", b"data after the hole"])
def test_a_sparse_file_is_stored_sparse_and_reads_back_the_same(
    tmp_path: Path, tail: bytes
) -> None:
    store = make_store(tmp_path)
    source = tmp_path / "disk.img"
    with open(source, "wb") as fh:
        fh.write(b"a header")
        fh.seek(64 * 1024**2 + 12345)
        fh.write(tail)
        fh.truncate(64 * 1024**2 + 12345 + len(tail))
    expected = hashlib.sha512(source.read_bytes()).hexdigest()
    state = _stage_file(store, "disk.img", source)
    stored = store.content_file(state, 1)
    assert state.version(1).sha512 == expected
    assert hashlib.sha512(stored.read_bytes()).hexdigest() == expected
    assert stored.stat().st_size == source.stat().st_size
    assert stored.stat().st_blocks * 512 < 4 * 1024**2  # the 64 MB of zeros were not written
    ok, messages = ocfl_py_validate(store.root)
    assert ok, messages


def test_staging_reads_in_blocks_whatever_the_stream(tmp_path: Path) -> None:
    class NoReadinto:  # a stream with read() only
        def __init__(self, data: bytes) -> None:
            self.inner = io.BytesIO(data)

        def read(self, n: int = -1) -> bytes:
            return self.inner.read(min(n, 1000) if n > 0 else n)  # short reads too

    data = os.urandom(3 * 1024**2 + 7) + bytes(2 * 1024**2)
    store = make_store(tmp_path)
    for stream in (io.BytesIO(data), NoReadinto(data)):
        with store.transaction() as txn:
            staged = txn.stage(stream)  # type: ignore[arg-type]
            assert staged.digests.sha512 == hashlib.sha512(data).hexdigest()
            assert staged.digests.sha256 == hashlib.sha256(data).hexdigest()
            assert staged.digests.size == len(data) and staged.path.read_bytes() == data


def test_recovery_removes_only_what_the_archive_writes_in_staging(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    ours = [store.staging / f"txn-{'a' * 32}", store.staging / f"inventory.json-{'b' * 32}"]
    ours[0].mkdir()
    ours[1].write_text("half-written")
    theirs = [store.staging / "notes.txt", store.staging / "my-folder", store.staging / "txn-link"]
    theirs[0].write_text("a user's file")
    theirs[1].mkdir()
    theirs[2].symlink_to(outside)
    repairs, _ = store.recover()
    assert [r.action for r in repairs] == ["staging-discarded"] * 2
    assert not any(p.exists() for p in ours)
    assert all(os.path.lexists(p) for p in theirs)
    assert (outside / "keep.txt").read_text() == "keep"


@pytest.mark.parametrize(
    "journal",
    [
        b'{"a": 1}',
        b"[1, 2]",
        b'[{"name": "x"}]',
        b'[{"name": 5, "object_path": "ocfl/x"}]',
        b'[{"name": "x", "object_path": "/etc"}]',
        b'[{"name": "x", "object_path": "../../outside"}]',
        b"[" * 100_000 + b"]" * 100_000,
        b"\xff\xfe not json",
    ],
    ids=["object", "numbers", "no-path", "name-not-text", "absolute", "dotdot", "nested", "bytes"],
)
def test_a_dead_batch_with_a_malformed_journal_is_discarded_not_fatal(
    tmp_path: Path, journal: bytes
) -> None:
    """A journal damaged on disk names nothing it can replay: the batch is discarded and
    the next writer goes on (it used to raise TypeError on every writing command)."""
    store = make_store(tmp_path)
    with store.transaction() as txn:
        txn.stage(io.BytesIO(b"abc"))
        leftover = txn.directory
        txn.committed = True  # a crash: the context manager must not clean up
    (leftover / JOURNAL).write_bytes(journal)
    (tmp_path / "outside").mkdir()
    repairs, touched = store.recover()
    assert not leftover.exists() and (tmp_path / "outside").is_dir()
    [replayed] = [r for r in repairs if r.action == "journal-replayed"]
    assert "0 version(s); " in replayed.detail and "malformed" in replayed.detail
    assert touched == set()
