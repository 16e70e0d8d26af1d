"""The cleaner: which lines of a scraped page are the article, and why the others are not.

Contract: :func:`clean` is pure. It takes decoded text and :class:`CleanOptions`
and returns a :class:`CleanResult` with one :class:`Decision` per non-blank
line: kept as ``title``, ``standfirst`` or ``body``, or dropped with the id of
the rule that dropped it and a short reason. No I/O, no mutable globals, no
reason that lives only in a log.

How it decides:

0. Units: each line is one, except that in hard-wrapped text (text-browser
   dumps, e-mail) a paragraph wrapped over several lines between blank lines
   is one unit; menus and lists stay one unit per line (see :func:`_units`).
1. Features and explicit rules (:mod:`provarchive.clean_rules`): every line is
   measured (effective words, where scripts without spaces count characters;
   sentence punctuation; share of lower-case words; digits), and boilerplate
   that is boilerplate anywhere is recognised by rule families with words in
   several languages: ad labels, reading times, trust badges, captions and
   credits, share/newsletter/related-link lines, counters, bylines, legal text.
2. The body is found statistically. Each line scores positive when it reads as
   prose (long, punctuated, mostly lower-case) and negative when it reads as
   furniture. Prose with no prose neighbour counts less (teaser summaries come
   one at a time between headlines); bylines, dates and "related" headers cost
   more (they start new items); long runs of non-prose lines cost more the
   longer they get; repeated lines never count as prose. The body is the
   maximum-scoring contiguous run (maximum subarray), extended by strong runs
   nearby. Comment-section headers are walls (the article comes before its
   comments), and so is a long non-prose run holding a "related" header.
3. The title is the headline-like line nearest above the body, preferring one
   followed by a byline, dateline or credit; when such an anchored title sits
   inside the run, the body starts below it. The standfirst is a prose line
   between title and body that a byline, date or credit sets apart.
4. Inside the body, rule hits, repeats (shown twice in a row, or also outside
   the body), captions (a line followed by a credit), items under a
   "related" header and short fragments are dropped; sub-headings, list items
   and Q&A lines between prose are kept.

The cleaner is versioned: :data:`CLEANER_VERSION` changes whenever a decision
could change, and :func:`rules_digest` hashes rules, patterns and thresholds, so
a derivation records exactly which cleaner produced it. The thresholds were set
on the dev split of the scrapinghub article-extraction benchmark (token F1, see
``scripts/eval-cleaner``); each rule is written for what it means, not for a page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from itertools import pairwise

from ..digests import canonical_json, sha256_tagged
from . import rules as R
from .rules import RULES, Features, explicit_rule, line_features
from .text import normalise, split_lines

CLEANER_NAME = "provarchive-clean"
CLEANER_VERSION = "1.1.0"

_WALL = -1e9


@dataclass(frozen=True)
class CleanOptions:
    """Thresholds of the cleaner (part of its rules digest)."""

    prose_words: int = 8
    """A line this long (effective words) ending a sentence reads as prose."""
    long_words: int = 25
    """A line this long with inner punctuation reads as prose without a final stop."""
    short_words: int = 3
    """A line at most this long is a fragment (menu item, label, counter)."""
    min_lower_ratio: float = 0.35
    """Prose in cased scripts has at least this share of lower-case words."""
    prose_cap: float = 40.0
    """Upper bound of one line's score (one huge line must not decide alone)."""
    isolated_prose_factor: float = 0.35
    """Prose without a prose neighbour counts this much (teaser summaries)."""
    fragment_penalty: float = 2.5
    medium_penalty: float = 1.5
    rule_penalty: float = 3.0
    separator_penalty: float = 12.0
    """Cost of a byline, date or "related" header: each starts a new item."""
    run_free: int = 3
    run_escalation: float = 0.5
    run_escalation_cap: float = 2.0
    """The k-th non-prose line in a row beyond ``run_free`` costs up to ``cap`` more."""
    hard_break_run: int = 6
    """A run of this many non-prose lines holding a "related" header ends the article."""
    heading_max_words: int = 14
    """A short line inside the body with at most this many words may be a sub-heading."""
    list_window: int = 12
    """Short lines with body prose this close on both sides may be list items."""
    title_max_words: int = 35
    title_window: int = 40
    """How many lines above the body are searched for the title."""
    min_article_score: float = 30.0
    first_segment_ratio: float = 0.05
    """Before a comment wall, a run scoring this much (and this share of the best) is the article."""
    secondary_region_ratio: float = 0.3
    """A further prose run is body too if it scores this share of the best run..."""
    secondary_region_gap: int = 12
    """...and lies at most this many lines away..."""
    secondary_region_far_gap: int = 40
    """...or this many, when no byline, date or "related" header lies between."""
    wrapped_line_min: int = 40
    wrapped_line_max: int = 200
    """Hard-wrapped text has a wrap width (95th percentile of line widths, in display
    columns) in this range: narrower text is a list or verse, wider is not wrapped."""
    wrapped_fill: float = 0.6
    """In a wrapped paragraph every line but the last is at least this share of the width."""


