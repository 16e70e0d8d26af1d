"""The validator on hostile and broken objects: containment, and never raising for damage.

Containment is checked from the outside: every ``os.open`` and ``os.scandir`` the test
sees is resolved to a full path (``/proc/self/fd`` names the directory of a descriptor),
and none may lie outside the object; a sentinel file placed where an escaping path points
must be neither read nor reported with its digest.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provarchive.errors import CorruptArchiveError
from provarchive.store.validation import (
    ObjectReport,
    open_contained,
    relative_path_problem,
    safe_join,
    validate_object,
)

from .test_validation import describe, issue, make_store, rewrite, state, write

SECRET = b"the sentinel: never to be read\n"


@pytest.fixture
def obj(tmp_path: Path) -> Path:
    store = make_store(tmp_path)
    write(store, "a/doc.txt", b"first version\n")
    write(store, "a/doc.txt", b"second version\n")
    return store.object_dir("a/doc.txt")


@pytest.fixture
def sentinel(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    path = outside / "sentinel"
    path.write_bytes(SECRET)
    return path


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Full paths of everything the validator opens or lists, however it names them."""
    seen: list[str] = []
    real_open, real_scandir = os.open, os.scandir

    def where(path: Any, dir_fd: int | None) -> str:
        if isinstance(path, int):
            return os.readlink(f"/proc/self/fd/{path}")
        base = os.readlink(f"/proc/self/fd/{dir_fd}") if dir_fd is not None else os.getcwd()
        return os.path.normpath(os.path.join(base, os.fspath(path)))

    def recording_open(
        path: Any, flags: int, mode: int = 0o777, *, dir_fd: int | None = None
    ) -> int:
        seen.append(where(path, dir_fd))
        return real_open(path, flags, mode, dir_fd=dir_fd)

    def recording_scandir(path: Any = ".") -> Any:
        seen.append(where(path, None))
        return real_scandir(path)

    monkeypatch.setattr(os, "open", recording_open)
    monkeypatch.setattr(os, "scandir", recording_scandir)
    yield seen


def assert_contained(report: ObjectReport, obj: Path, opened: list[str]) -> None:
    inside = os.path.realpath(obj)
    assert opened, "the recording saw nothing"
    for path in opened:
        assert path == inside or path.startswith(inside + os.sep), f"opened outside: {path}"
    secret = hashlib.sha512(SECRET).hexdigest()
    assert all(secret not in (i.found or "") for i in report.issues)
    assert all(d.get("sha512") != secret for d in report.digests.values())


def steal(obj: Path, content_path: str) -> None:
    """Make v2 claim ``content_path`` holds the sentinel's bytes, as a hostile inventory would."""
    secret = hashlib.sha512(SECRET).hexdigest()

    def mutate(inv: dict[str, Any]) -> None:
        inv["manifest"][secret] = [content_path]
        inv["fixity"]["sha256"][hashlib.sha256(SECRET).hexdigest()] = [content_path]
        state(inv)[secret] = ["stolen.txt"]

    rewrite(obj, mutate)


def test_dot_dot_content_path_is_refused_and_never_followed(
    obj: Path, sentinel: Path, opened: list[str]
) -> None:
    depth = len(obj.relative_to(sentinel.parents[1]).parts)
    steal(obj, "v2/content/" + "../" * (depth + 2) + "outside/sentinel")
    report = validate_object(obj)
    assert issue(report, "E099", "inventory.json")
    assert_contained(report, obj, opened)


def test_absolute_content_path_is_refused_and_never_followed(
    obj: Path, sentinel: Path, opened: list[str]
) -> None:
    steal(obj, str(sentinel))
    report = validate_object(obj)
    assert issue(report, "E100", "inventory.json").found == str(sentinel)
    assert_contained(report, obj, opened)


def test_symlink_to_outside_is_reported_never_read(
    obj: Path, sentinel: Path, opened: list[str]
) -> None:
    (obj / "v2/content/a/link.txt").symlink_to(sentinel)
    steal(obj, "v2/content/a/link.txt")
    report = validate_object(obj)
    assert issue(report, "E090", "v2/content/a/link.txt")
    assert "symbolic link" in issue(report, "E092", "v2/content/a/link.txt").message
    assert_contained(report, obj, opened)


