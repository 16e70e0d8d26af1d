"""Is this document a scraped web page at all?

Contract: :func:`judge_page` looks at a whole :class:`~provarchive.cleaning.units.Page`
and returns a :class:`PageVerdict`: whether it is a page scrape, the score its
evidence adds up to, and the evidence as short readable reasons. Pure.

Why: the cleaner's region search assumes a page, an article among chrome. On a
document that is not one (a licence, a changelog, a man page, a README, an
e-mail, a book) it finds a "main region" all the same and drops the rest: 81
such documents kept 45% of their characters on average, ``pydoc pathlib`` became
2 passages out of 1,384 lines (issue #11). So a document is cleaned as a page
only on positive evidence that it is one, and everything else keeps every line.

The evidence, each worth a threshold in :class:`CleanOptions`:

- chrome only pages carry (ad labels, share buttons, reading times, trust
  badges, comment labels, cookie notices, comment/share counters, two or more
  commenter signatures): strong, per family present, a little more per further
  line;
- furniture that files can carry too (related-links headers, subscription
  prompts, bylines, navigation links, picture credits): weak, per family;
- link runs: many short, unpunctuated, unmarked lines in a row (a menu, a teaser
  list), flush left;
- a short body among much chrome: little prose, many link-like lines.

A family counts only at a rate of one line per :attr:`CleanOptions.chrome_span`
units: the 100,000-line kernel changelog holds an "Advertisement" line and 33
"... said:" lines, and is no page.

Hard-wrapped paragraphs and indented text are how files are written, not how
scrapes come out: they weigh against the weak evidence and the link runs (a
pydoc class tree is a run of short lines), never against chrome. An indented
line is no sign at all: a scrape's chrome is flush left, and pydoc's
``|  copy(...)`` is a method, not a "Copy link" button.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from . import rules as R
from .options import CleanOptions
from .units import Page


@dataclass(frozen=True)
class PageVerdict:
    """Whether a document was cleaned as a page scrape, and on what evidence."""

    is_page: bool
    score: float
    evidence: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"is_page": self.is_page, "score": self.score, "evidence": list(self.evidence)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PageVerdict:
        """The verdict :meth:`to_json` wrote (for stored derivations and their signature)."""
        return cls(bool(data["is_page"]), float(data["score"]), tuple(data["evidence"]))


def judge_page(page: Page, o: CleanOptions) -> PageVerdict:
    """Weigh the signs of a web page in ``page``; see the module docstring."""
    n = len(page.lines)
    if n == 0:
        return PageVerdict(False, 0.0, ("no text",))
    strong: Counter[str] = Counter()
    weak: Counter[str] = Counter()
    for i, line in enumerate(page.lines):
        if page.indented(i):
            continue  # a scrape's chrome is flush left; "|  copy(...)" in pydoc is no button
        sign = R.page_sign(line.text, page.feats[i], page.rule_id(i))
        if sign is not None:
            (strong if sign[1] else weak)[sign[0]] += 1
        elif page.signature[i] and R.signs_comment(line.text, page.feats[i]):
            strong["signature"] += 1
    if strong["signature"] < 2:
        del strong["signature"]  # one "X says:" is a quote; a page has them by the dozen
    found: list[tuple[float, str]] = []
    # One ad label in a 300-line page is a page's; one in a 100,000-line kernel
    # changelog is a coincidence: a family counts at a rate of one per chrome_span lines.
    needed = n / o.chrome_span
    for family, count in sorted(strong.items()):
        if count < needed:
            continue
        extra = min(o.chrome_lines_weight * (count - 1), o.chrome_lines_cap)
        found.append((o.chrome_weight + extra, f"{R.CHROME_SIGNS[family]}: {count}"))
    chrome = sum(w for w, _ in found)
    soft: list[tuple[float, str]] = [
        (o.weak_weight, f"{R.WEAK_SIGNS[family]}: {count}")
        for family, count in sorted(weak.items())
        if count >= needed
    ]
    link = [
        R.link_like(line.text, page.feats[i], o.link_item_words) and not page.indented(i)
        for i, line in enumerate(page.lines)
    ]
    run = _longest_run(link)
    if run >= o.link_run:
        weight = o.link_run_weight * (2 if run >= o.long_link_run else 1)
        soft.append((weight, f"link-like lines in a row: {run}"))
    total_chars = sum(len(line.text) for line in page.lines) or 1
    prose_chars = sum(len(line.text) for i, line in enumerate(page.lines) if page.prose[i])
    link_share = sum(link) / n
    if prose_chars / total_chars < o.thin_body_prose and link_share >= o.thin_body_links:
        soft.append(
            (
                o.thin_body_weight,
                f"prose is {prose_chars / total_chars:.0%} of the text, "
                f"{link_share:.0%} of the lines are link-like",
            )
        )
    indented = sum(page.indented(i) for i in range(n)) / n
    against: list[str] = []
    if page.wrapped >= 2:
        against.append(f"hard-wrapped paragraphs: {page.wrapped}")
    if indented >= o.indented_share:
        against.append(f"indented lines: {indented:.0%}")
    soft_score = sum(w for w, _ in soft)
    if against:
        soft_score = max(0.0, soft_score - o.plain_structure_weight)
    score = round(chrome + soft_score, 3)
    evidence = [text for _, text in found + soft]
    evidence += [f"against: {text}" for text in against]
    if not evidence:
        evidence = ["no menus, ad labels, share or related blocks, link runs or captions"]
    return PageVerdict(score >= o.page_threshold, score, tuple(evidence))


def _longest_run(flags: list[bool]) -> int:
    best = run = 0
    for flag in flags:
        run = run + 1 if flag else 0
        best = max(best, run)
    return best
