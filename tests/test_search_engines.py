"""Conformance suite of the search-engine seam: every engine in ENGINES must pass it.

Written against :class:`provarchive.search.engine.SearchEngine` only, so a new
engine is added by listing it in ``ENGINES`` (and in :func:`provarchive.home.open_engine`)
and running this file. Where an engine cannot do what the reference engine does,
mark that case with ``pytest.mark.xfail(strict=True, reason=...)`` for that engine
(and say so in the README): a difference is marked, never dropped (:func:`differs`).

The PostgreSQL engine runs on a real server (tests/postgres.py), in a database holding
the migrated catalog schema.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from provarchive.errors import QueryError, SearchIndexError
from provarchive.home import open_engine
from provarchive.search.engine import (
    ENGINES,
    IndexEntry,
    SearchEngine,
    SearchQuery,
    citation_digest,
    in_catalog,
)

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def location(request: pytest.FixtureRequest, name: str, tmp_path: Path) -> Path | str:
    """Where engine ``name`` keeps an index for a test: a folder, or a catalog database."""
    if name == "postgres":
        return str(request.getfixturevalue("pg_catalog_url"))
    return tmp_path / "index"


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchEngine]:
    e = open_engine(request.param, location(request, request.param, tmp_path))
    e.create()
    yield e
    e.close()


def differs(request: pytest.FixtureRequest, engine: SearchEngine, name: str, reason: str) -> None:
    """Mark the running case as a known difference of engine ``name`` (strict xfail: the
    case still runs and must fail there, so a difference that goes away is noticed)."""
    if engine.name == name:
        request.node.add_marker(pytest.mark.xfail(strict=True, reason=f"{name}: {reason}"))


def entry(
    doc: str,
    version: int,
    ordinal: int,
    text: str,
    *,
    kind: str = "body",
    current: bool = True,
    ingested: datetime = T0,
    rule: str | None = None,
    published: str | None = None,
) -> IndexEntry:
    return IndexEntry(
        passage_id=f"{doc}@v{version}#{ordinal}",
        document=doc,
        version=version,
        ordinal=ordinal,
        kind=kind,
        text=text,
        passage_sha256="p" * 64,
        raw_sha256=f"{doc}-{version}".ljust(64, "0")[:64],
        raw_start=ordinal * 100,
        raw_end=ordinal * 100 + len(text),
        ingested=ingested,
        current=current,
        rule=rule,
        published=published,
    )


CORPUS = {
    ("harbour.txt", 1): [
        entry("harbour.txt", 1, 1, "The frozen harbour", kind="title"),
        entry("harbour.txt", 1, 2, "The harbour froze over during the coldest night of winter."),
        entry("harbour.txt", 1, 3, "Her résumé listed three years as a farm labourer."),
    ],
    ("cafe.txt", 1): [
        entry("cafe.txt", 1, 1, "The Café Müller reopened after a long renovation of its rooms."),
        entry("cafe.txt", 1, 2, "東京都は防災訓練を行った。", ingested=T0 + timedelta(days=10)),
    ],
}


def load(engine: SearchEngine, corpus: dict[tuple[str, int], list[IndexEntry]] = CORPUS) -> None:
    with engine.writing() as w:
        for (doc, version), entries in corpus.items():
            w.replace_version(doc, version, entries)


def found(engine: SearchEngine, text: str, **filters: object) -> list[str]:
    results = engine.search(SearchQuery(text, **filters))  # type: ignore[arg-type]
    return [h.passage_id for h in results.hits]


# -- lifecycle ------------------------------------------------------------------------------------


def test_create_check_and_count(engine: SearchEngine) -> None:
    assert engine.exists()
    engine.check()
    assert engine.doc_count() == 0
    load(engine)
    assert engine.doc_count() == 5


def test_a_failed_write_commits_nothing(engine: SearchEngine) -> None:
    load(engine)
    with pytest.raises(RuntimeError), engine.writing() as w:
        w.replace_version("new.txt", 1, [entry("new.txt", 1, 1, "never committed")])
        raise RuntimeError("boom")
    assert found(engine, "committed") == []
    assert engine.doc_count() == 5


def test_replace_and_delete_a_version(engine: SearchEngine) -> None:
    load(engine)
    with engine.writing() as w:
        w.replace_version("harbour.txt", 1, [entry("harbour.txt", 1, 1, "A quiet harbour")])
    assert found(engine, "harbour") == ["harbour.txt@v1#1"]
    with engine.writing() as w:
        w.delete_version("harbour.txt", 1)
    assert found(engine, "harbour") == []
    assert engine.doc_count() == 2


def test_entries_and_digests_round_trip(engine: SearchEngine) -> None:
    load(engine)
    stored = {e.passage_id: e for e in engine.entries()}
    expected = {e.passage_id: e for entries in CORPUS.values() for e in entries}
    assert stored == expected
    digests = engine.entry_digests()
    assert digests == {pid: e.digest() for pid, e in expected.items()}
    e = expected["harbour.txt@v1#2"]
    from provarchive.digests import sha256_hex

    assert digests[e.passage_id] == citation_digest(
        e.passage_id, e.document, e.version, e.ordinal, e.kind, sha256_hex(e.text),
        e.raw_sha256, e.raw_start, e.raw_end, e.current,
    )  # fmt: skip


def test_the_digest_changes_with_every_cited_field() -> None:
    base = entry("a.txt", 1, 1, "text")
    changed = [
        IndexEntry(**{**base.__dict__, field: value})
        for field, value in [
            ("passage_id", "a.txt@v1#9"),
            ("document", "b.txt"),
            ("version", 2),
            ("ordinal", 2),
            ("kind", "title"),
            ("text", "other text"),
            ("raw_sha256", "z" * 64),
            ("raw_start", 1),
            ("raw_end", 99),
            ("current", False),
        ]
    ]
    assert len({base.digest(), *(c.digest() for c in changed)}) == len(changed) + 1


def test_rebuilding_replaces_the_index_only_when_complete(engine: SearchEngine) -> None:
    load(engine)
    with pytest.raises(RuntimeError), engine.rebuilding() as w:
        w.replace_version("new.txt", 1, [entry("new.txt", 1, 1, "lighthouse keeper")])
        raise RuntimeError("interrupted")
    assert found(engine, "harbour")  # the old index still serves
    assert found(engine, "lighthouse") == []
    seen_during: list[list[str]] = []
    with engine.rebuilding() as w:
        w.replace_version("new.txt", 1, [entry("new.txt", 1, 1, "lighthouse keeper")])
        # A reader in another thread while the rebuild is under way sees the old index.
        reader = open_engine(engine.name, engine.path) if hasattr(engine, "path") else engine
        t = threading.Thread(target=lambda: seen_during.append(found(reader, "harbour")))
        t.start()
        t.join()
    assert seen_during and seen_during[0]
    assert found(engine, "harbour") == []
    assert found(engine, "lighthouse") == ["new.txt@v1#1"]


def test_tidy_keeps_the_live_index(engine: SearchEngine) -> None:
    load(engine)
    engine.tidy()
    assert engine.doc_count() == 5
    assert engine.damage(thorough=True) == []


def test_background_writer_commits_once_and_cancel_leaves_nothing(engine: SearchEngine) -> None:
    writer = engine.background_writer()
    if writer is None:
        return in_the_catalog_transaction(engine)
    writer.replace_version("a.txt", 1, [entry("a.txt", 1, 1, "rivers and lakes")])
    writer.cancel()
    engine.close()
    assert engine.doc_count() == 0
    writer = engine.background_writer()
    assert writer is not None
    writer.replace_version("a.txt", 1, [entry("a.txt", 1, n, f"river {n}") for n in (1, 2, 3)])
    writer.commit()
    engine.close()
    assert engine.doc_count() == 3
    assert engine.damage(thorough=True) == []


def in_the_catalog_transaction(engine: SearchEngine) -> None:
    """An engine without a background writer lives in the catalog database and writes in
    the catalog's own transaction: entries commit and roll back with the catalog rows."""
    from provarchive.catalog import Catalog, new_event

    writes_in = in_catalog(engine)
    assert writes_in is not None, f"{engine.name} has neither a background writer nor write_in"
    catalog = Catalog(engine.url)  # type: ignore[attr-defined]
    try:
        with pytest.raises(RuntimeError), catalog.session() as s:
            s.add(new_event("ingestion", "rolled back"))
            writes_in.write_in(s).replace_version("a.txt", 1, [entry("a.txt", 1, 1, "rivers")])
            raise RuntimeError("the catalog transaction fails")
        assert engine.doc_count() == 0
        with catalog.session() as s:
            s.add(new_event("ingestion", "committed"))
            writes_in.write_in(s).replace_version("a.txt", 1, [entry("a.txt", 1, 1, "rivers")])
        assert found(engine, "river") == ["a.txt@v1#1"]
    finally:
        catalog.close()


