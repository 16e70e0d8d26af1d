"""The page verdict: documents that are not page scrapes keep every line (issue #11)."""

from __future__ import annotations

import gzip
import textwrap
from pathlib import Path

import pytest

from provarchive.cleaning.cleaner import DEFAULT_OPTIONS, clean, keep_all
from provarchive.cleaning.passages import Derivation, derive
from provarchive.cleaning.text import normalise, split_lines
from provarchive.cleaning.units import build_page
from provarchive.cleaning.verdict import judge_page

PAGES = Path(__file__).parent / "data" / "pages"

# Documents written for these tests, one of each kind the issue names.
LICENCE = textwrap.dedent(
    """\
                        EXAMPLE PUBLIC LICENSE
                       Version 1, 1 January 2024

     Copyright (C) 2024 Example Foundation, Inc.
     Everyone is permitted to copy and distribute verbatim copies
     of this license document, but changing it is not allowed.

                            TERMS AND CONDITIONS

      0. Definitions.

      "This License" refers to version 1 of the Example Public License.
    "Copyright" also means copyright-like laws that apply to other kinds of
    works, such as semiconductor masks.

      1. Source Code.

      The "source code" for a work means the preferred form of the work for
    making modifications to it.  "Object code" means any non-source form of a
    work.

      2. Disclaimer of Warranty.

      THERE IS NO WARRANTY FOR THE PROGRAM, TO THE EXTENT PERMITTED BY
    APPLICABLE LAW.  SEE THE LICENSE FOR MORE DETAILS.
    """
)
CHANGELOG = textwrap.dedent(
    """\
    frobnicate (2.1-1) unstable; urgency=medium

      * New upstream release.
      * Share the cache between threads (Closes: #1012345)
      * Print a warning when the config file is missing.
      * debian/copyright: update years.

     -- Jane Maintainer <jane@example.org>  Tue, 08 Nov 2022 12:53:26 +0200

    frobnicate (2.0-2) unstable; urgency=low

      * Fix FTBFS with GCC 12.
      * Subscribe to the new upstream mailing list.

     -- Jane Maintainer <jane@example.org>  Mon, 19 Sep 2022 18:52:34 +0300
    """
)
MAN_PAGE = textwrap.dedent(
    """\
    FROB(1)                        User Commands                       FROB(1)

    NAME
           frob - share files between machines

    SYNOPSIS
           frob [OPTION]... FILE...

    DESCRIPTION
           Frob copies each FILE to the machines named in the configuration,
           and prints a line for every copy it makes.

    OPTIONS
           -c, --comment TEXT
                  Add a comment to the log.

           -h, --help
                  Display help and exit.

    SEE ALSO
           scp(1), rsync(1)

    frob 1.0                        March 2024                          FROB(1)
    """
)
EMAIL = textwrap.dedent(
    """\
    From: Alice Example <alice@example.org>
    To: Bob Example <bob@example.org>
    Date: Mon, 4 Mar 2024 10:00:00 +0000
    Subject: Minutes of the archive committee

    Hi Bob,

    Here are the minutes. We agreed to share the scanned letters with the
    university library, and to print a catalogue before the summer.

    Please subscribe to the committee list if you want the drafts.

    Best,
    Alice
    """
)
CODE = textwrap.dedent(
    '''\
    """Share links between tabs."""

    import json


    def share(link: str, tabs: list[str]) -> str:
        # Print the link once per tab.
        for tab in tabs:
            print(tab, link)
        return json.dumps({"link": link, "tabs": tabs})


    class Menu:
        Home = "home"
        News = "news"
        Sport = "sport"
    '''
)

PLAIN = {"licence": LICENCE, "changelog": CHANGELOG, "man": MAN_PAGE, "email": EMAIL, "code": CODE}


@pytest.mark.parametrize("kind", sorted(PLAIN))
def test_documents_that_are_not_pages_keep_every_line(kind: str) -> None:
    text = PLAIN[kind]
    r = clean(text)
    assert r.page is not None and not r.page.is_page, r.page
    assert r.page.evidence  # the verdict always says why
    assert not r.removed
    lines = [normalise(text[s:e]) for s, e in split_lines(text)]
    kept = " ".join(d.line.text for d in r.kept)
    for line in filter(None, lines):
        assert line in kept