def test_symlinked_directory_is_never_listed(obj: Path, sentinel: Path, opened: list[str]) -> None:
    (obj / "v2/content/a/dir").symlink_to(sentinel.parent)
    steal(obj, "v2/content/a/dir/sentinel")
    report = validate_object(obj)
    assert issue(report, "E090", "v2/content/a/dir")
    assert issue(report, "E092", "v2/content/a/dir/sentinel")
    assert_contained(report, obj, opened)


def test_symlinked_version_and_inventory_are_not_followed(
    obj: Path, tmp_path: Path, opened: list[str]
) -> None:
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(obj, elsewhere)
    shutil.rmtree(obj / "v1")
    (obj / "v1").symlink_to(elsewhere / "v1")
    (obj / "inventory.json").unlink()
    (obj / "inventory.json").symlink_to(elsewhere / "inventory.json")
    report = validate_object(obj)
    assert issue(report, "E090", "v1") and issue(report, "E090", "inventory.json")
    assert not report.is_valid()
    assert_contained(report, obj, opened)


def test_hostile_digest_algorithm_and_content_directory_stay_inside(
    obj: Path, sentinel: Path, opened: list[str]
) -> None:
    def mutate(inv: dict[str, Any]) -> None:
        inv["digestAlgorithm"] = "../../../outside/sentinel"
        inv["contentDirectory"] = ".."

    rewrite(obj, mutate)
    report = validate_object(obj)
    assert issue(report, "E025") and issue(report, "E018")
    assert_contained(report, obj, opened)


def test_valid_object_opens_only_inside(obj: Path, opened: list[str]) -> None:
    report = validate_object(obj)
    assert report.issues == ()
    assert_contained(report, obj, opened)


# -- safe_join / open_contained ------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["", "/etc/passwd", "../x", "a/../../x", "a//b", "a/./b", "a/", "a\x00b", "."]
)
def test_unsafe_relative_paths_are_refused(tmp_path: Path, path: str) -> None:
    assert relative_path_problem(path) is not None
    assert safe_join(tmp_path, path) is None
    with pytest.raises(CorruptArchiveError):
        open_contained(tmp_path, path)


def test_safe_join_resolves_links_and_refuses_escapes(tmp_path: Path, sentinel: Path) -> None:
    base = tmp_path / "base"
    (base / "d").mkdir(parents=True)
    (base / "d" / "f.txt").write_bytes(b"inside")
    (base / "in").symlink_to(base / "d")
    (base / "out").symlink_to(sentinel.parent)
    assert safe_join(base, "d/f.txt") == (base / "d" / "f.txt").resolve()
    assert safe_join(base, "in/f.txt") == (base / "d" / "f.txt").resolve()
    assert safe_join(base, "out/sentinel") is None
    assert safe_join(base, "a\\..\\b") == (base / "a\\..\\b").resolve()  # one literal name


def test_open_contained_reads_inside_and_refuses_links_and_fifos(
    tmp_path: Path, sentinel: Path
) -> None:
    base = tmp_path / "base"
    (base / "d").mkdir(parents=True)
    (base / "d" / "f.txt").write_bytes(b"inside")
    (base / "in").symlink_to(base / "d")
    (base / "link.txt").symlink_to(base / "d" / "f.txt")
    os.mkfifo(base / "fifo")
    with open_contained(base, "d/f.txt") as f:
        assert f.read() == b"inside"
    for path in ("in/f.txt", "link.txt", "fifo", "d", "missing"):
        with pytest.raises(CorruptArchiveError):
            open_contained(base, path)


# -- never raises for damage -------------------------------------------------------------------


def replace_with(path: Path, kind: str, target: Path | None = None) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()
    if kind == "dir":
        path.mkdir()
        (path / "inner").write_bytes(b"x")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "broken-link":
        path.symlink_to(target or path.with_name("nowhere"))
    elif kind == "file":
        path.write_bytes(b"a file")


