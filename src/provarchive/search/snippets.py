"""Snippets as the Whoosh engine makes them (whoosh.highlight with its settings), in pure Python.

A passage that fits is shown whole, a longer one as up to two fragments around the
matches (Whoosh's ContextFragmenter and scorer), matched terms as ``**term**`` and
``…`` where the passage was cut. For engines that do not run Whoosh.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from .analysis import analyse_spans

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
    return mark(text_, fragment.start, fragment.end, ((m[1], m[2]) for m in fragment.matches))


def mark(text_: str, start: int, end: int, spans: Iterable[tuple[int, int]]) -> str:
    """``text_[start:end]`` with the matched ``spans`` marked ``**...**``, as Whoosh's
    formatter marks them (of overlapping spans the first, longest, wins), except that
    spans that touch are marked as one: a CJK word is analysed one character a token,
    and ``**東京**`` reads as a word where ``**東****京**`` reads as noise."""
    merged: list[list[int]] = []
    index = start
    for s, e in sorted(spans, key=lambda p: (p[0], p[0] - p[1])):
        if s < index:
            continue
        if merged and s == merged[-1][1]:
            merged[-1][1] = e
        else:
            merged.append([s, e])
        index = e
    out, index = [], start
    for s, e in merged:
        out.append(text_[index:s] + "**" + text_[s:e] + "**")
        index = e
    out.append(text_[index:end])
    return "".join(out)
