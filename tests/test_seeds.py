"""The seeds folder through the library: one resolver for user paths, and scan's hostile cases.

Every refusal is checked twice: the reason is right, and a snapshot of the tree
around tmp_path shows that nothing outside the seeds folder changed (issue #20
found files created and read outside it through links).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import shutil
import socket
import stat
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from provarchive.errors import InputError, InvalidNameError
from provarchive.seeds import (
    SeedFile,
    display_name,
    open_seed,
    printable,
    resolve_in_seeds,
    scan,
    validate_name,
)

# -- helpers shared by tests/test_seeds_*.py ------------------------------------------------


def tree_state(top: Path, skip: set[Path]) -> dict[str, tuple[Any, ...]]:
    """Every entry below ``top`` (links not followed, ``skip`` folders left out) with its
    type, size, mtime, link target and content digest: what 'nothing changed' means."""
    state: dict[str, tuple[Any, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        here = Path(dirpath)
        dirnames[:] = [n for n in dirnames if here / n not in skip]
        for name in [".", *dirnames, *filenames]:
            path = here / name if name != "." else here
            st = os.lstat(path)
            extra: Any = None
            if stat.S_ISLNK(st.st_mode):
                extra = os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                extra = hashlib.sha256(path.read_bytes()).hexdigest()
            state[str(path.relative_to(top))] = (
                stat.S_IFMT(st.st_mode),
                st.st_size,
                st.st_mtime_ns,
                extra,
            )
    return state


def around(tmp_path: Path, skip: set[Path]) -> dict[str, tuple[Any, ...]]:
    """The whole tree of tmp_path, and what tmp_path's parent holds (its other entries are
    other tests' folders, which processes they started may still be writing to)."""
    state = tree_state(tmp_path, skip)
    for entry in os.scandir(tmp_path.parent):
        if entry.path != str(tmp_path):
            state[f"../{entry.name}"] = (stat.S_IFMT(entry.stat(follow_symlinks=False).st_mode),)
    return state


@contextlib.contextmanager
def unchanged_outside(tmp_path: Path, *inside: Path) -> Iterator[None]:
    """Assert that nothing around tmp_path changed, except inside ``inside``."""
    skip = {Path(p) for p in inside}
    before = around(tmp_path, skip)
    yield
    after = around(tmp_path, skip)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert changed == []


def by_name(problems: list[Any]) -> dict[str, tuple[str, str]]:
    return {p.name: (p.status, p.reason) for p in problems}


def names(found: list[SeedFile]) -> list[str]:
    return [s.name for s in found]


