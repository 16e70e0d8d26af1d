"""The cleaner: which lines of a document are its text, and why the others are not.

Contract: :func:`clean` is pure. It takes decoded text and :class:`CleanOptions`
and returns a :class:`CleanResult`: the page verdict, one :class:`Decision` per
non-blank unit (kept as ``title``, ``standfirst``, ``byline``, ``dateline`` or
``body``, or dropped with the id of the rule that dropped it and a short
reason) and the publication date its byline or dateline states. No I/O, no
mutable globals, no reason that lives only in a log. :func:`keep_all` keeps
every unit without judging.

For an archive a dropped line of the text is a silent failure, so a line is
dropped only on evidence that it is boilerplate (issue #11).

How it decides:

0. Units (:mod:`.units`): each line is one, except that in hard-wrapped text
   (text-browser dumps, e-mail, plain-text files) a paragraph wrapped over
   several lines between blank lines is one unit; menus and lists stay one unit
   per line.
1. Features and explicit rules (:mod:`.rules`): every line is measured
   (effective words, where scripts without spaces count characters; sentence
   punctuation; share of lower-case words; digits), and boilerplate that is
   boilerplate anywhere is recognised by rule families with words in several
   languages: ad labels, reading times, trust badges, captions and credits,
   share/newsletter/related-link lines, counters, bylines, legal text, and
   the controls of an embedded video player (a run of Video.js's own labels).
2. Is it a page scrape at all (:mod:`.verdict`)? Only a document showing the
   signs of a web page (chrome, menus, link runs, a thin body among furniture)
   is cleaned as one; any other (a licence, a changelog, a man page, a README,
   an e-mail, a book, code) keeps every line, its title being its first
   heading-like line or none (:mod:`.plain`).
3. In a page the body is found statistically. Each line scores positive when it
   reads as prose (long, punctuated, mostly lower-case), zero when it reads as a
   sentence or as code, and negative when it reads as furniture. Prose with no
   prose neighbour counts less (teaser summaries come one at a time between
   headlines); bylines, dates and "related" headers cost more (they start new
   items); long runs of non-prose lines cost more the longer they get; repeated
   lines never count as prose, unless the page holds the article twice. The
   body is the maximum-scoring contiguous run (maximum subarray), extended by
   strong runs nearby. Comment-section headers are walls (the article comes
   before its comments, and before one a short story will do), and so is every
   stamp or signature of a comment thread and a long non-prose run holding a
   "related" header. A header with only a short run before it and an
   article-sized run, three times stronger, after it is a link in the meta row
   ("Comments" above the story), not the start of the comments.
4. The title is the headline-like line nearest above the body, preferring one
   followed by a byline, dateline or credit; when such an anchored title sits
   inside the run, the body starts below it. The standfirst is a prose line
   between title and body that a byline, date or credit sets apart. Bylines and
   datelines around the title or inside the body are the article's own: kept.
5. Inside the body, rule hits, repeats (shown twice in a row, or also outside
   the body), captions (a line ending no sentence, followed by a credit) and link
   items under a "related" header (the block ends at the first prose paragraph)
   are dropped. A short line is no evidence of furniture: sub-headings, list
   items, Q&A lines, names and ingredients stay. Code, data tables
   scraped one cell a line (also just before or after the body), and
   corrections, editor's notes and updates (also just after the body) are kept.
   A picture gallery scraped into the article (slide counters "1/n" to "n/n", all
   of them) is neutral in the region search and dropped, unless no article is
   left without it (a photo post, whose gallery is its text).

The cleaner is versioned: :data:`CLEANER_VERSION` changes whenever a decision
could change, and :func:`rules_digest` hashes rules, patterns, thresholds and
the date rules, so a derivation records exactly which cleaner produced it. The
thresholds were set on all four labelled folders of the shared corpus together
(news pages of three sources and plain documents, token F1, see
``scripts/eval-cleaner``); each rule is written for what it means, not for a page.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from itertools import pairwise

from ..digests import canonical_json, sha256_tagged
from . import dates, plain, player_strings
from . import rules as R
from .options import DEFAULT_OPTIONS, CleanOptions
from .rules import RULES, Features
from .text import split_lines
from .units import Line, Page, build_page
from .verdict import PageVerdict, judge_page

__all__ = [
    "CLEANER_NAME",
    "CLEANER_VERSION",
    "DEFAULT_OPTIONS",
    "KEEP_ALL_NAME",
    "KINDS",
    "RULES",
    "CleanOptions",
    "CleanResult",
    "Decision",
    "Line",
    "PageVerdict",
    "clean",
    "keep_all",
    "rules_digest",
]

CLEANER_NAME = "provarchive-clean"
KEEP_ALL_NAME = "provarchive-keep-all"
CLEANER_VERSION = "2.7.0"

KINDS = ("title", "standfirst", "byline", "dateline", "body")
"""Kinds of kept passages."""

_WALL = -1e9


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
    """All decisions for one text, in line order, the page verdict (None when the
    document was kept whole without judging it) and the publication date found in
    its byline or dateline (ISO ``YYYY-MM-DD``, or None)."""

    decisions: tuple[Decision, ...]
    line_count: int
    page: PageVerdict | None = None
    published: str | None = None

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


@functools.lru_cache(maxsize=32)
def rules_digest(options: CleanOptions = DEFAULT_OPTIONS, cleaner: str = CLEANER_NAME) -> str:
    """Digest of everything that decides: rules, patterns, word lists, thresholds, version."""
    return sha256_tagged(
        canonical_json(
            {
                "name": cleaner,
                "version": CLEANER_VERSION,
                "rules": RULES,
                "patterns": R.patterns(),
                "options": asdict(options),
                "dates": dates.RULES,
                "signs": {"chrome": R.CHROME_SIGNS, "weak": R.WEAK_SIGNS},
                "player": {
                    "source": player_strings.SOURCE,
                    "distinctive": sorted(player_strings.DISTINCTIVE),
                    "common": sorted(player_strings.COMMON),
                },
            }
        )
    )


# -- the algorithm ---------------------------------------------------------------------------------


def clean(text: str, options: CleanOptions = DEFAULT_OPTIONS) -> CleanResult:
    """Classify every non-blank line of ``text``; see the module docstring."""
    o = options
    line_count = len(split_lines(text))
    page = build_page(text, o)
    verdict = judge_page(page, o)
    if not page.lines:
        return CleanResult((), line_count, verdict)
    decisions = _clean_page(page, o) if verdict.is_page else _keep_every_line(page, o)
    return CleanResult(decisions, line_count, verdict, _published(decisions))


def keep_all(text: str, options: CleanOptions = DEFAULT_OPTIONS) -> CleanResult:
    """Keep every non-blank unit of ``text`` without judging it (``--keep-all``)."""
    page = build_page(text, options)
    decisions = _keep_every_line(page, options)
    return CleanResult(decisions, len(split_lines(text)), None, _published(decisions))


def _published(decisions: tuple[Decision, ...]) -> str | None:
    """The first date stated in a dateline or byline, preferring one that is not an update."""
    meta = [d.line.text for d in decisions if d.keep and d.kind in ("dateline", "byline")]
    meta.sort(key=lambda t: R.is_update_line(t))
    for text in meta:
        found = dates.parse_date(text)
        if found is not None:
            return found
    return None


def _keep_every_line(page: Page, o: CleanOptions) -> tuple[Decision, ...]:
    """A document that is not a page scrape: every unit is kept. The title is its
    first heading-like line (or none); bylines and dates before the text starts
    are the document's own (kinds ``byline`` and ``dateline``)."""
    title_at = plain.title_line(page, o)
    decisions = []
    header = True
    for i, line in enumerate(page.lines):
        kind = "body"
        if i == title_at:
            kind = "title"
        elif header and (meta := _meta_kind(page, i)) is not None:
            kind = meta
        elif i > (title_at if title_at is not None else -1):
            header = False
        decisions.append(Decision(line, True, kind))
    return tuple(decisions)