CASES = [
    ("inventory.json", "dir", "E063"),
    ("inventory.json", "fifo", "E063"),
    ("inventory.json", "broken-link", "E090"),
    ("inventory.json.sha512", "dir", "E058"),
    ("inventory.json.sha512", "fifo", "E058"),
    ("0=ocfl_object_1.1", "fifo", "E003"),
    ("v2/inventory.json", "fifo", "W010"),
    ("v2/inventory.json.sha512", "broken-link", "E090"),
    ("v2/content/a/doc.txt", "dir", "E092"),
    ("v2/content/a/doc.txt", "fifo", "E089"),
    ("v2/content/a/doc.txt", "broken-link", "E090"),
    ("v2/content", "file", "E015"),
    ("v2", "file", "E046"),
    ("v1", "fifo", "E046"),
]


@pytest.mark.timeout(20)
@pytest.mark.parametrize(("rel", "kind", "code"), CASES)
def test_wrong_kind_of_file_is_an_issue_not_an_exception(
    obj: Path, rel: str, kind: str, code: str
) -> None:
    replace_with(obj / rel, kind)
    report = validate_object(obj)
    assert issue(report, code, rel), describe(report)
    assert not report.is_valid()


@pytest.mark.parametrize(
    ("name", "code", "where"),
    [
        ("doc.txt", "E092", "v2/content/a/doc.txt"),
        ("inventory.json", "E063", "inventory.json"),
        ("inventory.json.sha512", "E058", "inventory.json.sha512"),
        ("content", "E023", "v1/content"),
        ("v1", "E046", "v1"),
        ("0=ocfl_object_1.1", "E007", "0=ocfl_object_1.1"),
    ],
)
def test_unreadable_files_are_issues(
    obj: Path, monkeypatch: pytest.MonkeyPatch, name: str, code: str, where: str
) -> None:
    # We run as root, where permission bits do not bind: simulate EACCES at the call.
    real_open = os.open

    def denying_open(path: Any, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
        if path == name:
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_open(path, flags, mode, dir_fd=dir_fd)

    monkeypatch.setattr(os, "open", denying_open)
    report = validate_object(obj)
    assert "Permission denied" in issue(report, code, where).message, describe(report)


def test_read_error_while_hashing_is_an_issue(obj: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_read = os.read

    def failing_read(fd: int, n: int) -> bytes:
        if os.readlink(f"/proc/self/fd/{fd}").endswith("v1/content/a/doc.txt"):
            raise OSError(errno.EIO, "Input/output error")
        return real_read(fd, n)

    monkeypatch.setattr(os, "read", failing_read)
    report = validate_object(obj)
    assert "Input/output error" in issue(report, "E092", "v1/content/a/doc.txt").message


def test_missing_or_non_directory_object_is_E003(tmp_path: Path) -> None:
    assert issue(validate_object(tmp_path / "nothing"), "E003", ".")
    (tmp_path / "file").write_bytes(b"x")
    assert issue(validate_object(tmp_path / "file"), "E003", ".")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)


def places(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place (a path of keys and indexes) in a JSON value."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += places(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += places(item, (*prefix, index))
    return found


@settings(
    max_examples=int(os.environ.get("VALIDATION_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_any_json_in_any_place_never_raises(obj: Path, data: st.DataObject) -> None:
    for rel in ("inventory.json", "v1/inventory.json"):
        original = (obj / rel).read_bytes()
        inventory = json.loads(original)
        where = data.draw(st.sampled_from(places(inventory)[1:]))
        value = data.draw(JSON | st.sampled_from(["", "/", "..", "v1", "content", "../../x"]))
        target = inventory
        for key in where[:-1]:
            target = target[key]
        target[where[-1]] = value
        (obj / rel).write_bytes(json.dumps(inventory).encode())
        try:
            report = validate_object(obj)
        finally:
            (obj / rel).write_bytes(original)
        assert not report.is_valid()  # at least the sidecar no longer matches
