"""From the archive's text and queries to PostgreSQL: ``tsvector``\\ s, ``tsquery``\\ s, SQL.

Contract:
- :func:`passage_terms` and :func:`tsvector_literal` turn a passage into the
  ``tsvector`` of the archive's own analysis (:mod:`provarchive.search.analysis`),
  within PostgreSQL's limits: at most 256 positions per lexeme, none past 16,383,
  lexemes up to 2,046 bytes, 1 MB per vector. Title and standfirst are weighted.
  :func:`rank_bound` is the most any query of plain words can score the passage.
- :func:`search_plan` turns a parsed query (:mod:`provarchive.search.query`) and its
  filters into the statements of a search over ``search_index i`` (joined to
  ``search_entries e`` only where a condition names its columns): one that ranks every
  match, and a probe and a pruned one that rank only the matches that can reach the
  top hits, with the same result (:class:`SearchPlan`). Prefix terms become ``:*`` lexemes,
  fuzzy and wildcard terms are first expanded against ``search_words``
  (:func:`expand`: levenshtein from ``fuzzystrmatch``, LIKE on a trigram index), as
  Whoosh expands them against its term list; fields become SQL predicates.
- Differences from Whoosh: ranking is ``ts_rank`` with title weights, not BM25F;
  ``ingested:`` and phrase slop above 1 with more than a few words are refused;
  phrases beyond the position limits in huge passages and giant tokens are not found.
"""

from __future__ import annotations

import fnmatch
import math
import re
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from ..errors import QueryError
from ..search.analysis import analyse
from ..search.engine import REMOVED, SearchQuery
from ..search.query import NULL, TEXT, Q, ranked_terms
from .models import key_of

ID_COLUMNS = {
    "passage_id": "e.passage_id",
    "document": "e.document",
    "kind": "i.kind",
    "passage_sha256": "e.passage_sha256",
    "entry_digest": "e.entry_digest",
    "version_key": "(e.document || '@v' || e.version)",
}
"""The SQL that holds each Whoosh ID field (``i``: search_index, ``e``: search_entries)."""
NUMBER_COLUMNS = {"version": "e.version", "ordinal": "e.ordinal"}

# -- passages as tsvectors -------------------------------------------------------------------

MAX_LEXEME_BYTES = 2046
MAX_POSITIONS = 256
MAX_POSITION = 16383
MAX_TSVECTOR_BYTES = 1_000_000
WEIGHTS = {"title": "A", "standfirst": "B"}
"""Title and standfirst words weigh more (Whoosh's KIND_BOOST 3 and 1.5, see RANK_WEIGHTS)."""
RANK_WEIGHTS = "{0.3333, 0.3333, 0.5, 1.0}"
"""ts_rank weights for D (body), C, B (standfirst), A (title)."""
_RANK_WEIGHT_OF = dict(zip("DCBA", map(float, RANK_WEIGHTS.strip("{}").split(",")), strict=True))
_RANK_OR_DIVISOR = 1.64493406685
"""The constant ``calc_rank_or`` of PostgreSQL's tsrank.c divides each term's weight by."""
_BOUND_MARGIN = 1.001
"""Headroom over float4 rounding in ts_rank and in the stored ``bound``."""
PRUNE_PROBE_ROWS = 2000
"""How many matching titles the probe ranks to find a score the top hits reach."""


