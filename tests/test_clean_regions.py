"""The cleaner's region search on pages written for these tests: which run of lines is
the article when menus, meta rows, copies and comment sections surround it."""

from __future__ import annotations

from provarchive.cleaning.cleaner import (
    _STRONG_ANCHORS,
    DEFAULT_OPTIONS,
    _anchors_after,
    _has_prose_neighbour,
    _sentence_like,
    clean,
)
from provarchive.cleaning.rules import (
    is_comment_signature,
    is_stamp,
    line_features,
    opens_comment_section,
)
from provarchive.cleaning.units import build_page

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


def test_a_one_paragraph_post_above_its_comments_is_the_body() -> None:
    # A photo blog: the post is one paragraph, its comments are longer than it, each
    # signed with a name and a date line that states no time of day.
    post = (
        "Spent the morning at the flea market by the old harbour, where I found this coat "
        "and the boots for almost nothing. The scarf was my grandmother's."
    )
    replies = [
        "Love the coat, and the colours go so well with the boots and the scarf!",
        "I went to that market last summer and found nothing but old postcards, so you "
        "must have been very lucky with the coat and the boots that morning.",
        "Which stall was it? I would like to go there next weekend with my sister.",
        "Beautiful photos as always, the light by the harbour is just perfect in autumn.",
    ]
    comments = []
    for k, (name, reply) in enumerate(
        zip(["Anna", "Tom Berg", "Mia", "Pat Holm"], replies, strict=True)
    ):
        comments += [name, f"October {2 + k}, 2012 | Permalink", reply]
    page = [*MENU, "At the flea market", post, "4 Comments", *comments, *FOOTER]
    assert _body(page) == [post]


def test_long_lines_of_a_script_without_case_are_not_furniture() -> None:
    # Chinese travel notes: long lines with spaces for pauses and no final stop.
    # Case says nothing in such a script, so length alone makes them sentence-like.
    line = "一波波接續性低溫寒流報到 已將新竹尖石鄉後山一帶層層山巒披上嫣紅的色彩"
    assert line_features(line).lower_ratio is None
    assert _sentence_like(line_features(line), DEFAULT_OPTIONS)
    assert not _sentence_like(line_features("旅遊 美食"), DEFAULT_OPTIONS)


COMMENTS = [
    "I took the early boat every week for a year and it was always so full that the "
    "children had to sit on the luggage, so this is very welcome news for all of us.",
    "Let us hope the second boat is more reliable than the old one, which broke down "
    "twice last winter and left half the village stranded on the mainland overnight.",
]


def test_a_wordpress_comment_form_title_opens_the_comment_section() -> None:
    # WordPress prints the form's title with its cancel link on one line; what
    # follows it (the form, then teasers of other posts) is not the article.
    page = [*MENU, *ARTICLE, "Leave a Reply Cancel reply", *COMMENTS, *FOOTER]
    assert _body(page) == ARTICLE


def test_comment_headers_with_a_count_in_brackets_or_users_responded() -> None:
    for header in (
        "Responses (2)",
        "Comments (12)",
        '8 users responded in " The ferry "',
        "4 appreciated comments on “The ferry”",
    ):
        assert opens_comment_section(header, line_features(header)), header
        page = [*MENU, *ARTICLE, header, *COMMENTS, *FOOTER]
        assert _body(page) == ARTICLE, header


def test_commenters_signed_with_said_and_a_comma_are_a_thread() -> None:
    # "firefighter jeff said," is one theme's signature line: two of them close
    # together open the comment section.
    thread = ["Dan said,", COMMENTS[0], "Paula said,", COMMENTS[1]]
    assert is_comment_signature("Dan said,", line_features("Dan said,"))
    assert _body([*MENU, *ARTICLE, *thread, *FOOTER]) == ARTICLE


def test_a_numbered_list_of_thoughts_is_no_comment_header() -> None:
    # An archive list of posts: "170. Initial Thoughts on Boumediene (Feb. 20, 2007)".
    line = "170. Initial Thoughts on Boumediene (Feb. 20, 2007)"
    assert not opens_comment_section(line, line_features(line))


