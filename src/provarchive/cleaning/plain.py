"""Titles of documents that are not page scrapes.

Contract: :func:`title_line` returns the index of the unit that is a plain
document's title, or None. Pure.

Why: the page algorithm takes for title the headline-like line nearest above
the article; in a changelog that is any ``-- Matthias Klose <doko@debian.org>``
trailer, and titles rank first in search (issue #11). A plain document's title
is its first heading-like line, or there is none:

- among the first :attr:`CleanOptions.plain_title_lines` units, before any
  line of text (only comment lines may precede it: a title opens a document),
  and in an e-mail the ``Subject:`` header;
- one line, not a hard-wrapped paragraph, at most
  :attr:`CleanOptions.plain_title_max_chars` long, with words in it, not ending
  like a sentence or a clause (``.``, ``,``, ``;``), not a comment line
  (``--``, ``//``, ``#!``);
- set apart: followed by a blank line, an underline (``====``), a change of
  indentation or the end, or written in capitals or title case. A line that runs
  on into the next one is the start of a paragraph, not a heading.
"""

from __future__ import annotations

import re

from . import rules as R
from .options import CleanOptions
from .units import Page

_COMMENT = re.compile(r"^(?:--|//|/\*|#!|<!--|;|%)")
_HEADER = re.compile(r"^[A-Za-z][A-Za-z0-9-]*:\s")
_SUBJECT = re.compile(r"^subject:\s*\S", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[.,;!?]$")


def title_line(page: Page, o: CleanOptions) -> int | None:
    """The index of the title unit of a plain document, or None."""
    subject = _subject(page, o)
    if subject is not None:
        return subject
    for i in range(min(o.plain_title_lines, len(page.lines))):
        if _heading_like(page, i, o):
            return i
        if not _COMMENT.match(page.lines[i].text):
            return None  # the text has begun: a heading further down is a section's
    return None


def _subject(page: Page, o: CleanOptions) -> int | None:
    """An e-mail's Subject header, when the document opens with header lines."""
    if not page.lines or not _HEADER.match(page.lines[0].text):
        return None
    for i, line in enumerate(page.lines[:30]):
        if not _HEADER.match(line.text):
            return None
        if _SUBJECT.match(line.text) and len(line.text) <= o.plain_title_max_chars * 2:
            return i
    return None


def _heading_like(page: Page, i: int, o: CleanOptions) -> bool:
    line, f = page.lines[i], page.feats[i]
    text = line.text
    if len(text) > o.plain_title_max_chars or "\n" in page.text[line.start : line.end]:
        return False
    if _COMMENT.match(text) or R.is_underline(text) or _CLAUSE_END.search(text):
        return False
    if sum(1 for w in re.findall(r"[^\W\d_]{2,}", text)) < 1:
        return False
    return f.title_case or text.isupper() or _set_apart(page, i)


def _set_apart(page: Page, i: int) -> bool:
    """Followed by a blank line, an underline, a change of indentation, or the end."""
    text = page.text
    end = page.lines[i].end
    nl = text.find("\n", end)
    if nl < 0:
        return True
    nxt_end = text.find("\n", nl + 1)
    following = text[nl + 1 : nxt_end if nxt_end >= 0 else len(text)].rstrip("\r")
    if not following.strip() or R.is_underline(following):
        return True
    start = text.rfind("\n", 0, page.lines[i].start) + 1
    indent = len(text[start : page.lines[i].start])
    return indent != len(following) - len(following.lstrip())