def _meta_kind(page: Page, i: int) -> str | None:
    """``byline`` or ``dateline`` for a byline or date line, else None."""
    rule = page.rule[i]
    if rule is None:
        return "dateline" if page.dateish[i] and not page.prose[i] else None
    if rule[0] != "byline-dateline":
        return None
    if rule[1] == "byline":
        return "byline"
    return "dateline" if rule[1] in ("publication/update time", "date or time") else None


def _clean_page(page: Page, o: CleanOptions) -> tuple[Decision, ...]:
    """The page algorithm: find the article among the chrome (module docstring)."""
    n = len(page.lines)
    scores, barriers, thread = _score_lines_without_gallery(page, o)
    regions = _regions(page, scores, barriers, thread, o)
    title_at, standfirst_at, regions = _title_and_standfirst(page, regions, scores, o)
    in_body = [False] * n
    for lo, hi in regions:
        for i in range(lo, hi + 1):
            in_body[i] = True
    short_text = not any(in_body[i] and page.prose[i] for i in range(n))
    body_start = min((lo for lo, _ in regions), default=n)
    body_end = max((hi for _, hi in regions), default=-1)
    comment_start = next((b for b in barriers if b > body_start), None)
    meta_from = min(x for x in (title_at, body_start, n) if x is not None) - o.meta_window
    tail = _tail_notes(page, body_end, comment_start, o) | _clause_list(
        page, body_end, comment_start, o
    )
    table = _tables(page, regions, o)
    barrier_set = set(barriers)
    title_text = page.lines[title_at].text if title_at is not None else None
    decisions: list[Decision] = []
    seen: set[str] = set()
    related_block = False

    def drop(line: Line, rule: str, reason: str) -> None:
        decisions.append(Decision(line, False, rule=rule, reason=reason))

    for i, line in enumerate(page.lines):
        rule = page.rule[i]
        meta = _meta_kind(page, i)
        if i == title_at:
            decisions.append(Decision(line, True, "title"))
        elif i in standfirst_at:
            decisions.append(Decision(line, True, "standfirst"))
        elif (
            meta is not None
            and (in_body[i] or meta_from <= i < body_start)
            and (page.count(i) == 1)
        ):
            decisions.append(Decision(line, True, meta))
        elif i in tail or i in table:
            decisions.append(Decision(line, True, "body"))
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
        elif related_block and not page.prose[i]:
            drop(line, "related-links", "item of a related-links block")
        else:
            # A related-links block ends at the first prose paragraph after it.
            related_block = False
            if line.text == title_text:
                drop(line, "repeated", "repeats the title")
            elif page.count(i) > 1 and _drop_repeat(page, i, in_body, line.text in seen):
                drop(line, "repeated", f"appears {page.count(i)} times on the page")
            elif _followed_by_credit(page, i):
                drop(line, "caption", "followed by a picture credit")
            else:
                # A short line inside the body is no evidence of furniture: a
                # sub-heading, a list item, an ingredient, a name in a list.
                decisions.append(Decision(line, True, "body"))
            seen.add(line.text)
    return tuple(decisions)


