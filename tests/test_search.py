"""Search: citations, versions, analysis, filters, and the index audit in verify."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from provarchive import Archive
from provarchive.errors import QueryError
from provarchive.search.engine import IndexEntry
from provarchive.search.sync import sync_index

from .conftest import GO, SEED_NAME


def test_acceptance_seed_phrase_cites_bytes_and_digest(
    cli, seeded: Path, seed_bytes: bytes
) -> None:
    cli("ingest")
    doc = json.loads(cli("search", '"Go Myong-hyun"', "--json").stdout)
    assert doc["query"] == '"Go Myong-hyun"' and doc["total"] >= 1
    top = doc["hits"][0]
    assert set(top) == {
        "passage_id",
        "document",
        "version",
        "ordinal",
        "kind",
        "score",
        "text",
        "snippet",
        "file_sha256",
        "passage_sha256",
        "raw_span",
        "current",
        "removed_by",
        "published",
    }
    assert top["document"] == SEED_NAME and top["version"] == 1
    raw = cli("cat", SEED_NAME).stdout_bytes
    start, end = top["raw_span"]
    assert b"Go Myong-hyun" in raw[start:end]
    assert top["file_sha256"] == hashlib.sha256(seed_bytes).hexdigest()
    assert top["passage_sha256"] == hashlib.sha256(top["text"].encode()).hexdigest()
    assert (top["current"], top["removed_by"], top["published"]) == (True, None, None)
    assert "**Go**" in top["snippet"]


def test_snippet_marks_where_the_passage_is_cut(seeded_archive: Archive) -> None:
    # "turnover" sits in the middle of a long body paragraph: the snippet is cut on
    # both sides, and says so, so that a quoted snippet is never mistaken for the whole.
    hit = seeded_archive.search("turnover").hits[0]
    assert len(hit.text) > 300
    assert hit.snippet.startswith("… ") and hit.snippet.endswith(" …")
    assert "**turnover**" in hit.snippet
    # A short passage shown whole (the title) carries no ellipsis.
    title = seeded_archive.search("kind:title mystery").hits[0]
    assert "…" not in title.snippet and title.snippet.replace("**", "") == title.text
    # With nothing to highlight, a long passage shows its head, marked as cut.
    body = seeded_archive.search("kind:body", limit=20).hits
    long = next(h for h in body if len(h.text) > 300)
    assert long.snippet.endswith(" …") and long.text.startswith(long.snippet[:-2])


@pytest.mark.parametrize(
    "query", ["Advertisement", '"SCMP Pictures"', '"Reading Time"', '"trust SCMP"']
)
def test_boilerplate_is_not_searchable(seeded_archive: Archive, query: str) -> None:
    assert seeded_archive.search(query).total == 0


def test_title_word_is_found_and_titles_rank_first(seeded_archive: Archive) -> None:
    results = seeded_archive.search("mystery")
    assert results.hits[0].kind == "title"
    assert seeded_archive.search("kind:title").hits[0].kind == "title"
    labourers = seeded_archive.search("labourers", limit=20)
    assert labourers.hits[0].kind == "title"  # boosted: the title also says labourers


def test_new_version_old_word_only_with_all_versions(
    seeded_archive: Archive, seeded: Path, seed_bytes: bytes
) -> None:
    (seeded / SEED_NAME).write_bytes(seed_bytes.replace(b"Siberia", b"Vladivostok"))
    seeded_archive.ingest()
    assert seeded_archive.search("Siberia").total == 0
    old = seeded_archive.search("Siberia", all_versions=True)
    assert [(h.version, h.current) for h in old.hits] == [(1, False)]
    new = seeded_archive.search("Vladivostok", all_versions=True)
    assert [(h.version, h.current) for h in new.hits] == [(2, True)]
    assert seeded_archive.search("Vladivostok").hits[0].version == 2
    v2 = hashlib.sha256(seed_bytes.replace(b"Siberia", b"Vladivostok")).hexdigest()
    assert new.hits[0].sha256 == v2 and old.hits[0].sha256 == hashlib.sha256(seed_bytes).hexdigest()


def test_japanese_two_character_query(archive: Archive, seeds: Path) -> None:
    shutil.copy(Path(__file__).parent / "data" / "pages" / "ja.txt", seeds / "tokyo.txt")
    archive.ingest()
    hits = archive.search("東京").hits
    assert hits and hits[0].document == "tokyo.txt"
    assert archive.search("防災").total >= 1
    assert archive.search("京東").total == 0  # characters in the wrong order are no phrase


def test_accent_folding_and_stemming(archive: Archive, seeds: Path) -> None:
    (seeds / "cv.txt").write_text(
        "Her résumé listed three years as a farm labourer in the north of the country.\n"
        "The Café Müller reopened on Tuesday after a long renovation of its old rooms.\n",
        encoding="utf-8",
    )
    archive.ingest()
    assert archive.search("resume").total == 1
    assert archive.search("labourers").total == 1
    assert archive.search("cafe muller").total == 1
    assert archive.search("renov*").total == 1
    assert archive.search("mulller~").total == 1  # one edit from "muller"


def test_filters(archive: Archive, seeds: Path) -> None:
    (seeds / "a.txt").write_text(
        "The harbour froze over during the coldest night of the winter season.\n"
    )
    (seeds / "b.txt").write_text(
        "The harbour master said the ice would last for at least another week.\n"
    )
    archive.ingest()
    assert archive.search("harbour").total == 2
    assert [h.document for h in archive.search("harbour", document="b.txt").hits] == ["b.txt"]
    assert archive.search("harbour", kind="title").total == 0
    assert len(archive.search("harbour", limit=1).hits) == 1
    now = datetime.now(UTC)
    assert archive.search("harbour", since=now - timedelta(hours=1)).total == 2
    assert archive.search("harbour", since=now + timedelta(hours=1)).total == 0
    assert archive.search("harbour", until=now - timedelta(hours=1)).total == 0


@pytest.mark.parametrize("query", ["", "   ", "((", '"'])
def test_empty_or_unparsable_query(seeded_archive: Archive, query: str) -> None:
    with pytest.raises(QueryError):
        seeded_archive.search(query)


@pytest.mark.parametrize(
    "query", ["kind:titel harbour", "kind:Title harbour", "(kind:body OR kind:bdy) x"]
)
def test_a_kind_that_is_no_passage_kind_is_refused(seeded_archive: Archive, query: str) -> None:
    with pytest.raises(QueryError, match="is no passage kind"):
        seeded_archive.search(query)
    seeded_archive.search("kind:title harbour")  # a real kind is a filter as before


@pytest.mark.slow
def test_query_errors_exit_2_without_traceback(cli, seeded: Path) -> None:
    cli("ingest")
    result = cli("search", "((")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: bad query '((':")
    assert "Traceback" not in result.stderr
    huge = cli("search", "word " * 20000, "--json")
    # No match is exit 1, as grep has it; the answer is still a well-formed result.
    assert huge.exit_code == 1 and json.loads(huge.stdout)["total"] == 0


# -- the index audit (damage made through the engine seam, so it holds for every engine) ----


def _damage(archive: Archive, change) -> None:
    """Rewrite the index entries of the seed's v1 as ``change(entries)`` returns them."""
    engine = archive.home.fresh_engine()
    entries = [e for e in engine.entries() if e.document == SEED_NAME and e.version == 1]
    with engine.writing() as w:
        w.replace_version(SEED_NAME, 1, change(entries))
    engine.close()


