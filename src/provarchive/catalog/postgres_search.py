"""The PostgreSQL search engine: passages in catalog tables, GIN-indexed ``tsvector``\\ s.

Contract:
- :class:`PostgresEngine` implements :class:`~provarchive.search.engine.SearchEngine`
  on the tables of catalog migration 0005 (``search_entries``, ``search_index``,
  ``search_words``, ``search_meta``) in the catalog's own database. Every write is one transaction
  (all or nothing); :meth:`PostgresEngine.write_in` writes inside a caller's
  transaction, so passages can be indexed with their catalog rows; readers never
  wait (MVCC), and a rebuild is one transaction that readers do not see until it
  commits. There is no background indexer and nothing for a crash to leave behind.
- Analysis is the Whoosh engine's (``whoosh_engine.analyzer()``) in pure Python:
  NFKC, Whoosh's token pattern, lower-casing, CJK characters one by one, Whoosh's
  accent-folding table, and the Snowball English stemmer (NLTK's, the code Whoosh's
  own stemmer was taken from). Lexemes are stored with their positions (title and
  standfirst weighted), so matching is decided by PostgreSQL on the same terms.
- The query language is Whoosh's default parser with fuzzy terms, re-implemented
  step for step (tagging, then the same filters in the same order, then the same
  normalisation), so a query means the same and is refused (QueryError) exactly
  where Whoosh finds nothing searchable in it. Prefix terms become ``:*`` lexemes;
  fuzzy and wildcard terms are expanded against ``search_words`` (levenshtein from
  ``fuzzystrmatch``, LIKE on a trigram index), as Whoosh expands them against its
  term list. Fields (``kind:``, ``document:``, ``version:`` ...) become SQL predicates.
- Snippets are computed in Python from the stored text, with Whoosh's fragmenter,
  scorer and ``**term**`` marks.
- Differences from Whoosh (README): ranking is ``ts_rank`` with title weights, not
  BM25F; ranges (``[a TO b]``), ``ingested:`` and phrase slop above 1 with more than
  a few words are refused; PostgreSQL keeps at most 256 positions per lexeme, none
  past 16,383, and lexemes up to 2,046 bytes, so phrases beyond those limits in huge
  passages and giant tokens are not found.
Database errors leave as :class:`~provarchive.errors.SearchIndexError`.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import heapq
import re
import unicodedata
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import create_engine, exc, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from ..errors import QueryError, SearchIndexError
from ..search.engine import Hit, IndexEntry, SearchQuery, SearchResults
from .database import Catalog
from .models import key_of

# -- analysis --------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[\w\*]+(\.?[\w\*]+)*")
"""Whoosh's default token pattern (``*`` included, for wildcards)."""
_CJK = (
    "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9d"
    "\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7a3\ud7b0-\ud7ff"
    "\U00020000-\U0002a6df\U0002a700-\U0002ebef\U0002f800-\U0002fa1f"
)
_HAS_CJK = re.compile(f"[{_CJK}]")
_CJK_PIECES = re.compile(f"[{_CJK}]|[^{_CJK}]+")
_FOLDS = (
    # whoosh.support.charset.accent_map (whoosh3 3.54.0, BSD-2-Clause), restricted to
    # characters that survive lower-casing: pairs of (character, its folded form).
    "iinnppssßsàaáaâaãaäaåaçcèeéeêeëeìiíiîiïiðdñnòoóoôoõoöoøoùuúuûuüuýyþtÿyāaăaąaćcĉc"
    "ċcčcďdđdēeĕeėeęeěeĝgğgġgģgĥhħhĩiīiĭiįiıiĵjķkĺlļlľlŀlłlńnņnňnōoŏoőoŕrŗrřrśsŝsşsšs"
    "ţtťtŧtũuūuŭuůuűuųuŵwŷyźzżzžzƀbƃbƈcƌdƒfƙkƚlƞnơoƥpƫtƭtưuƴyƶzƺzǎaǐiǒoǔuǖuǘuǚuǜuǝeǟa"
    "ǡaǣaǥgǧgǩkǫoǭoǯzǰjǵgǹnǻaǽaǿoȁaȃaȅeȇeȉiȋiȍoȏoȑrȓrȕuȗușsțtȟhȡdȥzȧaȩeȫoȭoȯoȱoȳyȴlȵn"
    "ȶtȷjȼcɇeɉjɋqɍrɏyɓbɕcɖdɗdɚeɝeɟjɠgɨiɫlɬlɭlɱmɲnɳnɵoɼrɽrɾrʂsʄjʈtʉuʋvʏyʐzʑzʝjʠq"
    "\u0303p\u0308t\u030ay\u030cj\u0323l\u0329s\u0331hᵬbᵭdᵮfᵲrᵳrᵵtḁaḃbḅbḇbḉcḋdḍdḏdḑd"
    "ḓdḕeḗeḙeḛeḝeḟfḡgḣhḥhḧhḩhḫhḭiḯiḱkḳkḵkḷlḹlḻlḽlḿmṁmṃmṅnṇnṉnṋnṍoṏoṑoṓoṕpṗpṙrṛrṝrṟrṡs"
    "ṣsṥsṧsṩsṫtṭtṯtṱtṳuṵuṷuṹuṻuṽvṿvẁwẃwẅwẇwẉwẋxẍxẏyẑzẓzẕzẖhẗtẘwẙyẚaẛsạaảaấaầaẩaẫaậaắa"
    "ằaẳaẵaặaẹeẻeẽeếeềeểeễeệeỉiịiọoỏoốoồoổoỗoộoớoờoởoỡoợoụuủuứuừuửuữuựuỳyỵyỷyỹyⱡlⱥaⱦt"
    "ⱨhⱪkⱬz０0１1２2３3４4５5６6７7８8９9ａaｂbｃcｄdｅeｆfｇgｈhｉiｊjｋkｌlｍmｎnｏoｐpｑqｒrｓsｔtｕuｖvｗwｘxｙyｚz"
)
_FOLD = str.maketrans(_FOLDS[0::2], _FOLDS[1::2])


