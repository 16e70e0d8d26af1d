"""The PostgreSQL engine's pruned ranking returns exactly what ranking every match does.

A search of many matches first ranks some matching titles (the probe), then counts
every match and ranks only those that can reach the probe's score, skipping
``ts_rank`` where the stored ``bound`` says the passage cannot (catalog/postgres_sql.py
``SearchPlan``). These tests compare it, hit for hit and score for score, with the
plan's ``full`` statement (every match ranked), on a corpus with enough titles for
the probe to find a floor, and check that the pruned path was really taken.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from provarchive.catalog.postgres_search import PostgresEngine
from provarchive.catalog.postgres_sql import (
    RANK_WEIGHTS,
    bound_factor,
    count_prefixed,
    expand,
    passage_terms,
    rank_bound,
    ranked_prefixes,
    search_plan,
    simplify,
    tsquery,
)
from provarchive.search.engine import IndexEntry, SearchQuery
from provarchive.search.query import parse_query, ranked_terms

WORDS = [
    "harbour",
    "ferry",
    "winter",
    "council",
    "budget",
    "river",
    "bridge",
    "school",
    "market",
    "storm",
    "minister",
    "report",
    "police",
    "court",
    "union",
    "strike",
    "festival",
    "museum",
    "railway",
    "farmer",
]
KINDS = ("body", "body", "body", "standfirst", "byline")
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def corpus(seed: int = 7, documents: int = 300) -> list[tuple[str, int, list[IndexEntry]]]:
    """Documents of a title and 4-9 passages of the same few words: every word matches
    dozens of titles and hundreds of passages, with repeats (term frequency > 1) and
    every length from 1 word to 40."""
    rng = random.Random(seed)
    out = []
    for d in range(documents):
        name = f"d/{d:04d}.txt"
        entries = []
        for ordinal in range(1, rng.randint(5, 10) + 1):
            kind = "title" if ordinal == 1 else rng.choice(KINDS)
            n = rng.randint(1, 8) if kind == "title" else rng.randint(1, 40)
            words = " ".join(rng.choice(WORDS[: rng.randint(3, len(WORDS))]) for _ in range(n))
            current = rng.random() > 0.1
            entries.append(
                IndexEntry(f"{name}@v1#{ordinal}", name, 1, ordinal, kind, words, "p" * 64,
                           f"{d:064d}", ordinal * 100, ordinal * 100 + len(words),
                           T0 + timedelta(days=d), current, None, None)
            )  # fmt: skip
        out.append((name, 1, entries))
    return out


@pytest.fixture
def engine(pg_catalog_url: str) -> Any:
    pg = PostgresEngine(pg_catalog_url)
    pg.create()
    with pg.writing() as w:
        for name, version, entries in corpus():
            w.replace_version(name, version, entries)
    yield pg
    pg.close()


QUERIES = [
    "harbour", "ferry", "winter", "harbour AND ferry", "harbour OR ferry", "harbour ferry",
    "harbour NOT ferry", "harbouring~", "hxrbour~", "harb*", "fer*", '"harbour ferry"',
    '"harbour ferry"~2', "kind:title harbour", "harbour ANDMAYBE ferry", "(harbour OR fer*) river",
]  # fmt: skip
FILTERS: list[dict[str, Any]] = [
    {}, {"limit": 3}, {"limit": 5, "offset": 7}, {"all_versions": True}, {"kind": "body"},
    {"documents": ("d/0001.txt", "d/0002.txt", "d/0050.txt")}, {"limit": 40},
]  # fmt: skip


def reference(pg: PostgresEngine, q: SearchQuery) -> tuple[int, list[tuple[str, float]]]:
    """Total and (passage id, score) of the plan's ``full`` statement: every match ranked."""
    with pg.engine.connect() as conn:
        expanded = expand(parse_query(q.text), conn)
        plan = search_plan(simplify(expanded), expanded, q)
        rows = conn.execute(text(plan.full), plan.params).all()
    hits = [(r.passage_id, r.score) for r in rows if r.passage_id is not None]
    return int(rows[0].total), hits[: q.limit]