# -- the query language ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("harbour", ["harbour.txt@v1#1", "harbour.txt@v1#2"]),
        ('"coldest night"', ["harbour.txt@v1#2"]),
        ('"night coldest"', []),
        ("harbour AND winter", ["harbour.txt@v1#2"]),
        ("winter OR renovation", ["cafe.txt@v1#1", "harbour.txt@v1#2"]),
        ("harbour NOT winter", ["harbour.txt@v1#1"]),
        ("renov*", ["cafe.txt@v1#1"]),
        ("mulller~", ["cafe.txt@v1#1"]),
        ("kind:title", ["harbour.txt@v1#1"]),
        ("resume", ["harbour.txt@v1#3"]),
        ("labourers", ["harbour.txt@v1#3"]),
        ("cafe muller", ["cafe.txt@v1#1"]),
        ("東京", ["cafe.txt@v1#2"]),
        ("京東", []),
        ("nothinglikethis", []),
    ],
)
def test_query_language(engine: SearchEngine, query: str, expected: list[str]) -> None:
    load(engine)
    assert sorted(found(engine, query)) == expected


ADDRESSES = {
    ("contact.txt", 1): [
        entry(
            "contact.txt", 1, 1, "Write to jordi@debian.org or see https://www.gnu.org/licenses/."
        ),
        entry("contact.txt", 1, 2, "Version 2.4.1 renamed foo_bar.py to foo_baz.py."),
    ],
}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("debian", ["contact.txt@v1#1"]),
        ("jordi@debian.org", ["contact.txt@v1#1"]),
        ("gnu.org", ["contact.txt@v1#1"]),
        ("gnu", ["contact.txt@v1#1"]),
        ("debian.net", []),
        ("org.gnu", []),
        ("foo_bar", ["contact.txt@v1#2"]),
        ("bar.py", ["contact.txt@v1#2"]),
        ("baz", ["contact.txt@v1#2"]),
        ('"2.4.1"', ["contact.txt@v1#2"]),
        ("2.4.2", []),
        # Prefix, wildcard and fuzzy terms that hold a dot or underscore: their parts.
        ("www.gnu*", ["contact.txt@v1#1"]),
        ("foo_*", ["contact.txt@v1#2"]),
        ("foo_ba*", ["contact.txt@v1#2"]),
        ("2.4*", ["contact.txt@v1#2"]),
        ("*.py", ["contact.txt@v1#2"]),
        ("foo_b?r", ["contact.txt@v1#2"]),
        ("debion.org~", ["contact.txt@v1#1"]),
        ("debian.com~", []),
        ("www.gnx*", []),
    ],
)
def test_addresses_and_file_names_are_found_by_their_parts(
    engine: SearchEngine, query: str, expected: list[str]
) -> None:
    load(engine, ADDRESSES)
    assert sorted(found(engine, query)) == expected