@lru_cache(maxsize=1)
def _stemmer() -> Callable[[str], str]:
    from nltk.stem.snowball import EnglishStemmer  # type: ignore[import-untyped]

    stem: Callable[[str], str] = EnglishStemmer().stem
    return stem


_APOSTROPHES = str.maketrans("\u2019\u2018\u201b", "'''")


@lru_cache(maxsize=50000)
def stem(word: str) -> str:
    """Snowball English stem (as Whoosh's ``StemFilter(lang="en")``). NLTK returns words
    of up to two characters as they are; Whoosh's copy first drops their apostrophes
    (``x'`` is ``x``), which only query terms can hold (the tokenizer splits at them)."""
    if len(word) <= 2:
        word = word.lower().translate(_APOSTROPHES).removeprefix("'")
        for suffix in ("'s'", "'s", "'"):
            if word.endswith(suffix):
                word = word[: -len(suffix)]
                break
    return _stemmer()(word)


def _lexemes(value: str, spans: list[tuple[int, int]]) -> list[tuple[str, int, int]]:
    out: list[tuple[str, int, int]] = []
    for start, end in spans:
        word = value[start:end]
        if _HAS_CJK.search(word):
            # Split before lower-casing, which can change lengths ('İ' becomes two
            # characters): CJK characters have no case, so the pieces are the same.
            for m in _CJK_PIECES.finditer(word):
                lexeme = stem(m.group().lower().translate(_FOLD))
                out.append((lexeme, start + m.start(), start + m.end()))
        else:
            out.append((stem(word.lower().translate(_FOLD)), start, end))
    return out


def analyse(text_: str, *, tokenize: bool = True) -> list[str]:
    """The terms of ``text_`` as ``whoosh_engine.analyzer()`` produces them, in order;
    a term's position is its index. ``tokenize=False`` analyses it as one token (as
    Whoosh does for prefix, wildcard and fuzzy query terms)."""
    if tokenize and text_.isascii():
        # The common case, four times faster: ASCII is NFKC already, lower-cases
        # character by character, has no CJK and nothing the fold table changes.
        return [stem(m.group()) for m in _TOKEN.finditer(text_.lower())]
    value = unicodedata.normalize("NFKC", text_)
    spans = [m.span() for m in _TOKEN.finditer(value)] if tokenize else [(0, len(value))]
    return [lexeme for lexeme, _, _ in _lexemes(value, spans)]


def analyse_spans(text_: str) -> list[tuple[str, int, int]]:
    """(term, start, end) with offsets into ``text_`` itself (for snippets). Where NFKC
    changes the text, each character with its combining marks is normalised alone and
    offsets are mapped back (Whoosh slices the original with normalised offsets)."""
    if text_.isascii():
        return [(stem(m.group()), *m.span()) for m in _TOKEN.finditer(text_.lower())]
    if unicodedata.is_normalized("NFKC", text_):
        return _lexemes(text_, [m.span() for m in _TOKEN.finditer(text_)])
    pieces: list[str] = []
    origin: list[int] = []  # normalised index -> index of its segment in text_
    bounds: list[int] = []
    i = 0
    while i < len(text_):
        j = i + 1
        while j < len(text_) and unicodedata.combining(text_[j]):
            j += 1
        piece = unicodedata.normalize("NFKC", text_[i:j])
        pieces.append(piece)
        origin += [i] * len(piece)
        bounds += [j] * len(piece)
        i = j
    value = "".join(pieces)
    out = []
    for lexeme, start, end in _lexemes(value, [m.span() for m in _TOKEN.finditer(value)]):
        end = min(end, len(value))
        if start < end:
            out.append((lexeme, origin[start], bounds[end - 1]))
    return out


MAX_LEXEME_BYTES = 2046
MAX_POSITIONS = 256
MAX_POSITION = 16383
MAX_TSVECTOR_BYTES = 1_000_000
WEIGHTS = {"title": "A", "standfirst": "B"}
"""Title and standfirst words weigh more (Whoosh's KIND_BOOST 3 and 1.5, see RANK_WEIGHTS)."""
RANK_WEIGHTS = "{0.3333, 0.3333, 0.5, 1.0}"
"""ts_rank weights for D (body), C, B (standfirst), A (title)."""


