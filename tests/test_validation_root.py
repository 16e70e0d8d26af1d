"""The validator on storage roots: declaration, layout, extensions, hierarchy, across objects,
and the same answer from one process and from a pool."""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from provarchive.store.storage import Store
from provarchive.store.validation import (
    Issue,
    ObjectReport,
    RootReport,
    iter_object_roots,
    layout_path,
    validate_root,
)

from .test_validation import fixture, make_store, rewrite, write


def root_issue(report: RootReport, code: str, path: str | None = None) -> Issue:
    found = [i for i in report.all_issues() if i.code == code and (path is None or i.path == path)]
    text = "\n".join(f"{i.code} {i.path}: {i.message}" for i in report.all_issues())
    assert found, f"no {code} at {path or 'any path'} in:\n{text}"
    return found[0]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = make_store(tmp_path)
    for name in ("one.txt", "two.txt", "three.txt"):
        write(store, name, name.encode())
    return store


def test_layout_paths_match_the_extension_examples() -> None:
    # Examples 1 and 2 of the OCFL community extension 0004 specification.
    layout = "0004-hashed-n-tuple-storage-layout"
    assert layout_path(layout, {}, "..hor/rib:le-$id") == (
        "487/326/d8c/487326d8c2a3c0b885e23da1469b4d6671fd4e76978924b4443e9e3c316cda6d"
    )
    config = {
        "digestAlgorithm": "md5",
        "tupleSize": 2,
        "numberOfTuples": 15,
        "shortObjectRoot": True,
    }
    assert (
        layout_path(layout, config, "object-01")
        == "ff/75/53/44/92/48/5e/ab/b3/9f/86/35/67/28/88/4e"
    )
    assert layout_path(layout, {"tupleSize": "3"}, "object-01") is None
    assert layout_path("0002-flat-direct-storage-layout", {}, "abc") == "abc"
    assert layout_path("0003-hash-and-id-n-tuple-storage-layout", {}, "abc") is None


def test_root_declaration_problems(store: Store) -> None:
    (store.root / "0=ocfl_1.1").write_text("ocfl_1.1")
    (store.root / "0=ocfl_2.0").write_text("ocfl_2.0\n")
    report = validate_root(store.root)
    assert root_issue(report, "E080", "0=ocfl_1.1").found == "ocfl_1.1"
    assert root_issue(report, "E076", ".")
    assert root_issue(report, "E079", "0=ocfl_2.0")
    (store.root / "0=ocfl_1.1").unlink()
    (store.root / "0=ocfl_2.0").unlink()
    assert root_issue(validate_root(store.root), "E069", ".")


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_storage_root_that_is_not_there_is_one_finding(tmp_path: Path, jobs: int) -> None:
    report = validate_root(tmp_path / "nowhere", jobs=jobs)
    assert [(i.code, i.path) for i in report.all_issues()] == [("E069", ".")]


def test_layout_file_and_extensions(store: Store) -> None:
    (store.root / "ocfl_layout.json").write_text(json.dumps({"extension": "my-layout"}))
    (store.root / "extensions" / "stray.txt").write_text("x")
    (store.root / "extensions" / "local-thing").mkdir()
    report = validate_root(store.root)
    assert root_issue(report, "E070", "ocfl_layout.json").message.endswith(
        "has no description string"
    )
    assert root_issue(report, "E071", "ocfl_layout.json").found == "my-layout"
    assert root_issue(report, "E112", "extensions/stray.txt")
    assert root_issue(report, "W016", "extensions/local-thing")
    (store.root / "ocfl_layout.json").write_text("{not json")
    assert "not JSON" in root_issue(validate_root(store.root), "E070").message