DEFAULT_OPTIONS = CleanOptions()


@dataclass(frozen=True, slots=True)
class Line:
    """One unit of the text: the index of its (first) line, its character span
    [start, end) and its normalised text. A unit is a line, or a paragraph of
    several lines in hard-wrapped text."""

    index: int
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Decision:
    """What the cleaner did with one non-blank line, and why."""

    line: Line
    keep: bool
    kind: str | None = None
    rule: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class CleanResult:
    """All decisions for one text, in line order."""

    decisions: tuple[Decision, ...]
    line_count: int

    @property
    def kept(self) -> list[Decision]:
        return [d for d in self.decisions if d.keep]

    @property
    def removed(self) -> list[Decision]:
        return [d for d in self.decisions if not d.keep]

    def of_kind(self, kind: str) -> list[Decision]:
        return [d for d in self.decisions if d.keep and d.kind == kind]

    @property
    def title(self) -> str | None:
        titles = self.of_kind("title")
        return titles[0].line.text if titles else None


# -- rules ---------------------------------------------------------------------------------------


def rules_digest(options: CleanOptions = DEFAULT_OPTIONS) -> str:
    """Digest of everything that decides: rules, patterns, word lists, thresholds, version."""
    return sha256_tagged(
        canonical_json(
            {
                "name": CLEANER_NAME,
                "version": CLEANER_VERSION,
                "rules": RULES,
                "patterns": R.patterns(),
                "options": asdict(options),
            }
        )
    )


# -- state -------------------------------------------------------------------------------------------


@dataclass
class _Page:
    """Everything known about the lines of one page while it is being cleaned."""

    lines: list[Line]
    feats: list[Features]
    rule: list[tuple[str, str] | None]
    prose: list[bool] = field(default_factory=list)
    positions: dict[str, list[int]] = field(default_factory=dict)

    def rule_id(self, i: int) -> str | None:
        rule = self.rule[i]
        return rule[0] if rule is not None else None

    def related_head(self, i: int) -> bool:
        return self.rule_id(i) == "related-links" and R.is_related_head(self.lines[i].text)

    def separator(self, i: int) -> bool:
        """A line that starts a new item: a byline or date, or a "related" header."""
        return self.rule_id(i) == "byline-dateline" or self.related_head(i)

    def count(self, i: int) -> int:
        return len(self.positions[self.lines[i].text])

    def next_unruled(self, i: int) -> int:
        j = i + 1
        while j < len(self.lines) and self.rule[j] is not None:
            j += 1
        return j


def _is_prose(f: Features, o: CleanOptions) -> bool:
    if f.lower_ratio is not None and f.lower_ratio < o.min_lower_ratio:
        return False
    if f.digit_ratio > 0.5:
        return False
    if f.words >= o.long_words and (f.end_punct or f.inner_punct >= 1):
        return True
    return f.words >= o.prose_words and (f.end_punct or f.end_colon)


