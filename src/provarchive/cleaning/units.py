"""The units the cleaner classifies, and what is known about each.

Contract: :func:`build_page` cuts decoded text into :class:`Line` units (a line,
or a whole paragraph in hard-wrapped text), measures each
(:func:`provarchive.cleaning.rules.line_features`), applies the explicit rules
and marks prose. Pure: the same text and options give the same :class:`Page`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from . import rules as R
from .options import CleanOptions
from .rules import Features, explicit_rule, line_features
from .text import normalise, split_lines


@dataclass(frozen=True, slots=True)
class Line:
    """One unit of the text: the index of its (first) line, its character span
    [start, end) and its normalised text. A unit is a line, or a paragraph of
    several lines in hard-wrapped text."""

    index: int
    start: int
    end: int
    text: str


@dataclass
class Page:
    """Everything known about the units of one text while it is being cleaned."""

    text: str
    lines: list[Line]
    feats: list[Features]
    rule: list[tuple[str, str] | None]
    prose: list[bool] = field(default_factory=list)
    positions: dict[str, list[int]] = field(default_factory=dict)
    signature: list[bool] = field(default_factory=list)
    """Commenter signatures ("alice says:", see :func:`provarchive.cleaning.rules.is_comment_signature`)."""
    stamp: list[bool] = field(default_factory=list)
    """Date-and-time stamps (see :func:`provarchive.cleaning.rules.is_stamp`)."""
    dateish: list[bool] = field(default_factory=list)
    """Lines that are mostly a date (see :func:`provarchive.cleaning.rules.dateline_like`)."""
    player: list[int] = field(default_factory=list)
    """What each line is to a media player (see :func:`provarchive.cleaning.rules.player_control`)."""
    code: list[bool] = field(default_factory=list)
    """Lines of program code (see :func:`provarchive.cleaning.rules.is_code`)."""
    wrapped: int = 0
    """How many units are hard-wrapped paragraphs of several lines."""

    def rule_id(self, i: int) -> str | None:
        rule = self.rule[i]
        return rule[0] if rule is not None else None

    def related_head(self, i: int) -> bool:
        return self.rule_id(i) == "related-links" and R.is_related_head(self.lines[i].text)

    def separator(self, i: int) -> bool:
        """A line that starts a new item: a byline or date, or a "related" header. An
        embedded tweet's signature ("— Name (@handle) October 30, 2012") is a quote's
        inside the article, not an item's."""
        if self.rule_id(i) == "byline-dateline":
            return not R.is_tweet_signature(self.lines[i].text)
        return self.related_head(i)

    def count(self, i: int) -> int:
        return len(self.positions[self.lines[i].text])

    def next_unruled(self, i: int) -> int:
        j = i + 1
        while j < len(self.lines) and self.rule[j] is not None:
            j += 1
        return j

    def indented(self, i: int) -> bool:
        """Whether the unit starts after white space on its line (files indent, scrapes don't)."""
        start = self.lines[i].start
        return start > 0 and self.text[start - 1] in " \t\u00a0\u3000"


def is_prose(f: Features, o: CleanOptions) -> bool:
    if f.lower_ratio is not None and f.lower_ratio < o.min_lower_ratio:
        return False
    if f.digit_ratio > 0.5:
        return False
    if f.words >= o.long_words and (f.end_punct or f.inner_punct >= 1):
        return True
    if (
        f.spaced_pauses >= o.spaced_pauses
        and f.words >= o.prose_words
        and f.digit_ratio <= o.spaced_max_digits
    ):
        # Chinese prose that pauses with spaces and ends without a stop.
        return True
    return f.words >= o.prose_words and (f.end_punct or f.end_colon)


def _code_blocks(page: Page, o: CleanOptions) -> None:
    """Mark every line of a code block as code: a run of non-prose lines (no rule
    but a counter inside it) where at least :attr:`CleanOptions.code_block_strong`
    lines are clearly code or query output and at least
    :attr:`CleanOptions.code_block_share` of the lines show some sign of code. The
    short lines between (``FROM``, ``series,``, a result column) are part of it."""
    n = len(page.lines)
    inside = [not page.prose[k] and page.rule_id(k) in (None, "counter") for k in range(n)]
    i = 0
    while i < n:
        if not inside[i]:
            i += 1
            continue
        j = i
        signals = []
        while j < n and inside[j]:
            signals.append(R.code_signal(page.lines[j].text, page.feats[j]))
            j += 1
        strong = sum(1 for s in signals if s == 2)
        some = sum(1 for s in signals if s)
        if strong >= o.code_block_strong and some >= o.code_block_share * len(signals):
            for k in range(i, j):
                if page.rule[k] is None:
                    page.code[k] = True
        i = j


