"""Passages: every span maps back to its raw bytes, for any document and encoding."""

from __future__ import annotations

import codecs
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provarchive.cleaning.options import CleanOptions
from provarchive.cleaning.passages import (
    CLEANERS,
    PassageOptions,
    check_passage,
    derive,
    parse_passage_id,
    passage_id,
)
from provarchive.cleaning.text import decode_span

from .conftest import SEED_PATH

WORDS = st.sampled_from(
    [
        "the",
        "archive",
        "keeps",
        "every",
        "version",
        "of",
        "a",
        "document",
        "and",
        "its",
        "passages",
        "map",
        "back",
        "to",
        "raw",
        "bytes",
        "Grüße",
        "café",
        "naïve",
        "São",
        "Paulo",
        "coração",
        "Москва",
        "метро",
        "東京",
        "計画",
        "서울시",
        "요금",
        "émoji",
        "🙂",
        "—",
        "“quoted”",
    ]
)
FURNITURE = st.sampled_from(
    [
        "Advertisement",
        "Share",
        "Photo: Getty Images",
        "0",
        "Related articles",
        "By Jane Doe",
        "Home",
        "© 2026 Example",
    ]
)


@st.composite
def documents(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(min_value=0, max_value=25))):
        kind = draw(st.sampled_from(["prose", "prose", "short", "furniture", "blank"]))
        if kind == "prose":
            words = draw(st.lists(WORDS, min_size=8, max_size=60))
            line = " ".join(words) + draw(st.sampled_from([".", "!", "?", "", "。"]))
        elif kind == "short":
            line = " ".join(draw(st.lists(WORDS, min_size=1, max_size=4)))
        elif kind == "furniture":
            line = draw(FURNITURE)
        else:
            line = ""
        pad = draw(st.sampled_from(["", " ", "\t", "\u00a0"]))
        lines.append(pad + line + pad)
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return newline.join(lines)


ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32", "cp1252"]


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=documents(), encoding=st.sampled_from(ENCODINGS), max_chars=st.sampled_from([1500, 120]))
def test_every_span_decodes_to_its_passage(doc: str, encoding: str, max_chars: int) -> None:
    try:
        raw = doc.encode(encoding)
    except UnicodeEncodeError:
        raw = doc.encode("utf-8")
    d = derive(
        raw, passage_options=PassageOptions(max_chars=max_chars, target_chars=max_chars * 2 // 3)
    )
    if d.status != "text":
        assert not d.passages
        return
    assert d.codec is not None
    for p in d.passages:
        assert p.text and p.raw_start < p.raw_end <= len(raw)
        assert decode_span(raw, p.raw_start, p.raw_end, d.codec) == p.text
        assert check_passage(raw, d.codec, p.raw_start, p.raw_end, p.text)
    for r in d.removals:
        assert decode_span(raw, r.raw_start, r.raw_end, d.codec) == r.text
    spans = sorted(
        [(p.raw_start, p.raw_end) for p in d.passages]
        + [(r.raw_start, r.raw_end) for r in d.removals]
    )
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end <= start  # no byte belongs to two decisions
    assert [p.ordinal for p in d.passages] == list(range(1, len(d.passages) + 1))


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes_derive_without_crashing(raw: bytes) -> None:
    d = derive(raw)
    assert d.status in ("text", "binary", "empty")
    for p in d.passages:
        assert d.codec is not None and check_passage(raw, d.codec, p.raw_start, p.raw_end, p.text)


def test_seed_passages_and_spans() -> None:
    raw = SEED_PATH.read_bytes()
    d = derive(raw)
    assert [p.kind for p in d.passages] == [
        "title",
        "standfirst",
        "body",
        "body",
        "body",
        "body",
        "body",
    ]
    go = next(p for p in d.passages if "Go Myong-hyun" in p.text)
    assert b"Go Myong-hyun" in raw[go.raw_start : go.raw_end]
    assert d.clean_text.splitlines()[0] == d.title
    assert d.output_sha256.startswith("sha256:")


def test_long_paragraphs_split_at_sentence_ends() -> None:
    sentence = "The committee met again on Thursday to review the budget. "
    raw = ("Budget talks resume\n\n" + sentence * 60).encode()
    d = derive(raw)
    body = d.body()
    assert len(body) >= 2
    assert all(len(p.text) <= 1500 for p in body)
    assert all(p.text.endswith("budget.") for p in body)
    assert " ".join(p.text for p in body) == (sentence * 60).strip()


def test_hard_wrapped_paragraphs_become_one_passage() -> None:
    para = (
        "Archivists have long argued that provenance matters as much\n"
        "as content itself, because a document whose origin cannot be\n"
        "shown is a document that cannot be trusted in court or print.\n"
    )
    raw = (
        para
        + "\n"
        + para.replace("Archivists", "Historians")
        + "\n"
        + para.replace("Archivists", "Lawyers")
    ).encode()
    d = derive(raw)
    body = d.body()
    assert len(body) == 3
    assert body[0].text.startswith("Archivists have long argued") and body[0].text.endswith(
        "court or print."
    )
    assert "\n" not in body[0].text


DEFINITIONS = b"""Mozilla Public License Version 2.0

1.4. "Covered Software"
    means Source Code Form to which the initial Contributor has attached
    the notice in Exhibit A, the Executable Form of such Source Code
    Form, and Modifications of such Source Code Form, in each case
    including portions thereof.

1.5. "Incompatible With Secondary Licenses"
    means that the initial Contributor has attached the notice described
    in Exhibit B to the Covered Software.
    A second sentence starts on its own line.
"""


def test_lines_that_run_on_make_one_passage_in_a_plain_document() -> None:
    d = derive(DEFINITIONS)
    assert d.page is not None and not d.page.is_page
    body = [p.text for p in d.body()]
    assert body == [
        '1.4. "Covered Software" means Source Code Form to which the initial Contributor has'
        " attached the notice in Exhibit A, the Executable Form of such Source Code Form, and"
        " Modifications of such Source Code Form, in each case including portions thereof.",
        '1.5. "Incompatible With Secondary Licenses" means that the initial Contributor has'
        " attached the notice described in Exhibit B to the Covered Software.",
        "A second sentence starts on its own line.",
    ]
    for p in d.passages:
        assert check_passage(DEFINITIONS, "utf-8", p.raw_start, p.raw_end, p.text)
    # keep-all leaves every unit its own passage
    assert len(derive(DEFINITIONS, cleaner="keep-all").passages) > len(d.passages)


def test_a_long_run_of_lines_is_cut_at_line_ends() -> None:
    lines = [
        f"    total_{i} = combine(total_{i - 1}, weight_{i}, offset" + ", more" * (i % 7 * 9) + ")"
        for i in range(1, 120)
    ]
    raw = ("\n".join(lines) + "\n").encode()
    d = derive(raw, passage_options=PassageOptions(max_chars=500, target_chars=300))
    assert d.page is not None and not d.page.is_page
    assert len(d.passages) > 1
    starts = {raw.index(line.encode()) + 4 for line in lines}
    ends = {raw.index(line.encode()) + len(line) for line in lines}
    for p in d.passages:
        assert len(p.text) <= 500
        assert p.raw_start in starts and p.raw_end in ends
    assert " ".join(p.text for p in d.passages) == " ".join(line.strip() for line in lines)
    assert d.rules_digest != derive(raw).rules_digest  # passage sizes are in the digest


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_blank_line_ends_a_run_of_lines_in_a_plain_document(newline: str) -> None:
    def body(*lines: str) -> list[str]:
        d = derive(newline.join(["Notes on the archive", "", *lines, ""]).encode())
        assert d.page is not None and not d.page.is_page
        return [p.text for p in d.body()]

    first, second = "a line that runs on", "next line of the same clause"
    assert body(first, second) == [f"{first} {second}"]
    assert body(first, "", second) == [first, second]
    assert body(first, "   ", second) == [first, second]  # a line of spaces is blank too
    assert body(first + ".", second) == [first + ".", second]  # a sentence ended


def test_a_long_run_of_short_lines_is_cut_once_past_the_target_size() -> None:
    o = CleanOptions().passages
    line_len = 40
    assert line_len < o.max_chars - o.target_chars  # a cut past the target always fits
    count = 2 * o.max_chars // line_len  # lines enough for three passages at least
    lines = [f"entry {i:03d} of a list that goes on".ljust(line_len, "-") for i in range(count)]
    raw = ("\n".join(lines) + "\n").encode()
    d = derive(raw)
    assert d.page is not None and not d.page.is_page
    assert [p.kind for p in d.passages] == ["body"] * len(d.passages) and len(d.passages) >= 3
    starts = {raw.index(line.encode()) for line in lines}
    ends = {start + line_len for start in starts}
    for p in d.passages:
        assert p.raw_start in starts and p.raw_end in ends  # cut at line ends
        assert len(p.text) <= o.max_chars
    for p in d.passages[:-1]:
        assert len(p.text) >= o.target_chars
        # ...and cut at the first line end past the target, not later
        assert p.raw_end - (line_len + 1) - p.raw_start < o.target_chars
    # the spans, with the line break between each and the next, are the text exactly
    assert d.passages[0].raw_start == 0 and d.passages[-1].raw_end == len(raw) - 1
    for a, b in itertools.pairwise(d.passages):
        assert raw[a.raw_end : b.raw_start] == b"\n"
    assert b"\n".join(raw[p.raw_start : p.raw_end] for p in d.passages) + b"\n" == raw
    assert " ".join(p.text for p in d.passages) == " ".join(lines)


def test_a_page_scrape_keeps_one_passage_per_line() -> None:
    raw = (Path(__file__).parent / "data" / "pages" / "related-block.txt").read_bytes()
    d = derive(raw)
    assert d.page is not None and d.page.is_page
    lines = {line.strip() for line in raw.decode().splitlines()}
    assert all(p.text in lines for p in d.passages)


def test_binary_has_no_passages_and_says_why() -> None:
    d = derive(bytes(range(256)) * 20)
    assert d.status == "binary" and d.passages == () and "binary" in (d.detail or "")


@pytest.mark.parametrize("name", ["a.txt", "dir/x@v2#3.txt", "spaces in name.txt", "ü@#"])
def test_passage_ids_round_trip(name: str) -> None:
    pid = passage_id(name, 12, 7)
    assert parse_passage_id(pid) == (name, 12, 7)


def test_utf16_document_spans() -> None:
    text = (
        "Title of a report\n\n"
        + "Die Straße wurde am Montag für den Verkehr freigegeben, sagte die Stadt.\n" * 3
    )
    raw = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    d = derive(raw)
    assert d.codec == "utf-16-le" and d.body()
    for p in d.passages:
        assert decode_span(raw, p.raw_start, p.raw_end, "utf-16-le") == p.text


def test_derive_records_the_verdict_the_date_and_the_environment() -> None:
    import unicodedata

    raw = (Path(__file__).parent / "data" / "pages" / "related-block.txt").read_bytes()
    d = derive(raw)
    assert d.cleaner_name == "provarchive-clean"
    assert d.page is not None and d.page.is_page and d.page.evidence
    assert d.page.to_json() == {
        "is_page": True,
        "score": d.page.score,
        "evidence": list(d.page.evidence),
    }
    assert type(d.page).from_json(d.page.to_json()) == d.page
    assert d.published == "2024-03-03"
    assert [p.kind for p in d.passages][:3] == ["title", "byline", "dateline"]
    assert d.environment["unicodedata"] == unicodedata.unidata_version
    assert d.environment["charset_normalizer"][0].isdigit()
    assert d.page in d.signature() and d.published in d.signature()


def test_keep_all_archives_every_line() -> None:
    raw = (Path(__file__).parent / "data" / "pages" / "related-block.txt").read_bytes()
    d = derive(raw, cleaner="keep-all")
    assert d.cleaner_name == "provarchive-keep-all"
    assert d.page is None and d.removals == ()
    assert len(d.passages) == len([line for line in raw.splitlines() if line.strip()])
    assert d.rules_digest != derive(raw).rules_digest
    assert d.signature() != derive(raw).signature()
    for p in d.passages:
        assert check_passage(raw, "utf-8", p.raw_start, p.raw_end, p.text)


def test_unknown_cleaner_is_refused() -> None:
    assert "keep-all" in CLEANERS and "default" in CLEANERS
    with pytest.raises(ValueError, match="unknown cleaner 'nope'"):
        derive(b"text", cleaner="nope")


def test_importing_passages_does_not_import_dateutil_or_charset_normalizer() -> None:
    import subprocess
    import sys

    code = (
        "import sys, provarchive.cleaning.passages; "
        "print([m for m in ('dateutil', 'charset_normalizer') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
