"""Search: citations, versions, analysis, filters, and the index audit in verify."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import index as whoosh_index

from provarchive import Archive, ingest, verify
from provarchive.errors import QueryError, SearchIndexError
from provarchive.search.sync import reindex, search, sync_index
from provarchive.search.whoosh_engine import INDEX_NAME

from .conftest import SEED_NAME


@pytest.fixture
def seeded_archive(archive: Archive, seeded: Path) -> Archive:
    ingest(archive)
    return archive


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
        "sha256",
        "raw_span",
    }
    assert top["document"] == SEED_NAME and top["version"] == 1
    raw = cli("cat", SEED_NAME).stdout_bytes
    start, end = top["raw_span"]
    assert b"Go Myong-hyun" in raw[start:end]
    assert top["sha256"] == hashlib.sha256(seed_bytes).hexdigest()
    assert "**Go**" in top["snippet"]


def test_snippet_marks_where_the_passage_is_cut(seeded_archive: Archive) -> None:
    # "turnover" sits in the middle of a long body paragraph: the snippet is cut on
    # both sides, and says so, so that a quoted snippet is never mistaken for the whole.
    hit = search(seeded_archive, "turnover").hits[0]
    assert len(hit.text) > 300
    assert hit.snippet.startswith("… ") and hit.snippet.endswith(" …")
    assert "**turnover**" in hit.snippet
    # A short passage shown whole (the title) carries no ellipsis.
    title = search(seeded_archive, "kind:title mystery").hits[0]
    assert "…" not in title.snippet and title.snippet.replace("**", "") == title.text
    # With nothing to highlight, a long passage shows its head, marked as cut.
    body = search(seeded_archive, "kind:body", limit=20).hits
    long = next(h for h in body if len(h.text) > 300)
    assert long.snippet.endswith(" …") and long.text.startswith(long.snippet[:-2])


@pytest.mark.parametrize(
    "query", ["Advertisement", '"SCMP Pictures"', '"Reading Time"', '"trust SCMP"']
)
def test_boilerplate_is_not_searchable(seeded_archive: Archive, query: str) -> None:
    assert search(seeded_archive, query).total == 0


def test_title_word_is_found_and_titles_rank_first(seeded_archive: Archive) -> None:
    results = search(seeded_archive, "mystery")
    assert results.hits[0].kind == "title"
    assert search(seeded_archive, "kind:title").hits[0].kind == "title"
    labourers = search(seeded_archive, "labourers", limit=20)
    assert labourers.hits[0].kind == "title"  # boosted: the title also says labourers


def test_new_version_old_word_only_with_all_versions(
    seeded_archive: Archive, seeded: Path, seed_bytes: bytes
) -> None:
    (seeded / SEED_NAME).write_bytes(seed_bytes.replace(b"Siberia", b"Vladivostok"))
    ingest(seeded_archive)
    assert search(seeded_archive, "Siberia").total == 0
    old = search(seeded_archive, "Siberia", all_versions=True)
    assert [(h.version, h.current) for h in old.hits] == [(1, False)]
    new = search(seeded_archive, "Vladivostok", all_versions=True)
    assert [(h.version, h.current) for h in new.hits] == [(2, True)]
    assert search(seeded_archive, "Vladivostok").hits[0].version == 2
    v2 = hashlib.sha256(seed_bytes.replace(b"Siberia", b"Vladivostok")).hexdigest()
    assert new.hits[0].sha256 == v2 and old.hits[0].sha256 == hashlib.sha256(seed_bytes).hexdigest()


def test_japanese_two_character_query(archive: Archive, seeds: Path) -> None:
    shutil.copy(Path(__file__).parent / "data" / "pages" / "ja.txt", seeds / "tokyo.txt")
    ingest(archive)
    hits = search(archive, "東京").hits
    assert hits and hits[0].document == "tokyo.txt"
    assert search(archive, "防災").total >= 1
    assert search(archive, "京東").total == 0  # characters in the wrong order are no phrase


def test_accent_folding_and_stemming(archive: Archive, seeds: Path) -> None:
    (seeds / "cv.txt").write_text(
        "Her résumé listed three years as a farm labourer in the north of the country.\n"
        "The Café Müller reopened on Tuesday after a long renovation of its old rooms.\n",
        encoding="utf-8",
    )
    ingest(archive)
    assert search(archive, "resume").total == 1
    assert search(archive, "labourers").total == 1
    assert search(archive, "cafe muller").total == 1
    assert search(archive, "renov*").total == 1
    assert search(archive, "mulller~").total == 1  # one edit from "muller"


def test_filters(archive: Archive, seeds: Path) -> None:
    (seeds / "a.txt").write_text(
        "The harbour froze over during the coldest night of the winter season.\n"
    )
    (seeds / "b.txt").write_text(
        "The harbour master said the ice would last for at least another week.\n"
    )
    ingest(archive)
    assert search(archive, "harbour").total == 2
    assert [h.document for h in search(archive, "harbour", document="b.txt").hits] == ["b.txt"]
    assert search(archive, "harbour", kind="title").total == 0
    assert len(search(archive, "harbour", limit=1).hits) == 1
    now = datetime.now(UTC)
    assert search(archive, "harbour", since=now - timedelta(hours=1)).total == 2
    assert search(archive, "harbour", since=now + timedelta(hours=1)).total == 0
    assert search(archive, "harbour", until=now - timedelta(hours=1)).total == 0


@pytest.mark.parametrize("query", ["", "   ", "((", '"'])
def test_empty_or_unparsable_query(seeded_archive: Archive, query: str) -> None:
    with pytest.raises(QueryError):
        search(seeded_archive, query)


def test_query_errors_exit_2_without_traceback(cli, seeded: Path) -> None:
    cli("ingest")
    result = cli("search", "((")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: bad query '((':")
    assert "Traceback" not in result.stderr
    huge = cli("search", "word " * 20000, "--json")
    assert huge.exit_code == 0 and json.loads(huge.stdout)["total"] == 0


# -- the index audit ------------------------------------------------------------------------------


def _whoosh(archive: Archive):
    return whoosh_index.open_dir(str(archive.config.index_dir), indexname=INDEX_NAME)


GO = f"{SEED_NAME}@v1#5"


def test_clean_index_audits_clean(seeded_archive: Archive) -> None:
    assert verify(seeded_archive).findings == []


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


def test_INDEX_UNREADABLE(seeded_archive: Archive) -> None:
    for f in seeded_archive.config.index_dir.iterdir():
        if f.suffix == ".toc":
            f.write_bytes(b"garbage")
    report = verify(seeded_archive)
    assert "INDEX_UNREADABLE" in report.codes() and not report.is_ok()
    with pytest.raises(SearchIndexError):
        search(seeded_archive, "mystery")
    ingest(seeded_archive)  # the next writer recreates it
    assert verify(seeded_archive).is_ok()
    assert "index-recreated" in [
        e.detail.split(":")[0] for e in seeded_archive.events() if e.event_type == "recovery"
    ]


def test_INDEX_ENTRY_MISSING_when_an_entry_is_deleted(seeded_archive: Archive) -> None:
    ix = _whoosh(seeded_archive)
    w = ix.writer()
    w.delete_by_term("passage_id", GO)
    w.commit()
    report = verify(seeded_archive)
    assert [(f.code, f.document) for f in report.errors()] == [("INDEX_ENTRY_MISSING", SEED_NAME)]
    assert GO in report.errors()[0].message


def test_INDEX_ENTRY_ALTERED_when_entry_text_changes(seeded_archive: Archive) -> None:
    ix = _whoosh(seeded_archive)
    with ix.searcher() as s:
        stored = dict(s.document(passage_id=GO))
    w = ix.writer()
    stored["text"] = stored["text"].replace("20,000", "200,000")
    stored["version_key"] = f"{SEED_NAME}@v1"
    w.update_document(**stored)
    w.commit()
    assert [f.code for f in verify(seeded_archive).errors()] == ["INDEX_ENTRY_ALTERED"]


def test_INDEX_ENTRY_STALE_when_entry_points_at_a_non_current_version(
    seeded_archive: Archive, seeded: Path, seed_bytes: bytes
) -> None:
    (seeded / SEED_NAME).write_bytes(
        seed_bytes + b"\nA late correction was appended to the story on Sunday evening.\n"
    )
    ingest(seeded_archive)
    ix = _whoosh(seeded_archive)
    with ix.searcher() as s:
        stored = dict(s.document(passage_id=GO))
    assert stored["current"] is False
    w = ix.writer()
    stored["current"] = True
    stored["version_key"] = f"{SEED_NAME}@v1"
    w.update_document(**stored)
    w.commit()
    errors = verify(seeded_archive).errors()
    assert [f.code for f in errors] == ["INDEX_ENTRY_STALE"]
    assert "current=True" in errors[0].message


def test_INDEX_ENTRY_EXTRA(seeded_archive: Archive) -> None:
    ix = _whoosh(seeded_archive)
    w = ix.writer()
    w.add_document(
        passage_id="ghost.txt@v1#1",
        document="ghost.txt",
        version=1,
        ordinal=1,
        kind="body",
        text="boo",
        current=True,
    )
    w.commit()
    assert [(f.code, f.document) for f in verify(seeded_archive).errors()] == [
        ("INDEX_ENTRY_EXTRA", "ghost.txt")
    ]


def test_index_behind_the_catalog_is_caught_up_by_the_next_writer(seeded_archive: Archive) -> None:
    # As after a crash between the catalog commit and the index commit:
    shutil.rmtree(seeded_archive.config.index_dir)
    seeded_archive.config.index_dir.mkdir()
    from provarchive.search.whoosh_engine import PassageIndex

    PassageIndex(seeded_archive.config.index_dir).create()
    with sqlite3.connect(seeded_archive.config.catalog_path) as db:
        db.execute("UPDATE derivations SET indexed = NULL")
    report = verify(seeded_archive)
    assert report.is_ok() and "INDEX_BEHIND" in report.codes()
    with seeded_archive.writer("test") as repairs:
        assert "index-caught-up" in [r.action for r in repairs]
    assert verify(seeded_archive).findings == []
    assert search(seeded_archive, '"Go Myong-hyun"').total == 1


def test_reindex_and_sync_are_idempotent(seeded_archive: Archive) -> None:
    with seeded_archive.writer("test"):
        assert sync_index(seeded_archive).versions == 0
        report = reindex(seeded_archive)
    assert (report.versions, report.passages) == (1, 7)
    assert verify(seeded_archive).findings == []


@settings(max_examples=200)
@given(st.text(alphabet=st.sampled_from(list("ab 東京都は日本のカナ한국어 ＡＢ　x1")), max_size=40))
def test_cjk_filter_matches_whoosh3s_own(text: str) -> None:
    from whoosh import analysis

    from provarchive.search.whoosh_engine import CJKUnigramFilter

    ours = analysis.RegexTokenizer() | CJKUnigramFilter()
    theirs = analysis.RegexTokenizer() | analysis.CJKFilter()

    def tokens(a):
        return [
            (t.text, t.pos, t.startchar, t.endchar) for t in a(text, positions=True, chars=True)
        ]

    assert tokens(ours) == tokens(theirs)


def test_a_long_lived_archive_sees_new_commits_without_duplicates(
    archive: Archive, seeds: Path
) -> None:
    (seeds / "a.txt").write_text("The lighthouse keeper logged every ship that passed the cape.\n")
    ingest(archive)
    assert [h.document for h in search(archive, "lighthouse").hits] == ["a.txt"]
    for i in range(3):  # several commits, so that segments get merged
        (seeds / f"b{i}.txt").write_text(
            f"A second lighthouse, number {i}, was built on the northern rocks.\n"
        )
        ingest(archive)
    docs = [h.document for h in search(archive, "lighthouse", limit=20).hits]
    assert sorted(docs) == ["a.txt", "b0.txt", "b1.txt", "b2.txt"]


def _entry(n: int, current: bool = True):
    from provarchive.search.whoosh_engine import IndexEntry

    return IndexEntry(
        f"doc.txt@v1#{n}",
        "doc.txt",
        1,
        n,
        "body",
        f"paragraph number {n} about rivers",
        "x" * 64,
        "y" * 64,
        0,
        10,
        datetime.now(UTC),
        current,
    )


def test_background_writer_commits_once_and_cancel_leaves_nothing(tmp_path: Path) -> None:
    from provarchive.search.whoosh_engine import BackgroundIndexWriter, PassageIndex

    pi = PassageIndex(tmp_path / "ix")
    pi.create()
    cancelled = BackgroundIndexWriter(pi.path)
    cancelled.replace_version("doc.txt", 1, [_entry(1), _entry(2)])
    cancelled.cancel()
    assert pi.doc_count() == 0
    writer = BackgroundIndexWriter(pi.path)
    writer.replace_version("doc.txt", 1, [_entry(1), _entry(2), _entry(3)])
    writer.commit()
    pi.close()
    assert pi.doc_count() == 3
    assert pi.search("rivers").total == 3


def test_background_writer_failure_is_reported(tmp_path: Path) -> None:
    from provarchive.search.whoosh_engine import BackgroundIndexWriter

    writer = BackgroundIndexWriter(tmp_path / "no-index-here")
    writer.replace_version("doc.txt", 1, [_entry(1)])
    with pytest.raises(SearchIndexError, match="no search index"):
        writer.commit()


def test_dead_indexer_does_not_hang_a_full_queue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the child gone nobody drains the bounded queue: queuing must raise, not wait forever."""
    import signal

    from provarchive.search import whoosh_engine as index_module
    from provarchive.search.whoosh_engine import BackgroundIndexWriter, PassageIndex

    monkeypatch.setattr(index_module, "_QUEUE_VERSIONS", 2)
    pi = PassageIndex(tmp_path / "ix")
    pi.create()
    writer = BackgroundIndexWriter(pi.path)
    os.kill(writer._process.pid, signal.SIGKILL)
    writer._process.join()
    started = time.monotonic()
    with pytest.raises(SearchIndexError, match="died"):
        for n in range(10):
            writer.replace_version("doc.txt", n + 1, [_entry(n)])
    assert time.monotonic() - started < 30
    writer.cancel()