def as_nobody(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` in a forked child that gave up root (permissions do not bind root)."""
    if os.geteuid() != 0:
        return fn()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            payload = pickle.dumps(("ok", fn()))
        except BaseException as exc:
            payload = pickle.dumps(("error", repr(exc)))
            code = 1
        with os.fdopen(write, "wb") as out:
            out.write(payload)
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as inp:
        data = inp.read()
    os.waitpid(pid, 0)
    kind, value = pickle.loads(data)
    assert kind == "ok", value
    return value


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the seeds folder, holding a secret."""
    path = tmp_path / "outside"
    path.mkdir()
    (path / "passwd").write_text("root:x:0:0")
    return path


# -- the snapshot itself ---------------------------------------------------------------------


def test_unchanged_outside_notices_a_change(tmp_path: Path) -> None:
    with pytest.raises(AssertionError), unchanged_outside(tmp_path):
        (tmp_path / "new.txt").write_text("x")


def test_unchanged_outside_notices_a_change_beside_tmp_path(tmp_path: Path) -> None:
    escaped = tmp_path.parent / f"{tmp_path.name}-escaped.txt"
    try:
        with pytest.raises(AssertionError), unchanged_outside(tmp_path):
            escaped.write_text("x")
    finally:
        escaped.unlink(missing_ok=True)


# -- display_name and validate_name ---------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain.txt", "plain.txt"),
        ("two\nlines.txt", "two\\nlines.txt"),
        ("tab\there", "tab\\there"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("rtl\u202eoverride", "rtl\\u202eoverride"),
        ("nbsp\u00a0here", "nbsp\\xa0here"),
        ("bad\udcff.txt", "bad\\xff.txt"),  # an undecodable byte, as os.fsdecode spells it
        ("café 🙂 名前", "café 🙂 名前"),
    ],
)
def test_display_name_escapes_what_a_terminal_would_interpret(raw: str, shown: str) -> None:
    assert display_name(raw) == shown
    assert display_name(shown) == shown  # idempotent
    assert display_name(raw).isprintable()


def test_display_name_agrees_with_printable_on_undecodable_bytes() -> None:
    raw = os.fsdecode(b"x\xfe\xff.txt")
    assert display_name(raw) == printable(raw) == "x\\xfe\\xff.txt"


def test_invalid_name_error_carries_an_escaped_name() -> None:
    with pytest.raises(InvalidNameError) as info:
        validate_name("evil\x1b]0;title\x07.txt")
    assert "\x1b" not in info.value.name and "\x07" not in info.value.name
    assert info.value.name == "evil\\x1b]0;title\\x07.txt"
    assert "control character (U+001B)" in info.value.reason


# -- resolve_in_seeds: ingest PATH arguments -------------------------------------------------


def test_resolve_absolute_cwd_relative_and_seeds_relative(
    seeds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (seeds / "2024").mkdir()
    (seeds / "2024" / "a.txt").write_text("a")
    real = Path(os.path.realpath(seeds))
    assert resolve_in_seeds(seeds, seeds / "2024" / "a.txt") == (
        real / "2024" / "a.txt",
        "2024/a.txt",
    )
    monkeypatch.chdir(tmp_path)
    assert resolve_in_seeds(seeds, Path("seeds/2024/a.txt"))[1] == "2024/a.txt"
    assert resolve_in_seeds(seeds, "2024/a.txt")[1] == "2024/a.txt"  # relative to the seeds folder
    assert resolve_in_seeds(seeds, seeds) == (real, "")
    assert resolve_in_seeds(seeds, seeds / "2024" / "..")[1] == ""


def test_resolve_refuses_paths_outside(seeds: Path, tmp_path: Path, outside: Path) -> None:
    with unchanged_outside(tmp_path), pytest.raises(InvalidNameError) as info:
        resolve_in_seeds(seeds, outside / "passwd")
    assert "not inside the seeds folder" in info.value.reason
    with pytest.raises(InvalidNameError):
        resolve_in_seeds(seeds, seeds / ".." / "outside" / "passwd")
    with pytest.raises(InputError) as missing:
        resolve_in_seeds(seeds, seeds / "nothing.txt")
    assert missing.value.reason == "no such file"


def test_resolve_through_a_link_leading_out_names_the_link(
    seeds: Path, tmp_path: Path, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (seeds / "etclink").symlink_to(outside)
    monkeypatch.chdir(tmp_path)
    with unchanged_outside(tmp_path), pytest.raises(InvalidNameError) as info:
        resolve_in_seeds(seeds, Path("seeds/etclink/passwd"))
    assert info.value.reason == (
        f"{seeds}/etclink is a symbolic link to {os.path.realpath(outside)}, outside the seeds folder"
    )


def test_resolve_a_link_inside_gives_the_real_folder_name(seeds: Path) -> None:
    (seeds / "sub").mkdir()
    (seeds / "sub" / "x.txt").write_text("x")
    (seeds / "alias").symlink_to(seeds / "sub")
    path, name = resolve_in_seeds(seeds, seeds / "alias" / "x.txt")
    assert name == "sub/x.txt" and path == Path(os.path.realpath(seeds)) / "sub" / "x.txt"


def test_resolve_a_file_link_keeps_its_own_name_and_checks_its_target(
    seeds: Path, tmp_path: Path, outside: Path
) -> None:
    (seeds / "real.txt").write_text("r")
    (seeds / "alias.txt").symlink_to("real.txt")
    assert resolve_in_seeds(seeds, seeds / "alias.txt")[1] == "alias.txt"
    (seeds / "out.txt").symlink_to(outside / "passwd")
    with unchanged_outside(tmp_path), pytest.raises(InvalidNameError) as info:
        resolve_in_seeds(seeds, seeds / "out.txt")
    assert "symbolic link leads outside the seeds folder" in info.value.reason


def test_resolve_when_the_seeds_folder_itself_is_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real-seeds"
    real.mkdir()
    (real / "a.txt").write_text("a")
    (tmp_path / "seeds-link").symlink_to(real)
    assert (
        resolve_in_seeds(tmp_path / "seeds-link", tmp_path / "seeds-link" / "a.txt")[1] == "a.txt"
    )
    assert resolve_in_seeds(tmp_path / "seeds-link", real / "a.txt")[1] == "a.txt"


# -- resolve_in_seeds: --as targets -----------------------------------------------------------


def test_resolve_new_target_through_an_outside_link_is_refused(
    seeds: Path, tmp_path: Path, outside: Path
) -> None:
    (seeds / "link").symlink_to(outside)
    for name in ["link/x.txt", "link/newdir/x.txt"]:
        with unchanged_outside(tmp_path), pytest.raises(InvalidNameError) as info:
            resolve_in_seeds(seeds, name, new=True)
        assert "link is a symbolic link to" in info.value.reason
        assert "outside the seeds folder" in info.value.reason


def test_resolve_new_target_through_an_inside_link_names_the_real_folder(seeds: Path) -> None:
    (seeds / "sub").mkdir()
    (seeds / "alias").symlink_to("sub")
    with pytest.raises(InvalidNameError) as info:
        resolve_in_seeds(seeds, "alias/x.txt", new=True)
    assert "is a symbolic link (to sub): name the real folder instead" in info.value.reason


def test_resolve_new_target_under_a_file_is_refused(seeds: Path) -> None:
    (seeds / "file").write_text("x")
    with pytest.raises(InvalidNameError) as info:
        resolve_in_seeds(seeds, "file/x.txt", new=True)
    assert "exists and is not a folder" in info.value.reason


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "~/x", "a/../../x", "a//b", "./a", "a\nb"])
def test_resolve_new_target_refuses_bad_names(seeds: Path, tmp_path: Path, name: str) -> None:
    with unchanged_outside(tmp_path), pytest.raises(InvalidNameError):
        resolve_in_seeds(seeds, name, new=True)


def test_resolve_new_target_matches_folders_up_to_normalisation(seeds: Path) -> None:
    nfd = unicodedata.normalize("NFD", "café")
    (seeds / nfd).mkdir()
    path, name = resolve_in_seeds(seeds, "café/x.txt", new=True)
    assert name == "café/x.txt" and path.parent.name == nfd
    (seeds / "café").mkdir()  # now both spellings exist
    with pytest.raises(InvalidNameError) as info:
        resolve_in_seeds(seeds, "café/x.txt", new=True)
    assert "differ only in Unicode normalisation" in info.value.reason


# -- scan: links ------------------------------------------------------------------------------


def test_scan_given_a_path_through_an_outside_link_refuses_it_and_goes_on(
    seeds: Path, tmp_path: Path, outside: Path
) -> None:
    (seeds / "etclink").symlink_to(outside)
    (seeds / "good.txt").write_text("good")
    with unchanged_outside(tmp_path, seeds):
        found, problems = scan(seeds, [seeds / "etclink" / "passwd", seeds / "good.txt"])
    assert names(found) == ["good.txt"]
    [bad] = problems
    assert bad.status == "failed" and "etclink is a symbolic link to" in bad.reason


def test_scan_never_follows_a_folder_link_out(seeds: Path, tmp_path: Path, outside: Path) -> None:
    (seeds / "etclink").symlink_to(outside)
    (seeds / "inner").mkdir()
    (seeds / "inner" / "up").symlink_to("..")
    (seeds / "inner" / "x.txt").write_text("x")
    with unchanged_outside(tmp_path, seeds):
        found, problems = scan(seeds)
    assert names(found) == ["inner/x.txt"]
    assert by_name(problems) == {
        "etclink": (
            "failed",
            f"symbolic link leads outside the seeds folder (to {os.path.realpath(outside)})",
        ),
        "inner/up": ("skipped", "symbolic link to a directory: not followed"),
    }


def test_scan_reports_link_loops_and_broken_links(seeds: Path) -> None:
    (seeds / "a").symlink_to("b")
    (seeds / "b").symlink_to("a")
    (seeds / "self").symlink_to("self")
    (seeds / "dangling").symlink_to("nothing")
    (seeds / "ok.txt").write_text("ok")
    found, problems = scan(seeds)
    assert names(found) == ["ok.txt"]
    assert by_name(problems) == {
        "a": ("failed", "symbolic link loop"),
        "b": ("failed", "symbolic link loop"),
        "self": ("failed", "symbolic link loop"),
        "dangling": ("failed", "broken symbolic link (to nothing)"),
    }


def test_scan_given_overlapping_paths_lists_each_file_once(seeds: Path) -> None:
    (seeds / "sub").mkdir()
    (seeds / "sub" / "x.txt").write_text("x")
    (seeds / "alias").symlink_to("sub")
    found, problems = scan(seeds, [seeds, seeds / "sub", seeds / "alias" / "x.txt"])
    assert names(found) == ["sub/x.txt"] and by_name(problems) == {
        "alias": ("skipped", "symbolic link to a directory: not followed")
    }


# -- scan: special files and unreadable folders ---------------------------------------------


def test_fifo_and_socket_are_skipped_without_opening(seeds: Path) -> None:
    os.mkfifo(seeds / "pipe")
    sock = socket.socket(socket.AF_UNIX)
    try:
        short = tempfile.mkdtemp()  # AF_UNIX paths must be short
        sock.bind(os.path.join(short, "s"))
        os.symlink(os.path.join(short, "s"), seeds / "sock-link")
        shutil.move(os.path.join(short, "s"), seeds / "sock")
        (seeds / "good.txt").write_text("good")
        found, problems = scan(seeds)
    finally:
        sock.close()
        shutil.rmtree(short, ignore_errors=True)
    assert names(found) == ["good.txt"]
    got = by_name(problems)
    assert got["pipe"] == ("skipped", "a FIFO, not a regular file: not archived")
    assert got["sock"] == ("skipped", "a socket, not a regular file: not archived")
    assert got["sock-link"][0] == "failed"  # it now points nowhere outside


@pytest.fixture
def world_readable_seeds() -> Iterator[Path]:
    """A seeds folder an unprivileged user can reach (tmp_path's parents are root-only)."""
    top = Path(tempfile.mkdtemp(prefix="provarchive-seeds-"))
    top.chmod(0o755)
    seeds = top / "seeds"
    seeds.mkdir()
    try:
        yield seeds
    finally:
        for dirpath, _dirs, _files in os.walk(top):
            os.chmod(dirpath, 0o755)
        shutil.rmtree(top)


def test_an_unreadable_folder_is_reported_and_the_rest_goes_on(world_readable_seeds: Path) -> None:
    seeds = world_readable_seeds
    (seeds / "locked").mkdir()
    (seeds / "locked" / "secret.txt").write_text("s")
    (seeds / "open").mkdir()
    (seeds / "open" / "a.txt").write_text("a")
    for path in [seeds, seeds / "open"]:
        path.chmod(0o755)
    (seeds / "open" / "a.txt").chmod(0o644)
    (seeds / "locked").chmod(0o700)  # owned by root: nobody cannot list it

    def run() -> tuple[list[str], dict[str, tuple[str, str]]]:
        found, problems = scan(seeds)
        return names(found), by_name(problems)

    found, problems = as_nobody(run)
    assert found == ["open/a.txt"]
    assert problems == {"locked/": ("failed", "cannot read the folder: Permission denied")}


# -- scan: names ------------------------------------------------------------------------------


def test_nfc_collision_refuses_both_and_names_both(seeds: Path, tmp_path: Path) -> None:
    nfc = "caf\u00e9.txt"
    nfd = "cafe\u0301.txt"
    (seeds / nfc).write_text("composed")
    (seeds / nfd).write_text("decomposed")
    (seeds / "other.txt").write_text("other")
    found, problems = scan(seeds)
    assert names(found) == ["other.txt"]
    assert [p.status for p in problems] == ["failed", "failed"]
    for p in problems:
        assert "differ only in Unicode normalisation" in p.reason
        assert "caf\\xe9.txt" in p.reason and "cafe\\u0301.txt" in p.reason
    # Given one of the two on the command line, it is still refused.
    found, problems = scan(seeds, [seeds / nfc])
    assert found == [] and "differ only in Unicode normalisation" in problems[0].reason


def test_nfc_collision_of_folders_refuses_both_folders(seeds: Path) -> None:
    for spelling in ["caf\u00e9", "cafe\u0301"]:
        (seeds / spelling).mkdir()
        (seeds / spelling / "x.txt").write_text(spelling)
    (seeds / "b.txt").write_text("b")
    found, problems = scan(seeds)
    assert names(found) == ["b.txt"]
    assert sorted(p.name for p in problems) == ["café/", "café/"]
    assert all("folder names" in p.reason for p in problems)
    found, problems = scan(seeds, [seeds / "cafe\u0301" / "x.txt"])
    assert found == [] and problems[0].reason.startswith("inside folder names")


def test_a_decomposed_name_alone_is_archived_as_nfc(seeds: Path) -> None:
    (seeds / "cafe\u0301.txt").write_text("x")
    found, problems = scan(seeds)
    assert names(found) == ["caf\u00e9.txt"] and problems == []
    assert found[0].path.name == "cafe\u0301.txt"


def test_control_characters_never_reach_a_reason_raw(seeds: Path) -> None:
    evil = "\x1b[2J\x1b]0;pwned\x07evil\nname.txt"
    (seeds / evil).write_text("x")
    os.mkfifo(seeds / "pi\u200bpe")
    (seeds / "good.txt").write_text("good")
    found, problems = scan(seeds)
    assert names(found) == ["good.txt"]
    for p in problems:
        for text in (p.name, p.path, p.reason):
            assert text.isprintable(), text
    assert {p.name for p in problems} == {display_name(evil), "pi\\u200bpe"}


# -- open_seed --------------------------------------------------------------------------------


def test_open_seed_reads_a_file_and_a_link_inside(seeds: Path) -> None:
    (seeds / "sub").mkdir()
    (seeds / "sub" / "real.txt").write_text("real")
    (seeds / "alias.txt").symlink_to("sub/real.txt")
    found, _ = scan(seeds)
    assert names(found) == ["alias.txt", "sub/real.txt"]
    for seed in found:
        stream, st = open_seed(seeds, seed)
        with stream:
            assert stream.read() == b"real" and st.st_size == 4


def test_open_seed_refuses_a_file_swapped_for_an_outside_link(
    seeds: Path, tmp_path: Path, outside: Path
) -> None:
    (seeds / "doc.txt").write_text("doc")
    [seed], _ = scan(seeds)
    (seeds / "doc.txt").unlink()
    (seeds / "doc.txt").symlink_to(outside / "passwd")
    with unchanged_outside(tmp_path, seeds), pytest.raises(InputError) as info:
        open_seed(seeds, seed)
    assert "symbolic link leads outside the seeds folder" in info.value.reason


def test_open_beneath_refuses_a_folder_that_became_a_link(seeds: Path, outside: Path) -> None:
    from provarchive.seeds.paths import open_beneath

    (seeds / "sub").mkdir()
    (seeds / "sub" / "passwd").write_text("mine")
    root = os.path.realpath(seeds)
    fd = open_beneath(root, "sub/passwd", os.O_RDONLY)
    os.close(fd)
    shutil.rmtree(seeds / "sub")
    (seeds / "sub").symlink_to(outside)  # the swap a racing user could make
    with pytest.raises(OSError):
        open_beneath(root, "sub/passwd", os.O_RDONLY)


def test_a_missing_seeds_folder_holds_nothing(tmp_path: Path) -> None:
    assert scan(tmp_path / "nowhere") == ([], [])
    found, problems = scan(tmp_path / "nowhere", [tmp_path / "nowhere" / "a.txt"])
    assert found == [] and problems[0].reason == "the seeds folder does not exist"


def test_a_link_that_cannot_be_followed_fails_alone(
    archive, seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``realpath`` raises when it may not read a link on the way (a link into another
    user's /proc entry): that seed fails, the rest of the batch is archived."""
    (seeds / "a.txt").write_text("a plain page\n")
    (seeds / "link").symlink_to(seeds / "a.txt")
    real = os.path.realpath

    def realpath(path: Any, *a: Any, **k: Any) -> str:
        if os.fspath(path).endswith("link"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path, *a, **k)

    monkeypatch.setattr(os.path, "realpath", realpath)
    report = archive.ingest()
    status = {r.document: (r.status, r.error) for r in report.results}
    assert status["a.txt"][0] == "new"
    assert status["link"] == ("failed", "symbolic link cannot be followed: Permission denied")
