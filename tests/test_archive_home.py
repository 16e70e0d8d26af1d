"""The archive home is the archive's alone, and knows its seeds folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .conftest import SEED_NAME, run_provarchive


def _tree(root: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }


@pytest.mark.parametrize("command", [["init"], ["ingest"], ["add", "IN"]])
def test_a_folder_that_is_not_an_archive_is_refused_and_untouched(
    tmp_path: Path, seeded: Path, command: list[str]
) -> None:
    work = tmp_path / "work"
    for rel, data in {
        "staging/draft.txt": b"my draft",
        "index/index.html": b"<html>",
        "ocfl/notes.txt": b"notes",
    }.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_bytes(data)
    incoming = tmp_path / "in.txt"
    incoming.write_text("A note to add.\n")
    before_work, before_seeds = _tree(work), _tree(seeded)
    args = [str(incoming) if a == "IN" else a for a in command]
    result = run_provarchive(
        "--archive", str(work), *args, env={"PROVARCHIVE_SEEDS": str(seeded)}, text=True
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"Error: {work} is not an archive and is not empty")
    assert "index" in result.stderr  # names a foreign entry (the first, in order)
    assert len(result.stderr.strip().splitlines()) == 1
    assert _tree(work) == before_work and _tree(seeded) == before_seeds


@pytest.mark.slow
def test_an_empty_folder_becomes_an_archive(tmp_path: Path, seeded: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {"PROVARCHIVE_ARCHIVE": str(empty), "PROVARCHIVE_SEEDS": str(seeded)}
    assert run_provarchive("ingest", env=env).returncode == 0
    assert (empty / "provarchive.json").is_file()
    assert run_provarchive("ingest", env=env).returncode == 0  # and stays one


def _run(*args: str, cwd: Path) -> object:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVARCHIVE_")}
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "provarchive", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_the_archive_remembers_its_seeds_and_is_found_from_below(
    tmp_path: Path, seed_bytes: bytes
) -> None:
    project = tmp_path / "project"
    (project / "seeds" / "2024").mkdir(parents=True)
    (project / "seeds" / SEED_NAME).write_bytes(seed_bytes)
    assert _run("init", cwd=project).returncode == 0  # type: ignore[attr-defined]
    settings = json.loads((project / "archive" / "provarchive.json").read_text())
    assert settings["seeds"] == "../seeds"
    below = project / "seeds" / "2024"
    result = _run("ingest", "--json", cwd=below)
    assert result.returncode == 0, result.stderr  # type: ignore[attr-defined]
    names = [r["document"] for r in json.loads(result.stdout)["results"]]  # type: ignore[attr-defined]
    assert names == [SEED_NAME]  # the project's own seeds, found from the archive
    assert not (below / "archive").exists()


@pytest.mark.slow
def test_another_seeds_folder_needs_seeds_here(tmp_path: Path, seed_bytes: bytes) -> None:
    project = tmp_path / "project"
    (project / "seeds").mkdir(parents=True)
    (project / "seeds" / SEED_NAME).write_bytes(seed_bytes)
    other = tmp_path / "other-project"
    other.mkdir()
    (other / "theirs.txt").write_text("Another project's file.\n")
    assert _run("ingest", cwd=project).returncode == 0  # type: ignore[attr-defined]
    wrong = _run("--seeds", str(other), "ingest", cwd=project)
    assert wrong.returncode == 2  # type: ignore[attr-defined]
    assert "--seeds-here" in wrong.stderr  # type: ignore[attr-defined]
    show = _run("show", "theirs.txt", cwd=project)
    assert show.returncode == 4  # type: ignore[attr-defined]  (nothing was archived)
    moved = _run("--seeds", str(other), "--seeds-here", "ingest", cwd=project)
    assert moved.returncode == 0, moved.stderr  # type: ignore[attr-defined]
    settings = json.loads((project / "archive" / "provarchive.json").read_text())
    assert Path(os.path.normpath(project / "archive" / settings["seeds"])) == other


def test_ingest_with_no_seeds_folder_creates_nothing(tmp_path: Path) -> None:
    result = _run("ingest", cwd=tmp_path)
    assert result.returncode == 2  # type: ignore[attr-defined]
    assert "no seeds folder" in result.stderr  # type: ignore[attr-defined]
    assert list(tmp_path.iterdir()) == []


def test_a_first_run_in_progress_is_not_a_foreign_folder(tmp_path: Path) -> None:
    """A second writer waiting for the lock sees the first one's lock file and staging
    temporaries before its settings file exists: that is an archive being created. A
    user's own staging/ folder is still foreign."""
    from provarchive.home import foreign_entry

    root = tmp_path / "archive"
    (root / "staging").mkdir(parents=True)
    (root / "writer.lock").write_text("")
    assert foreign_entry(root) is None
    (root / "staging" / f"provarchive.json-{'0' * 32}").write_text("{}")
    assert foreign_entry(root) is None
    (root / "staging" / "draft.txt").write_text("the user's")
    assert foreign_entry(root) == root / "staging"


def test_settings_written_while_the_folder_is_looked_at_make_it_an_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A concurrent first run writes its settings (then the rest) between this process's
    check for them and its look at the folder: that is an archive being made, not a
    foreign folder (CI saw a waiting writer refuse it, in PostgreSQL mode)."""
    import provarchive.home as home

    root = tmp_path / "archive"
    root.mkdir()
    real = home._is_home

    def first_run_lands_meanwhile(path: Path) -> bool:
        found = real(path)
        (path / home.SETTINGS).write_text("{}")
        (path / "ocfl").mkdir(exist_ok=True)
        return found

    monkeypatch.setattr(home, "_is_home", first_run_lands_meanwhile)
    assert home.foreign_entry(root) is None
    (root / home.SETTINGS).unlink()
    monkeypatch.setattr(home, "_is_home", real)
    assert home.foreign_entry(root) == root / "ocfl"  # no settings after all: foreign
