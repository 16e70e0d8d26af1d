"""The cleaner: the seed exactly, pages in several languages, every rule family."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provarchive.cleaning.cleaner import (
    CLEANER_VERSION,
    DEFAULT_OPTIONS,
    KEEP_ALL_NAME,
    KINDS,
    RULES,
    clean,
    rules_digest,
)
from provarchive.cleaning.rules import columns, ends_sentence, explicit_rule, line_features
from provarchive.cleaning.text import normalise, split_lines

from .conftest import SEED_PATH

PAGES = Path(__file__).parent / "data" / "pages"


def test_the_seed_comes_out_exactly() -> None:
    r = clean(SEED_PATH.read_text(encoding="utf-8"))
    assert r.title == "Gaps in records cloak China’s North Korean ‘slave labourers’ in mystery"
    assert [d.line.text for d in r.of_kind("standfirst")] == [
        "Beijing has almost no public record of the North Korean workers’ presence and "
        "activities in China, even as their use sparks UN and US criticism"
    ]
    body = [d.line.text for d in r.of_kind("body")]
    assert len(body) == 5
    assert body[0].startswith("It is an open secret")
    assert body[-1].startswith("On Saturday, the UN imposed")
    dropped = {(d.line.text, d.rule) for d in r.removed}
    caption = "A group of North Korean farm labourers work on a field in the country’s northwestern region. Photo: SCMP Pictures"
    assert [d.line.text for d in r.removed] == [
        "Advertisement",
        "Reading Time:5 minutes",
        "Why you can trust SCMP",
        "0",
        "A group of North Korean farm labourers and soldiers in a truck driving along a country "
        "road in the northwestern part of the country. Photo: SCMP Pictures",
        caption,
        caption,
        "Advertisement",
    ]
    assert ("Advertisement", "ad-label") in dropped
    assert ("Reading Time:5 minutes", "reading-time") in dropped
    assert ("Why you can trust SCMP", "trust-badge") in dropped
    assert ("0", "counter") in dropped
    assert all(d.reason for d in r.removed)
    assert r.page is not None and r.page.is_page
    assert r.published is None  # the seed states no date


# Pages written for these tests (not copied from anywhere): a menu, a headline,
# a dek, a byline and date, share buttons, an ad label inside the body, a
# related-links block and a footer, in each language.
LANGUAGE_PAGES = {
    "ja.txt": ("東京都、新たな防災計画を発表 首都直下地震に備え", "東京都は２０日", 4),
    "ko.txt": ("서울시, 내년부터 공공자전거 요금 인하", "서울시는 내년 1월부터", 3),
    "de.txt": (
        "Bahn kündigt neue Verbindungen zwischen Berlin und München an",
        "Die Deutsche Bahn will die Verbindung",
        4,
    ),
    "pt.txt": (
        "Prefeitura anuncia ampliação de ciclovias em São Paulo",
        "A Prefeitura de São Paulo anunciou",
        4,
    ),
    "ru.txt": ("В Москве откроют три новых станции метро", "Три новые станции", 3),
    "it.txt": ("Roma, nuove regole per il traffico nel centro storico", "Il Comune di Roma", 3),
    "id.txt": (
        "Pemerintah Umumkan Program Bantuan Pangan untuk Petani",
        "Pemerintah mengumumkan",
        3,
    ),
}


@pytest.mark.parametrize("page", sorted(LANGUAGE_PAGES))
def test_pages_in_other_languages(page: str) -> None:
    title, first_words, paragraphs = LANGUAGE_PAGES[page]
    r = clean((PAGES / page).read_text(encoding="utf-8"))
    body = [d.line.text for d in r.of_kind("body")]
    assert r.title == title
    assert len(body) == paragraphs
    assert body[0].startswith(first_words)
    for furniture in (
        "広告",
        "광고",
        "Anzeige",
        "Publicidade",
        "Реклама",
        "Pubblicità",
        "Iklan",
        "Impressum",
    ):
        assert furniture not in body


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("Advertisement", "ad-label"),
        ("ADVERTISEMENT", "ad-label"),
        ("Sponsored", "ad-label"),
        ("Story continues below advertisement", "ad-label"),
        ("Anzeige", "ad-label"),
        ("Reading Time:5 minutes", "reading-time"),
        ("5 min read", "reading-time"),
        ("Lesezeit: 3 Min.", "reading-time"),
        ("Why you can trust SCMP", "trust-badge"),
        ("A view of the harbour at dawn. Photo: SCMP Pictures", "caption-credit"),
        ("Image: Getty Images", "caption-credit"),
        ("Protesters gather outside parliament (AP Photo/Jane Doe)", "caption-credit"),
        ("Getty Images", "caption-credit"),
        ("Reuters", "caption-credit"),
        ("0", "counter"),
        ("12 comments", "counter"),
        ("Share this article", "share-social"),
        ("Facebook Twitter WhatsApp", "share-social"),
        ("Sign up for our newsletter", "newsletter"),
        ("Subscribe to our daily briefing, delivered to your inbox.", "newsletter"),
        ("Related articles", "related-links"),
        ("READ MORE: Storm warning issued for the coast", "related-links"),
        ("Leia também", "related-links"),
        ("Previous Post: A walk in the park", "navigation"),
        ("Tags: politics, europe", "navigation"),
        ("© 2026 Example Media. All rights reserved.", "cookie-copyright"),
        ("We use cookies to improve your experience on our website.", "cookie-copyright"),
        ("By Jane Doe", "byline-dateline"),
        (
            "by Jane Doe Published Nov. 7, 2012 8:42 am Updated Nov. 7, 2012 2:01 pm",
            "byline-dateline",
        ),
        ("Recent Comments", "related-links"),
        ("More Auto News...", "related-links"),
        ("More Technology stories", "related-links"),
        ("elfgrove reblogged this from dcwomenkickingass", "comments"),
        ("skalja reblogged this from anklewings and added:", "comments"),
        ("ealperin liked this", "comments"),
        ("Recent Posts", "related-links"),
        ("Published 10:48, Tue, Nov 19, 2019", "byline-dateline"),
        ("November 19, 2019", "byline-dateline"),
        ("Leave a Reply", "comments"),
        ("skip to main | skip to sidebar", "navigation"),
        ("Jump to comments [c]", "navigation"),
        ("Skip to primary content", "navigation"),
        ("« Spanner and the Cloud | Main | Save up for the holidays »", "navigation"),
        (
            "This entry was posted on Saturday, August 25th, 2012 at 10:00 am and is filed "
            "under Ferries. You can follow any responses to this entry through the RSS 2.0 feed.",
            "navigation",
        ),
        ("Originally published on www.example.com. Click here to read the original.", "navigation"),
        ("Notify me of follow-up comments via email.", "comments"),
        ("You can follow any responses to this entry through the RSS 2.0 feed.", "comments"),
        ("Your email address will not be published. Required fields are marked *", "comments"),
        ("You must be logged in to post a comment.", "comments"),
        ('You may use these HTML tags and attributes: <a href="" title=""> <b>', "comments"),
    ],
)
def test_rule_families(line: str, rule: str) -> None:
    hit = explicit_rule(line, line_features(line))
    assert hit is not None and hit[0] == rule, hit
    assert rule in RULES


@pytest.mark.parametrize(
    "line",
    [
        "The minister said the plan would be published next week, after a consultation with unions.",
        "Reuters reported on Monday that the talks had stalled over the price of gas.",
        "Subscribers to the service rose by ten percent in the third quarter, the company said.",
        "The cookies were baked for twelve minutes and left to cool on a rack.",
        "Readers can follow the story on our site, and we will notify them of any changes.",
        "Jump to conclusions at your peril, the judge warned the jury on Monday.",
        "The entry was posted on the city website and originally published in the gazette.",
        "Skip to the content of the report and you will find the real news, he said.",
        "Nobody in the council chamber liked this plan, the mayor admitted afterwards.",
        "More local news outlets closed in 2012 than in any year before, the report found.",
        "Share pictures of the ferries, piers and lighthouses you love for a chance to win a "
        "season ticket for two from the harbour authority and its partners (click here for the official rules).",
    ],
)
def test_prose_mentioning_rule_words_is_not_dropped(line: str) -> None:
    assert explicit_rule(line, line_features(line)) is None


def test_navigation_and_footer_fall_outside_the_body() -> None:
    page = "\n".join(
        [
            "Home",
            "World",
            "Business",
            "Sport",
            "Opinion",
            "Share this article",
            "The council voted on Tuesday to extend the tram line to the airport, ending a decade of debate.",
            "Work is expected to start next spring and to last about three years, officials said.",
            "Residents along the route will be consulted on the location of the new stops.",
            "Most read",
            "Ten things to do this weekend",
            "The best pizza in town",
            "About us",
            "Contact",
        ]
    )
    r = clean(page)
    assert len(r.of_kind("body")) == 3
    rules = {d.line.text: d.rule for d in r.removed}
    assert rules["Home"] == "outside-body"
    assert rules["Most read"] == "related-links"
    assert rules["Contact"] in ("outside-body", "related-links")


_ARTICLE = [
    "The council voted on Tuesday to extend the tram line to the airport, ending a decade "
    "of debate over the cost of the project and the route it should take through the city.",
    "Work is expected to start next spring and to last about three years, officials said, "
    "with the first trams running to the new terminal before the end of the decade.",
    "Residents along the route will be consulted on the location of the new stops, and the "
    "council has promised to publish every comment it receives during the consultation.",
]


def test_hard_wrapped_page_gives_the_same_paragraphs() -> None:
    # A text dump as lynx -dump or html2text writes it: menus one item a line,
    # paragraphs wrapped at 72 columns between blank lines.
    wrapped = ["\n".join(textwrap.wrap(p, 72)) for p in _ARTICLE]
    page = "\n".join(
        ["Home", "World", "Business", "Sport", "Opinion", ""]
        + ["Tram line to the airport approved", "Share this article", "Advertisement", ""]
        + [w + "\n" for w in wrapped]
        + ["Most read", "Ten things to do this weekend", "About us", "Contact"]
    )
    r = clean(page)
    assert [d.line.text for d in r.of_kind("body")] == _ARTICLE
    assert r.title == "Tram line to the airport approved"
    dropped = {d.line.text for d in r.removed}
    assert {"Home", "World", "Most read", "Contact"} <= dropped  # still line by line


def test_blank_lines_between_unwrapped_lines_do_not_merge_them() -> None:
    # Blank lines between sections, paragraphs one per line: nothing is wrapped,
    # so every line stays its own unit.
    page = "\n\n".join(
        [
            "Home\nWorld\nSport\nShare this article\nAdvertisement",
            "\n".join(_ARTICLE),
            "About us\nContact",
        ]
    )
    r = clean(page)
    assert [d.line.text for d in r.of_kind("body")] == _ARTICLE
    assert all("\n" not in d.line.text and d.line.text.count("Home") <= 1 for d in r.decisions)
    assert len(r.decisions) == 10


def _wrap_columns(line: str, width: int) -> list[str]:
    """Wrap as a text browser does: at spaces, or anywhere in text without them,
    counting East Asian wide characters as two columns."""
    out, current = [], ""
    for ch in line:
        if columns(current + ch) > width:
            space = current.rfind(" ")
            cut = space if space > width // 4 else len(current)
            out.append(current[:cut])
            current = current[cut:].lstrip() + ch
        else:
            current += ch
    return [*out, current]


@pytest.mark.parametrize("page", ["ja.txt", "ko.txt", "de.txt"])
def test_wrapped_dumps_of_pages_in_other_languages(page: str) -> None:
    # 72 columns hold only 36 Japanese characters: the wrap width is measured in columns.
    raw = (PAGES / page).read_text(encoding="utf-8")
    dump = []
    for line in raw.splitlines():
        dump += ["", *_wrap_columns(line, 72), ""] if columns(line) > 72 else [line]
    assert max(columns(line) for line in dump) <= 72
    original = [d.line.text for d in clean(raw).of_kind("body")]
    wrapped = [d.line.text for d in clean("\n".join(dump)).of_kind("body")]
    # Line breaks inside a paragraph become spaces (the recorded normalisation).
    assert [t.replace(" ", "") for t in wrapped] == [t.replace(" ", "") for t in original]


def test_short_lines_in_blocks_are_not_taken_for_wrapped_paragraphs() -> None:
    # Lists and verse in blank-line separated groups have no wrap width to fill.
    groups = [["World news", "Sport news", "Local news"], ["About us", "Contact us", "Careers"]]
    page = "\n\n".join("\n".join(g) for g in groups)
    assert [d.line.text for d in clean(page).decisions] == groups[0] + groups[1]


def test_comment_section_is_not_body() -> None:
    page = "\n".join(
        [
            "The bridge reopened on Monday after six months of repairs, the city said in a statement.",
            "Traffic is expected to return to normal by the end of the week, according to officials.",
            "The repairs cost about four million dollars, slightly less than first estimated.",
            "12 Comments",
            "alice says:",
            "I drove over it this morning and it was already packed with cars and cyclists alike.",
            "bob says:",
            "Finally! It took them long enough to fix it, the detour was adding twenty minutes a day.",
        ]
    )
    body = [d.line.text for d in clean(page).of_kind("body")]
    assert len(body) == 3 and body[-1].startswith("The repairs cost")


def test_a_short_note_is_kept_whole() -> None:
    r = clean("Call the archive on Monday.\nBring the letters.")
    assert [d.line.text for d in r.of_kind("body")] == [
        "Call the archive on Monday.",
        "Bring the letters.",
    ]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=80), max_size=40))
def test_cleaning_is_deterministic_and_covers_every_line(lines: list[str]) -> None:
    text = "\n".join(lines)
    a, b = clean(text), clean(text)
    assert a == b
    non_blank = [i for i, (s, e) in enumerate(split_lines(text)) if normalise(text[s:e])]
    starts = {
        i: s + len(text[s:e]) - len(text[s:e].lstrip())
        for i, (s, e) in enumerate(split_lines(text))
        if normalise(text[s:e])
    }
    covered = sorted(
        i for d in a.decisions for i, s in starts.items() if d.line.start <= s < d.line.end
    )
    assert covered == non_blank  # every non-blank line is decided, once
    for d in a.decisions:
        assert d.keep == (d.kind is not None)
        assert d.keep or (d.rule in RULES and d.reason)
        assert normalise(text[d.line.start : d.line.end]) == d.line.text


def test_rules_digest_is_stable_and_tracks_thresholds() -> None:
    assert rules_digest() == rules_digest(DEFAULT_OPTIONS)
    assert rules_digest().startswith("sha256:")
    assert rules_digest(replace(DEFAULT_OPTIONS, prose_words=9)) != rules_digest()


def test_related_block_ends_at_the_first_paragraph_and_notes_are_kept() -> None:
    # Issue #11: two article paragraphs after a "You might also like:" block were
    # dropped as related links, and a closing correction as outside the body.
    r = clean((PAGES / "related-block.txt").read_text(encoding="utf-8"))
    body = [d.line.text for d in r.of_kind("body")]
    assert body[0].startswith("The city council voted")
    assert any(t.startswith("Residents along the route") for t in body)
    assert any(t.startswith("Opponents of the plan") for t in body)
    assert body[-1] == "Correction: the vote was 30 to 20."
    rules = {d.line.text: d.rule for d in r.removed}
    assert rules["You might also like:"] == "related-links"
    assert rules["Why the river keeps flooding"] == "related-links"
    assert rules["Home"] == "outside-body"


def test_bylines_and_datelines_are_kept_and_the_date_parsed() -> None:
    r = clean((PAGES / "related-block.txt").read_text(encoding="utf-8"))
    assert r.title == "Council approves new tram line to the airport"
    assert [d.line.text for d in r.of_kind("byline")] == ["By Jane Doe"]
    assert [d.line.text for d in r.of_kind("dateline")] == ["Published: 3 March 2024"]
    assert r.published == "2024-03-03"
    assert {d.kind for d in r.kept} <= set(KINDS)


def test_a_thread_of_comment_stamps_is_not_the_article() -> None:
    article = [
        "The bridge reopened on Monday after six months of repairs, the city said in a statement.",
        "Traffic is expected to return to normal by the end of the week, according to officials.",
        "The repairs cost about four million dollars, slightly less than first estimated.",
    ]
    comments = []
    for i, name in enumerate(["Heather", "Kate", "Colm", "Diana"]):
        comments += [
            f"{name} on October {20 + i}, 2012 at 1:3{i} pm",
            "I drove over it this morning and it was already packed with cars and cyclists, "
            "which is a good sign for the shops along the river and for the people who live there.",
            "Reply",
        ]
    page = "\n".join(["Home", "News", "Share", "Advertisement", *article, *comments, "About us"])
    r = clean(page)
    assert [d.line.text for d in r.of_kind("body")] == article
    thread = [d.rule for d in r.removed if "drove over it" in d.line.text]
    assert len(thread) == 4 and set(thread) == {"comments"}


# The rules digest of each released cleaner version: a change to a rule, a
# pattern or a threshold must come with a new CLEANER_VERSION (and a line here).
PINNED_DIGESTS = {
    "2.0.0": "sha256:45e2d5b8134f06f66b0b4bb719f03f4a99c03ead29f603ba477c1fea89fa50fc",
    "2.1.0": "sha256:d2a17eab347f4e92d553cbac45cefbe2d79f3e1d3c04fe8fb40804e7f74c0232",
    "2.2.0": "sha256:99b05ea2367043eed3b36a413d35a70d267534e4fd1e84f3c4730d0eeb209e4d",
    "2.3.0": "sha256:12a6a94f6d2149cd35bf72b871688c74abb6acb242f7fd102d9f45084e068976",
    "2.4.0": "sha256:4ef4a32d61f9309831b09e89cb0833edbf6c8f7e9d3bbe1ef4659c983dbf0ab8",
    "2.5.0": "sha256:11a05b8f3ec87a04cecde23aed4901ccb9dbf93a136d2bca803297de457e207b",
    "2.6.0": "sha256:1e60dc10f4690a73ffe8711254a67b6ccd7cf06fc4d907996682f90b2ed47a24",
    "2.7.0": "sha256:1de8af8dcc9db28ccae4b888255d2fb9734c678e325d4e390f7c0e01f5f8c882",
}


def test_the_rules_digest_is_pinned_per_cleaner_version() -> None:
    assert rules_digest() == PINNED_DIGESTS[CLEANER_VERSION]
    assert rules_digest(cleaner=KEEP_ALL_NAME) != rules_digest()


_MENU = ["Home", "World", "Business", "Sport", "Opinion", "Share this article", "Advertisement"]
_FOOTER = ["Most read", "Ten things to do this weekend", "The best pizza in town", "About us"]


def test_a_code_block_with_its_output_stays_in_the_body() -> None:
    # SQL and a query's output drawn with box characters: short lines, no prose.
    code = [
        "SELECT avg(n)",
        "FROM unnest(array[2, 3, 5, 2, 3, 12, 5, 3, 4]) AS n;",
        "avg",
        "────────────",
        "WITH series AS (",
        "SELECT *",
        "FROM",
        "series,",
        "bounds;",
    ]
    text = [_ARTICLE[0], _ARTICLE[1], *code, _ARTICLE[2], _ARTICLE[0].replace("council", "city")]
    r = clean("\n".join([*_MENU, *text, *_FOOTER]))
    body = [d.line.text for d in r.of_kind("body")]
    assert all(line in body for line in code)


def test_a_field_label_comment_is_no_share_button() -> None:
    # A Debian copyright file (DEP-5) has a "Comment:" field per stanza.
    stanza = [
        "Files: src/*",
        "Copyright: 2002-2012 Example Authors",
        "License: GPL-2+",
        "Comment:",
        "  Parts of this file were written by someone else and are used with permission.",
        "",
    ]
    doc = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
    doc += "\n".join(stanza * 12)
    r = clean(doc)
    assert r.page is not None and not r.page.is_page
    assert not r.removed


def test_paragraphs_split_by_sub_headings_beat_a_sidebar_blurb() -> None:
    para = (
        "A study published today reveals that climate change will have a profoundly negative "
        "impact on the wild coffee plants that grow in the forests of Ethiopia, the researchers "
        "said, because the area suitable for the plant could shrink by as much as two thirds, "
        "and in the worst case by nearly all of it, before the end of the century."
    )
    page = [
        *_MENU,
        "What's the Latest Development?",
        para,
        "What's the Big Idea?",
        para.replace("coffee", "arabica"),
        "Related Content",
        "Food and Public Awareness",
        "Previous Post",
        "Next Post",
        *_FOOTER,
        "Visit the Floating University, a joint venture between two companies you know.",
        "Visit our new online learning course, where experts deliver actionable career insights.",
    ]
    body = [d.line.text for d in clean("\n".join(page)).of_kind("body")]
    assert para in body and para.replace("coffee", "arabica") in body


def test_latin_names_in_a_japanese_paragraph_do_not_make_it_furniture() -> None:
    # Capitalised Latin words (product names, acronyms) in a Japanese paragraph
    # once made its "share of lower-case words" tiny: no prose, dropped.
    article = [
        "市の図書館は来月から、館内のWi-Fiを使って電子書籍を借りられる新しいサービスを始めると発表した。",
        "利用者はiOSやAndroidのアプリ「Library Go」を入れ、VPNを通じてCity Digital Archive Networkに"
        "接続することで、自宅からも蔵書の一部を読むことができるようになるという。",
        "図書館によると、最初の一年間は約三千冊を用意し、利用者の声を聞きながら少しずつ増やしていく予定だ。",
    ]
    f = line_features(article[1])
    assert f.lower_ratio is None
    page = [
        "ホーム",
        "ニュース",
        "地域",
        "シェア",
        "ツイート",
        "図書館、電子書籍の貸し出しを開始",
        *article,
        "関連記事",
        "お問い合わせ",
        "利用規約",
    ]
    assert [d.line.text for d in clean("\n".join(page)).of_kind("body")] == article


# What a Video.js player embedded in an article scrapes to (its control bar and
# caption-settings dialog), with a site's own "Share" button in it.
_PLAYER = [
    "Play Video",
    "Play",
    "Mute",
    "Current Time 0:00",
    "/",
    "Duration Time 0:00",
    "Loaded: 0%",
    "Progress: 0%",
    "Stream TypeLIVE",
    "Remaining Time -0:00",
    "Share",
    "Playback Rate",
    "1x",
    "Chapters",
    "descriptions off, selected",
    "captions settings, opens captions settings dialog",
    "captions off, selected",
    "Fullscreen",
    "This is a modal window.",
    *(
        line
        for part in ("Foreground", "Background", "Window")
        for line in (
            part,
            "---",
            "White",
            "Black",
            "Red",
            "Green",
            "Blue",
            "Yellow",
            "Magenta",
            "Cyan",
            "---",
            "Opaque",
            "Semi-Opaque",
            "Transparent",
        )
    ),
    "Font Size",
    "50%",
    "75%",
    "100%",
    "125%",
    "150%",
    "200%",
    "Text Edge Style",
    "None",
    "Raised",
    "Font Family",
    "Proportional Sans-Serif",
    "Monospace Serif",
    "Small Caps",
    "Reset restore all settings to the default values",
    "Done",
    "This is a modal window. This modal can be closed by pressing the Escape key or "
    "activating the close button.",
]


def test_an_embedded_video_player_is_dropped_and_does_not_split_the_article() -> None:
    before = [
        "Most people go to hotels for the pleasure of a giant bed with clean white sheets.",
        "But those sheets might not be as clean as they look, according to hotel bosses.",
        "Zeev Sharon and Michael Jones both run hotel start-ups in the United States today.",
    ]
    after = [
        "Bedbugs love wood, and a wooden luggage rack is a breeding ground for the bugs.",
        "He advised guests to keep their bags on the floor and off the bed at all times.",
        "The old rule of thumb is that a room should earn one dollar a night per thousand.",
    ]
    page = "\n".join(
        [
            *_MENU,
            "The seven secrets that hotel owners don't want you to know",
            "By Jane Doe",
            "Friday 25 December 2015",
            *before,
            *_PLAYER,
            *after,
            *_FOOTER,
        ]
    )
    r = clean(page)
    assert r.title == "The seven secrets that hotel owners don't want you to know"
    assert [d.line.text for d in r.of_kind("body")] == before + after
    assert {d.rule for d in r.removed if d.line.text in _PLAYER} == {"media-player"}


@pytest.mark.parametrize(
    "lines",
    [
        ["Play", "White", "Black", "Red", "Done"],  # anyone's words: no distinctive control
        ["Current Time", "Playback Rate"],  # two distinctive ones are not yet a player
        ["Current Time 0:00", "The minister then spoke for an hour.", "Playback Rate", "Mute"],
    ],
)
def test_words_a_player_uses_are_no_player_alone(lines: list[str]) -> None:
    r = clean("\n".join(lines))
    assert not [d for d in r.removed if d.rule == "media-player"]


_SLIDES = [
    "Gallery: 4 photos",
    "1/4 Runners at the start",
    "Thousands of runners wait for the starting gun on the bridge at dawn, wrapped in foil.",
    "Getty Images",
    "2/4 The leaders",
    "The leading group passes the old harbour, where a brass band played for the runners.",
    "Reuters",
    "3/4 A proposal",
    "A runner stops at the twentieth mile to ask his partner to marry him, and she said yes.",
    "AFP",
    "4/4 The finish",
    "The winner crosses the line in the park, two minutes ahead of last year's record time.",
    "Getty Images",
]


def test_a_gallery_inside_an_article_is_dropped_and_does_not_split_it() -> None:
    before = [
        "More than forty thousand people ran through the city on Sunday in the spring marathon.",
        "The organisers said the weather had been kind, with a light wind from the sea all day.",
        "Hospitals reported a quiet morning, and most of the runners finished before noon.",
    ]
    after = [
        "Next year the route will change, because the bridge at the start is to be repaired.",
        "The council expects the works to take two years and to cost about forty million.",
        "Registration for next year's race opens in September, the organisers said on Sunday.",
    ]
    page = "\n".join(
        [
            *_MENU,
            "Forty thousand run the spring marathon in the sun",
            "By Jane Doe",
            "Monday 4 May 2026",
            *before,
            *_SLIDES,
            *after,
            *_FOOTER,
        ]
    )
    r = clean(page)
    assert [d.line.text for d in r.of_kind("body")] == before + after
    dropped = {d.line.text: d.rule for d in r.removed}
    assert all(line in dropped for line in _SLIDES)
    assert dropped["1/4 Runners at the start"] == "gallery"
    assert dropped[_SLIDES[2]] == "gallery"


def test_a_photo_posts_gallery_is_its_text() -> None:
    # One short paragraph and its gallery: without the slides no article is left.
    post = "Our photographers spent the day along the route of the spring marathon."
    page = "\n".join(
        [*_MENU, "The marathon in pictures", "By Jane Doe", "Monday 4 May 2026", post, *_SLIDES]
    )
    r = clean(page)
    body = [d.line.text for d in r.of_kind("body")]
    assert post in body
    assert _SLIDES[2] in body and _SLIDES[-2] in body
    assert not [d for d in r.removed if d.rule == "gallery"]


@pytest.mark.parametrize(
    "counters",
    [
        ["2/4 The leaders", "3/4 A proposal", "4/4 The finish"],  # no first slide
        ["1/4 Runners at the start", "2/4 The leaders", "3/4 A proposal"],  # no last one
        ["10/12/2025 Runners at the start", "11/12/2025 The leaders", "12/12/2025 The end"],
    ],
)
def test_numbers_like_slide_counters_are_no_gallery_unless_all_slides_are_there(
    counters: list[str],
) -> None:
    lines = [
        *_MENU,
        "More than forty thousand people ran through the city on Sunday in the spring marathon.",
    ]
    for counter in counters:
        lines += [counter, "A runner waves to the crowd on the long road by the harbour wall."]
    lines += ["The organisers said the weather had been kind, with a light wind all day.", *_FOOTER]
    r = clean("\n".join(lines))
    assert not [d for d in r.removed if d.rule == "gallery"]


def test_a_credit_run_into_its_label_is_a_credit_and_no_title() -> None:
    line = "CreditFotoilustración de Andrew B. Myers para The New York Times"
    assert explicit_rule(line, line_features(line)) == (
        "caption-credit",
        "picture credit run into its label",
    )
    assert explicit_rule("Credit Cards", line_features("Credit Cards")) is None


@pytest.mark.parametrize(
    ("line", "ends"),
    [
        ("A popular senior finds herself reliving the same day over and over.[54]", True),
        ("It was first shown in 1993.[12][13]", True),
        ("The claim was repeated by several outlets.[citation needed]", True),
        ("The film was a success.[a]", True),
        ("See also[edit]", False),
        ("Read the full story...", False),
        ("[54]", False),
    ],
)
def test_a_reference_mark_after_the_stop_still_ends_the_sentence(line: str, ends: bool) -> None:
    assert ends_sentence(line) is ends


def test_a_paragraph_above_a_picture_credit_is_kept_and_a_caption_label_is_not() -> None:
    """A credit line says a picture is there, not that the line above it is its caption:
    an article's sentence stays; an unpunctuated label right above the credit goes."""
    body = [
        "The council approved the new harbour plan on Tuesday after a long debate.",
        "Alibaba's listing ceremony is due to be held at the stock exchange next Tuesday.",
        "Work on the first pier is to begin in the spring, the council said in a statement.",
        "The mayor said that the plan would bring hundreds of jobs to the old docks.",
    ]
    page = [
        *_MENU,
        "Harbour plan approved after long debate",
        "By Jane Doe",
        body[0],
        body[1],
        "Main image credit: Getty",
        body[2],
        "The old docks at dawn",
        "Photo: Reuters",
        body[3],
        *_FOOTER,
    ]
    r = clean("\n".join(page))
    assert [d.line.text for d in r.of_kind("body")] == body
    assert {d.line.text: d.rule for d in r.removed}["The old docks at dawn"] == "caption"