def _with(e: IndexEntry, **changes: object) -> IndexEntry:
    return IndexEntry(**{**e.__dict__, **changes})


def test_clean_index_audits_clean(seeded_archive: Archive) -> None:
    assert seeded_archive.verify().findings == []


def test_INDEX_MISSING_and_reindex_restores(cli, seeded: Path, tmp_path: Path) -> None:
    cli("ingest")
    shutil.rmtree(tmp_path / "archive" / "index")
    result = cli("verify", "--json")
    assert result.exit_code == 1
    assert [f["code"] for f in json.loads(result.stdout)["findings"]] == ["INDEX_MISSING"]
    search_result = cli("search", "mystery")
    assert search_result.exit_code == 8 and "reindex" in search_result.stderr
    assert cli("reindex").exit_code == 0
    assert cli("verify").exit_code == 0
    assert json.loads(cli("search", "mystery", "--json").stdout)["total"] == 1


def test_INDEX_ENTRY_MISSING_when_an_entry_is_deleted(seeded_archive: Archive) -> None:
    _damage(seeded_archive, lambda entries: [e for e in entries if e.passage_id != GO])
    report = seeded_archive.verify()
    assert [(f.code, f.document) for f in report.errors()] == [("INDEX_ENTRY_MISSING", SEED_NAME)]
    assert GO in report.errors()[0].message


@pytest.mark.parametrize(
    "change",
    [
        {"text": "Two hundred thousand labourers, said nobody."},
        {"current": False},
        {"raw_start": 0},
        {"version": 2},
        {"kind": "title"},
    ],
    ids=lambda c: next(iter(c)),
)
def test_INDEX_ENTRY_ALTERED_when_a_cited_field_changes(
    seeded_archive: Archive, change: dict[str, object]
) -> None:
    _damage(
        seeded_archive,
        lambda entries: [_with(e, **change) if e.passage_id == GO else e for e in entries],
    )
    errors = seeded_archive.verify().errors()
    assert [f.code for f in errors] == ["INDEX_ENTRY_ALTERED"]
    assert errors[0].expected and errors[0].found and errors[0].expected != errors[0].found