def test_a_news_page_with_chrome_is_a_page() -> None:
    r = clean((PAGES / "related-block.txt").read_text(encoding="utf-8"))
    assert r.page is not None and r.page.is_page
    assert r.page.score >= DEFAULT_OPTIONS.page_threshold
    evidence = " ".join(r.page.evidence)
    assert "ad labels: 1" in evidence and "share buttons: 1" in evidence
    assert r.removed  # the menu and the footer go


def test_the_verdict_weighs_file_structure_against_weak_signs() -> None:
    # The same short lines, flush left and bare, or indented like a pydoc class tree.
    menu = ["Home", "World", "Business", "Sport", "Opinion", "Travel", "Weather"]
    prose = "The council met on Tuesday and agreed to publish the minutes of every meeting."
    flush = "\n".join([*menu, prose, "Related articles", *menu])
    indented = "\n".join(["    " + m for m in menu] + [prose] + ["    " + m for m in menu])
    page_flush = judge_page(build_page(flush, DEFAULT_OPTIONS), DEFAULT_OPTIONS)
    page_indented = judge_page(build_page(indented, DEFAULT_OPTIONS), DEFAULT_OPTIONS)
    assert page_flush.is_page
    assert any("link-like lines in a row: 8" in e for e in page_flush.evidence)
    assert not page_indented.is_page
    assert page_indented.score < page_flush.score


@pytest.mark.parametrize("module", ["collections", "pathlib", "json"])
def test_a_pydoc_page_keeps_every_line(module: str) -> None:
    """Real ``pydoc`` output: its indented "|  copy(...)" methods, "FILE" heading and
    doctest lines once looked like share buttons, credits and related links (2.2.0
    judged ``pydoc collections`` a page and dropped 1,445 of its lines)."""
    import importlib
    import pydoc

    text = pydoc.render_doc(importlib.import_module(module), renderer=pydoc.plaintext)
    r = clean(text)
    assert r.page is not None and not r.page.is_page, r.page
    assert not r.removed


def test_chrome_signs_count_only_on_flush_left_lines() -> None:
    chrome = ["Advertisement", "Share this article", "Photo: Getty Images", "3 min read"]
    prose = "The council met on Tuesday and agreed to publish the minutes of every meeting."
    flush = "\n".join([prose, *chrome, prose])
    indented = "\n".join([prose, *("    " + c for c in chrome), prose])
    assert judge_page(build_page(flush, DEFAULT_OPTIONS), DEFAULT_OPTIONS).is_page
    verdict = judge_page(build_page(indented, DEFAULT_OPTIONS), DEFAULT_OPTIONS)
    assert not verdict.is_page and verdict.score == 0


def test_one_stray_sign_in_a_long_document_is_no_page() -> None:
    # A long log with one "Advertisement" and "Share" line among 3,000 entries.
    entries = [
        f"  * Fix the parser for input number {i} (Closes: #{1000 + i})" for i in range(3000)
    ]
    text = "\n".join(["Advertisement", "Share", *entries])
    r = clean(text)
    assert r.page is not None and not r.page.is_page
    assert len(r.kept) == 3002


def test_titles_of_plain_documents() -> None:
    assert clean(CHANGELOG).title == "frobnicate (2.1-1) unstable; urgency=medium"
    assert clean(LICENCE).title == "EXAMPLE PUBLIC LICENSE"
    assert clean(MAN_PAGE).title == "FROB(1) User Commands FROB(1)"
    assert clean(EMAIL).title == "Subject: Minutes of the archive committee"
    # The e-mail's Date header opens the document: a dateline, and its date is kept.
    assert [d.line.text for d in clean(EMAIL).of_kind("dateline")] == [
        "Date: Mon, 4 Mar 2024 10:00:00 +0000"
    ]
    assert clean(EMAIL).published == "2024-03-04"
    assert clean(CHANGELOG).published is None  # its dates sign entries, not the document
    # A document that opens with a paragraph has no title rather than a random line.
    opening = "The committee met on Tuesday\nand agreed on the budget.\n\nNext steps\n"
    assert clean(opening).title is None