def test_titles_rank_first(engine: SearchEngine) -> None:
    load(engine)
    assert found(engine, "harbour")[0] == "harbour.txt@v1#1"


@pytest.mark.parametrize("query", ["", "   ", "((", '"'])
def test_empty_or_unparsable_query(engine: SearchEngine, query: str) -> None:
    load(engine)
    with pytest.raises(QueryError):
        engine.search(SearchQuery(query))


def test_filters_total_and_limit(engine: SearchEngine) -> None:
    load(engine)
    assert found(engine, "harbour", documents=("cafe.txt",)) == []
    assert found(engine, "harbour", documents=("cafe.txt", "harbour.txt")) != []
    assert found(engine, "harbour", kind="body") == ["harbour.txt@v1#2"]
    results = engine.search(SearchQuery("harbour OR renovation", limit=1))
    assert (results.total, len(results.hits)) == (3, 1)
    assert found(engine, "東京", since=T0 + timedelta(days=5)) == ["cafe.txt@v1#2"]
    assert found(engine, "東京", until=T0 + timedelta(days=5)) == []
    assert found(engine, "harbour", until=T0) != []


def test_earlier_versions_only_when_asked(engine: SearchEngine) -> None:
    load(engine)
    with engine.writing() as w:
        w.replace_version(
            "harbour.txt", 1, [entry("harbour.txt", 1, 2, "The old harbour text", current=False)]
        )
        w.replace_version("harbour.txt", 2, [entry("harbour.txt", 2, 1, "The new harbour text")])
    assert found(engine, "harbour") == ["harbour.txt@v2#1"]
    assert sorted(found(engine, "harbour", all_versions=True)) == [
        "harbour.txt@v1#2",
        "harbour.txt@v2#1",
    ]