def quote_lexeme(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def passage_terms(text_: str) -> dict[str, list[int]]:
    """Lexeme -> its 1-based positions in a passage, within PostgreSQL's limits:
    lexemes up to 2,046 bytes, 256 positions each, positions up to 16,383, 1 MB in
    all (a passage past that keeps each lexeme's first position, then as many
    lexemes as fit)."""
    positions: dict[str, list[int]] = {}
    for i, lexeme in enumerate(analyse(text_)):
        if not _storable(lexeme):
            continue
        found = positions.setdefault(lexeme, [])
        pos = min(i + 1, MAX_POSITION)
        if len(found) < MAX_POSITIONS and (not found or found[-1] != pos):
            found.append(pos)
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


def tsvector_literal(terms: dict[str, list[int]], kind: str) -> str:
    """The ``tsvector`` input text of a passage's terms, weighted by its kind."""
    weight = WEIGHTS.get(kind, "")
    return " ".join(
        quote_lexeme(lx) + ":" + ",".join(f"{p}{weight}" for p in ps) for lx, ps in terms.items()
    )


ANALYSIS_VERSION = 1
_PROBE = "The labourers' résumés: Café Müller, ﬁnancial ＡＢＣ, 東京都 renovations, running."


def analysis_fingerprint() -> str:
    """Recorded at create(): an index built by another analysis is refused by check()."""
    probe = "|".join(analyse(_PROBE))
    return f"{ANALYSIS_VERSION}:{hashlib.sha256(probe.encode()).hexdigest()[:16]}"


# -- the query language: Whoosh's default parser with fuzzy terms ------------------------------

TEXT = "text"
ID_COLUMNS = {
    "passage_id": "e.passage_id",
    "document": "e.document",
    "kind": "i.kind",
    "passage_sha256": "e.passage_sha256",
    "entry_digest": "e.entry_digest",
    "version_key": "(e.document || '@v' || e.version)",
}
"""Whoosh ID fields (matched whole, case-sensitive) and the SQL that holds them
(``i``: search_index, ``e``: search_entries)."""
NUMBER_COLUMNS = {"version": "e.version", "ordinal": "e.ordinal"}
UNSEARCHABLE = ("raw_sha256", "raw_start", "raw_end", "ingested")
FIELDS = frozenset({TEXT, "current", *ID_COLUMNS, *NUMBER_COLUMNS, *UNSEARCHABLE})
"""The fields of the Whoosh schema: ``name:`` is a field only for these (else plain text)."""


@dataclass(frozen=True)
class Q:
    """A parsed query (Whoosh's query classes, by ``op``)."""

    op: str  # term phrase prefix wild fuzzy every null error and or not andnot andmaybe require
    field: str | None = None
    text: Any = None
    words: tuple[str, ...] = ()
    subs: tuple[Q, ...] = ()
    slop: int = 1
    maxdist: int = 1
    prefixlength: int = 0
    boost: float = 1.0

    def fieldname(self) -> str | None:
        """Whoosh's ``Query.field()``: the field of a leaf, the common field of a compound."""
        if self.op in ("and", "or"):
            if self.subs and all(s.fieldname() == self.subs[0].fieldname() for s in self.subs):
                return self.subs[0].fieldname()
            return None
        if self.op in ("andnot", "andmaybe", "require"):
            f = self.subs[0].fieldname()
            return f if self.subs[1].fieldname() == f else None
        return None if self.op in ("not", "null", "error") else self.field


NULL = Q("null")
ERROR = Q("error")
"""A term Whoosh cannot parse (``version:x``): kept by normalisation, matches nothing."""


@dataclass(eq=False)
class _Node:
    """A syntax node (whoosh.qparser.syntax, by ``kind``)."""

    kind: (
        str  # word phrase wild prefix fuzzy fieldname fuzziness boost every open close op ws group
    )
    text: str = ""
    start: int = 0
    end: int = 0
    fieldname: str | None = None
    original: str = ""
    group: str = ""  # and or not andnot andmaybe require (groups and operators)
    nodes: list[_Node] = field(default_factory=list)
    slop: int = 1
    maxdist: int = 1
    prefixlength: int = 0
    boost: float = 1.0

    def is_text(self) -> bool:
        return self.kind in ("word", "phrase", "wild", "prefix", "fuzzy")

    def has_boost(self) -> bool:
        return self.is_text() or (self.kind == "group" and self.group in ("and", "or", "not"))

    def set_fieldname(self, name: str | None) -> None:
        if self.is_text() or self.kind in ("group", "fieldname"):
            if self.fieldname is None:
                self.fieldname = name
            for node in self.nodes:
                node.set_fieldname(name)


def _word(node: _Node) -> _Node:
    return _Node("word", text=node.original, start=node.start, end=node.end)


def _op(name: str, regex: str) -> tuple[re.Pattern[str], Callable[[re.Match[str]], _Node]]:
    return re.compile(regex), lambda m: _Node("op", group=name, original=m.group(0))


_RANGE = re.compile(
    r"(?P<open>\{|\[)(?P<start>('[^']*?'\s+)|([^\]}]+?(?=\b[Tt][Oo]\b)))?"
    r"\b[Tt][Oo]\b(?P<end>(\s+'[^']*?')|([^\]}]+?))?(?P<close>}|])"
)


def _range(m: re.Match[str]) -> _Node:
    raise QueryError(m.string, f"ranges such as {m.group(0)!r} are not supported here")


def _boost(m: re.Match[str]) -> _Node:
    try:
        return _Node("boost", original=m.group(0), boost=float(m.group("boost")))
    except ValueError:
        return _Node("word", text=m.group(0))


def _fuzziness(m: re.Match[str]) -> _Node:
    maxdist, prefix = m.group("maxdist"), m.group("prefix")
    return _Node(
        "fuzziness",
        original=m.group(0),
        maxdist=int(maxdist) if maxdist else 1,
        prefixlength=int(prefix) if prefix else 0,
    )


_QMARKS = "?\u055e\u061f\u1367"
_TAGGERS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], _Node]]] = [
    # Whoosh's taggers in the order its priorities put them.
    _op("andnot", r"(?<=\s)ANDNOT(?=\s)"),
    _op("andmaybe", r"(?<=\s)ANDMAYBE(?=\s)"),
    (re.compile(r"[*]:[*]"), lambda m: _Node("every")),
    (
        re.compile(r"(^|(?<=\W))'(?P<text>.*?)'(?=\s|\]|[)}]|$)"),
        lambda m: _Node("word", text=m.group("text")),
    ),
    (
        re.compile(r"(?P<text>\w+|[*]):"),
        lambda m: _Node("fieldname", fieldname=m.group("text"), original=m.group(0)),
    ),
    (re.compile(f"[*{_QMARKS}]"), lambda m: _Node("wild", text=m.group(0))),
    (
        re.compile(r'"(?P<text>.*?)"(~(?P<slop>[1-9][0-9]*))?'),
        lambda m: _Node("phrase", text=m.group("text"), slop=int(m.group("slop") or 1)),
    ),
    (re.compile(r"[(]"), lambda m: _Node("open")),
    (re.compile(r"[)]"), lambda m: _Node("close")),
    _op("not", r"(^|(?<=(\s|[()])))NOT(?=\s)"),
    _op("and", r"(?<=\s)AND(?=\s)"),
    _op("or", r"(?<=\s)OR(?=\s)"),
    _op("require", r"(^|(?<=\s))REQUIRE(?=\s)"),
    (re.compile(r"\^(?P<boost>[0-9]*(\.[0-9]+)?)($|(?=[ \t\r\n)]))"), _boost),
    (re.compile(r"(?<=\S)~(?P<maxdist>[0-9])?(/(?P<prefix>[1-9][0-9]*))?"), _fuzziness),
    (_RANGE, _range),
    (re.compile(r"\s+"), lambda m: _Node("ws")),
]