def test_short_lines_inside_the_body_are_kept() -> None:
    """A short line in the article (an ingredient, a name in a list, a heading no
    prose follows) is no evidence of furniture, however little it says."""
    intro = "This cake has been made in our family for three generations, and it keeps well."
    method = "Mix the flour and the sugar, then add the eggs one at a time and beat well."
    end = "Bake it for forty minutes, and let it cool completely before you cut it."
    short = ["The team", "Jon Cooper", "Mary Smith", "Ann Lee", "THIRD QUARTER", "1 teaspoon"]
    page = [*_MENU, "A cake to keep for a week", "By Jane Doe", intro, *short, method, end]
    r = clean("\n".join([*page, *_FOOTER]))
    assert [d.line.text for d in r.of_kind("body")] == [intro, *short, method, end]


def test_the_title_is_the_line_right_above_the_byline_not_a_longer_tagline() -> None:
    body = [
        "My previous post addressed an objection to applying the rule to software.",
        "Namely, that software is not like other things, and the rule does not hold there.",
        "I think it holds well enough, and the reasons are worth a second look here.",
    ]
    page = [*_MENU, "The blog of John D. Cook", "80-20 software II", "by John on July 23, 2012"]
    r = clean("\n".join([*page, *body, *_FOOTER]))
    assert r.title == "80-20 software II"
    assert [d.line.text for d in r.of_kind("body")] == body