def test_hits_cite_and_mark_snippets(engine: SearchEngine) -> None:
    load(engine)
    long_text = (
        ("Filler words about nothing in particular. " * 12)
        + "The turnover rose. "
        + ("More filler words follow here. " * 12)
    )
    with engine.writing() as w:
        w.replace_version("long.txt", 1, [entry("long.txt", 1, 1, long_text)])
    [hit] = engine.search(SearchQuery("turnover")).hits
    e = entry("long.txt", 1, 1, long_text)
    assert (hit.document, hit.version, hit.ordinal, hit.kind) == ("long.txt", 1, 1, "body")
    assert (hit.sha256, hit.raw_span, hit.current) == (
        e.raw_sha256,
        (100, 100 + len(long_text)),
        True,
    )
    assert hit.text == long_text
    assert "**turnover**" in hit.snippet
    assert hit.snippet.startswith("… ") and hit.snippet.endswith(" …")
    [short] = engine.search(SearchQuery('"coldest night"')).hits
    assert short.snippet.replace("**", "") == short.text and "…" not in short.snippet


def test_a_cjk_word_is_marked_once_not_one_mark_a_character(engine: SearchEngine) -> None:
    text = "東京都の人口は約千四百万人です。東京は日本の首都です。Tokyo2020 was held in 2021."
    with engine.writing() as w:
        w.replace_version("tokyo.txt", 1, [entry("tokyo.txt", 1, 1, text)])
    [hit] = engine.search(SearchQuery("東京")).hits
    assert (
        hit.snippet == "**東京**都の人口は約千四百万人です。**東京**は日本の首都です。" + text[27:]
    )
    [hit] = engine.search(SearchQuery("held 2021")).hits
    assert "**held** in **2021**" in hit.snippet  # words apart stay apart


@pytest.mark.parametrize("name", ENGINES)
def test_a_missing_index_is_an_error_not_empty_results(
    request: pytest.FixtureRequest, tmp_path: Path, name: str
) -> None:
    places: list[Path | str] = [tmp_path / f"none-{name}"]
    if name == "postgres":  # no search tables at all; the tables, never created
        places = [str(request.getfixturevalue("pg_url")), location(request, name, tmp_path)]
    for place in places:
        e = open_engine(name, place)
        assert not e.exists()
        with pytest.raises(SearchIndexError):
            e.search(SearchQuery("anything"))
        e.close()


# -- what the archive's search commands ask for ---------------------------------------------------

REMOVALS = {
    ("notice.txt", 1): [
        entry("notice.txt", 1, 1, "Harbour opening hours", kind="title", published="2024-02-28"),
        entry("notice.txt", 1, 2, "The harbour opens at dawn.", published="2024-02-28"),
        IndexEntry(
            "notice.txt@v1#r1",
            "notice.txt",
            1,
            1,
            "removed",
            "Subscribe to our harbour newsletter",
            "r" * 64,
            "notice.txt-1".ljust(64, "0"),
            0,
            35,
            T0,
            True,
            "boilerplate",
            "2024-02-28",
        ),
    ],
    ("later.txt", 1): [
        entry("later.txt", 1, 1, "The harbour closed for the winter.", published="2024-11-02"),
    ],
}