def _tag(query: str) -> list[_Node]:
    """Whoosh's ``QueryParser.tag``: the first tagger matching at each position wins;
    the text between matches becomes words."""
    stack: list[_Node] = []
    pos = prev = 0
    while pos < len(query):
        for regex, create in _TAGGERS:
            m = regex.match(query, pos)
            if m is None:
                continue
            node = create(m)
            node.start, node.end = m.start(), m.end()
            if prev < pos:
                stack.append(_Node("word", text=query[prev:pos], start=prev, end=pos))
            stack.append(node)
            prev = pos = node.end
            break
        else:
            pos += 1
    if prev < len(query):
        stack.append(_Node("word", text=query[prev:], start=prev, end=len(query)))
    return stack


def _groups(nodes: list[_Node]) -> _Node:
    stack = [_Node("group", group="and")]
    for node in nodes:
        if node.kind == "open":
            stack.append(_Node("group", group="and"))
        elif node.kind == "close":
            if len(stack) > 1:
                last = stack.pop()
                stack[-1].nodes.append(last)
        else:
            stack[-1].nodes.append(node)
    top = stack[0]
    for unclosed in stack[1:]:
        top.nodes.extend(unclosed.nodes)
    if len(top.nodes) == 1 and top.nodes[0].kind == "group":
        top = top.nodes[0]
    return top


def _clean_boost(group: _Node) -> None:
    for i, node in enumerate(group.nodes):
        if node.kind == "boost" and (not i or not group.nodes[i - 1].has_boost()):
            group.nodes[i] = _Node("word", text=node.original, start=node.start, end=node.end)


def _fuzzy_terms(group: _Node) -> None:
    out, i, nodes = [], 0, group.nodes
    while i < len(nodes):
        node = nodes[i]
        if node.kind == "word" and i < len(nodes) - 1 and nodes[i + 1].kind == "fuzziness":
            fz = nodes[i + 1]
            node = _Node("fuzzy", text=node.text, fieldname=node.fieldname, start=node.start,
                         end=node.end, maxdist=fz.maxdist, prefixlength=fz.prefixlength)  # fmt: skip
            i += 1
        if node.kind == "fuzziness":
            node = _word(node)
        if node.kind == "group":
            _fuzzy_terms(node)
        out.append(node)
        i += 1
    group.nodes = out


def _wildcards(group: _Node) -> None:
    nodes, i = group.nodes, 0
    while i < len(nodes):
        node = nodes[i]
        if node.kind == "wild":
            if i < len(nodes) - 1 and nodes[i + 1].is_text():
                node.text += nodes.pop(i + 1).text
            if i > 0 and nodes[i - 1].is_text():
                node.text = nodes.pop(i - 1).text + node.text
            else:
                i += 1
        else:
            if node.kind == "group":
                _wildcards(node)
            i += 1
    for i, node in enumerate(nodes):
        t = node.text
        plain = "[" not in t and not any(c in t for c in _QMARKS)
        if node.kind == "wild" and len(t) > 1 and plain and t.find("*") == len(t) - 1:
            nodes[i] = _Node("prefix", text=t[:-1], start=node.start, end=node.end)


def _fieldnames(group: _Node) -> None:
    merged: list[_Node] = []
    pending: list[_Node] = []
    for node in group.nodes:
        if node.kind == "fieldname" and node.fieldname not in FIELDS:
            pending.append(node)
            continue
        if pending:
            original = "".join(p.original for p in pending)
            if node.is_text():
                node.text = original + node.text
            else:
                merged.append(_Node("word", text=original))
            pending = []
        merged.append(node)
    if pending:
        merged.append(_Node("word", text="".join(p.original for p in pending)))
    out: list[_Node] = []
    i = len(merged)
    while i > 0:
        i -= 1
        node = merged[i]
        if node.kind == "fieldname":
            node = _word(node)
        elif node.kind == "group":
            _fieldnames(node)
        if i > 0 and node.kind != "ws" and merged[i - 1].kind == "fieldname":
            node.set_fieldname(merged[i - 1].fieldname)
            i -= 1
        out.append(node)
    group.nodes = out[::-1]


def _whitespace(group: _Node) -> None:
    group.nodes = [n for n in group.nodes if n.kind != "ws"]
    for n in group.nodes:
        if n.kind == "group":
            _whitespace(n)


def _boosts(group: _Node) -> None:
    out: list[_Node] = []
    for node in group.nodes:
        if node.kind == "group":
            _boosts(node)
        elif node.kind == "boost":
            if out and out[-1].has_boost():
                out[-1].boost = node.boost
                continue
            node = _Node("word", text=node.original, start=node.start, end=node.end)
        out.append(node)
    group.nodes = out


def _operators(group: _Node) -> None:
    """Whoosh's operator pass: NOT, then AND, OR, ANDNOT, ANDMAYBE, REQUIRE, each left
    to right (so ``a b OR c`` is ``a AND (b OR c)``), then inside groups."""
    nodes = group.nodes
    for name in ("not", "and", "or", "andnot", "andmaybe", "require"):
        i = 0
        while i < len(nodes):
            t = nodes[i]
            if not (t.kind == "op" and t.group == name):
                i += 1
                continue
            if name == "not":
                length = len(nodes)
                del nodes[i]
                if i < length - 1:
                    nodes[i] = _Node("group", group="not", nodes=[nodes[i]])
            elif 0 < i < len(nodes) - 1:
                left, right = nodes[i - 1], nodes[i + 1]
                if name in ("and", "or") and left.kind == "group" and left.group == name:
                    left.nodes.append(right)
                    del nodes[i : i + 2]
                else:
                    nodes[i - 1 : i + 2] = [_Node("group", group=name, nodes=[left, right])]
            else:
                del nodes[i]
    for node in nodes:
        if node.kind == "group":
            _operators(node)