def test_keep_all_strips_nothing_even_on_a_page() -> None:
    text = (PAGES / "related-block.txt").read_text(encoding="utf-8")
    r = keep_all(text)
    assert r.page is None and not r.removed
    assert len(r.kept) == sum(1 for s, e in split_lines(text) if text[s:e].strip())


# -- real files on this machine --------------------------------------------------------------------

LICENCES = sorted(p for p in Path("/usr/share/common-licenses").glob("*") if p.is_file())
CHANGELOGS = sorted(Path("/usr/share/doc").glob("*/changelog.Debian.gz"))


def _uncovered(raw: bytes, d: Derivation) -> list[int]:
    """Offsets of non-blank bytes that are in no passage."""
    mask = bytearray(len(raw))
    for p in d.passages:
        mask[p.raw_start : p.raw_end] = b"\x01" * (p.raw_end - p.raw_start)
    return [i for i, b in enumerate(raw) if not mask[i] and b not in b" \t\r\n\x0b\x0c"]


@pytest.mark.skipif(not LICENCES, reason="no /usr/share/common-licenses on this machine")
@pytest.mark.parametrize("path", LICENCES, ids=lambda p: p.name)
def test_every_line_of_the_common_licences_is_in_a_passage(path: Path) -> None:
    raw = path.read_bytes()
    d = derive(raw)
    assert d.page is not None and not d.page.is_page, d.page
    assert not d.removals
    assert _uncovered(raw, d) == []


def _check_changelog(path: Path) -> None:
    raw = gzip.decompress(path.read_bytes())
    d = derive(raw)
    assert not d.removals, (path, d.page)
    assert _uncovered(raw, d) == [], path
    first = normalise(raw.decode("utf-8", "replace").splitlines()[0])
    assert d.title == first


SMALL_CHANGELOGS = [p for p in CHANGELOGS if p.stat().st_size < 20_000][:40]


@pytest.mark.skipif(not CHANGELOGS, reason="no Debian changelogs in /usr/share/doc on this machine")
@pytest.mark.parametrize("path", SMALL_CHANGELOGS, ids=lambda p: p.parent.name)
def test_debian_changelogs_keep_every_line_and_their_first_line_is_the_title(path: Path) -> None:
    _check_changelog(path)


@pytest.mark.slow
@pytest.mark.skipif(not CHANGELOGS, reason="no Debian changelogs in /usr/share/doc on this machine")
def test_every_debian_changelog_on_this_machine() -> None:
    for path in CHANGELOGS:  # about 650 files, 19 MB unpacked: about 25 s
        _check_changelog(path)


def test_a_menu_a_byline_and_a_newsletter_prompt_make_a_page() -> None:
    # A blog post without ad labels or share buttons: its menu run, byline and
    # newsletter prompt (1.0 + 0.35 + 0.35) are evidence enough; no file in the
    # plain corpus scores above 0.35.
    menu = ["Home", "Forums", "Register", "Members List", "Calendar", "Contact"]
    article = [
        "The river path between the two bridges will close for four weeks from Monday "
        "while the council replaces the railings and resurfaces the worst stretches.",
        "Walkers and cyclists are asked to use the road on the far bank, where a "
        "temporary crossing will be marked at the old mill, the council said.",
    ]
    text = "\n".join(
        [
            *menu,
            "River path to close for repairs",
            "By Jane Doe",
            *article,
            "Subscribe to our newsletter",
            "About us",
            "Privacy Policy",
        ]
    )
    r = clean(text)
    assert r.page is not None and r.page.is_page, r.page
    assert r.page.score < 2.0
    assert [d.line.text for d in r.of_kind("body")] == article
    assert {d.line.text for d in r.removed} >= {*menu, "Subscribe to our newsletter"}