def test_removed_lines_only_with_everything(engine: SearchEngine) -> None:
    load(engine, REMOVALS)
    assert sorted(found(engine, "harbour")) == [
        "later.txt@v1#1",
        "notice.txt@v1#1",
        "notice.txt@v1#2",
    ]
    assert found(engine, "newsletter") == []
    assert found(engine, "newsletter", everything=True) == ["notice.txt@v1#r1"]
    assert found(engine, "newsletter", kind="removed") == ["notice.txt@v1#r1"]
    [hit] = engine.search(SearchQuery("newsletter", everything=True)).hits
    assert (hit.kind, hit.rule, hit.published) == ("removed", "boilerplate", "2024-02-28")
    assert hit.passage_sha256 == "r" * 64
    stored = {e.passage_id: e for e in engine.entries()}
    assert stored["notice.txt@v1#r1"] == REMOVALS[("notice.txt", 1)][2]


def test_published_dates_filter(engine: SearchEngine) -> None:
    load(engine, {**CORPUS, **REMOVALS})
    assert found(engine, "harbour", published_since="2024-06-01") == ["later.txt@v1#1"]
    assert sorted(found(engine, "harbour", published_until="2024-02-28")) == [
        "notice.txt@v1#1",
        "notice.txt@v1#2",
    ]
    both = found(engine, "harbour", published_since="2024-01-01", published_until="2024-12-31")
    assert len(both) == 3  # passages without a date are left out
    [hit] = engine.search(SearchQuery("closed", published_since="2024-11-02")).hits
    assert hit.published == "2024-11-02"


def test_offset_pages_through_the_ranking(engine: SearchEngine) -> None:
    load(engine, {**CORPUS, **REMOVALS})
    every = engine.search(SearchQuery("harbour", limit=10))
    assert every.total == 5
    pages = [engine.search(SearchQuery("harbour", limit=2, offset=n)) for n in (0, 2, 4, 6)]
    assert [p.total for p in pages] == [every.total] * 4
    assert [h.passage_id for p in pages for h in p.hits] == [h.passage_id for h in every.hits]
    assert (pages[-1].offset, pages[-1].hits) == (6, [])
    past = engine.search(SearchQuery("harbour", offset=50))
    assert (past.total, past.hits) == (every.total, [])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("version:[1 TO 1] harbour", ["harbour.txt@v1#1", "harbour.txt@v1#2"]),
        ('"harbour over coldest winter"~5', ["harbour.txt@v1#2"]),
    ],
)
def test_ranges_and_loose_phrases(
    request: pytest.FixtureRequest, engine: SearchEngine, query: str, expected: list[str]
) -> None:
    if query.startswith("version:["):
        differs(request, engine, "postgres", "ranges ([a TO b]) are refused (a QueryError)")
    else:
        differs(
            request, engine, "postgres", "phrases with slop above 1 expand to variants, 64 at most"
        )
    load(engine)
    assert sorted(found(engine, query)) == expected


def test_ranking_is_bm25f(request: pytest.FixtureRequest, engine: SearchEngine) -> None:
    """Whoosh ranks by BM25F: a passage that repeats a word outranks a short one that
    holds it once. PostgreSQL's ts_rank (normalised by length) ranks it the other way."""
    differs(request, engine, "postgres", "ranking is ts_rank with title weights, not BM25F")
    corpus = {
        ("rank.txt", 1): [
            entry("rank.txt", 1, 1, "pier " * 20),
            entry("rank.txt", 1, 2, "the pier"),
            *[entry("rank.txt", 1, n, f"filler passage number {n}") for n in range(3, 30)],
        ]
    }
    load(engine, corpus)
    assert found(engine, "pier") == ["rank.txt@v1#1", "rank.txt@v1#2"]