def quote_lexeme(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def passage_terms(text_: str) -> dict[str, list[int]]:
    """Lexeme -> its 1-based positions in a passage, within PostgreSQL's limits:
    lexemes up to 2,046 bytes, 256 positions each, positions up to 16,383, 1 MB in
    all (a passage past that keeps each lexeme's first position, then as many
    lexemes as fit). Written for speed: a writer calls it for every entry."""
    lexemes = analyse(text_)
    if len(lexemes) > MAX_POSITION:
        return _clamped_terms(lexemes)
    positions: dict[str, list[int]] = {}
    for i, lexeme in enumerate(lexemes, 1):
        found = positions.get(lexeme)
        if found is None:
            positions[lexeme] = [i]
        elif len(found) < MAX_POSITIONS:
            found.append(i)
    for lexeme in [lx for lx in positions if not lx or len(lx) > _SURELY_STORABLE]:
        if not _storable(lexeme):
            del positions[lexeme]
    # A character is at most 4 bytes: most passages are far below the limit.
    if 4 * sum(map(len, positions)) + 6 * len(positions) + 2 * len(lexemes) <= MAX_TSVECTOR_BYTES:
        return positions
    return _within_size(positions)


_SURELY_STORABLE = MAX_LEXEME_BYTES // 4
"""A lexeme of at most this many characters fits in MAX_LEXEME_BYTES whatever they are."""


def _clamped_terms(lexemes: list[str]) -> dict[str, list[int]]:
    """:func:`passage_terms` of a passage with more lexemes than positions."""
    positions: dict[str, list[int]] = {}
    for i, lexeme in enumerate(lexemes):
        if not _storable(lexeme):
            continue
        found = positions.setdefault(lexeme, [])
        pos = min(i + 1, MAX_POSITION)
        if len(found) < MAX_POSITIONS and (not found or found[-1] != pos):
            found.append(pos)
    return _within_size(positions)


def _within_size(positions: dict[str, list[int]]) -> dict[str, list[int]]:
    size = sum(len(lx.encode("utf-8")) + 6 + 2 * len(ps) for lx, ps in positions.items())
    if size <= MAX_TSVECTOR_BYTES:
        return positions
    budget, kept = MAX_TSVECTOR_BYTES, {}
    for lexeme, ps in positions.items():
        budget -= len(lexeme.encode("utf-8")) + 8
        if budget < 0:
            break
        kept[lexeme] = ps[:1]
    return kept


def _storable(lexeme: str) -> bool:
    return bool(lexeme) and len(lexeme.encode("utf-8")) <= MAX_LEXEME_BYTES


def rank_bound(terms: dict[str, list[int]], kind: str) -> float:
    """An upper bound of the ``ts_rank`` (our weights, normalisation 1) of this passage
    for any query whose rank query is an OR of plain lexemes (see :func:`search_plan`).

    There ``calc_rank_or`` gives each query lexeme the passage holds
    ``w * sum(1/j**2 for j in 1..tf) / 1.6449...`` (all positions of a passage carry the
    weight ``w`` of its kind), averages over the query's lexemes and divides by
    ``log2(L + 1)``, ``L`` the passage's number of positions: so no such query scores
    the passage above ``w * H2(max tf) / 1.6449... / log2(L + 1)``."""
    length = sum(len(ps) for ps in terms.values())
    if not length:
        return 0.0
    most = max(len(ps) for ps in terms.values())
    h2 = sum(1.0 / (j * j) for j in range(1, most + 1))
    weight = _RANK_WEIGHT_OF[WEIGHTS.get(kind, "D")]
    return weight * h2 / _RANK_OR_DIVISOR / math.log2(length + 1) * _BOUND_MARGIN


def tsvector_literal(terms: dict[str, list[int]], kind: str) -> str:
    """The ``tsvector`` input text of a passage's terms, weighted by its kind."""
    weight = WEIGHTS.get(kind, "")
    glue = weight + ","
    return " ".join(
        [
            (quote_lexeme(lx) if "'" in lx or "\\" in lx else "'" + lx + "'")
            + ":"
            + glue.join(map(str, ps))
            + weight
            for lx, ps in terms.items()
        ]
    )


@dataclass(frozen=True)
class Prepared:
    """What writing entries costs most, done ahead (see :func:`prepare`): per (text,
    kind) the ``tsvector`` literal and rank bound, and the lexemes of them all."""

    vectors: dict[tuple[str, str], tuple[str, float]]
    words: frozenset[str]

    def vector(self, text_: str, kind: str) -> tuple[str, float] | None:
        return self.vectors.get((text_, kind))


def prepare(items: list[tuple[str, str]]) -> Prepared:
    """:class:`Prepared` for these (text, kind) pairs: a pure function of them, so that
    a child process can compute it while the writer does other work."""
    vectors: dict[tuple[str, str], tuple[str, float]] = {}
    words: set[str] = set()
    for text_, kind in items:
        terms = passage_terms(text_)
        vectors[(text_, kind)] = (tsvector_literal(terms, kind), rank_bound(terms, kind))
        words.update(terms)
    return Prepared(vectors, frozenset(words))


# -- from a parsed query to SQL ----------------------------------------------------------------

_LEVENSHTEIN_MAX = 255
"""fuzzystrmatch's limit on the length of either string."""
_MAX_SLOP_PHRASES = 64
EVERYTHING = Q("every")


def _levenshtein(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def fuzzy_words(conn: Connection, term: str, maxdist: int, prefixlength: int) -> list[str]:
    """Indexed lexemes within ``maxdist`` (Levenshtein) of ``term`` that share its
    first ``prefixlength`` characters: Whoosh's ``FuzzyTerm`` expansion."""
    prefix = term[:prefixlength]
    lo, hi = max(len(term) - maxdist, 1), len(term) + maxdist
    if hi <= _LEVENSHTEIN_MAX:
        sql = (
            "SELECT word FROM search_words WHERE length(word) BETWEEN :lo AND :hi "
            "AND starts_with(word, :prefix) AND CASE WHEN length(word) <= 255 "
            "THEN levenshtein_less_equal(word, :term, :k) <= :k ELSE false END"
        )
        rows = conn.execute(text(sql), {"lo": lo, "hi": hi, "prefix": prefix, "term": term,
                                        "k": maxdist})  # fmt: skip
        return sorted(r[0] for r in rows)
    sql = "SELECT word FROM search_words WHERE length(word) BETWEEN :lo AND :hi AND starts_with(word, :prefix)"
    rows = conn.execute(text(sql), {"lo": lo, "hi": hi, "prefix": prefix})
    return sorted(r[0] for r in rows if _levenshtein(r[0], term) <= maxdist)


def _like(pattern: str) -> str:
    """A LIKE pattern matching at least what the fnmatch pattern matches."""
    out = []
    for c in pattern:
        if c in "%_\\":
            out.append("\\" + c)
        else:
            out.append({"*": "%", "?": "_", "[": "%"}.get(c, c))
    return "".join(out)


def wildcard_words(conn: Connection, pattern: str) -> list[str]:
    """Indexed lexemes matching a Whoosh wildcard (fnmatch) pattern."""
    rows = conn.execute(
        text("SELECT word FROM search_words WHERE word LIKE :p ESCAPE '\\'"), {"p": _like(pattern)}
    )
    exact = re.compile(fnmatch.translate(pattern))
    return sorted(r[0] for r in rows if exact.match(r[0]))


def expand(q: Q, conn: Connection) -> Q:
    """Fuzzy and wildcard text terms as the OR of the lexemes they match (nothing if none)."""
    if q.field == TEXT and q.op in ("fuzzy", "wild"):
        words = (
            fuzzy_words(conn, q.text, q.maxdist, q.prefixlength)
            if q.op == "fuzzy"
            else wildcard_words(conn, q.text)
        )
        return Q("or", subs=tuple(Q("term", TEXT, w) for w in words)) if words else NULL
    if q.subs:
        return replace(q, subs=tuple(expand(s, conn) for s in q.subs))
    return q


def simplify(q: Q) -> Q:
    """Resolve what matches nothing (NULL) or everything (EVERYTHING) through the tree,
    with the meaning Whoosh's matchers give each operator."""
    op = q.op
    if op == "error" or (op == "term" and q.field == TEXT and not _storable(q.text)):
        return NULL
    if op == "prefix" and q.field == TEXT and q.text == "":
        return Q("every", TEXT)
    if op == "andmaybe":
        return simplify(q.subs[0])
    if op == "require":
        return simplify(Q("and", subs=q.subs))
    if op == "andnot":
        return simplify(Q("and", subs=(q.subs[0], Q("not", subs=(q.subs[1],)))))
    if op == "not":
        inner = simplify(q.subs[0])
        if inner.op == "null":
            return EVERYTHING
        return NULL if inner == EVERYTHING else Q("not", subs=(inner,))
    if op in ("and", "or"):
        subs = [simplify(s) for s in q.subs]
        absorbing, neutral = (NULL, EVERYTHING) if op == "and" else (EVERYTHING, NULL)
        if absorbing in subs:
            return absorbing
        subs = [s for s in subs if s != neutral]
        if not subs:
            return neutral
        return subs[0] if len(subs) == 1 else Q(op, subs=tuple(subs))
    return q


class _Params:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def bind(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f":{name}"


def _phrase(words: tuple[str, ...], slop: int, query: str) -> str:
    if not all(_storable(w) for w in words):
        return quote_lexeme(" ")  # holds a space: no indexed lexeme does
    quoted = [quote_lexeme(w) for w in words]
    if slop <= 1:
        return " <-> ".join(quoted)
    gaps = len(words) - 1
    if slop**gaps > _MAX_SLOP_PHRASES:
        raise QueryError(
            query, f"a phrase of {len(words)} words with slop {slop} is too loose here"
        )
    variants = []
    for n in range(slop**gaps):
        distances = [(n // slop**i) % slop + 1 for i in range(gaps)]
        parts = [quoted[0]] + [f"<{d}> {w}" for d, w in zip(distances, quoted[1:], strict=True)]
        variants.append("(" + " ".join(parts) + ")")
    return " | ".join(variants)


def tsquery(q: Q, query: str) -> str | None:
    """The tsquery of a query over text terms only (None if it has other parts)."""
    if q.field == TEXT and q.op == "term":
        return quote_lexeme(q.text)
    if q.field == TEXT and q.op == "prefix":
        return quote_lexeme(q.text) + ":*"
    if q.field == TEXT and q.op == "phrase":
        return _phrase(q.words, q.slop, query)
    if q.op == "not":
        inner = tsquery(q.subs[0], query)
        return None if inner is None else f"!({inner})"
    if q.op in ("and", "or"):
        parts = [tsquery(s, query) for s in q.subs]
        if any(p is None for p in parts):
            return None
        return (" & " if q.op == "and" else " | ").join(f"({p})" for p in parts)
    return None


def where(q: Q, params: _Params, query: str) -> str:
    """A SQL condition on ``search_index i`` (joined to ``search_entries e`` where it
    names their columns) for a simplified query."""
    tsq = tsquery(q, query)
    if tsq is not None:
        return f"i.tsv @@ CAST({params.bind(tsq)} AS tsquery)"
    if q.op == "every":
        return "length(i.tsv) > 0" if q.field == TEXT else "TRUE"
    if q.op == "null":
        return "FALSE"
    if q.op == "not":
        return f"NOT ({where(q.subs[0], params, query)})"
    if q.op in ("and", "or"):
        return f" {q.op.upper()} ".join(f"({where(s, params, query)})" for s in q.subs)
    if q.field == "current":
        return f"i.current = {params.bind(bool(q.text))}"
    column = NUMBER_COLUMNS.get(q.field or "") or ID_COLUMNS[q.field or ""]
    value = params.bind(q.text)
    if q.op == "term":
        return f"{column} = {value}"
    if q.op == "prefix":
        return f"starts_with({column}, {value})"
    if q.op == "wild":
        return f"{column} LIKE {params.bind(_like(q.text))} ESCAPE '\\'"
    prefix = params.bind(q.text[: q.prefixlength])
    k = params.bind(q.maxdist)
    return (
        f"(starts_with({column}, {prefix}) AND CASE WHEN length({column}) <= 255 "
        f"THEN levenshtein_less_equal({column}, {value}, {k}) <= {k} ELSE false END)"
    )


@dataclass(frozen=True)
class SearchPlan:
    """The statements of one search, on the same parameters (run in one snapshot).

    ``full`` ranks every match and counts them in one statement. When the query
    ranks, ``probe`` gives the (offset + limit)-th best score among at most
    :data:`PRUNE_PROBE_ROWS` matching titles (titles rank highest: a few of them
    usually reach the top hits), or no row if fewer match; then ``pruned``, with that
    score as ``:floor``, counts every match and ranks only those that can score at
    least ``:floor``: every top hit does, since the probe's matches are matches
    too. Where :func:`rank_bound` holds for the query, ``ts_rank`` is not even
    called for passages whose ``bound`` is below the floor. Same hits, same order,
    same total as ``full``; at 1 million passages a frequent word's search spent
    as long ranking its matches as counting them."""

    params: dict[str, Any]
    full: str
    probe: str | None
    pruned: str | None


_SELECT_HITS = """
        SELECT e.passage_id, e.document, e.version, e.ordinal, e.kind, e.text, e.raw_sha256,
               e.raw_start, e.raw_end, e.current, e.rule, e.published, e.passage_sha256,
               top.score, c.total"""


def ranked_prefixes(expanded: Q) -> list[str]:
    """The prefixes among the ranked terms (:func:`search_plan` wants to know how many
    indexed lexemes each one covers)."""
    return [t.text for t in ranked_terms(expanded) if t.op == "prefix" and simplify(t) == t]


_MIN_COUNTED_PREFIX = 3
"""Shorter prefixes cover too many lexemes for a useful bound (and the trigram index
cannot count them quickly): they are ranked in full."""


def count_prefixed(conn: Connection, prefixes: list[str]) -> dict[str, int]:
    """How many indexed lexemes start with each prefix of at least 3 characters
    (``search_words`` holds every lexeme of the index, in the same snapshot)."""
    out = {}
    for prefix in prefixes:
        if len(prefix) < _MIN_COUNTED_PREFIX:
            continue
        pattern = re.sub(r"([%_\\])", r"\\\1", prefix) + "%"
        sql = "SELECT count(*) FROM search_words WHERE word LIKE :p ESCAPE '\\'"
        out[prefix] = int(conn.execute(text(sql), {"p": pattern}).scalar_one())
    return out


def bound_factor(leaves: list[Q], prefixed: dict[str, int]) -> float | None:
    """How far above :func:`rank_bound` the rank query of these leaves can score a
    passage, or None if the bound does not apply (a lone phrase is ranked by
    ``calc_rank_and``, which it does not bound).

    ``calc_rank_or`` averages over the query's distinct lexemes (its operands,
    de-duplicated by their text) what each scores in the passage: at most the bound
    for a plain lexeme, which matches one entry of the passage, and at most ``k``
    times the bound for a prefix that ``k`` indexed lexemes start with."""
    if len(leaves) == 1 and leaves[0].op == "phrase":
        return None
    most: dict[str, int] = {}
    for t in leaves:
        if t.op == "prefix":
            if t.text not in prefixed:
                return None
            most[t.text] = max(most.get(t.text, 1), prefixed[t.text], 1)
        elif t.op == "phrase" and not all(_storable(w) for w in t.words):
            most.setdefault(" ", 1)
        else:
            for word in (t.text,) if t.op == "term" else t.words:
                most.setdefault(word, 1)
    return sum(most.values()) / len(most)


def search_plan(
    matching: Q, expanded: Q, q: SearchQuery, prefixed: dict[str, int] | None = None
) -> SearchPlan:
    """The search: ``matching`` (simplified) selects, ``expanded`` terms rank."""
    params = _Params()
    conditions = [where(matching, params, q.text)]
    if not q.all_versions:
        conditions.append("i.current")
    if q.documents:
        keys = ", ".join(params.bind(key_of(d)) for d in q.documents)
        conditions.append(f"e.document_key IN ({keys})")
    if q.kind is not None:
        conditions.append(f"i.kind = {params.bind(q.kind)}")
    if not (q.everything or q.kind == REMOVED):
        conditions.append(f"i.kind <> {params.bind(REMOVED)}")
    if q.published_since is not None or q.published_until is not None:
        since, until = (
            params.bind(q.published_since or "0000"),
            params.bind(q.published_until or "9999"),
        )
        conditions.append(f'i.published COLLATE "C" BETWEEN {since} AND {until}')
    if q.since is not None:
        conditions.append(f"i.ingested >= {params.bind(q.since)}")
    if q.until is not None:
        conditions.append(f"i.ingested <= {params.bind(q.until)}")
    leaves = [t for t in ranked_terms(expanded) if simplify(t) == t]
    ranked = [tsquery(t, q.text) for t in leaves]
    rank = "0.0"
    if ranked:
        rank_query = params.bind(" | ".join(f"({x})" for x in ranked))
        rank = f"ts_rank(CAST({params.bind(RANK_WEIGHTS)} AS float4[]), i.tsv, CAST({rank_query} AS tsquery), 1)"
    condition = " AND ".join(f"({c})" for c in conditions)
    source = "search_index i"
    if "e." in condition:  # fields of the entry itself (document, version, passage_id...)
        source += " JOIN search_entries e USING (seq)"
    need = max(q.limit, 1) + max(q.offset, 0)
    limit, offset = params.bind(max(q.limit, 1)), params.bind(max(q.offset, 0))
    full = f"""
        WITH m AS MATERIALIZED (
            SELECT seq, {rank} AS score FROM {source} WHERE {condition}
        ), top AS (
            SELECT seq, score FROM m ORDER BY score DESC, seq LIMIT {limit} OFFSET {offset}
        ){_SELECT_HITS}
        FROM (SELECT count(*) AS total FROM m) c
        LEFT JOIN (top JOIN search_entries e USING (seq)) ON TRUE
        ORDER BY top.score DESC, top.seq
    """
    if not ranked:
        return SearchPlan(params.values, full, None, None)
    # The literal 'title' (not a parameter) lets the planner use the titles' own index.
    probe = f"""
        SELECT score FROM (
            SELECT {rank} AS score FROM {source} WHERE {condition} AND i.kind = 'title'
            LIMIT {params.bind(max(PRUNE_PROBE_ROWS, need))}
        ) p ORDER BY score DESC LIMIT 1 OFFSET {params.bind(need - 1)}
    """
    # float4 on both sides: the floor comes back as the shortest text of a float4 score.
    floor = "CAST(:floor AS float4)"
    factor = bound_factor(leaves, prefixed or {})
    score = rank
    if factor is not None:
        bound = "i.bound" if factor == 1 else f"i.bound * CAST({params.bind(factor)} AS float8)"
        score = f"CASE WHEN {bound} >= {floor} THEN {rank} END"
    pruned = f"""
        WITH c AS (
            SELECT count(*) AS total,
                   array_agg(m.seq) FILTER (WHERE m.score >= {floor}) AS seqs,
                   array_agg(m.score) FILTER (WHERE m.score >= {floor}) AS scores
            FROM (SELECT i.seq, {score} AS score FROM {source} WHERE {condition} OFFSET 0) m
        ), top AS (
            SELECT u.seq, u.score FROM c, unnest(c.seqs, c.scores) AS u (seq, score)
            ORDER BY u.score DESC, u.seq LIMIT {limit} OFFSET {offset}
        ){_SELECT_HITS}
        FROM c LEFT JOIN (top JOIN search_entries e USING (seq)) ON TRUE
        ORDER BY top.score DESC, top.seq
    """
    return SearchPlan(params.values, full, probe, pruned)