def test_a_teaser_cut_short_is_no_title() -> None:
    page = [*_MENU, "This story will display in ...", "Nov 12, 2012 2:30 PM"]
    body = [
        "Are you insane with envy that Japan got the sequel, and the rest of us did not?",
        "Well, don't get your hopes up too much, but the makers want to know what you think.",
    ]
    r = clean("\n".join([*page, *body, *_FOOTER]))
    assert r.title != "This story will display in ..."


def test_the_rules_digest_tracks_the_page_signs(monkeypatch: pytest.MonkeyPatch) -> None:
    from provarchive.cleaning import rules

    before = rules_digest()
    monkeypatch.setattr(rules, "WEAK_SIGNS", {**rules.WEAK_SIGNS, "media-player": "changed"})
    rules_digest.cache_clear()
    try:
        assert rules_digest() != before
    finally:
        monkeypatch.undo()
        rules_digest.cache_clear()
    assert rules_digest() == before


def test_a_document_about_a_player_is_no_page_and_keeps_every_line() -> None:
    """Player labels are no page evidence: a note listing them (here a typography
    note with a byline, whose font classes are Video.js caption labels) keeps every
    line, as it did before the player rule."""
    r = clean(_TYPOGRAPHY_NOTE)
    assert r.page is not None and not r.page.is_page
    assert not r.removed