def test_files_and_directories_outside_objects(store: Store) -> None:
    first = next(iter_object_roots(store.root))
    (first.parent / "stray.txt").write_text("x")
    (store.root / "dead" / "end").mkdir(parents=True)
    (store.root / "dead" / "end" / "file").write_text("x")
    (first.parent / "dead-end").mkdir()
    (first.parent / "dead-end" / "file").write_text("x")
    (store.root / "empty").mkdir()
    (store.root / "README.md").write_text("a storage root")
    (store.root / "link").symlink_to(first)
    report = validate_root(store.root)
    rel = first.parent.relative_to(store.root).as_posix()
    assert root_issue(report, "E084", f"{rel}/stray.txt")
    assert root_issue(report, "E072", "dead/end/file")
    assert root_issue(report, "E088", "dead")  # a top-level directory holding no object
    assert root_issue(report, "E085", f"{rel}/dead-end")  # a branch of the hierarchy without one
    assert root_issue(report, "E072", f"{rel}/dead-end/file")
    assert root_issue(report, "E073", "empty")
    assert root_issue(report, "E090", "link")
    assert not [i for i in report.all_issues() if i.path == "README.md"]  # E087: ignored
    assert len(report.objects) == 3  # the link is not followed


def test_object_at_the_wrong_place_and_duplicate_ids(store: Store) -> None:
    first = next(iter_object_roots(store.root))
    copy = store.root / "aaa" / "bbb" / "ccc" / "copy"
    shutil.copytree(first, copy)
    report = validate_root(store.root)
    e = root_issue(report, "E083", "aaa/bbb/ccc/copy")
    assert e.expected == first.relative_to(store.root).as_posix()
    duplicates = [i.path for i in report.issues if i.code == "E037"]
    assert sorted(duplicates) == sorted(["aaa/bbb/ccc/copy", e.expected])


def test_object_newer_than_its_root_is_E081(store: Store) -> None:
    (store.root / "0=ocfl_1.1").rename(store.root / "0=ocfl_1.0")
    (store.root / "0=ocfl_1.0").write_text("ocfl_1.0\n")
    report = validate_root(store.root)
    assert len([i for i in report.issues if i.code == "E081"]) == 3


def test_objects_at_mixed_depths_are_W015(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "0=ocfl_1.1").write_text("ocfl_1.1\n")
    shutil.copytree(fixture("good-objects", "spec-ex-minimal"), root / "top")
    shutil.copytree(fixture("good-objects", "minimal_one_version_one_file"), root / "a" / "deep")
    report = validate_root(root)
    assert [i.code for i in report.all_issues()] == ["W015"]
    assert report.is_valid()


def test_object_without_declaration_is_still_found_and_reported(store: Store) -> None:
    first = next(iter_object_roots(store.root))
    (first / "0=ocfl_object_1.1").unlink()
    assert first in list(iter_object_roots(store.root))
    report = validate_root(store.root)
    rel = first.relative_to(store.root).as_posix()
    assert root_issue(report, "E003", rel)


def test_fixture_objects_in_one_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "0=ocfl_1.1").write_text("ocfl_1.1\n")
    for kind in ("good-objects", "warn-objects"):
        for path in sorted(fixture(kind, "").iterdir()):
            shutil.copytree(path, root / kind / path.name)
    report = validate_root(root)
    assert all(o.is_valid() for o in report.objects)
    assert len(report.objects) == 25
    # The fixtures reuse ids (ark:123/abc ...): in one root that is E037, and only that.
    assert {i.code for i in report.issues} == {"E037"}
    ids = [o.object_id for o in report.objects]
    assert {i.path for i in report.issues} == {
        o.path for o in report.objects if ids.count(o.object_id) > 1
    }
    assert all(o.path.startswith(("good-objects/", "warn-objects/")) for o in report.objects)


# -- one process and a pool give the same answer -----------------------------------------------


def damage(store: Store) -> None:
    roots = sorted(iter_object_roots(store.root))
    (content,) = (roots[0] / "v1" / "content").iterdir()
    content.write_bytes(b"changed")
    rewrite(roots[1], lambda inv: inv.__setitem__("head", "v9"), "inventory.json")
    (roots[2] / "extra").write_text("x")
    (roots[3] / "inventory.json.sha512").unlink()


def reports_of(
    report: RootReport,
) -> list[tuple[str, tuple[Issue, ...], dict[str, dict[str, str]]]]:
    return [(o.path, o.issues, o.digests) for o in report.objects]