def test_ingest_indexes_everything_when_its_indexer_is_killed(
    archive: Archive, seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A killed background indexer (OOM killer, a stray kill) costs time, not index entries."""
    import signal

    from provarchive.search import whoosh_engine as index_module

    real_init = index_module.BackgroundIndexWriter.__init__
    killed: list[int] = []

    def init_then_kill(self: object, path: Path) -> None:
        real_init(self, path)  # type: ignore[arg-type]
        pid = self._process.pid  # type: ignore[attr-defined]
        os.kill(pid, signal.SIGKILL)
        self._process.join()  # type: ignore[attr-defined]
        killed.append(pid)

    monkeypatch.setattr(index_module.BackgroundIndexWriter, "__init__", init_then_kill)
    for i in range(40):  # more than one batch, so the background indexer is used
        (seeds / f"n{i:02d}.txt").write_text(f"Harbour note {i}: the pilot boat sailed at dawn.\n")
    report = ingest(archive)
    assert killed, "the background indexer was never started"
    assert len(report.results) == 40
    assert search(archive, "pilot boat", limit=50).total == 40
    assert verify(archive).findings == []


def test_background_indexer_dies_with_its_parent(tmp_path: Path) -> None:
    """A SIGKILLed ingest must not leave an indexer that commits later."""
    import signal
    import subprocess
    import sys

    from provarchive.search.whoosh_engine import PassageIndex

    pi = PassageIndex(tmp_path / "ix")
    pi.create()
    script = f"""
import os, sys, time
from datetime import UTC, datetime
from pathlib import Path
from provarchive.search.whoosh_engine import BackgroundIndexWriter, IndexEntry
w = BackgroundIndexWriter(Path({str(pi.path)!r}))
w.replace_version("doc.txt", 1, [IndexEntry("doc.txt@v1#1", "doc.txt", 1, 1, "body", "text", "x", "y", 0, 4, datetime.now(UTC), True)])
print(w._process.pid, flush=True)
time.sleep(60)
"""
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    for _ in range(100):
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the indexer outlived its parent")
    pi.close()
    assert pi.doc_count() == 0