def test_comments_signed_by_a_name_above_a_date_are_a_thread() -> None:
    # "Irving Frydman" / "Aug 8 2012" / the comment: a name line over a date line,
    # once per comment (dragnet's T34), right under the article.
    thread = []
    for name, day in (("Irving Frydman", 8), ("Luis Ortega", 8), ("E. Dueck", 9), ("Timo", 9)):
        thread += [name, f"Aug {day} 2012", *COMMENTS]
    result = clean("\n".join([*MENU, *ARTICLE, *thread, *FOOTER]))
    assert [d.line.text for d in result.of_kind("body")] == ARTICLE
    thread = [d.rule for d in result.removed if d.line.text in COMMENTS]
    assert len(thread) == 4 * len(COMMENTS) and set(thread) == {"comments"}


def test_a_teaser_block_of_headline_name_and_date_is_no_thread() -> None:
    # A "Recommended" block of headline / author / date teasers between two
    # paragraphs of summary is no comment thread.
    teasers = []
    for title, name, date in (
        ("Remembering the Most Mesmerizing Neon Light in Town", "Mark Byrnes", "Jul 17, 2014"),
        ("An Ode to the Dead Shopping Mall", "Tanvi Misra", "Mar 9, 2018"),
        ("The Twists and Turns of Making a Neon Sign", "Linda Poon", "Mar 9, 2018"),
    ):
        teasers += [title, name, date, COMMENTS[0]]
    result = clean("\n".join([*MENU, *ARTICLE, "Recommended", *teasers, *FOOTER]))
    assert [d.line.text for d in result.of_kind("body")] == ARTICLE
    assert not [d for d in result.removed if d.rule == "comments"]


def test_a_comment_count_in_the_meta_row_under_the_headline_is_a_link() -> None:
    # Another story's comments far above, then the headline, byline and date of
    # this one with "11 Comments" beside them, and the story right under it.
    other = [
        "I have lived on the island for forty years and I have never seen the harbour so "
        "busy, with boats coming and going at every hour of the day and most of the night.",
        "The council should spend the money on the school roof before it spends a penny "
        "on the pier, which has stood for a century and will stand for another one yet.",
        "My grandmother used to say that the ferry was the only thing that ever ran on "
        "time here, and even that was only true in the summer when the sea was calm.",
    ]
    page = [
        *MENU,
        *other,
        "Weather",
        "Tides",
        "Events",
        "Jobs",
        "Property",
        "Motors",
        "Ferry service to double next spring",
        "By Jane Doe",
        "December 2, 2016",
        "11 Comments",
        *ARTICLE,
        *FOOTER,
    ]
    assert _body(page) == ARTICLE


TABLE = [
    "Port",
    "Crossings",
    "Change",
    "Harbourtown",
    "1,204",
    "12.5%",
    "Northholm",
    "873",
    "-3.1%",
    "Eastwick",
    "455",
    "4.0%",
    "Southby",
    "390",
    "0.8%",
]


def test_a_data_table_after_the_body_is_kept_cell_by_cell() -> None:
    # A scrape gives each cell of a table a line: the numbers look like lone
    # counters, the labels like menu items, but rows of label and numbers repeat.
    assert _body([*MENU, *ARTICLE, *TABLE, *FOOTER]) == [*ARTICLE, *TABLE]


def test_counters_and_chart_ticks_are_no_table() -> None:
    # Share counters are broken up by their buttons; a chart's ticks are numbers
    # without the rows of a table.
    shares = ["Facebook", "12", "Twitter", "34", "Email", "5", "Print", "2", "Reddit", "7"]
    ticks = ["$915", "600", "$263", "’17", "’18", "’19", "’20", "’21", "’22", "’23"]
    assert _body([*MENU, *ARTICLE, *shares, *FOOTER]) == ARTICLE
    assert _body([*MENU, *ARTICLE, *ticks, *FOOTER]) == ARTICLE


