"""What the seeds folder holds that is never archived: defaults, .provarchiveignore, archives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from provarchive import Archive, ArchiveConfig
from provarchive.errors import UsageError
from provarchive.seeds import IgnoreRules, scan

from .test_seeds import by_name, names


@pytest.fixture
def listed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every folder the scan lists (to prove which ones it never descends into)."""
    seen: list[str] = []
    real = os.scandir

    def spy(path: str | int = ".") -> object:
        if not isinstance(path, int):
            seen.append(os.path.realpath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", spy)
    return seen


def test_defaults_ignore_junk_with_reasons(seeds: Path, listed: list[str]) -> None:
    (seeds / ".git" / "objects").mkdir(parents=True)
    (seeds / ".git" / "HEAD").write_text("ref: refs/heads/main")
    (seeds / "__MACOSX").mkdir()
    (seeds / "__MACOSX" / "._a.txt").write_text("fork")
    (seeds / "sub").mkdir()
    junk = {
        ".DS_Store": "default: dotfile",
        "sub/.hidden": "default: dotfile",
        "notes.txt.swp": "default: editor swap file (*.swp)",
        "notes.txt.swo": "default: editor swap file (*.swo)",
        "GPL-3~": "default: editor backup (*~)",
        "#draft.txt#": "default: editor autosave file (#*#)",
        "sub/Thumbs.db": "default: OS litter (Thumbs.db)",
        "desktop.ini": "default: OS litter (desktop.ini)",
        ".provarchiveignore": "default: dotfile",
    }
    for name in junk:
        (seeds / name).write_text("junk")
    (seeds / "sub" / "keep.txt").write_text("keep")
    (seeds / "GPL-3").write_text("licence")
    found, problems = scan(seeds)
    assert names(found) == ["GPL-3", "sub/keep.txt"]
    expected = {name: ("ignored", reason) for name, reason in junk.items()}
    expected[".git/"] = ("ignored", "default: dot-folder")
    expected["__MACOSX/"] = ("ignored", "default: OS litter (__MACOSX/)")
    assert by_name(problems) == expected
    root = os.path.realpath(seeds)
    assert os.path.join(root, "sub") in listed  # the spy sees what is walked...
    assert os.path.join(root, ".git") not in listed and os.path.join(root, "__MACOSX") not in listed


def test_ignore_file_patterns_and_negation(seeds: Path) -> None:
    (seeds / ".provarchiveignore").write_text(
        "# scratch work is never archived\n*.log\n\ndrafts/\n!important.swp\n/top-only.txt\n"
    )
    for name in [
        "a.log",
        "important.swp",
        "other.swp",
        "top-only.txt",
        "sub/top-only.txt",
        "drafts/d.txt",
        "x.txt",
    ]:
        (seeds / name).parent.mkdir(parents=True, exist_ok=True)
        (seeds / name).write_text(name)
    found, problems = scan(seeds)
    assert names(found) == ["important.swp", "sub/top-only.txt", "x.txt"]
    got = by_name(problems)
    assert got["a.log"] == ("ignored", "matches '*.log' in .provarchiveignore (line 2)")
    assert got["drafts/"] == ("ignored", "matches 'drafts/' in .provarchiveignore (line 4)")
    assert got["top-only.txt"] == (
        "ignored",
        "matches '/top-only.txt' in .provarchiveignore (line 6)",
    )
    assert got["other.swp"] == ("ignored", "default: editor swap file (*.swp)")


def test_a_file_inside_an_ignored_folder_cannot_be_re_included(seeds: Path) -> None:
    # As in Git: the folder is never read, so a negation below it has nothing to act on.
    (seeds / ".provarchiveignore").write_text("drafts/\n!drafts/keep.txt\n")
    (seeds / "drafts").mkdir()
    (seeds / "drafts" / "keep.txt").write_text("k")
    found, problems = scan(seeds)
    assert found == [] and by_name(problems)["drafts/"][0] == "ignored"
    found, problems = scan(seeds, [seeds / "drafts" / "keep.txt"])
    assert found == []
    assert problems[0].reason == "inside drafts/ (matches 'drafts/' in .provarchiveignore (line 1))"


def test_a_dotfile_can_be_re_included_but_never_a_temporary_file(seeds: Path) -> None:
    (seeds / ".provarchiveignore").write_text("!.*\n")
    (seeds / ".env.example").write_text("KEY=")
    (seeds / ".provarchive-tmp-123-0123456789abcdef").write_text("half a copy")
    found, problems = scan(seeds)
    assert names(found) == [".env.example", ".provarchiveignore"]
    assert [p.status for p in problems] == ["ignored"]
    assert "temporary file" in problems[0].reason


def test_explicit_paths_obey_the_rules(seeds: Path) -> None:
    (seeds / ".git").mkdir()
    (seeds / ".git" / "HEAD").write_text("ref")
    (seeds / "x.swp").write_text("swap")
    found, problems = scan(seeds, [seeds / ".git" / "HEAD", seeds / "x.swp"])
    assert found == []
    assert by_name(problems) == {
        ".git/HEAD": ("ignored", "inside .git/ (default: dot-folder)"),
        "x.swp": ("ignored", "default: editor swap file (*.swp)"),
    }


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("[z-a]", "line 2: '[z-a]' is not a valid pattern"),
        ("!", "line 2: '!' is not a valid pattern"),
    ],
)
def test_a_broken_ignore_file_stops_the_scan(seeds: Path, line: str, needle: str) -> None:
    (seeds / ".provarchiveignore").write_text(f"*.log\n{line}\n")
    (seeds / "a.txt").write_text("a")
    with pytest.raises(UsageError, match="is not a valid pattern") as info:
        scan(seeds)
    assert needle in str(info.value)