def _media_players(page: Page, o: CleanOptions) -> None:
    """Rule every line of an embedded player's controls as ``media-player``: a run of
    lines that are player labels or values (:func:`provarchive.cleaning.rules.player_control`),
    at least :attr:`CleanOptions.player_distinctive` of them distinctive. Its
    "Current Time 0:00" is no dateline and its "Proportional Sans-Serif" no
    headline. A short line between two controls is the player's too (a site's own
    "Share" button, a label of an older version: "Semi-Opaque"); the run ends at
    the first other line."""
    kinds = list(page.player)
    n = len(kinds)
    for k in range(1, n - 1):
        short = page.feats[k].words <= o.short_words
        if short and not kinds[k] and kinds[k - 1] and kinds[k + 1]:
            kinds[k] = R.PLAYER_FILLER
    i = 0
    while i < n:
        if kinds[i] < R.PLAYER_COMMON:
            i += 1
            continue
        j = i
        while j < n and kinds[j]:
            j += 1
        last = max(k for k in range(i, j) if kinds[k] >= R.PLAYER_COMMON)
        if sum(kinds[k] == R.PLAYER_DISTINCTIVE for k in range(i, j)) >= o.player_distinctive:
            for k in range(i, last + 1):
                page.rule[k] = ("media-player", "control of an embedded media player")
        i = j


def text_units(text: str, o: CleanOptions) -> list[tuple[int, int, int]]:
    """(line index, start, end) of the units to classify: lines, except that in
    hard-wrapped text (as ``lynx -dump``, ``html2text``, e-mail and plain-text files
    write it) a paragraph of several lines between blank lines is one unit.

    A block of lines is a wrapped paragraph when every line but its last fills
    most of the text's wrap width (the 95th percentile of line widths, in display
    columns: East Asian wide characters count two, as text browsers wrap them) and most
    of them end mid-sentence; menus and lists in the same text, whose lines are
    short or end sentences, stay one unit per line. At least two such blocks are
    needed, so a page that merely has blank lines between sections is not merged.
    A heading with its underline (``====``) is no paragraph.
    """
    spans = split_lines(text)
    lines = [(i, s, e) for i, (s, e) in enumerate(spans)]
    blocks: list[list[tuple[int, int, int]]] = [[]]
    for i, s, e in lines:
        if text[s:e].strip():
            blocks[-1].append((i, s, e))
        elif blocks[-1]:
            blocks.append([])
    blocks = [b for b in blocks if b]
    if len(blocks) < 2:
        return lines
    columns = {i: R.columns(text[s:e].strip()) for b in blocks for i, s, e in b}
    lengths = sorted(columns.values())
    width = lengths[len(lengths) * 19 // 20]
    if not o.wrapped_line_min <= width <= o.wrapped_line_max:
        return lines

    def paragraph(block: list[tuple[int, int, int]]) -> bool:
        inner = block[:-1]
        return (
            len(block) > 1
            and not any(R.is_underline(text[s:e]) for _, s, e in block)
            and all(columns[i] >= width * o.wrapped_fill for i, _, _ in inner)
            and sum(R.ends_sentence(text[s:e].strip()) for _, s, e in inner) * 2 <= len(inner)
        )

    merged = [paragraph(b) for b in blocks]
    if sum(merged) < 2:
        return lines
    units: list[tuple[int, int, int]] = []
    for block, whole in zip(blocks, merged, strict=True):
        units.extend([(block[0][0], block[0][1], block[-1][2])] if whole else block)
    return units


def build_page(text: str, o: CleanOptions) -> Page:
    """Cut, measure and rule every non-blank unit of ``text``."""
    lines: list[Line] = []
    units = text_units(text, o)
    wrapped = 0
    for index, start, end in units:
        raw = text[start:end]
        normalised = normalise(raw)
        if normalised:
            # The span is trimmed to its first and last non-space character, so it
            # holds exactly what the normalised text came from.
            lead = len(raw) - len(raw.lstrip())
            trail = len(raw) - len(raw.rstrip())
            lines.append(Line(index, start + lead, end - trail, normalised))
            inner = raw.strip()
            wrapped += "\n" in inner or "\r" in inner
    # Pages repeat lines (menus top and bottom, share rows): measure each text once.
    measured: dict[str, tuple[Features, tuple[str, str] | None, bool, bool, bool, int]] = {}
    for line in lines:
        if line.text not in measured:
            f = line_features(line.text)
            measured[line.text] = (
                f,
                explicit_rule(line.text, f),
                R.is_comment_signature(line.text, f),
                R.is_stamp(line.text, f),
                f.words <= 20 and f.digit_ratio > 0 and R.dateline_like(line.text),
                R.player_control(line.text),
            )
    page = Page(
        text,
        lines,
        [measured[line.text][0] for line in lines],
        [measured[line.text][1] for line in lines],
        signature=[measured[line.text][2] for line in lines],
        stamp=[measured[line.text][3] for line in lines],
        dateish=[measured[line.text][4] for line in lines],
        player=[measured[line.text][5] for line in lines],
        wrapped=wrapped,
    )
    _media_players(page, o)
    feats = page.feats
    page.prose = [is_prose(f, o) and page.rule[i] is None for i, f in enumerate(feats)]
    page.code = [
        not page.prose[i] and page.rule[i] is None and R.is_code(line.text, feats[i])
        for i, line in enumerate(lines)
    ]
    _code_blocks(page, o)
    positions: dict[str, list[int]] = defaultdict(list)
    for i, line in enumerate(lines):
        positions[line.text].append(i)
    page.positions = dict(positions)
    return page