def _score_lines_without_gallery(
    page: Page, o: CleanOptions
) -> tuple[list[float], list[int], int | None]:
    """:func:`_score_lines`, with the slides of a picture gallery embedded in an
    article (:func:`_gallery`) ruled ``gallery``: neutral in the region search, like
    an embedded player, and dropped. A gallery's captions are prose, often more of
    it than the article they sit in (readability's bug-1255978: 50 captions between
    an article's fifth and sixth tips), so they win the region or join it. They
    are dropped only when, without them, an article-sized run (at least
    :attr:`CleanOptions.min_article_score`) is left in the run they were part of;
    otherwise the gallery is the page's text (a photo post: a paragraph and its
    gallery, dragnet's 201) and stays."""
    scored = _score_lines(page, o)
    gallery = _gallery(page, o)
    if not gallery:
        return scored
    last = len(page.lines) - 1
    around = _max_subarray(scored[0], 0, last)
    saved = {i: (page.rule[i], page.prose[i], page.code[i]) for i in gallery}
    for i, reason in gallery.items():
        page.rule[i] = ("gallery", reason)
        page.prose[i] = page.code[i] = False
    without = _score_lines(page, o)
    best = _max_subarray(without[0], 0, last)
    if (
        best is not None
        and around is not None
        and best[2] >= o.min_article_score
        and best[0] <= around[1]
        and around[0] <= best[1]
    ):
        return without
    for i, (rule, prose, code) in saved.items():
        page.rule[i], page.prose[i], page.code[i] = rule, prose, code
    return scored


def _gallery(page: Page, o: CleanOptions) -> dict[int, str]:
    """The lines of picture galleries scraped into the page, with the reason
    to drop each: slide counters "1/n" to "n/n" (:func:`provarchive.cleaning.rules.slide_counter`),
    all n of them in order and close together (a date, a ratio or a numbered
    step is no such run), and the lines of each slide. A counter carrying text
    ("1/50 United goin down") heads its slide, so the last slide runs on after
    the last counter, over as many unruled lines as the shortest slide before it
    holds; a bare counter ("1 of 6") may close its slide instead, when the lines
    before the first one read like the captions (prose) and those after the last
    do not. A short line just above the first slide stating the count ("50 show
    all") is the gallery's header."""
    n = len(page.lines)
    runs: list[list[int]] = []
    run: list[int] = []
    total = 0
    for i in range(n):
        counter = R.slide_counter(page.lines[i].text)
        if counter is None:
            continue
        k, m = counter
        if run and m == total and k == len(run) + 1 and i - run[-1] <= o.gallery_slide_lines:
            run.append(i)
        else:
            run, total = ([i], m) if k == 1 else ([], 0)
        if run and len(run) == total and total >= o.gallery_min_slides:
            runs.append(run)
            run, total = [], 0
    out: dict[int, str] = {}
    for run in runs:
        lo, hi = run[0], run[-1]
        unruled = [sum(page.rule[j] is None for j in range(a + 1, b)) for a, b in pairwise(run)]
        share = min(unruled)
        after = _unruled_lines(page, hi, share, 1)
        before = _unruled_lines(page, lo, share, -1)
        bare = all(R.bare_slide_counter(page.lines[i].text) for i in run)
        if (
            share
            and bare
            and all(page.prose[j] for j in before)
            and not all(page.prose[j] for j in after)
        ):
            lo = min(before, default=lo)
        else:
            hi = max(after, default=hi)
        count = str(len(run))
        for j in range(lo - 1, max(-1, lo - 3), -1):
            if page.prose[j]:
                break
            if count in page.lines[j].text.split():
                lo = j
        # Its picture credits too: the gallery is one block, neutral as a whole.
        out.update(dict.fromkeys(range(lo, hi + 1), f"slide of a picture gallery ({count} slides)"))
    return out