_TYPOGRAPHY_NOTE = """Choosing a typeface for your report
By Jane Doe

A good report uses at most two type families. Word processors group the families they offer into a handful of classes, and it helps to know what each one is for.

Font Family
Proportional Serif
Monospace Serif
Proportional Sans-Serif
Monospace Sans-Serif
Casual
Script
Small Caps

Proportional serif faces such as Times are the classic choice for long running text in print, because the serifs guide the eye along the line.

Monospace faces give every character the same width, which is why programmers like them for code listings and tables of figures.
"""


def test_a_player_run_ends_at_the_first_line_a_player_does_not_write() -> None:
    prose = "The minister then spoke for an hour about the budget and the harbour plan."
    lines = [*_PLAYER[:12], prose, *_PLAYER[12:]]
    page = [*_MENU, "The budget debate", "By Jane Doe", *_ARTICLE_LINES, *lines, *_ARTICLE_LINES2]
    r = clean("\n".join([*page, *_FOOTER]))
    assert prose in [d.line.text for d in r.of_kind("body")]


_ARTICLE_LINES = [
    "The council met on Tuesday to debate the budget for the coming year in full.",
    "Members argued for three hours over the cost of the new harbour wall and roads.",
]
_ARTICLE_LINES2 = [
    "The vote on the budget is due next week, after a second reading in the council.",
    "Until then the plan can still be changed, the council's clerk said on Tuesday.",
]


@pytest.mark.parametrize(
    "line",
    [
        "CreditWise review: is Capital One's free tool worth it?",
        "CreditSights cuts its outlook for European banks",
        "CreditEase shares fall 20% in Hong Kong",
        "CreditKarma",
    ],
)
def test_a_headline_about_a_credit_brand_is_no_credit(line: str) -> None:
    assert explicit_rule(line, line_features(line)) is None