def _term(fieldname: str, value: str, op: str, *, tokenize: bool, query: str) -> Q | None:
    """Whoosh's ``QueryParser.term_query``."""
    if fieldname in NUMBER_COLUMNS or fieldname == "current":
        if value == "*":
            return Q("every", fieldname)
        if fieldname == "current":
            # Whoosh's BOOLEAN: its words for false are false, any other text is true.
            return Q(
                "term", fieldname, value.lower() not in ("f", "false", "no", "0") and bool(value)
            )
        try:
            return Q("term", fieldname, int(value))
        except ValueError:
            return ERROR
    if fieldname in UNSEARCHABLE:
        raise QueryError(query, f"the field {fieldname!r} cannot be searched")
    if fieldname != TEXT:
        return Q(op, fieldname, value)
    words = analyse(value, tokenize=tokenize)
    if len(words) > 1:
        return Q("phrase", fieldname, words=tuple(words))
    return Q(op, fieldname, words[0]) if words else None


def with_boost(q: Q, boost: float) -> Q:
    """Whoosh's ``with_boost`` (boosts only rank in Whoosh, but they tell queries apart)."""
    if q.op in ("null", "error"):
        return q
    if q.op in ("andnot", "andmaybe", "require"):
        a, b = q.subs
        return replace(
            q, subs=(with_boost(a, boost), with_boost(b, boost) if q.op == "andmaybe" else b)
        )
    return replace(q, boost=boost)


def _build(node: _Node, query: str) -> Q | None:
    fieldname = node.fieldname or TEXT
    if node.kind == "group":
        if node.group in ("and", "or"):
            subs = [q for n in node.nodes if (q := _build(n, query)) is not None]
            return Q(node.group, subs=tuple(subs), boost=node.boost)
        if node.group == "not":
            inner = _build(node.nodes[0], query) if node.nodes else None
            return Q("not", subs=(inner,)) if inner is not None else None
        a, b = (_build(n, query) for n in node.nodes)
        if a is None or b is None:
            return a or b or NULL
        return Q(node.group, subs=(a, b))
    if node.kind == "every":
        return Q("every")
    if node.kind == "phrase" and fieldname == TEXT:
        words = tuple(analyse(node.text))
        return Q("phrase", TEXT, words=words, slop=node.slop, boost=node.boost)
    if node.kind == "phrase":
        q = _term(fieldname, node.text, "term", tokenize=False, query=query)
        # On an ID field Whoosh makes a one-word phrase, which normalises to a bare term.
        return q if q is None or fieldname in ID_COLUMNS else with_boost(q, node.boost)
    if node.kind not in ("word", "prefix", "wild", "fuzzy"):
        raise QueryError(query, f"cannot parse {node.original or node.text!r} here")
    op = "term" if node.kind == "word" else node.kind
    q = _term(fieldname, node.text, op, tokenize=node.kind == "word", query=query)
    if q is not None and q.op == "fuzzy":
        q = replace(q, maxdist=node.maxdist, prefixlength=node.prefixlength)
    return None if q is None else with_boost(q, node.boost)


def normalize(q: Q) -> Q:
    """Whoosh's ``Query.normalize``, rule for rule."""
    if q.op == "wild":
        t = q.text
        if t == "*":
            return Q("every", q.field, boost=q.boost)
        if "*" not in t and "?" not in t:
            return Q("term", q.field, t, boost=q.boost)
        if "?" not in t and "[" not in t and t.find("*") == len(t) - 1:
            return Q("prefix", q.field, t[:-1], boost=q.boost)
        return q
    if q.op == "phrase":
        if not q.words:
            return NULL
        return Q("term", q.field, q.words[0]) if len(q.words) == 1 else q
    if q.op == "not":
        inner = normalize(q.subs[0])
        return NULL if inner.op == "null" else Q("not", subs=(inner,), boost=q.boost)
    if q.op in ("andnot", "andmaybe", "require"):
        a, b = normalize(q.subs[0]), normalize(q.subs[1])
        if a.op == "null" or (b.op == "null" and q.op == "require"):
            return NULL
        return a if b.op == "null" else Q(q.op, subs=(a, b))
    if q.op in ("and", "or"):
        return _normalize_compound(q)
    return q


def _normalize_compound(q: Q) -> Q:
    subs: list[Q] = []
    for s in map(normalize, q.subs):
        if s.op == q.op:
            subs += [with_boost(ss, ss.boost * s.boost) for ss in s.subs]
        else:
            subs.append(s)
    if all(s.op == "null" for s in subs):
        return NULL
    if any(s.op == "every" and s.field is None for s in subs):
        return Q("every")
    every_fields: set[str | None] = set()
    i = 0
    while i < len(subs):
        if subs[i].fieldname() in every_fields:
            subs.pop(i)
            continue
        if subs[i].op == "every":
            every_fields.add(subs[i].field)
        i += 1
    kept: list[Q] = []
    for s in subs:
        duplicate = s in kept and s.op != "error"  # Whoosh's error queries hash by identity
        if (s.op != "every" and s.fieldname() in every_fields) or duplicate or s.op == "null":
            continue
        kept.append(s)
    if not kept:
        return NULL
    if len(kept) == 1:
        sub = kept[0]
        if q.boost != 1.0 or sub.boost != 1.0:
            sub = with_boost(sub, sub.boost * q.boost)
        return sub
    return Q(q.op, subs=tuple(kept), boost=q.boost)