def _unruled_lines(page: Page, i: int, count: int, step: int) -> list[int]:
    """The first ``count`` unruled lines from line ``i`` on in direction ``step``."""
    out: list[int] = []
    j = i + step
    while 0 <= j < len(page.lines) and len(out) < count:
        if page.rule[j] is None:
            out.append(j)
        j += step
    return out


def _tables(page: Page, regions: list[tuple[int, int]], o: CleanOptions) -> set[int]:
    """The cells of data tables in or next to the body: a run of at least
    :attr:`CleanOptions.table_min_lines` short lines (no rule but "counter") of which
    at least :attr:`CleanOptions.table_numeric_share` are numbers ("$83", "28.7%",
    "1,486"), starting or ending within :attr:`CleanOptions.table_gap` lines of a body
    region, with numbers and labels in rows that repeat (:func:`_rows`). A scrape
    gives every cell of a table a line, so its numbers look like lone counters
    (dev's NASCAR standings, dragnet's T28 price tables); a share row or a comment's
    votes is broken up by its buttons, a chart's axis ticks have no rows."""
    n = len(page.lines)
    out: set[int] = set()
    i = 0
    while i < n:
        j = i
        while j < n and _cell(page, j, o):
            j += 1
        numeric = [page.feats[k].digit_ratio >= 0.5 for k in range(i, j)]
        period = _rows(numeric, o) if j - i >= o.table_min_lines else None
        if period is not None:
            # The table ends with its last whole row like the one above it: the short
            # lines after it ("About us") are the page's.
            end = period * (len(numeric) // period)
            while (
                end >= 2 * period
                and numeric[end - period : end] != numeric[end - 2 * period : end - period]
            ):
                end -= period
            if sum(numeric[:end]) >= o.table_numeric_share * end and any(
                lo - o.table_gap <= i + end - 1 and i <= hi + o.table_gap for lo, hi in regions
            ):
                out.update(range(i, i + end))
        i = max(j, i + 1)
    return out


def _rows(numeric: list[bool], o: CleanOptions) -> int | None:
    """The row length of a table whose cells are numbers or labels in a pattern that
    repeats row after row ("Phoenix", "$83", "28.7%", "-2.1%", "Inland Empire", ...),
    at least three rows of it under a header row; None when there is none (a chart's
    axis ticks, a list)."""
    for period in range(2, o.table_max_columns + 1):
        # The first row may be the header: rows are compared from the second on.
        pairs = range(period, len(numeric) - period)
        if len(pairs) < period:
            break
        row = numeric[-period:]
        if all(row) or not any(row):
            continue
        same = sum(numeric[k] == numeric[k + period] for k in pairs)
        if same >= o.table_regularity * len(pairs):
            return period
    return None


def _cell(page: Page, i: int, o: CleanOptions) -> bool:
    f = page.feats[i]
    return (
        not page.prose[i]
        and f.tokens > 0
        and f.words <= o.table_cell_words
        and page.rule_id(i) in (None, "counter")
    )


def _tail_notes(page: Page, body_end: int, stop: int | None, o: CleanOptions) -> set[int]:
    """Corrections, editor's notes and updates just after the body: the article's own."""
    out: set[int] = set()
    i, seen = body_end + 1, 0
    end = stop if stop is not None else len(page.lines)
    while 0 < i < end and seen < o.tail_window:
        if R.is_article_note(page.lines[i].text):
            out.add(i)
        elif page.rule[i] is None:
            seen += 1
        i += 1
    return out


def _clause_list(page: Page, body_end: int, stop: int | None, o: CleanOptions) -> set[int]:
    """A sentence the article goes on with as a list, one clause a line, each ending
    in a semicolon ("In a car;" / "at the office;" / ... / "dance where you are."),
    right after the body: at least :attr:`CleanOptions.clause_list_min` such lines, and
    the line closing the sentence. No menu or teaser ends its items so (dragnet's 445)."""
    end = stop if stop is not None else len(page.lines)
    i = body_end + 1
    while 0 < i < end and page.rule[i] is None and page.lines[i].text.endswith((";", "；")):
        i += 1
    if i - (body_end + 1) < o.clause_list_min:
        return set()
    out = set(range(body_end + 1, i))
    if i < end and page.rule[i] is None and page.feats[i].end_punct:
        out.add(i)
    return out


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
    if _sentence_like(f, o):
        return o.sentence_score  # reads as a sentence (a list item, a clause): not furniture
    if f.words >= o.long_words:
        return -1.0  # long but unpunctuated: as often a teaser headline as a sentence
    return -(o.medium_penalty + 0.15 * f.words)


def _sentence_like(f: Features, o: CleanOptions) -> bool:
    """Long enough and mostly lower case; in a script without case (Chinese, Japanese),
    where case tells nothing, long enough."""
    if f.words < o.sentence_words:
        return False
    return f.lower_ratio is None or f.lower_ratio >= o.sentence_lower_ratio


def _score_lines(page: Page, o: CleanOptions) -> tuple[list[float], list[int], int | None]:
    """Per-line scores for the region search (walls at ``_WALL``), the comment barriers
    and where the first comment thread starts (None: no thread)."""
    n = len(page.lines)
    scores = [
        _score(f, page.rule[i] is not None, page.prose[i], o) for i, f in enumerate(page.feats)
    ]
    copied = _first_copy(page, o)
    thread = _thread_marks(page, o)
    lead = _lead(page, set(thread), o)
    for i in range(n):
        if i in lead:
            scores[i] = min(page.feats[i].words, o.prose_cap) + o.lead_bonus
        elif page.separator(i):
            scores[i] = -o.separator_penalty
        elif page.prose[i] and not _has_prose_neighbour(page, i):
            scores[i] *= (
                o.bridged_prose_factor
                if _bridged_sides(page, i, o) >= (1 if page.feats[i].words >= o.long_words else 2)
                else o.isolated_prose_factor
            )
        if page.count(i) > 1 and i not in copied:
            # Furniture repeats (meta blocks, captions, share rows): a repeated
            # line never pulls the region towards itself.
            scores[i] = min(scores[i], -1.0)
    run = 0
    for i in range(n):
        if page.code[i] or page.rule_id(i) in ("media-player", "gallery"):
            # A code block in a technical article neither pulls nor pushes the region,
            # and does not count as a run of furniture (readability's 002: a tutorial);
            # nor does a video player embedded in the article, however many lines
            # its control bar and caption dialog take, nor a picture gallery's slides.
            scores[i] = 0.0
        elif scores[i] <= 0:
            run += 1
            if run > o.run_free:
                scores[i] -= min(o.run_escalation * (run - o.run_free), o.run_escalation_cap)
        else:
            run = 0
    barriers = _comment_barriers(page, thread)
    for wall in set(barriers) | set(_hard_breaks(page, scores, o)):
        scores[wall] = _WALL
    return scores, barriers, (thread[0] if thread else None)


def _lead(page: Page, thread: set[int], o: CleanOptions) -> set[int]:
    """The first lines of text under the page's first headline set off by a byline or
    date ("Thursday, August 9, 2012" / a title / "Tweet" / the post): a post of one
    or two paragraphs must not lose to a longer blurb in the sidebar. Lines of at
    least :attr:`CleanOptions.sentence_words` words, up to
    :attr:`CleanOptions.lead_lines` of them, before the next furniture line."""
    n = len(page.lines)
    for i in range(n):
        first_byline = i == min(thread, default=-1) and _meta_kind(page, i) == "byline"
        if page.rule_id(i) != "byline-dateline" or page.count(i) > 1:
            continue
        if i in thread and not first_byline:
            continue  # a comment's stamp is no article's (the first byline may be)
        if i > 0 and page.signature[i - 1]:
            continue
        heads = [
            j
            for j in (i - 1, i + 1)
            if 0 <= j < n
            and not page.prose[j]
            and not page.lines[j].text.endswith(":")
            and _headline_like(page, j, o)
        ]
        if not heads:
            continue
        out: set[int] = set()
        j = max(i, *heads) + 1
        while j < n and len(out) < o.lead_lines and j <= i + o.lead_window:
            f = page.feats[j]
            if page.rule[j] is not None:
                if page.separator(j):
                    break
            elif page.count(j) == 1 and (page.prose[j] or f.words >= o.sentence_words):
                out.add(j)
            elif out:
                break
            j += 1
        # A longer article is found without help: only a short post needs it.
        if out and page.prose[min(page.next_unruled(max(out)), n - 1)]:
            return set()
        return out
    return set()


def _first_copy(page: Page, o: CleanOptions) -> set[int]:
    """Lines of the first copy of text the page holds twice, in the same order, at
    least :attr:`CleanOptions.copy_block` prose lines in a row: a hidden or printable
    copy of the article (dragnet's TypePad blogs), whose first copy is the article.
    Furniture repeats a line at a time, captions of a gallery one by one."""
    out: set[int] = set()
    k = o.copy_block
    for i in range(len(page.lines) - k + 1):
        block = range(i, i + k)
        if not all(page.prose[j] and page.positions[page.lines[j].text][0] == j for j in block):
            continue
        if _near_duplicates(page, block):
            continue  # one caption in full and cut short ("... more") is no text copied
        seconds = [page.positions[page.lines[j].text][1:2] for j in block]
        if all(seconds) and all(seconds[m][0] == seconds[0][0] + m for m in range(k)):
            out.update(block)
    return out


def _near_duplicates(page: Page, block: range) -> bool:
    """Whether two lines of ``block`` open alike (the same caption, full and truncated)."""
    heads = [page.lines[j].text[:40] for j in block]
    return len(set(heads)) < len(heads)


def _bridged_sides(page: Page, i: int, o: CleanOptions) -> int:
    """On how many sides prose follows across one sub-heading-like line (short, no rule):
    an article split by sub-headings, not a teaser between headlines."""
    n = len(page.lines)
    sides = 0
    for step in (-1, 1):
        j, k = i + step, i + 2 * step
        if (
            0 <= k < n
            and page.prose[k]
            and page.rule[j] is None
            and page.feats[j].words <= o.heading_max_words
            and page.feats[k].words >= o.bridged_min_words
        ):
            sides += 1
    return sides


def _has_prose_neighbour(page: Page, i: int) -> bool:
    """Lines dropped by an explicit rule (ad labels, credits) do not separate neighbours;
    a teaser's headline link does: it starts another item (dragnet's T83, summaries
    under "... [Video]" headlines)."""
    n = len(page.lines)
    for step in (-1, 1):
        j = i + step
        while 0 <= j < n and page.rule[j] is not None and not _teaser_link(page, j):
            j += step
        if 0 <= j < n and page.prose[j]:
            return True
    return False


def _teaser_link(page: Page, i: int) -> bool:
    """A teaser link standing for another item (bracketed, or with a count). A "related"
    header does not separate: the block it opens ends at the first prose paragraph
    after it (#11), and an inline "Related: ..." link sits between an article's own
    paragraphs (readability's cnn)."""
    rule = page.rule[i]
    return rule is not None and rule[1] in _TEASER_REASONS


_TEASER_REASONS = frozenset({"bracketed teaser link", "teaser link with a count"})


def _comment_barriers(page: Page, thread: list[int]) -> list[int]:
    """Lines that open a comment section: a header ("34 responses to ...", "Leave a
    Reply"), the first of two commenter signatures ("alice says:") close together,
    and every stamp or signature of a comment thread (see :func:`_thread_marks`)."""
    barriers = set(thread)
    signatures = {i for i in range(len(page.lines)) if page.signature[i]}
    for i, line in enumerate(page.lines):
        if R.opens_comment_section(line.text, page.feats[i]):
            barriers.add(i)
        elif i in signatures and any(j in signatures for j in range(i + 1, i + 8)):
            barriers.add(i)
            signatures = {j for j in signatures if j >= i + 200}
    return sorted(barriers)


def _thread_marks(page: Page, o: CleanOptions) -> list[int]:
    """Time stamps and signatures of a comment thread: short lines stating a date with
    the time ("Colm November 1, 2012 at 8:29 am", "by alan p on November 30, 2010 at
    1:24 am. Reply") or signing a comment ("by vlm (69642) writes:"), at least
    :attr:`CleanOptions.thread_min` times, each at most
    :attr:`CleanOptions.thread_gap` lines from the next, with prose between most of
    them. An article states its date once or twice; 263 of the 939 dragnet pages have
    three or more such lines, 98% of them outside the gold text. Without prose
    between them the stamps are a list of headlines, not a thread."""
    templated = _templated_stamps(page, o)
    stamps = [
        i
        for i, line in enumerate(page.lines)
        if page.stamp[i]
        or i in templated
        or (page.signature[i] and R.signs_comment(line.text, page.feats[i]))
        or (
            page.rule_id(i) == "byline-dateline"
            and (
                (_meta_kind(page, i) == "byline" and R.states_date(line.text))
                or (o.signed_dates and R.signed_date(line.text))
            )
        )
        or _signed_above(page, i, o)
    ]
    out: list[int] = []
    run: list[int] = []
    for i in [*stamps, None]:
        if i is not None and (not run or i - run[-1] <= o.thread_gap):
            run.append(i)
            continue
        run = _trim_article_stamp(page, run, o)
        gaps = list(pairwise(run))
        talk = sum(any(page.prose[k] for k in range(a + 1, b)) for a, b in gaps)
        if len(run) >= o.thread_min and talk * 2 >= len(gaps):
            out.extend(run)
        run = [i] if i is not None else []
    return out


def _signed_above(page: Page, i: int, o: CleanOptions) -> bool:
    """A date line signed by the line above it: a commenter's name of a few words
    ("Irving Frydman" / "Aug 8 2012"), how many comment templates head each comment
    (dragnet's T34: 20 comments signed so). Under a headline, a name and a date
    head a teaser instead. Whether it recurs, with comments between, is checked by
    the caller."""
    if i == 0 or not (page.dateish[i] or _meta_kind(page, i) == "dateline"):
        return False
    j = i - 1
    f = page.feats[j]
    return (
        page.rule[j] is None
        and not page.prose[j]
        and not page.dateish[j]
        and 0 < f.tokens <= o.name_stamp_words
        and f.digit_ratio == 0
        and not f.end_punct
        and not any(c in page.lines[j].text for c in ":;!?")
        # Under a headline, a name and a date are a teaser's (a "Recommended" block).
        and not (j > 0 and _headline_like(page, j - 1, o))
    )


def _templated_stamps(page: Page, o: CleanOptions) -> set[int]:
    """Short lines with a number, ending alike (a name, then "07 Nov 12"): a
    comment template's header, at least :attr:`CleanOptions.thread_min` times with
    different texts. Whether prose sits between them is checked by the caller."""
    groups: dict[str, list[int]] = {}
    for i, line in enumerate(page.lines):
        f = page.feats[i]
        if (
            page.prose[i]
            or f.end_punct
            or f.words > o.templated_stamp_words
            or page.rule_id(i) not in (None, "byline-dateline")
        ):
            continue
        shape = R.stamp_shape(line.text)
        if shape is not None:
            groups.setdefault(shape, []).append(i)
    out: set[int] = set()
    for members in groups.values():
        if len({page.lines[i].text for i in members}) < o.thread_min:
            continue
        gaps = list(pairwise(members))
        talk = sum(any(page.prose[k] for k in range(a + 1, b)) for a, b in gaps)
        if talk * 2 >= len(gaps) * 1.5:
            out.update(members)
    return out


def _trim_article_stamp(page: Page, run: list[int], o: CleanOptions) -> list[int]:
    """Drop a first stamp followed by far more prose than the comments between the
    others: that is the article's own dateline ("By Nelson Jones Published 09
    November 2012 13:50"), and the article under it."""
    if len(run) < o.thread_min + 1:
        return run
    talk = [
        sum(len(page.lines[k].text) for k in range(a + 1, b) if page.prose[k])
        for a, b in pairwise(run)
    ]
    rest = sorted(talk[1:])
    median = rest[len(rest) // 2]
    if talk[0] >= o.thread_article_chars and talk[0] > o.thread_article_ratio * median:
        return run[1:]
    return run


def _hard_breaks(page: Page, scores: list[float], o: CleanOptions) -> list[int]:
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
    page: Page, scores: list[float], barriers: list[int], thread: int | None, o: CleanOptions
) -> list[tuple[int, int]]:
    """The best-scoring run of lines, plus nearby strong runs (an article split by a
    gallery, an ad slot or an embedded list). The article comes before its comments:
    the first segment between comment walls holding a substantial run wins; before a
    comment thread (``thread``) or a comment header ("119 Comments", "Leave a Reply"),
    a short one will do (a one-paragraph Slashdot story above 200 comments, a
    one-paragraph photo post above its comments)."""
    n = len(scores)
    best = _max_subarray(scores, 0, n - 1)
    if best is None:
        return []
    if barriers:
        floor = max(o.min_article_score, o.first_segment_ratio * best[2])
        bounds = [-1, *barriers, n]
        for k, (a, b) in enumerate(pairwise(bounds)):
            cand = _max_subarray(scores, a + 1, b - 1) if b - 1 >= a + 1 else None
            # Before a comment thread or a comment header, a short story will do.
            opens = b == thread or (
                b < n and R.opens_comment_section(page.lines[b].text, page.feats[b])
            )
            need = min(floor, o.thread_article_score) if opens else floor
            if (
                cand is not None
                and cand[2] >= need
                and not _outweighed(page, scores, bounds, k, cand, o)
            ):
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
            if any(page.rule[k] is not None and R.ends_post(page.lines[k].text) for k in gap):
                # Tags, categories or a post footer between: another post's text, or
                # the teasers under this one ("Filed under: ..." / "More Auto News").
                break
            regions.append((c_lo, c_hi))
            edge_lo, edge_hi = min(edge_lo, c_lo), max(edge_hi, c_hi)
    return sorted(regions)


def _outweighed(
    page: Page,
    scores: list[float],
    bounds: list[int],
    k: int,
    cand: tuple[int, int, float],
    o: CleanOptions,
) -> bool:
    """Whether the comment header closing segment ``k`` is a link in the article's meta
    row or menu ("Comments", "3 Comments" above the story), not the start of the
    comment section: the run before it is short (a teaser, a site blurb) and the run
    right after it is article-sized and outweighs it many times. Comments come one at a time between
    signatures and stamps, so a comment section seldom holds a run like an article's;
    a run of several paragraphs before the header is the article whatever follows."""
    b = bounds[k + 1]
    if b >= len(page.lines) or not R.opens_comment_section(page.lines[b].text, page.feats[b]):
        return False
    nxt = bounds[k + 2]
    after = _max_subarray(scores, b + 1, nxt - 1) if nxt - 1 >= b + 1 else None
    if after is None:
        return False
    run = cand[2]
    if _in_meta_row(page, b, o) and after[0] - b <= o.meta_row_gap and b - cand[1] > o.meta_row_gap:
        # A header in a story's meta row, the story right under it and the run before
        # it far above: a link, whenever the story is the stronger run.
        return after[2] > max(run, o.min_article_score)
    if run >= o.comment_header_trusted:
        return False
    need = max(o.comment_header_outweigh * run, o.min_article_score)
    return after[2] > need


def _in_meta_row(page: Page, b: int, o: CleanOptions) -> bool:
    """Whether the line at ``b`` sits in a story's meta row: a headline, a byline or a
    date among the :attr:`CleanOptions.meta_window` lines above it, with no prose
    between ("Russia: Space ship breaks up" / "NATALIYA VASILYEVA" / "Associated
    Press, December 2, 2016" / "11 Comments")."""
    for j in range(b - 1, max(-1, b - 1 - o.meta_window), -1):
        if page.prose[j]:
            return False
        if page.rule_id(j) == "byline-dateline" or page.dateish[j] or _headline_like(page, j, o):
            return True
    return False


# -- title and standfirst ------------------------------------------------------------------------

_ANCHORS = ("byline-dateline", "reading-time", "share-social", "caption-credit", "trust-badge")
_STRONG_ANCHORS = ("byline-dateline", "reading-time", "trust-badge")


def _anchors_after(page: Page, i: int, kinds: tuple[str, ...], within: int = 5) -> int:
    """How many lines of these rules follow line ``i`` closely (an embedded tweet's
    signature anchors no headline: the tweet above it is a quote in the article).
    A "related" or comment header ends the count: the dates under it are the
    teasers' or the comments' ("Related Posts" / "The Briefing, Tuesday, November
    6, 2012"; "Reader Comments (2)" / "October 15, 2012 | Danae"), not a byline of
    the line above it."""
    found = 0
    checked = i + 1
    for j in range(i + 1, min(len(page.lines), i + 1 + within)):
        if page.rule_id(j) not in kinds or R.is_tweet_signature(page.lines[j].text):
            continue
        # Look for a header before this anchor only now: most lines anchor nothing.
        for k in range(checked, j + 1):
            if page.related_head(k) or R.opens_comment_section(page.lines[k].text, page.feats[k]):
                return found
        checked = j + 1
        found += 1
    return found


def _headline_like(page: Page, i: int, o: CleanOptions) -> bool:
    f = page.feats[i]
    text = page.lines[i].text
    if page.rule[i] is not None or f.words < 3 or f.words > o.title_max_words:
        return False
    if f.digit_ratio > 0.4 or page.stamp[i] or page.dateish[i]:
        return False  # a dateline the rules did not name is no title either
    return not text.endswith((".", "…"))  # a sentence, or a teaser cut short


def _title_and_standfirst(
    page: Page, regions: list[tuple[int, int]], scores: list[float], o: CleanOptions
) -> tuple[int | None, set[int], list[tuple[int, int]]]:
    """The title, the standfirst, and the body regions (which may now start below
    the title: a title with a byline and date under it marks where the article
    starts, and what precedes it is a teaser list however prose-like). What lies
    above and below the title is weighed by the region scores, not by counting
    prose lines: a menu's blurbs glued to their links ("AboutBob Walsh is the
    author of ...") are isolated prose and weigh less than the post's paragraphs
    (dragnet's R874, R875)."""
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
            if _anchors_after(page, i, _ANCHORS, within=1):
                score += o.title_adjacent_bonus  # right on its byline, date or credit
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
            # A standfirst introduces a body: a post of one paragraph is its body.
            if separated and any(page.prose[m] for m in range(k, body_hi + 1)):
                standfirst.add(j)
    if title >= body_lo:
        start = max([title, *standfirst]) + 1
        before = sum(max(scores[i], 0.0) for i in range(body_lo, title))
        after = sum(max(scores[i], 0.0) for i in range(start, body_hi + 1))
        if after * (3 if _anchors_after(page, title, _ANCHORS) >= 2 else 1) >= before:
            regions = [(max(lo, start), hi) for lo, hi in regions if hi >= start]
    return title, standfirst, regions


# -- inside the body -----------------------------------------------------------------------------


def _outside_reason(page: Page, i: int, o: CleanOptions) -> str:
    if page.feats[i].words <= o.short_words + 2:
        return "short link-like line outside the article body"
    if page.prose[i]:
        return "prose outside the main article region (teaser, promo or sidebar)"
    return "outside the main prose region"


def _resumes(page: Page, i: int, o: CleanOptions) -> bool:
    """After a "related" header, the article resumes with two prose lines in a row
    (teaser summaries come one at a time, between headlines) or a long paragraph."""
    if not page.prose[i]:
        return False
    nxt = page.next_unruled(i)
    return page.feats[i].words >= 2 * o.long_words or (nxt < len(page.lines) and page.prose[nxt])


def _followed_by_credit(page: Page, i: int) -> bool:
    """A caption: a line directly followed by a picture-credit line, unless it ends a
    sentence. A credit says a picture is there, not that the line above is its
    caption: on the news folders an article's sentence right above a lone credit
    ("Main image credit: Getty", "AFP") was dropped 81 times as one, a real
    caption 35 times (``scripts/cleaner_audit.py``)."""
    nxt = i + 1
    return (
        nxt < len(page.lines)
        and page.rule_id(nxt) == "caption-credit"
        and page.feats[i].words <= 40
        and not page.feats[i].end_punct
        and page.lines[nxt].index - page.lines[i].index <= 1
    )


def _drop_repeat(page: Page, i: int, in_body: list[bool], seen_before: bool) -> bool:
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