def _units(text: str, o: CleanOptions) -> list[tuple[int, int, int]]:
    """(line index, start, end) of the units to classify: lines, except that in
    hard-wrapped text (as ``lynx -dump``, ``html2text``, e-mail and plain-text files
    write it) a paragraph of several lines between blank lines is one unit.

    A block of lines is a wrapped paragraph when every line but its last fills
    most of the text's wrap width (the 95th percentile of line widths, in display
    columns: East Asian wide characters count two, as text browsers wrap them) and most
    of them end mid-sentence; menus and lists in the same text, whose lines are
    short or end sentences, stay one unit per line. At least two such blocks are
    needed, so a page that merely has blank lines between sections is not merged.
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


def _page(text: str, o: CleanOptions) -> _Page:
    lines: list[Line] = []
    for index, start, end in _units(text, o):
        raw = text[start:end]
        normalised = normalise(raw)
        if normalised:
            # The span is trimmed to its first and last non-space character, so it
            # holds exactly what the normalised text came from.
            lead = len(raw) - len(raw.lstrip())
            trail = len(raw) - len(raw.rstrip())
            lines.append(Line(index, start + lead, end - trail, normalised))
    feats = [line_features(line.text) for line in lines]
    page = _Page(
        lines, feats, [explicit_rule(line.text, f) for line, f in zip(lines, feats, strict=True)]
    )
    page.prose = [_is_prose(f, o) and page.rule[i] is None for i, f in enumerate(feats)]
    positions: dict[str, list[int]] = defaultdict(list)
    for i, line in enumerate(lines):
        positions[line.text].append(i)
    page.positions = dict(positions)
    return page


# -- the algorithm ---------------------------------------------------------------------------------


def clean(text: str, options: CleanOptions = DEFAULT_OPTIONS) -> CleanResult:
    """Classify every non-blank line of ``text``; see the module docstring."""
    o = options
    line_count = len(split_lines(text))
    page = _page(text, o)
    if not page.lines:
        return CleanResult((), line_count)
    scores, barriers = _score_lines(page, o)
    regions = _regions(page, scores, barriers, o)
    title_at, standfirst_at, regions = _title_and_standfirst(page, regions, o)
    in_body = [False] * len(page.lines)
    for lo, hi in regions:
        for i in range(lo, hi + 1):
            in_body[i] = True
    short_text = not any(in_body[i] and page.prose[i] for i in range(len(page.lines)))
    body_start = min((lo for lo, _ in regions), default=len(page.lines))
    comment_start = next((b for b in barriers if b > body_start), None)
    barrier_set = set(barriers)
    title_text = page.lines[title_at].text if title_at is not None else None
    decisions: list[Decision] = []
    seen: set[str] = set()
    related_block = False

    def drop(line: Line, rule: str, reason: str) -> None:
        decisions.append(Decision(line, False, rule=rule, reason=reason))

    for i, line in enumerate(page.lines):
        rule = page.rule[i]
        if i == title_at:
            decisions.append(Decision(line, True, "title"))
        elif i in standfirst_at:
            decisions.append(Decision(line, True, "standfirst"))
        elif rule is not None:
            related_block = page.related_head(i)
            drop(line, *rule)
        elif i in barrier_set or (
            comment_start is not None and i > comment_start and not in_body[i]
        ):
            drop(line, "comments", "in the comment section")
        elif short_text and page.count(i) == 1:
            # No prose run at all (a note, a list, a one-line message): nothing to
            # tell apart, so every line no rule objects to is kept.
            decisions.append(Decision(line, True, "body"))
        elif not in_body[i]:
            drop(line, "outside-body", _outside_reason(page, i, o))
        elif related_block and not _resumes(page, i, o):
            drop(line, "related-links", "item of a related-links block")
        else:
            related_block = False
            if line.text == title_text:
                drop(line, "repeated", "repeats the title")
            elif page.count(i) > 1 and _drop_repeat(page, i, in_body, line.text in seen):
                drop(line, "repeated", f"appears {page.count(i)} times on the page")
            elif _followed_by_credit(page, i):
                drop(line, "caption", "followed by a picture credit")
            elif not page.prose[i] and not (
                _heading_like(page, i, in_body, decisions, o) or _list_item(page, i, in_body, o)
            ):
                drop(line, "fragment", "short non-prose line inside the body")
            else:
                decisions.append(Decision(line, True, "body"))
            seen.add(line.text)
    return CleanResult(tuple(decisions), line_count)


def _score(f: Features, ruled: bool, prose: bool, o: CleanOptions) -> float:
    """Positive for prose, negative for link-like furniture."""
    if ruled:
        return -o.rule_penalty
    if prose:
        bonus = 1.0 if f.lower_ratio is None else 0.5 + f.lower_ratio
        return min(f.words * bonus, o.prose_cap)
    if f.words <= o.short_words:
        return -o.fragment_penalty
    if f.end_punct and (f.lower_ratio is None or f.lower_ratio >= o.min_lower_ratio):
        return 1.0  # a short sentence
    if f.words >= o.long_words:
        return -1.0  # long but unpunctuated: as often a teaser headline as a sentence
    return -(o.medium_penalty + 0.15 * f.words)


def _score_lines(page: _Page, o: CleanOptions) -> tuple[list[float], list[int]]:
    """Per-line scores for the region search (walls at ``_WALL``), and the comment barriers."""
    n = len(page.lines)
    scores = [
        _score(f, page.rule[i] is not None, page.prose[i], o) for i, f in enumerate(page.feats)
    ]
    for i in range(n):
        if page.separator(i):
            scores[i] = -o.separator_penalty
        elif page.prose[i] and not _has_prose_neighbour(page, i):
            scores[i] *= o.isolated_prose_factor
        if page.count(i) > 1:
            # Furniture repeats (meta blocks, captions, share rows): a repeated
            # line never pulls the region towards itself.
            scores[i] = min(scores[i], -1.0)
    run = 0
    for i in range(n):
        if scores[i] <= 0:
            run += 1
            if run > o.run_free:
                scores[i] -= min(o.run_escalation * (run - o.run_free), o.run_escalation_cap)
        else:
            run = 0
    barriers = _comment_barriers(page)
    for wall in set(barriers) | set(_hard_breaks(page, scores, o)):
        scores[wall] = _WALL
    return scores, barriers


def _has_prose_neighbour(page: _Page, i: int) -> bool:
    """Lines dropped by an explicit rule (ad labels, credits) do not separate neighbours."""
    n = len(page.lines)
    for step in (-1, 1):
        j = i + step
        while 0 <= j < n and page.rule[j] is not None:
            j += step
        if 0 <= j < n and page.prose[j]:
            return True
    return False


def _comment_barriers(page: _Page) -> list[int]:
    """Lines that open a comment section: a header ("34 responses to ...", "Leave a
    Reply"), or the first of two commenter signatures ("alice says:") close together."""
    barriers = []
    signatures = {
        i for i, line in enumerate(page.lines) if R.is_comment_signature(line.text, page.feats[i])
    }
    for i, line in enumerate(page.lines):
        if R.opens_comment_section(line.text, page.feats[i]):
            barriers.append(i)
        elif i in signatures and any(j in signatures for j in range(i + 1, i + 8)):
            barriers.append(i)
            signatures = {j for j in signatures if j >= i + 200}
    return barriers


def _hard_breaks(page: _Page, scores: list[float], o: CleanOptions) -> list[int]:
    """A long run of non-prose lines holding a "related" header: the article ended there."""
    walls: list[int] = []
    i = 0
    n = len(scores)
    while i < n:
        if scores[i] > 0:
            i += 1
            continue
        j = i
        while j < n and scores[j] <= 0:
            j += 1
        if j - i >= o.hard_break_run:
            heads = [k for k in range(i, j) if page.related_head(k)]
            if heads:
                walls.append(heads[-1])
        i = j
    return walls


def _max_subarray(scores: list[float], lo: int, hi: int) -> tuple[int, int, float] | None:
    """(start, end, sum) of the maximum-sum run within [lo, hi] (Kadane), None if all <= 0."""
    best: tuple[int, int, float] | None = None
    run_start = lo
    run = 0.0
    for i in range(lo, hi + 1):
        if run <= 0:
            run_start = i
            run = 0.0
        run += scores[i]
        if run > 0 and (best is None or run > best[2]):
            best = (run_start, i, run)
    return best


def _regions(
    page: _Page, scores: list[float], barriers: list[int], o: CleanOptions
) -> list[tuple[int, int]]:
    """The best-scoring run of lines, plus nearby strong runs (an article split by a
    gallery, an ad slot or an embedded list). The article comes before its comments:
    the first segment between comment walls holding a substantial run wins."""
    n = len(scores)
    best = _max_subarray(scores, 0, n - 1)
    if best is None:
        return []
    if barriers:
        floor = max(o.min_article_score, o.first_segment_ratio * best[2])
        bounds = [-1, *barriers, n]
        for a, b in pairwise(bounds):
            cand = _max_subarray(scores, a + 1, b - 1) if b - 1 >= a + 1 else None
            if cand is not None and cand[2] >= floor:
                best = cand
                break
    lo, hi, total = best
    regions = [(lo, hi)]
    above_limit = max((b for b in barriers if b < lo), default=-1) + 1
    below_limit = min((b for b in barriers if b > hi), default=n) - 1
    reach = o.secondary_region_far_gap + 200
    for direction in (-1, 1):
        edge_lo, edge_hi = lo, hi
        while True:
            if direction < 0:
                search = (max(above_limit, edge_lo - 1 - reach), edge_lo - 1)
            else:
                search = (edge_hi + 1, min(below_limit, edge_hi + 1 + reach))
            cand = _max_subarray(scores, *search) if search[1] >= search[0] else None
            if cand is None:
                break
            c_lo, c_hi, c_total = cand
            gap = range(c_hi + 1, edge_lo) if direction < 0 else range(edge_hi + 1, c_lo)
            # Close runs join; farther ones only if nothing between starts a new
            # item (a byline, a date, a "related" header) and nothing is a wall.
            clean_gap = all(scores[k] > _WALL / 2 and not page.separator(k) for k in gap)
            max_gap = o.secondary_region_far_gap if clean_gap else o.secondary_region_gap
            prose_lines = sum(1 for k in range(c_lo, c_hi + 1) if page.prose[k])
            if c_total < o.secondary_region_ratio * total or len(gap) > max_gap or prose_lines < 2:
                break
            regions.append((c_lo, c_hi))
            edge_lo, edge_hi = min(edge_lo, c_lo), max(edge_hi, c_hi)
    return sorted(regions)


# -- title and standfirst ------------------------------------------------------------------------

_ANCHORS = ("byline-dateline", "reading-time", "share-social", "caption-credit", "trust-badge")
_STRONG_ANCHORS = ("byline-dateline", "reading-time", "trust-badge")


def _anchors_after(page: _Page, i: int, kinds: tuple[str, ...]) -> int:
    return sum(1 for j in range(i + 1, min(len(page.lines), i + 6)) if page.rule_id(j) in kinds)


def _headline_like(page: _Page, i: int, o: CleanOptions) -> bool:
    f = page.feats[i]
    text = page.lines[i].text
    if page.rule[i] is not None or f.words < 3 or f.words > o.title_max_words:
        return False
    if f.digit_ratio > 0.4:
        return False
    return not (text.endswith(".") and not text.endswith("..."))


def _title_and_standfirst(
    page: _Page, regions: list[tuple[int, int]], o: CleanOptions
) -> tuple[int | None, set[int], list[tuple[int, int]]]:
    """The title, the standfirst, and the body regions (which may now start below
    the title: a title with a byline and date under it marks where the article
    starts, and what precedes it is a teaser list however prose-like)."""
    if not regions:
        return None, set(), regions
    body_lo, body_hi = regions[0][0], regions[-1][1]
    best: tuple[float, int] | None = None
    for i in range(max(0, body_lo - o.title_window), min(body_hi, body_lo + 25) + 1):
        if not _headline_like(page, i, o):
            continue
        f = page.feats[i]
        if i >= body_lo and (
            (page.prose[i] and f.end_punct)
            or f.words > 20
            or not _anchors_after(page, i, _STRONG_ANCHORS)
        ):
            continue
        anchored = _anchors_after(page, i, _ANCHORS)
        score = 10.0 - 0.3 * abs(body_lo - i) + min(f.words, 14) * 0.3
        if anchored:
            score += 4.0 + anchored
        if page.count(i) > 1:
            score += 1.0
        if best is None or score > best[0]:
            best = (score, i)
    if best is None:
        return None, set(), regions
    title = best[1]
    standfirst: set[int] = set()
    prev = title - 1
    if (
        prev >= 0
        and _headline_like(page, prev, o)
        and page.feats[prev].words < page.feats[title].words
        and page.feats[title].words >= o.prose_words
        and (page.feats[title].lower_ratio or 1.0) >= 0.5
    ):
        # Headline, then a longer sentence-like line, then the byline: the line
        # nearest the body is the standfirst (dek) and the one above it the title.
        standfirst.add(title)
        title = prev
    j = page.next_unruled(title)
    if not standfirst and j < len(page.lines) and j <= title + 4:
        f = page.feats[j]
        if f.words >= o.prose_words and (
            f.lower_ratio is None or f.lower_ratio >= o.min_lower_ratio
        ):
            # Set apart from the body by a byline, date or credit (an ad slot alone
            # does not count: ads sit between body paragraphs too).
            k = j + 1
            separated = False
            while k < len(page.lines) and page.rule[k] is not None:
                separated = separated or page.rule_id(k) != "ad-label"
                k += 1
            if separated:
                standfirst.add(j)
    if title >= body_lo:
        start = max([title, *standfirst]) + 1
        before = sum(1 for i in range(body_lo, title) if page.prose[i])
        after = sum(1 for i in range(start, body_hi + 1) if page.prose[i])
        if after * (3 if _anchors_after(page, title, _ANCHORS) >= 2 else 1) >= before:
            regions = [(max(lo, start), hi) for lo, hi in regions if hi >= start]
    return title, standfirst, regions


# -- inside the body -----------------------------------------------------------------------------


def _outside_reason(page: _Page, i: int, o: CleanOptions) -> str:
    if page.feats[i].words <= o.short_words + 2:
        return "short link-like line outside the article body"
    if page.prose[i]:
        return "prose outside the main article region (teaser, promo or sidebar)"
    return "outside the main prose region"


def _resumes(page: _Page, i: int, o: CleanOptions) -> bool:
    """After a "related" header, the article resumes with two prose lines in a row
    (teaser summaries come one at a time, between headlines) or a long paragraph."""
    if not page.prose[i]:
        return False
    nxt = page.next_unruled(i)
    return page.feats[i].words >= 2 * o.long_words or (nxt < len(page.lines) and page.prose[nxt])


def _followed_by_credit(page: _Page, i: int) -> bool:
    """A caption: a line directly followed by a picture-credit line."""
    nxt = i + 1
    return (
        nxt < len(page.lines)
        and page.rule_id(nxt) == "caption-credit"
        and page.feats[i].words <= 40
        and page.lines[nxt].index - page.lines[i].index <= 1
    )


def _drop_repeat(page: _Page, i: int, in_body: list[bool], seen_before: bool) -> bool:
    """Whether a line that occurs more than once is furniture.

    Repeats next to each other are captions shown twice; a repeat that also occurs
    outside the body is navigation or a meta block. Repeats that all sit inside the
    body are structure (the same question put to each interviewee) and stay."""
    where = page.positions[page.lines[i].text]
    if any(b - a <= 2 for a, b in pairwise(where)):
        return True
    if not all(in_body[j] for j in where):
        return seen_before or not page.prose[i]
    return False


def _heading_like(
    page: _Page, i: int, in_body: list[bool], decided: list[Decision], o: CleanOptions
) -> bool:
    """A non-prose body line stays when it reads as a sub-heading (prose follows it),
    an item after a line ending in ':' or ';', or a long unpunctuated sentence."""
    f = page.feats[i]
    if f.tokens == 0 or f.digit_ratio > 0.6:
        return False
    if f.words > o.heading_max_words:
        return f.lower_ratio is None or f.lower_ratio >= 0.5
    prev = decided[-1] if decided else None
    if prev is not None and prev.keep and prev.kind == "body":
        if prev.line.text.endswith(":"):
            return True
        if (
            not page.prose[i - 1]
            and page.feats[i - 1].words <= o.heading_max_words
            and prev.line.text.endswith(";")
        ):
            return True
    nxt = i + 1
    while nxt < len(page.lines) and page.rule_id(nxt) == "ad-label":
        nxt += 1
    sentence = f.end_punct and (f.lower_ratio is None or f.lower_ratio >= o.min_lower_ratio)
    return (
        nxt < len(page.lines)
        and in_body[nxt]
        and page.prose[nxt]
        and (sentence or (i > 0 and in_body[i - 1]))
    )


def _list_item(page: _Page, i: int, in_body: list[bool], o: CleanOptions) -> bool:
    """A short line with body prose a few lines away on both sides that looks like a
    list item or a Q&A line: menus are title-case one- to three-word links, list
    items carry lower-case words, digits or punctuation."""
    f = page.feats[i]
    if f.tokens == 0:
        return False
    lo, hi = max(0, i - o.list_window), min(len(page.lines), i + o.list_window + 1)
    if not any(page.prose[j] and in_body[j] for j in range(lo, i)):
        return False
    if not any(page.prose[j] and in_body[j] for j in range(i + 1, hi)):
        return False
    return not (f.tokens <= 3 and f.title_case) and f.lower_ratio != 0.0
