"""An archive in PostgreSQL mode as a whole: moving between modes with ``rebuild``, and
many writers at once on one PostgreSQL archive (real server, real processes)."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from provarchive import Archive, ArchiveConfig
from provarchive.catalog import queries

from .conftest import REPO, SEED_PATH, crash_test, ocfl_py_validate, run_provarchive

PAGES = REPO / "tests" / "data" / "pages"

CONFORMANCE_QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("river", {}),
    ("Go Myong-hyun", {}),
    ('"Go Myong-hyun"', {}),
    ("budget AND spring", {}),
    ("flood OR ministry", {}),
    ("report NOT week", {}),
    ("minis*", {}),
    ("budgte~", {}),
    ("kind:title", {}),
    ("kind:title river", {}),
    ("東京都", {}),
    ("防災", {}),
    ("são paulo", {}),
    ("Sao Paulo", {}),
    ("Москве", {}),
    ("Advertisement", {"everything": True}),
    ('"share this article"', {"kind": "removed"}),
    ("document number", {"all_versions": True}),
    ("closing sentence", {"limit": 3, "offset": 2}),
]
"""Queries over the words of the seeds below: words, phrases, operators, prefix, fuzzy,
fields, scripts with and without word spaces, removed lines, dates, paging."""


def _write_seeds(seeds: Path, count: int, *, rng_seed: int = 16) -> None:
    seeds.mkdir(parents=True, exist_ok=True)
    shutil.copy(SEED_PATH, seeds / SEED_PATH.name)
    for page in PAGES.iterdir():
        shutil.copy(page, seeds / f"page-{page.name}")
    crash_test.write_seeds(seeds / "gen", random.Random(rng_seed), count)


def _answers(archive: Archive) -> dict[str, Any]:
    """What each conformance query finds, ranking aside (the engines rank differently):
    the total, and per hit everything cited and shown."""
    out: dict[str, Any] = {}
    for text, filters in CONFORMANCE_QUERIES:
        paged = "offset" in filters
        results = archive.search(text, **{"limit": 1000, **filters})
        hits = {
            h.passage_id: (h.kind, h.text, h.snippet, h.sha256, h.raw_span, h.passage_sha256,
                           h.rule, h.published, h.current)
            for h in results.hits
        }  # fmt: skip
        out[f"{text} {filters}"] = (results.total, len(hits) if paged else hits)
    return out


def test_rebuild_moves_an_archive_to_postgresql_and_back(tmp_path: Path, pg_url: str) -> None:
    """``rebuild --db-url`` builds the PostgreSQL catalog and index from the store alone;
    the conformance queries find the same passages with the same citations and snippets
    as in the SQLite archive, and a rebuild without it moves the archive back."""
    seeds = tmp_path / "moving-seeds"
    _write_seeds(seeds, 40)
    root = tmp_path / "moving"
    embedded = ArchiveConfig(root=root, seeds=seeds, lock_timeout=30)
    with Archive(embedded) as archive:
        archive.ingest()
        assert archive.home.settings.engine == "whoosh"
        before = _answers(archive)
    assert [q for q, (total, _) in before.items() if not total] == []

    done = run_provarchive(
        "--archive", str(root), "--seeds", str(seeds), "--db-url", pg_url, "rebuild"
    )
    assert done.returncode == 0, done.stderr.decode()
    served = ArchiveConfig(root=root, seeds=seeds, lock_timeout=30, db_url=pg_url)
    with Archive(served) as archive:
        assert archive.home.settings.engine == "postgres"
        assert _answers(archive) == before
        report = archive.verify()
        assert report.is_ok(), report.findings

    with Archive(embedded) as archive:
        assert archive.rebuild() > 0
        assert archive.home.settings.engine == "whoosh"
        assert _answers(archive) == before


@pytest.mark.slow
def test_four_writers_on_one_postgresql_archive(tmp_path: Path, pg_url: str) -> None:
    """Four ``ingest`` processes over 400 overlapping seeds (each sees 250 of them, every
    document is in at least two runs) against one PostgreSQL archive: all exit 0, every
    document is archived exactly once, the store is valid, verify is clean and every
    passage is searchable."""
    seeds = tmp_path / "many-seeds"
    crash_test.write_seeds(seeds, random.Random(4), 400)
    names = sorted(p.relative_to(seeds).as_posix() for p in seeds.rglob("*.txt"))
    root = tmp_path / "shared"
    env = {"PROVARCHIVE_DB_URL": pg_url, "PROVARCHIVE_LOCK_TIMEOUT": "600"}
    init = run_provarchive("--archive", str(root), "--seeds", str(seeds), "init", env=env)
    assert init.returncode == 0, init.stderr.decode()
    writers = []
    for w in range(4):
        part = [n for i, n in enumerate(names) if (i + w * 50) % 400 < 250]
        paths = [str(seeds / n) for n in (part if w % 2 else part[::-1])]
        writers.append(
            subprocess.Popen(
                [sys.executable, "-m", "provarchive", "--archive", str(root),
                 "--seeds", str(seeds), "ingest", *paths],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env={**_env(), **env},
            )
        )  # fmt: skip
    for proc in writers:
        _out, err = proc.communicate(timeout=1200)
        assert proc.returncode == 0, err.decode()[-2000:]
    config = ArchiveConfig(root=root, seeds=seeds, lock_timeout=30, db_url=pg_url)
    with Archive(config) as archive:
        with archive.catalog.session() as s:
            heads = {name: number for name, (number, _) in queries.head_digests(s).items()}
            versions = [(v.number, name) for v, name in queries.versions_named(s, None)]
        assert heads == dict.fromkeys(names, 1)
        assert sorted(versions) == [(1, n) for n in names]
        report = archive.verify()
        assert report.is_ok(), report.findings
        for n in range(400):
            hits = archive.search(f'"Document number {n} ends here"', limit=5).hits
            assert [h.document for h in hits] == [f"batch-{n % 7}/doc-{n:04d}.txt"], n
    valid, messages = ocfl_py_validate(root / "ocfl")
    assert valid, messages


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)