def parse_query(query: str) -> Q:
    """The query as Whoosh's parser (default plugins + fuzzy terms) reads it; raises
    QueryError where Whoosh finds nothing searchable."""
    if not query.strip():
        raise QueryError(query, "the query is empty")
    group = _groups(_tag(query))
    for step in (_clean_boost, _fuzzy_terms, _wildcards, _fieldnames, _whitespace, _boosts,
                 _operators):  # fmt: skip
        step(group)
    parsed = _build(group, query)
    result = NULL if parsed is None else normalize(parsed)
    if result.op == "null":
        raise QueryError(query, "nothing searchable in it (check quotes, brackets and operators)")
    return result


# -- from a parsed query to SQL ------------------------------------------------------------------

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


def ranked_terms(q: Q, *, positive: bool = True) -> list[Q]:
    """Text leaves that count towards a hit's score (not the negated ones)."""
    if q.field == TEXT and q.op in ("term", "prefix", "phrase"):
        return [q] if positive else []
    if q.op == "not":
        return ranked_terms(q.subs[0], positive=False)
    if q.op == "andnot":
        return ranked_terms(q.subs[0], positive=positive)
    return [t for s in q.subs for t in ranked_terms(s, positive=positive)]


def highlighter(q: Q) -> Callable[[str], bool]:
    """Which lexemes a snippet marks: every text term of the (expanded) query."""
    words: set[str] = set()
    prefixes: list[str] = []

    def walk(node: Q) -> None:
        if node.field == TEXT and node.op == "term":
            words.add(node.text)
        elif node.field == TEXT and node.op == "phrase":
            words.update(node.words)
        elif node.field == TEXT and node.op == "prefix" and node.text:
            prefixes.append(node.text)
        for s in node.subs:
            walk(s)

    walk(q)
    starts = tuple(prefixes)
    return lambda lexeme: lexeme in words or bool(starts and lexeme.startswith(starts))


# -- snippets (whoosh.highlight with the Whoosh engine's settings) -------------------------------

SNIPPET_CHARS = 200
SURROUND = 60
CHARLIMIT = 2**15
Span = tuple[str, int, int]


@dataclass(eq=False)
class _Fragment:
    start: int
    end: int
    matches: list[Span]

    def __lt__(self, other: _Fragment) -> bool:
        return self.start < other.start

    def score(self) -> int:
        return len(self.matches) * (len({m[0] for m in self.matches}) * 100 or 1)


def _context_fragments(text_: str, tokens: list[tuple[Span, bool]]) -> Iterator[_Fragment]:
    """whoosh.highlight.ContextFragmenter(maxchars=200, surround=60), step for step."""
    first: int | None = None
    firsts: deque[int] = deque()
    countdown, currentlen, tks = -1, 0, []
    end = 0
    for token, matched in tokens:
        start, end = token[1], token[2]
        length = end - start
        if end > CHARLIMIT:
            break
        if countdown < 0 and not matched:
            firsts.append(start)
            while firsts and end - firsts[0] > SURROUND:
                firsts.popleft()
        elif currentlen + length > SNIPPET_CHARS:
            countdown = 0
        elif matched:
            countdown = SURROUND
            if first is None:
                if firsts:
                    first = firsts[0]
                else:
                    first = start
                    countdown += SURROUND
            tks.append(token)
        if countdown >= 0:
            currentlen += length
            countdown -= length
            if countdown <= 0:
                yield _fragment(text_, tks, first, end)
                tks, firsts, first, currentlen = [], deque(), None, 0
    if tks:
        yield _fragment(text_, tks, first, end)


def _fragment(text_: str, tokens: list[Span], start: int | None, end: int) -> _Fragment:
    begin = tokens[0][1] if start is None and tokens else (start or 0)
    return _Fragment(max(0, begin), min(len(text_), end), tokens)


def snippet(text_: str, matched: Callable[[str], bool]) -> str:
    """The passage whole if it fits, else up to two fragments around the matches, with
    matched words as ``**word**`` and ``…`` where the passage was cut."""
    tokens = [(span, matched(span[0])) for span in analyse_spans(text_)]
    if len(text_) <= SNIPPET_CHARS:
        found = []
        for span, hit in tokens:
            if span[2] > CHARLIMIT:
                break
            if hit:
                found.append(span)
        fragments: Iterable[_Fragment] = [_Fragment(0, len(text_), found)]
    else:
        fragments = _context_fragments(text_, tokens)
    best = [f for score, f in heapq.nlargest(2, ((f.score(), f) for f in fragments)) if score >= 1]
    best.sort(key=lambda f: f.start)
    if not best:
        return text_ if len(text_) <= SNIPPET_CHARS else text_[:SNIPPET_CHARS].rstrip() + " …"
    out = " … ".join(_marked(text_, f) for f in best)
    if best[0].start > 0:
        out = "… " + out
    if best[-1].end < len(text_):
        out += " …"
    return out


def _marked(text_: str, fragment: _Fragment) -> str:
    out, index = [], fragment.start
    for _, start, end in sorted(fragment.matches, key=lambda t: (t[1], t[1] - t[2])):
        if start < index:
            continue
        out.append(text_[index:start] + "**" + text_[start:end] + "**")
        index = end
    out.append(text_[index : fragment.end])
    return "".join(out)


# -- the engine ------------------------------------------------------------------------------------

_COLUMNS = (
    "seq", "passage_key", "passage_id", "document", "document_key", "version", "ordinal",
    "kind", "text", "passage_sha256", "raw_sha256", "raw_start", "raw_end", "ingested",
    "current", "entry_digest",
)  # fmt: skip
_INDEX_COLUMNS = ("seq", "current", "kind", "ingested", "tsv")
_ENTRY_COLUMNS = (
    "passage_id, document, version, ordinal, kind, text, passage_sha256, raw_sha256, "
    "raw_start, raw_end, ingested, current"
)
TABLES = ("search_entries", "search_index", "search_words", "search_meta")


def _first_line(e: BaseException) -> str:
    message = str(getattr(e, "orig", None) or e)
    return message.splitlines()[0] if message else e.__class__.__name__


