"""Names the store cannot hold are refused before anything is staged (issue #20, part 3)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from provarchive.errors import InputError, InvalidNameError
from provarchive.seeds import StoreLimits, check_storable, scan
from provarchive.store.storage import Store

from .test_seeds import names, unchanged_outside


def long_name(size: int, segment: int = 250) -> str:
    """A name of exactly ``size`` bytes made of segments of at most ``segment`` bytes."""
    parts: list[str] = []
    left = size
    while left > 0:
        take = min(segment, left)
        if 0 < left - take < 2:  # never leave a piece too short for "/" plus a letter
            take -= 2
        parts.append(chr(ord("a") + len(parts) % 26) * take)
        left -= take + 1
    name = "/".join(parts)
    assert len(name.encode()) == size, (len(name), size)
    return name


def make_seed(seeds: Path, name: str, data: bytes) -> None:
    path = seeds / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def store_once(root: Path, name: str, data: bytes) -> bytes:
    """Commit ``data`` as ``name`` to a real store and read it back."""
    store = Store(root / "ocfl", root / "staging")
    store.initialize()
    with store.transaction() as txn:
        staged = txn.stage(io.BytesIO(data))
        txn.prepare(name, staged, current=None, created="2025-01-01T00:00:00Z",
                    message="test", user={"name": "t", "address": "mailto:t@example.org"})  # fmt: skip
        txn.commit()
        txn.close()
    state = store.load(name)
    assert state is not None
    return store.content_file(state, 1).read_bytes()


def test_limits_are_the_file_systems(tmp_path: Path) -> None:
    limits = StoreLimits.probe(tmp_path / "archive" / "ocfl")  # need not exist yet
    assert limits.path_max == os.pathconf(tmp_path, "PC_PATH_MAX") - 1
    assert limits.name_max == os.pathconf(tmp_path, "PC_NAME_MAX")
    assert limits.prefix > len(str(tmp_path / "archive" / "ocfl")) + 64


def test_the_longest_storable_name_is_stored_and_one_byte_more_is_refused(
    seeds: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    limits = StoreLimits.probe(archive / "ocfl")
    longest = limits.longest_name
    assert longest > 3000  # several hundred bytes per segment, many segments
    fits, too_long = long_name(longest), long_name(longest + 1, segment=249)
    make_seed(seeds, fits, b"fits")
    make_seed(seeds, too_long, b"too long")
    make_seed(seeds, "ordinary.txt", b"ordinary")
    with unchanged_outside(tmp_path, seeds, archive):
        found, problems = scan(seeds, store_root=archive / "ocfl")
    assert names(found) == sorted([fits, "ordinary.txt"])  # the rest of the batch goes on
    [refused] = problems
    assert refused.status == "failed" and refused.reason.startswith(
        "cannot be stored: the name is "
    )
    assert f"over the file system's limit of {limits.path_max}" in refused.reason
    assert f"names up to {longest} bytes fit here" in refused.reason
    assert store_once(archive, fits, b"fits") == b"fits"


def test_the_store_itself_refuses_a_name_it_could_not_read_back(tmp_path: Path) -> None:
    # Issue #20: the store committed such a name (its staging path is shorter and the
    # object directory is moved in whole), then nothing could read it back. Whoever
    # the caller, Transaction.prepare now refuses it before anything is committed.
    archive = tmp_path / "archive"
    limits = StoreLimits.probe(archive / "ocfl")
    v1_prefix = len(os.fsencode(archive / "ocfl")) + len("/aaa/bbb/ccc/") + 64 + len("/v1/content/")
    size = limits.path_max - v1_prefix + 1  # the first size whose v1 content path is too long
    assert size > limits.longest_name
    name = long_name(size)
    with pytest.raises(InvalidNameError, match="shorten it"):
        check_storable(name, archive / "ocfl")
    with pytest.raises(InputError, match=f"over the file system's limit of {limits.path_max}"):
        store_once(archive, name, b"x")
    store = Store(archive / "ocfl", archive / "staging")
    assert not store.has_objects() and list((archive / "staging").iterdir()) == []
    assert store_once(archive, long_name(size - 1), b"fits") == b"fits"  # one byte less fits


@pytest.mark.parametrize("name", ["../escape.txt", "a/../../b", "/etc/passwd", "a//b", "./a", ""])
def test_the_store_refuses_a_name_that_would_leave_its_object(tmp_path: Path, name: str) -> None:
    with pytest.raises(InputError, match="cannot be stored"):
        store_once(tmp_path, name, b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ocfl", "staging"]
    assert not Store(tmp_path / "ocfl", tmp_path / "staging").has_objects()


def test_a_segment_too_long_for_the_store_is_refused_by_the_store(tmp_path: Path) -> None:
    name_max = os.pathconf(tmp_path, "PC_NAME_MAX")
    with pytest.raises(InputError, match=f"over the store file system's limit of {name_max}"):
        store_once(tmp_path, "x" * (name_max + 1), b"x")


def test_without_a_store_root_scan_does_not_judge_length(seeds: Path, tmp_path: Path) -> None:
    name = long_name(StoreLimits.probe(tmp_path / "archive" / "ocfl").longest_name + 1, segment=249)
    make_seed(seeds, name, b"x")
    found, problems = scan(seeds)
    assert names(found) == [name] and problems == []


def test_a_segment_over_the_name_limit_is_refused() -> None:
    limits = StoreLimits(path_max=4095, name_max=143, prefix=200)  # eCryptfs allows 143
    assert limits.problem("a" * 143 + "/b") is None
    reason = limits.problem("ok/" + "é" * 72)  # 144 bytes
    assert (
        reason is not None and "is 144 bytes, over the store file system's limit of 143" in reason
    )


def test_check_storable_accepts_ordinary_names(tmp_path: Path) -> None:
    check_storable("2024/june/report.txt", tmp_path / "archive" / "ocfl")