def test_INDEX_ENTRY_EXTRA(seeded_archive: Archive) -> None:
    engine = seeded_archive.home.fresh_engine()
    [some] = [e for e in engine.entries() if e.passage_id == GO]
    with engine.writing() as w:
        w.replace_version(
            "ghost.txt", 1, [_with(some, passage_id="ghost.txt@v1#1", document="ghost.txt")]
        )
    assert [(f.code, f.document) for f in seeded_archive.verify().errors()] == [
        ("INDEX_ENTRY_EXTRA", "ghost.txt")
    ]


def test_index_behind_the_catalog_is_an_error_until_the_next_writer(
    seeded_archive: Archive,
) -> None:
    # As after a crash between the catalog commit and the index commit:
    seeded_archive.home.fresh_engine().create()
    with sqlite3.connect(seeded_archive.home.catalog_path) as db:
        db.execute("UPDATE derivations SET indexed = NULL")
    report = seeded_archive.verify()
    assert not report.is_ok() and report.codes() == {"INDEX_BEHIND"}
    with seeded_archive.writer("test") as repairs:
        assert "index-caught-up" in [r.action for r in repairs]
    assert seeded_archive.verify().findings == []
    assert seeded_archive.search('"Go Myong-hyun"').total == 1


def test_reindex_and_sync_are_idempotent(seeded_archive: Archive) -> None:
    with seeded_archive.writer("test"):
        assert sync_index(seeded_archive.home).versions == 0
        report = seeded_archive.reindex()
    # 7 passages and the 8 lines the cleaner removed (indexed for --everything)
    assert (report.versions, report.passages) == (1, 15)
    assert seeded_archive.verify().findings == []


def test_sync_refuses_to_run_without_the_writer_lock(seeded_archive: Archive) -> None:
    from provarchive.errors import UsageError

    with pytest.raises(UsageError, match="writer lock"):
        sync_index(seeded_archive.home)


def test_a_long_lived_archive_sees_new_commits_without_duplicates(
    archive: Archive, seeds: Path
) -> None:
    (seeds / "a.txt").write_text("The lighthouse keeper logged every ship that passed the cape.\n")
    archive.ingest()
    assert [h.document for h in archive.search("lighthouse").hits] == ["a.txt"]
    for i in range(3):  # several commits, so that segments get merged
        (seeds / f"b{i}.txt").write_text(
            f"A second lighthouse, number {i}, was built on the northern rocks.\n"
        )
        archive.ingest()
    docs = [h.document for h in archive.search("lighthouse", limit=20).hits]
    assert sorted(docs) == ["a.txt", "b0.txt", "b1.txt", "b2.txt"]


def test_ingest_indexes_everything_when_its_indexer_is_killed(
    archive: Archive, seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A killed background indexer (OOM killer, a stray kill) costs time, not index entries."""
    import signal

    from provarchive.search import whoosh_engine

    real_init = whoosh_engine.BackgroundIndexWriter.__init__
    killed: list[int] = []

    def init_then_kill(self: object, path: Path) -> None:
        real_init(self, path)  # type: ignore[arg-type]
        pid = self._process.pid  # type: ignore[attr-defined]
        os.kill(pid, signal.SIGKILL)
        self._process.join()  # type: ignore[attr-defined]
        killed.append(pid)

    monkeypatch.setattr(whoosh_engine.BackgroundIndexWriter, "__init__", init_then_kill)
    for i in range(40):  # more than one batch, so the background indexer is used
        (seeds / f"n{i:02d}.txt").write_text(f"Harbour note {i}: the pilot boat sailed at dawn.\n")
    report = archive.ingest()
    assert killed, "the background indexer was never started"
    assert len(report.results) == 40
    assert archive.search("pilot boat", limit=50).total == 40
    assert archive.verify().findings == []


@pytest.mark.parametrize("query", ["korean~10", "korean~99", "korean~10/2"])
def test_a_fuzzy_distance_of_two_digits_is_refused_not_misread(
    cli, seeded: Path, query: str
) -> None:
    """Whoosh's syntax reads one digit: 'korean~10' was 'korean~1' AND a required
    word '0', so it found nothing while 'korean~2' finds the seed."""
    cli("ingest")
    assert cli("search", "korean~2").exit_code == 0
    result = cli("search", query)
    assert result.exit_code == 2 and "edit distance is one digit" in result.stderr


@pytest.mark.parametrize("depth", [100, 101, 1000, 100_000])
def test_brackets_nested_too_deep_are_refused_in_one_line(cli, seeded: Path, depth: int) -> None:
    """Every step of parsing recurses once per bracket: a short query of deeply nested
    brackets used to end in RecursionError. Up to the limit it is an ordinary query."""
    cli("ingest")
    result = cli("search", "(" * depth + "korean" + ")" * depth)
    assert "Traceback" not in result.stderr
    if depth <= 100:
        assert result.exit_code == 0, result.stderr
    else:
        assert result.exit_code == 2
        assert "brackets nested more than 100 deep" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