@contextlib.contextmanager
def _db_errors(where: str, action: str) -> Iterator[None]:
    """Database errors (SQLAlchemy's or psycopg's own, from COPY) as SearchIndexError."""
    try:
        yield
    except (SearchIndexError, QueryError):
        raise
    except Exception as e:
        import psycopg

        if not isinstance(e, exc.SQLAlchemyError | psycopg.Error):
            raise
        hint = ""
        if "search_" in str(e) and "does not exist" in str(e):
            hint = " (the catalog has no search tables yet: a writing command migrates it)"
        raise SearchIndexError(
            f"cannot {action} the search index in {where}: {_first_line(e)}{hint}"
        ) from e


def entry_rows(seq: int, e: IndexEntry) -> tuple[tuple[Any, ...], tuple[Any, ...], set[str]]:
    """The ``search_entries`` and ``search_index`` rows of an entry, and its lexemes
    (for ``search_words``)."""
    terms = passage_terms(e.text)
    row = (
        seq, key_of(e.passage_id), e.passage_id, e.document, key_of(e.document), e.version,
        e.ordinal, e.kind, e.text, e.passage_sha256, e.raw_sha256, e.raw_start, e.raw_end,
        e.ingested, e.current, e.digest(),
    )  # fmt: skip
    return row, (seq, e.current, e.kind, e.ingested, tsvector_literal(terms, e.kind)), set(terms)


