"""Writing into the seeds folder for `add`: the copy, its temporary files, and what to add."""

from __future__ import annotations

import os
import signal
import time
import unicodedata
from pathlib import Path

import pytest

from provarchive.errors import InputError, InvalidNameError
from provarchive.seeds import (
    TEMP_PREFIX,
    StoreLimits,
    copy_into_seeds,
    expand_add_sources,
    is_temp_name,
    remove_stale_temp_files,
    scan,
)

from .test_seeds import by_name, names, unchanged_outside
from .test_seeds_limits import long_name


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "incoming" / "report.txt"
    path.parent.mkdir()
    path.write_text("fresh news")
    return path


def entries(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# -- copy_into_seeds --------------------------------------------------------------------------


def test_copy_creates_folders_and_leaves_no_temporary_file(seeds: Path, source: Path) -> None:
    target = copy_into_seeds(seeds, source, "2025/june/report.txt", replace=False)
    assert target == Path(os.path.realpath(seeds)) / "2025" / "june" / "report.txt"
    assert target.read_text() == "fresh news"
    assert entries(seeds) == ["2025", "2025/june", "2025/june/report.txt"]


def test_identical_content_is_a_no_op(seeds: Path, source: Path) -> None:
    (seeds / "report.txt").write_text("fresh news")
    before = os.stat(seeds / "report.txt")
    copy_into_seeds(seeds, source, "report.txt", replace=False)
    after = os.stat(seeds / "report.txt")
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_different_content_needs_replace(seeds: Path, source: Path, tmp_path: Path) -> None:
    (seeds / "report.txt").write_text("original")
    with unchanged_outside(tmp_path), pytest.raises(InputError) as info:
        copy_into_seeds(seeds, source, "report.txt", replace=False)
    assert "already exists with different content (use --replace" in info.value.reason
    assert (seeds / "report.txt").read_text() == "original"
    copy_into_seeds(seeds, source, "report.txt", replace=True)
    assert (seeds / "report.txt").read_text() == "fresh news"
    assert entries(seeds) == ["report.txt"]


def test_a_target_that_is_a_link_or_folder_is_not_overwritten(
    seeds: Path, source: Path, tmp_path: Path
) -> None:
    (seeds / "real.txt").write_text("real")
    (seeds / "alias.txt").symlink_to("real.txt")
    (seeds / "folder").mkdir()
    for name in ["alias.txt", "folder"]:
        with unchanged_outside(tmp_path), pytest.raises(InputError) as info:
            copy_into_seeds(seeds, source, name, replace=True)
        assert "exists and is not a regular file" in info.value.reason
    assert (seeds / "real.txt").read_text() == "real"


def test_copy_through_a_link_leading_out_creates_nothing_outside(
    seeds: Path, source: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (seeds / "link").symlink_to(outside)
    for name in ["link/x.txt", "link/newdir/x.txt"]:
        with unchanged_outside(tmp_path), pytest.raises(InvalidNameError) as info:
            copy_into_seeds(seeds, source, name, replace=False)
        assert "is a symbolic link to" in info.value.reason
    assert list(outside.iterdir()) == []


def test_a_source_that_is_not_a_regular_file_is_refused(seeds: Path, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")  # opened without blocking, then refused
    with pytest.raises(InputError, match="not a regular file"):
        copy_into_seeds(seeds, tmp_path / "pipe", "pipe.txt", replace=False)
    with pytest.raises(InputError, match="no such file"):
        copy_into_seeds(seeds, tmp_path / "nothing", "x.txt", replace=False)
    assert entries(seeds) == []


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        (".hidden.txt", "default: dotfile"),
        ("notes.swp", "default: editor swap file (*.swp)"),
        (".git/config", "inside .git/ (default: dot-folder)"),
        (".provarchive-tmp-1-0123456789abcdef", "default: dotfile"),
    ],
)
def test_a_name_ingest_would_ignore_is_refused(
    seeds: Path, source: Path, tmp_path: Path, name: str, reason: str
) -> None:
    with unchanged_outside(tmp_path), pytest.raises(InvalidNameError) as info:
        copy_into_seeds(seeds, source, name, replace=False)
    assert info.value.reason.startswith(f"ingest would ignore it ({reason})")
    assert entries(seeds) == []


def test_copy_into_a_nested_archive_is_refused(seeds: Path, source: Path) -> None:
    (seeds / "archive" / "ocfl").mkdir(parents=True)
    (seeds / "archive" / "ocfl" / "0=ocfl_1.1").write_text("ocfl_1.1\n")
    (seeds / "archive" / "provarchive.json").write_text("{}")
    with pytest.raises(InvalidNameError) as info:
        copy_into_seeds(seeds, source, "archive/ocfl/x.txt", replace=False)
    assert "it would land inside a provarchive archive at" in info.value.reason


def test_copy_lands_in_an_existing_folder_spelt_another_way(seeds: Path, source: Path) -> None:
    nfd = unicodedata.normalize("NFD", "café")
    (seeds / nfd).mkdir()
    copy_into_seeds(seeds, source, "café/report.txt", replace=False)
    assert entries(seeds) == [nfd, f"{nfd}/report.txt"]
    found, _ = scan(seeds)
    assert names(found) == ["café/report.txt"]  # the name the document was added as


def test_copy_refuses_a_name_the_store_cannot_hold(
    seeds: Path, source: Path, tmp_path: Path
) -> None:
    store = tmp_path / "archive" / "ocfl"
    name = long_name(StoreLimits.probe(store).longest_name + 1, segment=249)
    with unchanged_outside(tmp_path), pytest.raises(InvalidNameError, match="shorten it"):
        copy_into_seeds(seeds, source, name, replace=False, store_root=store)
    assert entries(seeds) == []


# -- temporary files --------------------------------------------------------------------------


def test_a_copy_in_progress_is_invisible_to_scan(
    seeds: Path, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[list[str], dict[str, tuple[str, str]], list[str]]] = []
    real_replace = os.replace

    def look_then_replace(src: str, dst: str) -> None:
        found, problems = scan(seeds)
        seen.append((names(found), by_name(problems), os.listdir(seeds)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", look_then_replace)
    copy_into_seeds(seeds, source, "report.txt", replace=False)
    [(found, problems, listing)] = seen
    [tmp] = listing
    assert is_temp_name(tmp) and tmp.startswith(f"{TEMP_PREFIX}{os.getpid()}-")
    assert found == [] and problems[tmp][0] == "ignored"


def crashed_copy(seeds: Path, source: Path, name: str) -> str:
    """Run a copy in a child killed just before its rename; returns the temp file it left."""
    pid = os.fork()
    if pid == 0:
        try:
            os.replace = lambda *_a: os.kill(os.getpid(), signal.SIGKILL)  # type: ignore[assignment]
            copy_into_seeds(seeds, source, name, replace=False)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    [left] = [str(p.relative_to(seeds)) for p in seeds.rglob(f"{TEMP_PREFIX}*")]
    return left


def test_recovery_removes_a_crashed_copys_temp_file_and_nothing_else(
    seeds: Path, source: Path, tmp_path: Path
) -> None:
    (seeds / "sub").mkdir()
    left = crashed_copy(seeds, source, "sub/report.txt")
    assert (seeds / left).read_text() == "fresh news"  # the whole copy, never renamed
    keep = [
        ".provarchive-tmp-notes.txt",  # looks alike, is not ours
        f"{TEMP_PREFIX}{os.getpid()}-{'0' * 16}",  # ours, but its writer (this process) lives
        f"{TEMP_PREFIX}1-0123456789abcde",  # one hex digit short
        "report.txt",
    ]
    for name in keep:
        (seeds / name).write_text("keep")
    found, problems = scan(seeds)
    assert names(found) == ["report.txt"]
    assert by_name(problems)[left][0] == "ignored"
    with unchanged_outside(tmp_path, seeds):
        removed = remove_stale_temp_files(seeds)
    assert removed == [left]
    assert sorted(os.listdir(seeds)) == sorted([*keep, "sub"]) and os.listdir(seeds / "sub") == []


def test_an_old_temp_file_is_stale_even_if_its_pid_lives(seeds: Path) -> None:
    mine = seeds / f"{TEMP_PREFIX}{os.getpid()}-{'a' * 16}"
    mine.write_text("x")
    assert remove_stale_temp_files(seeds) == []
    old = time.time() - 3600
    os.utime(mine, (old, old))
    assert remove_stale_temp_files(seeds) == [mine.name]


def test_temp_files_inside_archives_and_ignored_folders_are_left_alone(seeds: Path) -> None:
    name = f"{TEMP_PREFIX}1-{'b' * 16}"  # pid 1 lives, but the files are old
    for folder in [".git", "archive/ocfl", "kept"]:
        (seeds / folder).mkdir(parents=True)
        (seeds / folder / name).write_text("x")
        os.utime(seeds / folder / name, (0, 0))
    (seeds / "archive" / "ocfl" / "0=ocfl_1.1").write_text("ocfl_1.1\n")
    assert remove_stale_temp_files(seeds) == [f"kept/{name}"]
    assert (seeds / ".git" / name).exists() and (seeds / "archive" / "ocfl" / name).exists()


# -- expand_add_sources -----------------------------------------------------------------------


def test_files_are_named_by_their_base_name_or_into_a_folder(tmp_path: Path) -> None:
    a, b = tmp_path / "one" / "a.txt", tmp_path / "two" / "b.txt"
    for path in (a, b):
        path.parent.mkdir()
        path.write_text(path.name)
    assert expand_add_sources([a, b]) == ([(a, "a.txt"), (b, "b.txt")], [])
    assert expand_add_sources([a, b], into="2025/june")[0] == [
        (a, "2025/june/a.txt"),
        (b, "2025/june/b.txt"),
    ]
    # A folder written with its trailing slash, as the README's example writes it.
    assert expand_add_sources([a], into="2026/")[0] == [(a, "2026/a.txt")]
    for bad in ("../up", "2026//", "/"):
        with pytest.raises(InvalidNameError):
            expand_add_sources([a], into=bad)


def test_two_sources_with_one_name_refuse_the_second(tmp_path: Path) -> None:
    a, b = tmp_path / "one" / "x.txt", tmp_path / "two" / "x.txt"
    for path in (a, b):
        path.parent.mkdir()
        path.write_text(str(path))
    pairs, problems = expand_add_sources([a, b])
    assert pairs == [(a, "x.txt")]
    assert by_name(problems) == {"x.txt": ("failed", f"{a} is added under the same name")}


def test_a_folder_needs_recursive(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    pairs, problems = expand_add_sources([tmp_path / "dir"])
    assert pairs == [] and by_name(problems) == {
        "dir/": ("failed", "is a folder: use -r to add the files it holds")
    }


def test_recursive_add_leaves_out_what_ingest_would_ignore(tmp_path: Path, seeds: Path) -> None:
    top = tmp_path / "project"
    files = ["notes/a.txt", "notes/b.txt.swp", "README", ".git/HEAD", "GPL-3~"]
    for name in files:
        (top / name).parent.mkdir(parents=True, exist_ok=True)
        (top / name).write_text(name)
    (top / "old-archive" / "ocfl").mkdir(parents=True)
    (top / "old-archive" / "ocfl" / "0=ocfl_1.1").write_text("ocfl_1.1\n")
    (top / "loop").symlink_to(".")
    (top / "notes" / "alias.txt").symlink_to("a.txt")
    os.mkfifo(top / "pipe")
    pairs, problems = expand_add_sources([top], recursive=True, into="in", seeds=seeds)
    assert [name for _, name in pairs] == [
        "in/project/README",
        "in/project/notes/a.txt",
        "in/project/notes/alias.txt",
    ]
    assert (top / "notes" / "alias.txt", "in/project/notes/alias.txt") in pairs  # content copied
    assert by_name(problems) == {
        "in/project/.git/": ("ignored", "default: dot-folder"),
        "in/project/GPL-3~": ("ignored", "default: editor backup (*~)"),
        "in/project/loop": ("skipped", "symbolic link to a directory: not followed"),
        "in/project/notes/b.txt.swp": ("ignored", "default: editor swap file (*.swp)"),
        "in/project/old-archive/": (
            "ignored",
            "a provarchive archive: never archived, not descended into",
        ),
        "in/project/pipe": ("skipped", "not a regular file: not added"),
    }


def test_recursive_add_never_copies_the_seeds_folder_into_itself(
    tmp_path: Path, seeds: Path
) -> None:
    (seeds / "already.txt").write_text("in seeds")
    (tmp_path / "new.txt").write_text("new")
    pairs, problems = expand_add_sources([tmp_path], recursive=True, seeds=seeds)
    top = tmp_path.name
    assert f"{top}/new.txt" in [n for _, n in pairs]
    assert not [n for _, n in pairs if "already.txt" in n]
    assert by_name(problems)[f"{top}/seeds/"] == ("ignored", "the seeds folder itself")
    pairs, problems = expand_add_sources([seeds], recursive=True, seeds=seeds)
    assert pairs == [] and by_name(problems) == {"seeds/": ("ignored", "the seeds folder itself")}


def test_expanded_sources_copy_as_a_batch_that_goes_on_past_refusals(
    tmp_path: Path, seeds: Path
) -> None:
    top = tmp_path / "batch"
    for name in ["a.txt", "b.txt"]:
        (top / name).parent.mkdir(parents=True, exist_ok=True)
        (top / name).write_text(name)
    (seeds / "batch").mkdir()
    (seeds / "batch" / "a.txt").write_text("different")  # refused without --replace
    pairs, _ = expand_add_sources([top], recursive=True, seeds=seeds)
    refused = []
    with unchanged_outside(tmp_path, seeds):
        for src, name in pairs:
            try:
                copy_into_seeds(seeds, src, name, replace=False)
            except InputError as exc:
                refused.append((name, exc.reason))
    assert [n for n, _ in refused] == ["batch/a.txt"]
    assert (seeds / "batch" / "b.txt").read_text() == "b.txt"
    assert names(scan(seeds)[0]) == ["batch/a.txt", "batch/b.txt"]