@pytest.mark.parametrize("flat", [False, True], ids=["many-top-dirs", "one-top-dir"])
def test_two_jobs_give_the_same_report_as_one(tmp_path: Path, flat: bool) -> None:
    store = make_store(tmp_path)
    names = [f"doc-{i:02d}.txt" for i in range(24)]
    for name in names:
        write(store, name, name.encode())
    damage(store)
    if flat:  # every object under one top-level directory: the pool shares out objects
        holder = store.root / "all"
        holder.mkdir()
        for path in list(iter_object_roots(store.root)):
            path.rename(holder / path.name)
        for top in store.root.iterdir():
            if top.name not in ("all", "extensions", "0=ocfl_1.1"):
                shutil.rmtree(top)
    seen: list[ObjectReport] = []
    one = validate_root(store.root)
    two = validate_root(store.root, jobs=2, on_object=seen.append)
    assert not one.is_valid()
    assert one.issues == two.issues
    assert reports_of(one) == reports_of(two)
    assert [r.path for r in seen] == [r.path for r in two.objects]
    assert {"E092", "E040", "E001", "E058"} <= one.codes()


def test_how_many_objects_decide_between_this_process_threads_and_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three objects are validated right here; a few more by threads (reading and hashing
    let go of the GIL, and threads start at no cost); only many by worker processes.
    The report is the same each way."""
    import concurrent.futures

    started: list[str] = []
    for kind in ("ThreadPoolExecutor", "ProcessPoolExecutor"):
        real = getattr(concurrent.futures, kind)

        def recording(*a: Any, _real: Any = real, _kind: str = kind, **k: Any) -> Any:
            started.append(_kind)
            return _real(*a, **k)

        monkeypatch.setattr(concurrent.futures, kind, recording)
    monkeypatch.setattr("provarchive.store.validation.root.FEW_OBJECTS", 6)
    store = make_store(tmp_path)
    expected: list[tuple[int, list[str]]] = [(3, []), (5, ["ThreadPoolExecutor"])]
    expected.append((6, ["ProcessPoolExecutor"]))
    for count, pools in expected:
        while len(list(iter_object_roots(store.root))) < count:
            write(store, f"doc-{count}-{len(started)}-{os.urandom(4).hex()}.txt", b"x")
        one = validate_root(store.root)
        del started[:]
        two = validate_root(store.root, jobs=2)
        assert started == pools, count
        assert two.is_valid() and len(two.objects) == count
        assert reports_of(two) == reports_of(one)


def test_an_interrupt_stops_the_threads_validating_at_their_next_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C during a threaded validation surfaces at once and the objects begun stop
    at their next block, instead of being read to their end."""
    import time

    from provarchive.store.validation import base

    monkeypatch.setattr(base, "BLOCK_SIZE", 64 * 1024)
    store = make_store(tmp_path)
    blocks = 60
    for n in range(5):
        write(store, f"large-{n}.bin", os.urandom(blocks * base.BLOCK_SIZE))
    real_readv = os.readv
    reads: list[int] = []

    def slow_readv(fd: int, buffers: Any) -> int:
        reads.append(fd)
        time.sleep(0.005)
        return real_readv(fd, buffers)

    def interrupt(report: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(base.os, "readv", slow_readv)
    with pytest.raises(KeyboardInterrupt):
        validate_root(store.root, jobs=2, on_object=interrupt)
    # Two objects are read whole before the first report; those begun by then stop.
    assert 2 * blocks <= len(reads) < 2 * blocks + blocks // 2
    del reads[:]
    assert validate_root(store.root, jobs=2).is_valid()  # a later run is not stopped
    assert len(reads) >= 5 * blocks


def test_unreadable_hierarchy_directory_is_an_issue(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = next(iter_object_roots(store.root))
    top = first.relative_to(store.root).parts[0]
    real_open = os.open

    def denying_open(path: Any, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
        if path == top:
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_open(path, flags, mode, dir_fd=dir_fd)

    monkeypatch.setattr(os, "open", denying_open)
    report = validate_root(store.root)
    assert "Permission denied" in root_issue(report, "E085", top).message
    assert not report.is_valid() and len(report.objects) == 2