def test_an_embedded_tweets_signature_starts_no_new_item() -> None:
    # "— Jane Roe (@janeroe) October 30, 2012" ends a tweet quoted in the article:
    # kept as a dateline, but no separator between paragraphs and no anchor that
    # makes the tweet's text a headline (dragnet R195 restarted its body below one).
    signature = "— Jane Roe (@janeroe) October 30, 2012"
    tweet = "Why is the ferry always late on Mondays when half the island needs it most"
    headline = "Ferry service to double next spring"
    lines = [*MENU, headline, "October 30, 2012", *ARTICLE[:3], tweet, signature, *ARTICLE[3:]]
    page = build_page("\n".join([*lines, *FOOTER]), DEFAULT_OPTIONS)
    texts = [line.text for line in page.lines]
    at = texts.index(signature)
    assert page.rule_id(at) == "byline-dateline"
    assert not page.separator(at)
    assert _anchors_after(page, at - 1, _STRONG_ANCHORS) == 0
    # The article's own dateline still is both.
    assert page.separator(texts.index("October 30, 2012"))
    assert _anchors_after(page, texts.index(headline), _STRONG_ANCHORS) == 1


def test_a_headline_under_the_text_before_dated_teasers_cuts_nothing() -> None:
    # A teaser line under the post, then "Related Posts" with the other posts' dates:
    # those dates are the teasers', not a byline under the line above them, so the
    # post above is not taken for a teaser list before a title.
    page = [
        *MENU,
        "Tuesday, November 6, 2012",
        *ARTICLE[:4],
        "Several lessons emerge from the meeting and residents should consider them",
        "Related Posts",
        "The Gazette, Monday, November 5, 2012",
        "The Gazette, Friday, November 2, 2012",
        "The Gazette, Thursday, November 1, 2012",
        *FOOTER,
    ]
    body = _body(page)
    assert body[:4] == ARTICLE[:4]
    p = build_page("\n".join(page), DEFAULT_OPTIONS)
    at = page.index("Related Posts") - 1
    assert _anchors_after(p, at, _STRONG_ANCHORS) == 0


def test_readers_comments_open_the_comment_section() -> None:
    for text in ("Reader Comments (2)", "Readers' comments", "User comments"):
        assert opens_comment_section(text, line_features(text)), text


def test_menu_blurbs_above_an_anchored_title_weigh_less_than_the_post() -> None:
    # Menu entries glued to their blurbs read as prose one at a time; the post under
    # its title and byline is the article, however many such blurbs precede it.
    blurbs = [
        "MicroGuide“As someone who crosses to the island every week, both time and "
        "money are at a premium for me. I tried a season ticket and it paid for itself "
        "in a month.” Read how other readers save on the crossing.",
        "Podcast",
        "Blog",
        "BooksJuly, 2009: The Ferry Timetable Guide is out and selling in every shop on "
        "the quay! Below is a list of the places where you can buy it, with the opening "
        "hours of each and a map of the harbour front.",
        "Archive",
        "CrewOur three reporters cover the harbour, the council and the schools of both "
        "islands, and one of them hosts the Island Hour on the local radio every "
        "Saturday morning at nine.",
    ]
    post = [ARTICLE[0] + " " + ARTICLE[1], ARTICLE[2] + " " + ARTICLE[3]]
    page = [
        "Home",
        *blurbs,
        "Home / Ferry service to double next spring",
        "Ferry service to double next spring",
        "Posted on: 08-17-2012 With: 1 Comment Posted by: Jane Doe",
        *post,
        "Categories: Ferries",
        "Related Posts",
        "1 Comment",
        "Great news for the island, thank you.",
        *FOOTER,
    ]
    body = _body(page)
    assert body == post


def test_chinese_prose_pausing_with_spaces_is_the_article() -> None:
    # A Chinese blog post that pauses with spaces and ends its lines without a stop,
    # beside a sidebar of short headline links: the post is the body.
    menu = ["首頁", "部落格", "旅遊", "美食", "相簿", "留言", "登入"]
    teasers = [
        "新竹一日遊(世博館)",
        "『台灣』新竹-六福村主題樂園一日遊",
        "＜新竹新埔＞悠閒半日遊－鴛鴦池農場",
    ]
    post = [
        "一波波接續性低溫寒流報到 已將山裡的後山一帶層層山巒披上嫣紅的彩衣",
        "道路一路上雲氣山嵐滯留山頭 順路下切蜿蜒道路後不久即抵達來到小學",
        "營地美如其名偌大楓香樹早已呈現金黃 泛紅色彩也是愛攝人仕所喜愛造訪之地",
        "第二次造訪發現到營區變了 印象中以前生冷招牌換成了原木招牌可謂匠心獨運",
        "燻黑原木加上金黃色醒目字體 加上了貓頭鷹原木創作也充分發揮了裝飾藝術功力",
    ]
    page = [*MENU, *menu, *teasers, "相關文章", "Dec 28 Sat 2013 00:28", *post, *teasers, *FOOTER]
    assert _body(page) == post
    assert line_features(post[0]).spaced_pauses == 1
    assert line_features(teasers[1]).spaced_pauses == 0


