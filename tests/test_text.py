"""Decoding with an exact byte-offset map, and the normalisation."""

from __future__ import annotations

import codecs
import itertools
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provarchive.cleaning.text import (
    BINARY,
    EMPTY,
    SAMPLE,
    TEXT,
    decode,
    decode_as,
    decode_span,
    normalise,
    sniff_file,
    split_lines,
)


@pytest.mark.parametrize(
    ("raw", "codec", "bom", "text"),
    [
        ("Olá café".encode(), "utf-8", 0, "Olá café"),
        (codecs.BOM_UTF8 + "Olá".encode(), "utf-8", 3, "Olá"),
        (codecs.BOM_UTF16_LE + "Grüße 東京".encode("utf-16-le"), "utf-16-le", 2, "Grüße 東京"),
        (codecs.BOM_UTF16_BE + "Grüße 東京".encode("utf-16-be"), "utf-16-be", 2, "Grüße 東京"),
        (codecs.BOM_UTF32_LE + "𝄞 clef".encode("utf-32-le"), "utf-32-le", 4, "𝄞 clef"),
        (
            "Ação e emoção em São Paulo, coração.".encode("cp1252"),
            "cp1252",
            0,
            "Ação e emoção em São Paulo, coração.",
        ),
        (
            "Grüße aus München – “schön”, sagte er.".encode("cp1252"),
            "cp1252",
            0,
            "Grüße aus München – “schön”, sagte er.",
        ),
        ("Ça coûte 5 € à l’entrée.".encode("cp1252"), "cp1252", 0, "Ça coûte 5 € à l’entrée."),
        (
            "Привет, как дела? Это текст на русском языке для проверки кодировки.".encode("cp1251"),
            "cp1251",
            0,
            "Привет, как дела? Это текст на русском языке для проверки кодировки.",
        ),
        (
            "ASCII text in UTF-16 without any byte order mark at all".encode("utf-16-le"),
            "utf-16-le",
            0,
            "ASCII text in UTF-16 without any byte order mark at all",
        ),
    ],
    ids=[
        "utf8",
        "utf8-bom",
        "utf16le-bom",
        "utf16be-bom",
        "utf32le-bom",
        "cp1252-pt",
        "cp1252-de",
        "cp1252-fr",
        "cp1251",
        "utf16-nobom",
    ],
)
def test_decodes_and_records_the_codec(raw: bytes, codec: str, bom: int, text: str) -> None:
    d = decode(raw)
    assert (d.status, d.codec, d.bom, d.text) == (TEXT, codec, bom, text)
    assert decode_as(raw, codec).text == text


def test_binary_bytes_are_binary_with_a_reason() -> None:
    d = decode(bytes(range(256)) * 50)
    assert d.status == BINARY and d.codec is None
    assert "binary" in (d.reason or "")


def test_empty_is_empty() -> None:
    assert decode(b"").status == EMPTY


def test_invalid_utf8_keeps_valid_text_and_marks_bad_bytes() -> None:
    raw = "café naïve".encode() + b"\xff\xfe" + " déjà vu".encode()
    d = decode(raw)
    assert d.codec == "utf-8"
    assert normalise(d.text) == "café naïve\ufffd\ufffd déjà vu"
    assert d.text.encode("utf-8", "surrogateescape") == raw


def test_nul_bytes_in_utf8_text_become_spaces() -> None:
    d = decode(b"hello\x00world")
    assert d.codec == "utf-8" and normalise(d.text) == "hello world"


def test_utf16_with_bad_bom_payload_is_binary_not_a_crash() -> None:
    d = decode(codecs.BOM_UTF16_LE + b"\x00\xd8")  # lone high surrogate
    assert d.status == BINARY and "utf-16-le" in (d.reason or "")


def test_split_lines_handles_every_line_ending() -> None:
    text = "a\nb\r\nc\rd"
    assert [text[s:e] for s, e in split_lines(text)] == ["a", "b", "c", "d"]
    assert split_lines("") == []
    assert [text2[s:e] for text2 in ["x\n\n"] for s, e in split_lines(text2)] == ["x", ""]


def test_normalise() -> None:
    assert normalise("  a\u00a0\tb \n c  ") == "a b c"
    assert normalise("e\u0301") == "\u00e9"  # NFC
    assert normalise("x\u200by") == "x y"  # zero-width space
    assert normalise("\u200d") == "\u200d"  # ZWJ is kept
    assert normalise("\udcff") == "\ufffd"  # an undecodable byte