def probe_floor(pg: PostgresEngine, q: SearchQuery) -> float | None:
    with pg.engine.connect() as conn:
        expanded = expand(parse_query(q.text), conn)
        plan = search_plan(simplify(expanded), expanded, q)
        return None if plan.probe is None else conn.execute(text(plan.probe), plan.params).scalar()


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f) or "default")
def test_pruned_search_returns_what_ranking_every_match_returns(
    engine: PostgresEngine, filters: dict[str, Any]
) -> None:
    pruned = 0
    for text_ in QUERIES:
        q = SearchQuery(text_, **filters)
        got = engine.search(q)
        assert (got.total, [(h.passage_id, h.score) for h in got.hits]) == reference(engine, q), (
            text_
        )
        pruned += probe_floor(engine, q) is not None
    if not filters.get("kind") and not filters.get("documents"):
        assert pruned >= len(QUERIES) // 2  # the probe found a floor: the pruned path ran


def test_rows_without_a_bound_are_always_ranked(engine: PostgresEngine) -> None:
    """Rows written before migration 0010 (or by an older provarchive) have an infinite
    bound; the best of them must still come first."""
    with engine.engine.begin() as conn:
        conn.execute(text("UPDATE search_index SET bound = 'Infinity' WHERE seq % 3 = 0"))
    for text_ in ("harbour", "harbour AND ferry", "hxrbour~"):
        q = SearchQuery(text_)
        got = engine.search(q)
        assert (got.total, [(h.passage_id, h.score) for h in got.hits]) == reference(engine, q)


def test_the_bound_is_at_least_every_plain_word_score(engine: PostgresEngine) -> None:
    """rank_bound holds for ts_rank over ORs of plain lexemes, computed by PostgreSQL."""
    queries = ["harbour", "harbour | ferry", "harbour | ferry | winter | river", "storm | storm"]
    entries = [e for _, _, es in corpus() for e in es]
    with engine.engine.connect() as conn:
        for tsq in queries:
            rows = conn.execute(
                text("SELECT e.passage_id, ts_rank(CAST(:w AS float4[]), i.tsv, "
                     "CAST(:q AS tsquery), 1) AS score, i.bound FROM search_index i "
                     "JOIN search_entries e USING (seq)"),
                {"w": RANK_WEIGHTS, "q": tsq},
            ).all()  # fmt: skip
            assert len(rows) == len(entries)
            for r in rows:
                assert r.score <= r.bound, (tsq, r.passage_id)
            if "|" not in tsq:  # ...and tight for one word, once in a passage of distinct words
                assert any(r.score > 0 and r.bound <= r.score * 1.01 for r in rows), tsq


@pytest.mark.parametrize(
    "query_text",
    ["harb*", "cou*", "cou* OR harbour", "harbour AND harb*", "cou* fes* river", "cou* court"],
)
def test_the_bound_times_the_factor_is_at_least_every_score(
    engine: PostgresEngine, query_text: str
) -> None:
    """With prefixes: bound_factor counts the lexemes each one covers."""
    with engine.engine.connect() as conn:
        expanded = expand(parse_query(query_text), conn)
        leaves = [t for t in ranked_terms(expanded) if simplify(t) == t]
        factor = bound_factor(leaves, count_prefixed(conn, ranked_prefixes(expanded)))
        assert factor is not None and (factor > 1) == query_text.startswith("cou"), factor
        rows = conn.execute(
            text("SELECT ts_rank(CAST(:w AS float4[]), tsv, CAST(:q AS tsquery), 1) AS score, "
                 "bound FROM search_index"),
            {"w": RANK_WEIGHTS, "q": " | ".join(f"({tsquery(t, query_text)})" for t in leaves)},
        ).all()  # fmt: skip
    assert rows and all(r.score <= r.bound * factor for r in rows)
    assert any(r.score > r.bound for r in rows) == (factor > 1)  # a prefix does go past it


def test_no_bound_for_a_short_prefix(engine: PostgresEngine) -> None:
    with engine.engine.connect() as conn:
        counts = count_prefixed(conn, ["co", "cou"])
    assert counts == {"cou": 2}  # council, court
    assert bound_factor([parse_query("co*")], counts) is None


def test_no_bound_for_a_lone_phrase() -> None:
    phrase = parse_query('"harbour ferry"')
    assert bound_factor([phrase], {}) is None
    assert bound_factor([phrase, parse_query("river")], {}) == 1.0


def test_rank_bound_of_a_passage() -> None:
    terms = passage_terms("harbour ferry harbour")  # 3 positions, harbour twice
    bound = rank_bound(terms, "title")
    assert bound == pytest.approx(1.0 * (1 + 1 / 4) / 1.64493406685 / 2.0 * 1.001)
    assert rank_bound(terms, "body") == pytest.approx(bound * 0.3333)
    assert rank_bound({}, "title") == 0.0
