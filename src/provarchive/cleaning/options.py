"""The cleaner's thresholds: one frozen object, hashed into the rules digest.

Contract: :class:`CleanOptions` holds every number that can change what the
cleaner keeps (the page verdict, the region search, titles, wrapped
paragraphs, passage sizes). :func:`provarchive.cleaning.cleaner.rules_digest` hashes it with
the rules and patterns, so a changed threshold is a changed digest.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PassageOptions:
    """How kept units become passages (see :mod:`provarchive.cleaning.passages`)."""

    max_chars: int = 1500
    """A passage longer than this is split..."""
    target_chars: int = 1000
    """...into pieces of about this size, at sentence ends (a block, at line ends)."""


@dataclass(frozen=True)
class CleanOptions:
    """Thresholds of the cleaner (part of its rules digest)."""

    # -- is it a page scrape at all (see :mod:`provarchive.cleaning.verdict`) --
    page_threshold: float = 1.5
    """A document is cleaned as a page scrape when its evidence adds up to this. A
    link run with a byline and a subscription prompt (1.7) is a page: 19 of
    dragnet's blog posts scored just that and were kept whole; no document of
    the plain corpus scores above 0.35."""
    chrome_weight: float = 1.0
    """Evidence per family of page chrome present (ad labels, share buttons, ...)."""
    chrome_span: int = 1000
    """A family counts only with at least one line per this many units (a long
    document may hold a stray "Advertisement" or "alice said:")."""
    chrome_lines_weight: float = 0.25
    chrome_lines_cap: float = 1.5
    """Evidence per chrome line beyond the first of each family, up to the cap."""
    weak_weight: float = 0.35
    """Evidence per family of weak signs (related headers, prompts, bylines, menus)."""
    link_item_words: int = 4
    """A link-like line (menu or teaser item) has at most this many words..."""
    link_run: int = 5
    long_link_run: int = 15
    """...and a run of this many in a row is a link run (one, or two pieces of evidence)."""
    link_run_weight: float = 1.0
    thin_body_prose: float = 0.5
    thin_body_links: float = 0.3
    """A short body among much chrome: prose holds less than this share of the
    characters while link-like lines are at least this share of the lines."""
    thin_body_weight: float = 1.0
    plain_structure_weight: float = 1.0
    """Counter-evidence: hard-wrapped paragraphs or indented text (files, not scrapes)
    weigh this much against weak signs and link runs (never against chrome)."""
    indented_share: float = 0.2
    """Text where at least this share of the lines is indented has file structure."""

    # -- lines and prose --
    prose_words: int = 8
    """A line this long (effective words) ending a sentence reads as prose."""
    long_words: int = 25
    """A line this long with inner punctuation reads as prose without a final stop."""
    short_words: int = 3
    """A line at most this long is a fragment (menu item, label, counter)."""
    min_lower_ratio: float = 0.35
    """Prose in cased scripts has at least this share of lower-case words."""
    spaced_pauses: int = 1
    """A line mostly in Chinese with at least this many spaces between Chinese
    characters (pauses where a comma would stand) and ``prose_words`` effective words
    reads as prose without a final stop (readability's pixnet: a blog written so)..."""
    spaced_max_digits: float = 0.2
    """...unless this share of its letters and digits are digits (a source and
    time line: "发稿时间：2017-03-10 08:42:00 来源： 人民日报海外版 中国青年网")."""

    code_block_strong: int = 2
    code_block_share: float = 0.4
    """A run of non-prose lines is a code block (kept, neutral in the region search)
    when this many of its lines are clearly code and this share show a sign of it."""
    player_distinctive: int = 3
    """A run of lines that are all player controls or their values is an embedded
    player's (dropped as ``media-player``) when this many of them name something
    only a player has ("Current Time 0:00", "Playback Rate"): "Play" and "White"
    alone are anyone's words."""

    gallery_min_slides: int = 3
    gallery_slide_lines: int = 8
    """A picture gallery scraped into the page: slide counters "1/n" to "n/n" (or
    "1 of n"), every one in order, n at least ``gallery_min_slides``, each at most
    ``gallery_slide_lines`` lines after the one before (see ``cleaner._gallery``).
    Its slides are dropped as ``gallery`` when the page holds an article without
    them (a run of :attr:`min_article_score`); a photo post's gallery is its text."""

    # -- the region search --
    prose_cap: float = 40.0
    """Upper bound of one line's score (one huge line must not decide alone)."""
    isolated_prose_factor: float = 0.4
    """Prose without a prose neighbour counts this much (teaser summaries)."""
    bridged_prose_factor: float = 0.7
    bridged_min_words: int = 25
    """...but this much when prose of at least this many words follows across one
    sub-heading-like line on both sides (on one side, for a line of ``long_words``)."""
    lead_lines: int = 2
    lead_window: int = 6
    lead_bonus: float = 5.0
    """The first lines of text (up to ``lead_lines``, within ``lead_window`` lines)
    under the page's first headline with a byline or date beside it score their
    words plus this bonus: a post of one paragraph beside longer sidebar text."""
    sentence_words: int = 5
    sentence_lower_ratio: float = 0.6
    sentence_score: float = 0.0
    """A line of this many words, mostly lower case, reads as a sentence even without
    a final stop (a list item, a clause): it scores this, not as furniture."""
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
    """A short line with at most this many words may be a sub-heading: prose on both
    sides of it is one article's, not teasers between headlines."""
    title_max_words: int = 35
    title_window: int = 40
    """How many lines above the body are searched for the title."""
    title_adjacent_bonus: float = 2.0
    """A title candidate right above a byline, date or credit (its anchor on the next
    line) scores this much more: a site's tagline or a reprint notice a few lines
    above the byline is longer than "80-20 software II", but the headline is the
    line the byline is under. (2.0 on the four folders together: 1.0 and 3.0 did
    less well; dragnet's titles that are no line of its gold: 312 -> 293.)"""
    min_article_score: float = 30.0
    first_segment_ratio: float = 0.05
    """Before a comment wall, a run scoring this much (and this share of the best) is the article."""
    secondary_region_ratio: float = 0.3
    """A further prose run is body too if it scores this share of the best run..."""
    secondary_region_gap: int = 12
    """...and lies at most this many lines away..."""
    secondary_region_far_gap: int = 40
    """...or this many, when no byline, date or "related" header lies between."""
    comment_header_outweigh: float = 3.0
    """A comment header ("Comments", "3 Comments") followed by a run scoring this many
    times the run before it is a link above the article, not the comment section..."""
    comment_header_trusted: float = 100.0
    """...unless the run before it scores this much (several paragraphs: an article);
    the run after it must score :attr:`min_article_score` at least."""
    meta_row_gap: int = 6
    """A header in a story's meta row (a headline, byline or date among the
    ``meta_window`` lines above it, no prose between), with the run after it starting
    within this many lines and the run before it ending farther away than this, is a
    link whenever the run after it is the stronger, however strong the run before
    (readability's yahoo-2: "11 Comments" under the byline, another story's comments
    far above)."""
    thread_min: int = 3
    thread_gap: int = 30
    """A comment thread: this many date/time stamps, each at most ``thread_gap``
    lines from the next (see ``cleaner._thread_stamps``)."""
    signed_dates: bool = True
    """Date lines signed with a name first ("Luke, on November 7th, 2012") count as a
    thread's stamps when they recur (see ``rules.signed_date``)."""
    name_stamp_words: int = 4
    """A date line under a line of at most this many words and no digits (a
    commenter's name: "Irving Frydman" / "Aug 8 2012") is a comment's stamp when it
    recurs as a thread (see ``cleaner._signed_above``)."""
    templated_stamp_words: int = 6
    """A line this short with a number, ending like ``thread_min`` other lines of the
    page ("Jermaine 07 Nov 12", "Radex 07 Nov 12"), is a comment template's stamp."""
    thread_article_score: float = 10.0
    """Before a comment thread or a comment header, a run scoring this much is the article."""
    thread_article_chars: int = 600
    thread_article_ratio: float = 4.0
    """A thread's first stamp followed by this much prose, and this many times the
    median between the others, is the article's dateline, not a comment's."""
    copy_block: int = 2
    """Text repeated as a block of this many prose lines is a copy of the article."""
    meta_window: int = 4
    """Bylines and datelines this many lines around the title, or inside the body, are
    the article's own (kept as ``byline``/``dateline`` passages)."""
    table_min_lines: int = 8
    table_numeric_share: float = 0.3
    table_cell_words: int = 8
    table_gap: int = 3
    table_max_columns: int = 12
    table_regularity: float = 0.9
    """A data table scraped one cell a line: at least ``table_min_lines`` short lines
    (at most ``table_cell_words`` words, no rule but "counter"), at least
    ``table_numeric_share`` of them numbers, within ``table_gap`` lines of the body,
    numbers and labels alternating in rows of at most ``table_max_columns`` cells that
    repeat (this share of cells like the one a row above) for three rows at least
    (see ``cleaner._tables``)."""
    tail_window: int = 3
    """Corrections, editor's notes and updates this many lines after the body belong to it."""
    clause_list_min: int = 3
    """This many lines in a row ending in a semicolon right after the body are the
    article's sentence going on as a list (see ``cleaner._clause_list``)."""

    # -- hard-wrapped text --
    wrapped_line_min: int = 40
    wrapped_line_max: int = 200
    """Hard-wrapped text has a wrap width (95th percentile of line widths, in display
    columns) in this range: narrower text is a list or verse, wider is not wrapped."""
    wrapped_fill: float = 0.6
    """In a wrapped paragraph every line but the last is at least this share of the width."""

    # -- titles of plain documents --
    plain_title_lines: int = 3
    """The title of a plain document is among its first this many units..."""
    plain_title_max_chars: int = 150
    """...and at most this long."""

    passages: PassageOptions = field(default_factory=PassageOptions)
    """Passage sizes: they change the passages, so they are in the digest too."""


DEFAULT_OPTIONS = CleanOptions()
