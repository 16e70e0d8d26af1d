"""The cleaner's region search on pages written for these tests: which run of lines is
the article when menus, meta rows, copies and comment sections surround it."""

from __future__ import annotations

from provarchive.cleaning.cleaner import clean

MENU = ["Home", "News", "Sport", "Opinion", "Contact", "Share", "Tweet", "Advertisement"]
BLURB = [
    "Welcome to the Harbour Gazette! If you are new here, you can read about us, "
    "browse the archive and find out how to send us a story of your own.",
    "On your way out, do look at the tide tables for this week.",
]
ARTICLE = [
    "The ferry between the two islands will run twice as often from next spring, the "
    "harbour authority said on Tuesday after a year of complaints about crowded boats.",
    "A second vessel, bought second-hand from a Norwegian operator, is being refitted in "
    "the dry dock and should enter service in April if the inspections go well.",
    "Fares will not change, the authority said, although the cost of the new boat and "
    "its crew will be covered partly by a rise in the fees charged to lorries.",
    "Residents of the smaller island, where the only doctor holds surgery three days a "
    "week, have asked for the first morning crossing to leave an hour earlier.",
    "The authority said it would decide on the timetable after a public meeting, which "
    "is to be held in the school hall on the fourteenth of next month.",
]
FOOTER = ["About us", "Privacy Policy", "Terms of Use"]


def _body(lines: list[str]) -> list[str]:
    result = clean("\n".join(lines))
    assert result.page is not None and result.page.is_page
    return [d.line.text for d in result.of_kind("body")]


def test_a_comments_link_above_the_story_does_not_hide_it() -> None:
    # "Comments" in the meta row above a story links to the comment section; the
    # story that follows it outweighs the site's blurb before it many times.
    page = [
        *MENU,
        *BLURB,
        "Comments",
        "Ferry service to double next spring",
        "By Jane Doe",
        *ARTICLE,
        *FOOTER,
    ]
    body = _body(page)
    assert body == ARTICLE
    assert not set(BLURB) & set(body)


def test_a_comment_section_after_an_article_is_still_no_body() -> None:
    # Comments signed by a name only (no stamps): the article before the header is
    # several paragraphs long, so the header is trusted however long the thread.
    comments = []
    for name in ["Robert", "Anna Berg", "Tom", "Mia Holm", "Pat", "Chris Li"]:
        comments += [
            name,
            "I take that ferry every day and it has been full since the summer, with "
            "people standing on the car deck in the rain because there was no room inside.",
            "More boats are welcome, but I hope they also fix the ramp on our side, which "
            "breaks down every other week and leaves everyone waiting for an hour or more.",
        ]
    page = [
        *MENU,
        "Ferry service to double next spring",
        "By Jane Doe",
        *ARTICLE,
        "6 Comments",
        *comments,
        *FOOTER,
    ]
    assert _body(page) == ARTICLE


def test_an_article_shown_twice_is_kept_from_its_first_copy() -> None:
    # A preview above a paywall: byline and the first two paragraphs, printed twice.
    # The repeated paragraphs are the article, not furniture repeated on the page.
    preview = ["By Jane Doe", *ARTICLE[:2]]
    page = [
        *MENU,
        "Ferry service to double next spring",
        *preview,
        "Subscribe to read on",
        *preview,
        "This copy is for your personal, non-commercial use only.",
        "Most Popular",
        "Storm closes the coast road",
        "Council rejects parking plan",
        "Festival moves to the beach",
        *FOOTER,
    ]
    body = _body(page)
    assert ARTICLE[0] in body
    assert ARTICLE[1] in body


def test_a_caption_full_and_cut_short_is_no_copied_text() -> None:
    # A gallery shows each caption in full and cut short, and the page repeats the
    # gallery: two long lines repeated in order, but one caption, not copied text.
    caption = (
        "The harbour master, left, and the mayor of the smaller island look at the new "
        "ferry in the dry dock on Tuesday, Nov. 20, 2019. The boat, bought from a "
        "Norwegian operator, is to enter service in April after a refit of its engines."
    )
    gallery = [caption + " less", caption[:160] + " ... more", "Photo: Jane Doe"]
    gallery += ["Photo: Jane Doe", "Image 1 of 8", "Caption", "Close"]
    page = [*MENU, "Ferry service to double next spring", "By Jane Doe"]
    page += [*ARTICLE, *gallery, *gallery, *FOOTER]
    assert _body(page) == ARTICLE