class PostgresWriter:
    """Changes to the index on one connection, inside that connection's transaction
    (see :meth:`PostgresEngine.writing` and :meth:`PostgresEngine.write_in`). Each
    call writes at once: nothing is buffered, so nothing needs flushing before commit."""

    def __init__(self, conn: Connection, where: str) -> None:
        self._conn = conn
        self._where = where
        self._words: set[str] = set()

    def delete_version(self, document: str, version: int) -> None:
        with _db_errors(self._where, "write"):
            self._conn.execute(
                text("DELETE FROM search_entries WHERE document_key = :k AND version = :v"),
                {"k": key_of(document), "v": version},
            )

    def replace_version(self, document: str, version: int, entries: Iterable[IndexEntry]) -> None:
        self.delete_version(document, version)
        todo = list(entries)
        if not todo:
            return
        with _db_errors(self._where, "write"):
            seqs = self._conn.execute(
                text("SELECT nextval(pg_get_serial_sequence('search_entries', 'seq')) "
                     "FROM generate_series(1, :n)"),
                {"n": len(todo)},
            ).scalars().all()  # fmt: skip
            rows, index_rows, words = [], [], set()
            for seq, e in zip(seqs, todo, strict=True):
                row, index_row, lexemes = entry_rows(seq, e)
                rows.append(row)
                index_rows.append(index_row)
                words |= lexemes
            self._copy("search_entries", _COLUMNS, rows)
            self._copy("search_index", _INDEX_COLUMNS, index_rows)
            new = sorted(words - self._words)  # sorted: concurrent writers lock in one order
            if new:
                self._conn.execute(
                    text("INSERT INTO search_words (word) SELECT unnest(CAST(:w AS text[])) "
                         "ON CONFLICT DO NOTHING"),
                    {"w": new},
                )  # fmt: skip
                self._words.update(new)

    def _copy(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        raw: Any = self._conn.connection.dbapi_connection
        with (
            raw.cursor() as cur,
            cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)


class PostgresEngine:
    """The search index in the catalog's PostgreSQL database."""

    name = "postgres"

    def __init__(self, target: str | Catalog | Engine) -> None:
        self._owned = not isinstance(target, Catalog | Engine)
        try:
            if isinstance(target, Catalog):
                self.engine: Engine = target.engine
            elif isinstance(target, Engine):
                self.engine = target
            else:
                self.engine = create_engine(target, pool_pre_ping=True)
        except ImportError as e:
            raise SearchIndexError(
                f"the PostgreSQL engine needs psycopg: install provarchive[postgres] ({e})"
            ) from e
        except (exc.SQLAlchemyError, ValueError) as e:
            raise SearchIndexError(f"cannot open {target}: {e}") from e
        self.url = self.engine.url.render_as_string(hide_password=True)
        if self.engine.dialect.name != "postgresql":
            raise SearchIndexError(
                f"the postgres search engine needs a PostgreSQL catalog, not {self.url}"
            )
        self._checked = False

    # -- lifecycle ----------------------------------------------------------------------------

    def _meta(self, conn: Connection) -> dict[str, str] | None:
        """search_meta, or None if the tables are missing."""
        if conn.execute(text("SELECT to_regclass('search_meta')")).scalar() is None:
            return None
        return {k: v for k, v in conn.execute(text("SELECT key, value FROM search_meta"))}

    def exists(self) -> bool:
        with _db_errors(self.url, "open"), self.engine.connect() as conn:
            meta = self._meta(conn)
        return bool(meta and "created" in meta)

    def _record(self, conn: Connection) -> None:
        conn.execute(text("DELETE FROM search_meta"))
        conn.execute(
            text("INSERT INTO search_meta (key, value) VALUES ('created', :c), ('analysis', :a)"),
            {"c": datetime.now(UTC).isoformat(), "a": analysis_fingerprint()},
        )

    def _tables(self, conn: Connection) -> None:
        if self._meta(conn) is None:
            raise SearchIndexError(
                f"{self.url} has no search tables (catalog schema older than 0005): "
                "a writing command migrates it"
            )

    def create(self) -> None:
        with _db_errors(self.url, "create"), self.engine.begin() as conn:
            self._tables(conn)
            conn.execute(text("TRUNCATE search_index, search_entries, search_words"))
            self._record(conn)
        self._checked = False

    def check(self) -> None:
        with _db_errors(self.url, "open"), self.engine.connect() as conn:
            meta = self._meta(conn)
            if not meta or "created" not in meta:
                raise SearchIndexError(f"no search index in {self.url} (run 'provarchive reindex')")
            if meta.get("analysis") != analysis_fingerprint():
                raise SearchIndexError(
                    f"the search index in {self.url} was built by another provarchive "
                    "(analysis differs); run 'provarchive reindex'"
                )
            conn.execute(text("SELECT 1 FROM search_entries LIMIT 1")).all()
        self._checked = True

    def _require(self) -> None:
        if not self._checked:
            self.check()

    def damage(self, *, thorough: bool) -> list[str]:
        """Nothing to find: PostgreSQL checks its own pages, and the audit compares digests."""
        return []

    def tidy(self) -> list[str]:
        """Nothing to remove: an interrupted write is a rolled-back transaction."""
        return []

    def close(self) -> None:
        if self._owned:
            self.engine.dispose()

    # -- writing ------------------------------------------------------------------------------

    def write_in(self, target: Session | Connection) -> PostgresWriter:
        """A writer inside the caller's transaction (a catalog session or connection on
        this database): the entries commit or roll back with the catalog rows."""
        conn = target.connection() if isinstance(target, Session) else target
        return PostgresWriter(conn, self.url)

    @contextlib.contextmanager
    def writing(self) -> Iterator[PostgresWriter]:
        """One transaction: committed if the block succeeds, rolled back otherwise."""
        self._require()
        with _db_errors(self.url, "write"), self.engine.connect() as conn, conn.begin():
            yield PostgresWriter(conn, self.url)

    @contextlib.contextmanager
    def rebuilding(self) -> Iterator[PostgresWriter]:
        """Empty the index and refill it in one transaction: readers see the old index
        until it commits (MVCC), and nothing if it fails."""
        with _db_errors(self.url, "rebuild"), self.engine.connect() as conn, conn.begin():
            self._tables(conn)
            for table in ("search_index", "search_entries", "search_words"):
                conn.execute(text(f"DELETE FROM {table}"))
            yield PostgresWriter(conn, self.url)
            self._record(conn)
        self._checked = False

    def background_writer(self) -> None:
        """None: entries are written in the caller's transaction."""
        return None

    # -- reading ------------------------------------------------------------------------------

    def doc_count(self) -> int:
        self._require()
        with _db_errors(self.url, "read"), self.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM search_entries")).scalar_one())

    def entry_digests(self) -> dict[str, str]:
        self._require()
        with _db_errors(self.url, "read"), self.engine.connect() as conn:
            rows = conn.execute(text("SELECT passage_id, entry_digest FROM search_entries"))
            return {pid: digest for pid, digest in rows}

    def entries(self) -> Iterator[IndexEntry]:
        self._require()
        with _db_errors(self.url, "read"), self.engine.connect() as conn:
            rows = conn.execution_options(stream_results=True, yield_per=1000).execute(
                text(f"SELECT {_ENTRY_COLUMNS} FROM search_entries ORDER BY seq")
            )
            for r in rows:
                yield IndexEntry(
                    passage_id=r.passage_id, document=r.document, version=r.version,
                    ordinal=r.ordinal, kind=r.kind, text=r.text, passage_sha256=r.passage_sha256,
                    raw_sha256=r.raw_sha256, raw_start=r.raw_start, raw_end=r.raw_end,
                    ingested=r.ingested.astimezone(UTC), current=r.current,
                )  # fmt: skip

    def search(self, q: SearchQuery) -> SearchResults:
        """Ranked hits in one snapshot: expansion, count and top hits agree."""
        parsed = parse_query(q.text)
        self._require()
        with _db_errors(self.url, "search"), self.engine.connect() as conn, conn.begin():
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
            expanded = expand(parsed, conn)
            matching = simplify(expanded)
            if matching.op == "null":
                return SearchResults(q.text, 0, [])
            sql, params = _search_sql(matching, expanded, q)
            rows = conn.execute(text(sql), params).all()
        matched = highlighter(expanded)  # every term, as Whoosh marks them (ANDMAYBE's too)
        hits = [_hit(r, matched) for r in rows[: q.limit]]
        return SearchResults(q.text, int(rows[0].total) if rows else 0, hits)


def _hit(r: Any, matched: Callable[[str], bool]) -> Hit:
    return Hit(
        passage_id=r.passage_id, document=r.document, version=r.version, ordinal=r.ordinal,
        kind=r.kind, score=float(r.score), text=r.text, snippet=snippet(r.text, matched),
        sha256=r.raw_sha256, raw_span=(r.raw_start, r.raw_end), current=r.current,
    )  # fmt: skip


def _search_sql(matching: Q, expanded: Q, q: SearchQuery) -> tuple[str, dict[str, Any]]:
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
    if q.since is not None:
        conditions.append(f"i.ingested >= {params.bind(q.since)}")
    if q.until is not None:
        conditions.append(f"i.ingested <= {params.bind(q.until)}")
    leaves = [tsquery(t, q.text) for t in ranked_terms(expanded) if simplify(t) == t]
    rank = "0.0"
    if leaves:
        rank_query = params.bind(" | ".join(f"({x})" for x in leaves))
        rank = f"ts_rank(CAST({params.bind(RANK_WEIGHTS)} AS float4[]), i.tsv, CAST({rank_query} AS tsquery), 1)"
    condition = " AND ".join(f"({c})" for c in conditions)
    source = "search_index i"
    if "e." in condition:  # fields of the entry itself (document, version, passage_id...)
        source += " JOIN search_entries e USING (seq)"
    limit = params.bind(max(q.limit, 1))
    sql = f"""
        WITH m AS MATERIALIZED (
            SELECT seq, {rank} AS score FROM {source} WHERE {condition}
        ), top AS (
            SELECT seq, score FROM m ORDER BY score DESC, seq LIMIT {limit}
        )
        SELECT e.passage_id, e.document, e.version, e.ordinal, e.kind, e.text, e.raw_sha256,
               e.raw_start, e.raw_end, e.current, top.score, (SELECT count(*) FROM m) AS total
        FROM top JOIN search_entries e USING (seq)
        ORDER BY top.score DESC, top.seq
    """
    return sql, params.values