def test_teasers_after_a_posts_tags_are_not_joined_to_it() -> None:
    # The post ends at its tag and category lines; the teasers under them (a
    # headline and a summary each) are the site's, however close.
    teasers = []
    for k, name in enumerate(("North Quay", "South Pier", "Lighthouse", "Boat Club")):
        teasers += [
            f"{name} Timetable Changes For Winter",
            f"The {name.lower()} service will change its timetable from the first of "
            f"November, with {k + 2} fewer crossings a day and later first boats.",
        ]
    page = [
        *MENU,
        "Ferry service to double next spring",
        "By Jane Doe | Aug 09, 2:31 PM",
        *ARTICLE[:3],
        "Filed under: Ferries Islands",
        "Tags: ferry, harbour, timetable",
        *["Ferries", "Islands", "Harbour", "Weather", "Tides", "Events", "Letters", "Archive"],
        *["Photos", "Video"],
        *teasers,
        *FOOTER,
    ]
    assert _body(page) == ARTICLE[:3]


def test_a_time_inside_a_line_without_a_date_is_no_stamp() -> None:
    def stamp(text: str) -> bool:
        return is_stamp(text, line_features(text))

    # A live blog's splits state times of a race, not when a comment was posted.
    assert not stamp("5km - 15:23, projecting 2:09:49")
    assert not stamp("Halfway - 1:03:15, with 16 seconds to the chase (1:03:31)")
    # Comments are stamped with a date (the year may be left out); tickers open
    # each line with the time.
    assert stamp("Colm November 1, 2012 at 8:29 am")
    assert stamp("Lora Lee On Thursday, November 1 at 2:57 pm")
    assert stamp("14:44 Accusations de viols : 14 militaires mis en cause")


def test_a_teaser_headline_link_separates_summaries_an_inline_related_link_does_not() -> None:
    summary = ARTICLE[0]
    teasers = build_page(
        "\n".join([summary, "2012 Honda Civic Si vs. 2012 MazdaSpeed3 [Video]", ARTICLE[1]]),
        DEFAULT_OPTIONS,
    )
    assert not _has_prose_neighbour(teasers, 0)
    article = build_page(
        "\n".join([summary, "Related: Chicago is America's most segregated city", ARTICLE[1]]),
        DEFAULT_OPTIONS,
    )
    assert _has_prose_neighbour(article, 0)


def test_a_sentence_going_on_as_a_list_of_clauses_stays_with_the_body() -> None:
    clauses = ["On the ferry;", "at the quay;", "while waiting in line;", "anywhere;"]
    page = [
        *MENU,
        "Ferry service to double next spring",
        "By Jane Doe",
        *ARTICLE[:2],
        "You do not have to wait for spring to cross. Cross where you are now.",
        *clauses,
        "cross when you can.",
        "Share this article",
        "0 responses",
        *FOOTER,
    ]
    body = _body(page)
    assert body[-5:] == [*clauses, "cross when you can."]


def test_a_closing_sentence_after_a_related_header_at_the_end_is_kept() -> None:
    """A related block ends at the first prose paragraph after it (#11), even a last,
    one-sentence one: a "related" header is no teaser link that starts another item."""
    from pathlib import Path

    from provarchive.cleaning.passages import derive

    page = (Path(__file__).parent / "data" / "related_then_closing.txt").read_bytes()
    kept = " ".join(p.text for p in derive(page).passages)
    assert "Document number 74 ends here" in kept
