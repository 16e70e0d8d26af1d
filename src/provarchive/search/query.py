"""The archive's query language, parsed as Whoosh's default parser (with fuzzy terms) reads it.

Contract:
- :func:`parse_query` re-implements Whoosh's parser step for step (tagging, then the
  same filters in the same order, then the same normalisation), so that a query means
  the same in every engine and is refused (QueryError) exactly where Whoosh finds
  nothing searchable in it. The result is a tree of :class:`Q` (Whoosh's query classes,
  by ``op``) over the terms of :mod:`provarchive.search.analysis`.
- Engines translate the tree into their own matching (SQL for PostgreSQL);
  :func:`ranked_terms` and :func:`highlighter` say which terms rank and which a
  snippet marks. Ranges (``[a TO b]``) are refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import QueryError
from .analysis import analyse, multiterm_parts

TEXT = "text"
ID_FIELDS = ("passage_id", "document", "kind", "passage_sha256", "entry_digest", "version_key")
"""Whoosh ID fields: matched whole, case-sensitive."""
NUMBER_FIELDS = ("version", "ordinal")
UNSEARCHABLE = ("raw_sha256", "raw_start", "raw_end", "ingested")
FIELDS = frozenset({TEXT, "current", *ID_FIELDS, *NUMBER_FIELDS, *UNSEARCHABLE})
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
    if maxdist and m.string[m.end() : m.end() + 1].isdigit():  # Whoosh reads one digit
        raise QueryError(  # and the rest as a word that every hit must then hold
            m.string, "a fuzzy term's edit distance is one digit, as in word~2"
        )
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


MAX_NESTING = 100
"""Brackets nested deeper than this are refused (every step below recurses per level)."""


def _groups(nodes: list[_Node], query: str) -> _Node:
    stack = [_Node("group", group="and")]
    for node in nodes:
        if node.kind == "open":
            if len(stack) > MAX_NESTING:
                raise QueryError(query, f"brackets nested more than {MAX_NESTING} deep")
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
    if fieldname in NUMBER_FIELDS or fieldname == "current":
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
    parts = multiterm_parts(value, op) if op in ("prefix", "wild", "fuzzy") else None
    if parts is not None:
        subs = (_term(fieldname, v, o, tokenize=o == "term", query=query) for o, v in parts)
        return Q("and", subs=tuple(s for s in subs if s is not None))
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
        if len(node.nodes) != 2:  # ("x ANDNOT ANDNOT"): Whoosh's parser trips its assert
            raise QueryError(query, f"{node.group.upper()} needs a term on each side")
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
        return q if q is None or fieldname in ID_FIELDS else with_boost(q, node.boost)
    if node.kind not in ("word", "prefix", "wild", "fuzzy"):
        raise QueryError(query, f"cannot parse {node.original or node.text!r} here")
    op = "term" if node.kind == "word" else node.kind
    q = _term(fieldname, node.text, op, tokenize=node.kind == "word", query=query)
    if q is not None and op == "fuzzy":
        q = _spread_fuzziness(q, node.maxdist, node.prefixlength)
    return None if q is None else with_boost(q, node.boost)


def _spread_fuzziness(q: Q, maxdist: int, prefixlength: int) -> Q:
    """A fuzzy term's distance and prefix, set on each part of a split one too."""
    if q.op == "and":
        return replace(q, subs=tuple(_spread_fuzziness(s, maxdist, prefixlength) for s in q.subs))
    return replace(q, maxdist=maxdist, prefixlength=prefixlength) if q.op == "fuzzy" else q


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


def unknown_values(q: Q, field_name: str, known: tuple[str, ...]) -> list[str]:
    """The terms of ``field_name`` in ``q`` that are none of ``known`` (``kind:titel``):
    an ID field matches its values whole, so such a term can only ever find nothing."""
    if q.op == "term" and q.field == field_name:
        return [] if q.text in known else [str(q.text)]
    return [bad for sub in q.subs for bad in unknown_values(sub, field_name, known)]


def parse_query(query: str) -> Q:
    """The query as Whoosh's parser (default plugins + fuzzy terms) reads it; raises
    QueryError where Whoosh finds nothing searchable."""
    if not query.strip():
        raise QueryError(query, "the query is empty")
    group = _groups(_tag(query), query)
    for step in (_clean_boost, _fuzzy_terms, _wildcards, _fieldnames, _whitespace, _boosts,
                 _operators):  # fmt: skip
        step(group)
    parsed = _build(group, query)
    result = NULL if parsed is None else normalize(parsed)
    if result.op == "null":
        raise QueryError(query, "nothing searchable in it (check quotes, brackets and operators)")
    return result


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