def test_ignore_file_that_is_not_utf8_is_refused(seeds: Path) -> None:
    (seeds / ".provarchiveignore").write_bytes(b"caf\xe9\n")
    with pytest.raises(UsageError, match="not UTF-8"):
        IgnoreRules.load(seeds)


def test_patterns_match_names_whatever_their_normalisation(seeds: Path) -> None:
    (seeds / ".provarchiveignore").write_text("cafe\u0301/\n")  # written decomposed
    (seeds / "caf\u00e9").mkdir()  # on disk composed
    (seeds / "caf\u00e9" / "x.txt").write_text("x")
    found, problems = scan(seeds)
    assert found == [] and problems[0].status == "ignored"


# -- archives inside the seeds folder ---------------------------------------------------------


def test_an_archive_inside_the_seeds_folder_is_never_archived_nor_read(
    seeds: Path, tmp_path: Path, listed: list[str]
) -> None:
    # Issue #13: `add` run from inside seeds/ made seeds/archive/, and the next ingest
    # stored its catalog, inventories, index segments and lock as 14 documents.
    nested_seeds = tmp_path / "elsewhere"
    nested_seeds.mkdir()
    (nested_seeds / "doc.txt").write_text("A sentence long enough to be indexed as a passage.\n")
    with Archive(ArchiveConfig(root=seeds / "archive", seeds=nested_seeds)) as nested:
        nested.ingest()
    listed.clear()
    (seeds / "real.txt").write_text("real")
    found, problems = scan(seeds)
    assert names(found) == ["real.txt"]
    assert by_name(problems) == {
        "archive/": ("ignored", "a provarchive archive: never archived, not descended into")
    }
    root = os.path.realpath(seeds)
    assert root in listed
    assert not [p for p in listed if p.startswith(os.path.join(root, "archive") + os.sep)]
    found, problems = scan(seeds, [seeds / "archive" / "ocfl" / "0=ocfl_1.1"])
    assert found == []
    assert problems[0].reason == f"inside a provarchive archive at {seeds / 'archive'}"


@pytest.mark.parametrize(
    ("files", "kind"),
    [
        (["0=ocfl_1.1", "extensions/x"], "an OCFL storage root"),
        (["ocfl/0=ocfl_1.0"], "a provarchive archive"),
        (["writer.lock", "staging/x"], "a provarchive archive"),
        (["provarchive.json", "catalog.sqlite"], "a provarchive archive"),
    ],
)
def test_what_counts_as_an_archive(seeds: Path, files: list[str], kind: str) -> None:
    for name in files:
        (seeds / "box" / name).parent.mkdir(parents=True, exist_ok=True)
        (seeds / "box" / name).write_text("x")
    found, problems = scan(seeds)
    assert found == [] and by_name(problems) == {
        "box/": ("ignored", f"{kind}: never archived, not descended into")
    }


def test_a_lone_provarchive_json_is_an_ordinary_document(seeds: Path) -> None:
    (seeds / "notes").mkdir()
    (seeds / "notes" / "provarchive.json").write_text("{}")
    found, _ = scan(seeds)
    assert names(found) == ["notes/provarchive.json"]


def test_excluded_folders_are_not_descended_into(seeds: Path) -> None:
    (seeds / "home").mkdir()
    (seeds / "home" / "x.txt").write_text("x")
    (seeds / "y.txt").write_text("y")
    found, problems = scan(seeds, exclude=[seeds / "home"])
    assert names(found) == ["y.txt"]
    assert by_name(problems) == {"home/": ("ignored", "the archive's own folder")}