@given(st.text())
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    assert once == once.strip()
    assert "  " not in once


ENCODINGS = ["utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "cp1252", "latin-1"]


@settings(max_examples=200)
@given(
    text=st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200),
    encoding=st.sampled_from(ENCODINGS),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=6),
)
def test_byte_offsets_are_exact_for_any_text_and_encoding(
    text: str, encoding: str, cuts: list[int]
) -> None:
    try:
        raw = text.encode(encoding)
    except UnicodeEncodeError:
        return
    d = decode_as(raw, encoding)
    assert d.text == text
    positions = sorted({min(c, len(text)) for c in cuts} | {0, len(text)})
    offsets = d.byte_offsets(positions)
    for (a, b), (x, y) in zip(
        itertools.pairwise(positions),
        itertools.pairwise(offsets),
        strict=True,
    ):
        assert raw[x:y].decode(encoding) == text[a:b]
        assert decode_span(raw, x, y, encoding) == normalise(text[a:b])


@given(st.text(st.sampled_from(list("ab  \t\n\u00a0\u3000x\x00\u200b"))))
def test_chunked_whitespace_collapse_equals_split_join(text: str) -> None:
    import provarchive.cleaning.text as module

    saved = module._CHUNK
    module._CHUNK = 5  # force the chunked path on short strings
    try:
        assert normalise(text) == " ".join(module._CONTROL.sub(" ", text).split())
    finally:
        module._CHUNK = saved


# -- binary by content (issue #20: an all-zero file was "text, utf-16-le") -----------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (bytes(100_000), "all 100000 bytes are zero"),
        (bytes(1), "all 1 bytes are zero"),
        (codecs.BOM_UTF16_LE + bytes(4096), "runs of 64 or more NUL bytes"),
        (b"A text file with a hole " + bytes(4096) + b" in the middle.", "runs of 64"),
        (b"ab\x00" * 200, "characters are NUL"),  # decodes, but a third of it is NUL
    ],
)
def test_zeros_and_nul_runs_are_binary(raw: bytes, reason: str) -> None:
    d = decode(raw)
    assert d.status == BINARY and d.text == "" and reason in (d.reason or "")


@pytest.mark.parametrize(
    "raw",
    [
        "Die Brücke über den Fluss.".encode("utf-16-le"),  # a NUL in every other byte
        "Die Brücke über den Fluss.".encode("utf-16-be"),
        codecs.BOM_UTF32_LE + "Die Brücke.".encode("utf-32-le"),  # three in every four
        b"The report\x00was filed\x00late on Friday evening by the clerk.\n",  # stray NULs
    ],
)
def test_text_with_some_nul_bytes_stays_text(raw: bytes) -> None:
    assert decode(raw).status == TEXT


def _sniffed(path: Path) -> str | None:
    fd = os.open(path, os.O_RDONLY)
    try:
        return sniff_file(fd, os.fstat(fd).st_size)
    finally:
        os.close(fd)


def test_sniff_file_finds_a_sparse_file_without_reading_it(tmp_path: Path) -> None:
    sparse = tmp_path / "disk.img"
    with open(sparse, "wb") as fh:
        fh.write(b"some data at the start")
        fh.truncate(2 * 1024**3)  # 2 GB, nearly all hole: never read whole
    reason = _sniffed(sparse)
    assert reason is not None and "sparse file" in reason


def test_sniff_file_samples_start_middle_and_end(tmp_path: Path) -> None:
    text = tmp_path / "big.txt"
    line = b"A line of ordinary text, repeated to make a large file.\n"
    text.write_bytes(line * (4 * SAMPLE // len(line)))
    assert _sniffed(text) is None
    zeros_at_the_end = tmp_path / "tail.bin"
    zeros_at_the_end.write_bytes(line * (4 * SAMPLE // len(line)) + bytes(SAMPLE))
    reason = _sniffed(zeros_at_the_end)
    assert reason is not None and "NUL" in reason
    wide = tmp_path / "wide.txt"
    wide.write_bytes("Ordinary text in UTF-16, many times. ".encode("utf-16-le") * 10000)
    assert _sniffed(wide) is None
