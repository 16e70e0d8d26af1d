"""Text as the archive sees it: raw bytes decoded with a byte-offset map, lines, normalisation.

Contract:
- :func:`decode` turns raw bytes into text and never raises: the result says
  whether the bytes are ``text``, ``empty`` or ``binary`` (with a reason), and
  which codec was used. UTF-8 (with or without BOM) and UTF-16/32 with a BOM
  are decoded directly; anything else goes through ``charset-normalizer``.
- Decoding is lossless: undecodable bytes become lone surrogates
  (``surrogateescape``), so re-encoding any slice of the text gives back the
  exact bytes. That is what makes :meth:`Decoded.byte_offsets` exact, and what
  lets anyone check a passage: ``normalise(raw[start:end].decode(codec,
  errors))`` must equal the passage text (:func:`decode_span`).
- Binary is judged by content first (:func:`binary_reason`): all-zero bytes, a run
  of NUL bytes no text encoding produces, or mostly NUL characters once decoded;
  :func:`sniff_file` judges a file too large to read whole from a few sampled
  blocks and its holes (a sparse file is binary).
- :func:`normalise` is the one normalisation applied to every line and
  passage; :data:`NORMALISATION` names it and is recorded with every derivation.
"""

from __future__ import annotations

import codecs
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

NORMALISATION = "provarchive-norm/1: NFC; U+FFFD for undecodable bytes; controls and zero-width spaces as spaces; whitespace runs to one space; stripped"

TEXT = "text"
EMPTY = "empty"
BINARY = "binary"

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_WIDE = ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
_STATEFUL = ("iso2022", "utf_7", "utf-7", "hz")
_WESTERN_GUESSES = (
    "cp1250",
    "cp1257",
    "cp850",
    "cp437",
    "hp_roman8",
    "latin_1",
    "iso8859_2",
    "iso8859_3",
    "iso8859_4",
    "iso8859_9",
    "iso8859_10",
    "iso8859_13",
    "iso8859_14",
    "iso8859_15",
    "iso8859_16",
    "mac_roman",
    "mac_iceland",
    "mac_latin2",
    "mac_turkish",
    "cp1254",
    "cp1258",
)
_CP1252_PUNCT = frozenset("“”‘’–—…€•«»°£¥§©®´·¿¡¢¤¨ª¬¯±²³¹º¼½¾")


def errors_for(codec: str) -> str:
    """The error handler used with a codec: lossless for byte-oriented codecs."""
    return "strict" if codec in _WIDE else "surrogateescape"


@dataclass(frozen=True)
class Decoded:
    """The decoded text of some raw bytes, and how to map characters back to bytes."""

    status: str
    text: str
    codec: str | None
    bom: int
    reason: str | None = None

    @property
    def encoding_label(self) -> str:
        if self.codec is None:
            return "none"
        return f"{self.codec} (BOM)" if self.bom else self.codec

    def byte_offsets(self, positions: Sequence[int]) -> list[int]:
        """Byte offsets in the raw file of ascending character positions of :attr:`text`."""
        assert self.codec is not None
        errors = errors_for(self.codec)
        out: list[int] = []
        char = 0
        byte = self.bom
        for pos in positions:
            if pos < char:
                raise ValueError("positions must ascend")
            byte += len(self.text[char:pos].encode(self.codec, errors))
            char = pos
            out.append(byte)
        return out


def decode_span(raw: bytes, start: int, end: int, codec: str) -> str:
    """The normalised text of ``raw[start:end]``: what a passage with that span must say."""
    return normalise(raw[start:end].decode(codec, errors_for(codec)))


def decode_as(raw: bytes, codec: str) -> Decoded:
    """Decode with a known codec (as recorded by a derivation), skipping its BOM."""
    bom = next((len(b) for b, c in _BOMS if c == codec and raw.startswith(b)), 0)
    return Decoded(TEXT, raw[bom:].decode(codec, errors_for(codec)), codec, bom)


NUL_RUN = 64
"""This many NUL bytes in a row mean binary data or a sparse file's hole: text in any
encoding, UTF-16 and UTF-32 included, never holds more than three in a row."""
MOSTLY_NUL = 0.1
"""Decoded text with more NUL characters than this share is binary (a stray NUL in a
text file is kept as a space)."""
SAMPLE = 64 * 1024


def binary_reason(sample: bytes) -> str | None:
    """Why these bytes are binary by their content alone, or None (not a verdict that
    they are text: :func:`decode` goes on to look for an encoding)."""
    if not sample:
        return None
    if sample[0] == 0 and sample[-1] == 0 and sample.count(0) == len(sample):
        return f"binary data: all {len(sample)} bytes are zero (an empty disk image or sparse file)"
    if b"\x00" * NUL_RUN in sample:
        return f"binary data: runs of {NUL_RUN} or more NUL bytes"
    return None


def sniff_file(fd: int, size: int) -> str | None:
    """:func:`binary_reason` of an open file too large to read whole, from a few blocks
    (start, middle, end) and its holes: a sparse file is binary. Reads at most
    4 x :data:`SAMPLE` bytes, whatever the size."""
    if size <= 0:
        return None
    seek_hole = getattr(os, "SEEK_HOLE", None)
    if seek_hole is not None:
        try:
            hole = os.lseek(fd, 0, seek_hole)
        except OSError:
            hole = size
        if hole < size:
            return f"binary data: a sparse file (a hole of zero bytes at offset {hole})"
    parts = []
    for offset in sorted({0, max(0, size // 2 - SAMPLE // 2), max(0, size - SAMPLE)}):
        parts.append(os.pread(fd, SAMPLE, offset))
    joined = b"".join(parts)
    reason = binary_reason(joined)
    if (
        reason is None
        and joined.count(0) > MOSTLY_NUL * len(joined)
        and _guess_wide(joined) is None
    ):
        reason = f"binary data: {joined.count(0)} NUL bytes in {len(joined)} sampled"
    return reason


def decode(raw: bytes) -> Decoded:
    """Decode raw bytes; see the module docstring. Never raises."""
    if not raw:
        return Decoded(EMPTY, "", "utf-8", 0)
    reason = binary_reason(raw)
    if reason is not None:
        return Decoded(BINARY, "", None, 0, reason)
    decoded = _decode(raw)
    if decoded.status == TEXT and decoded.text.count("\x00") > MOSTLY_NUL * len(decoded.text):
        count = decoded.text.count("\x00")
        return Decoded(
            BINARY, "", None, 0, f"binary data: {count} of {len(decoded.text)} characters are NUL"
        )
    return decoded


def _decode(raw: bytes) -> Decoded:
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            try:
                return Decoded(
                    TEXT, raw[len(bom) :].decode(codec, errors_for(codec)), codec, len(bom)
                )
            except UnicodeDecodeError as exc:
                return Decoded(
                    BINARY,
                    "",
                    None,
                    0,
                    f"starts with a {codec} byte-order mark but is not valid {codec} ({exc.reason})",
                )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if raw.count(0) * 10 <= len(raw):
            return Decoded(TEXT, text, "utf-8", 0)
        wide = _guess_wide(raw)
        if wide is not None:
            return wide
        return Decoded(TEXT, text, "utf-8", 0)
    if _looks_binary(raw):  # before decoding leniently: random bytes make millions of errors
        wide = _guess_wide(raw)
        if wide is not None:
            return wide
        return Decoded(BINARY, "", None, 0, "binary data (control bytes, no text encoding fits)")
    lenient = raw.decode("utf-8", "surrogateescape")
    # Counted without a list or a Python loop over the characters (memory stays flat):
    # ASCII bytes are always valid UTF-8 and each gives one character.
    invalid = sum(1 for _ in _SURROGATE.finditer(lenient))
    non_ascii = len(lenient) - (len(raw) - len(raw.translate(None, _ASCII)))
    multibyte = non_ascii - invalid
    if multibyte > 0 and multibyte >= invalid:
        # UTF-8 with a few broken sequences (a truncated download, a bad paste):
        # keep the valid characters, the broken bytes become U+FFFD.
        return Decoded(TEXT, lenient, "utf-8", 0)
    guessed = _guess_codec(raw)
    if guessed is None:
        # Mostly UTF-8 with some invalid sequences: keep them as U+FFFD.
        return Decoded(TEXT, raw.decode("utf-8", "surrogateescape"), "utf-8", 0)
    return Decoded(TEXT, raw.decode(guessed, errors_for(guessed)), guessed, 0)


_ASCII = bytes(range(128))


def _looks_binary(raw: bytes) -> bool:
    sample = raw[:65536]
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return controls * 20 > len(sample)


def _guess_wide(raw: bytes) -> Decoded | None:
    """UTF-16 without a BOM: NULs in every other byte."""
    sample = raw[:4096]
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    half = len(sample) // 2 or 1
    for codec, zeros in (("utf-16-le", odd), ("utf-16-be", even)):
        if zeros > 0.4 * half and len(raw) % 2 == 0:
            try:
                return Decoded(TEXT, raw.decode(codec), codec, 0)
            except UnicodeDecodeError:
                continue
    return None


def _plausible_cp1252(raw: bytes) -> bool:
    """Western text in Windows-1252: a minority of accented letters, no odd symbols.

    charset-normalizer often calls short Portuguese, French or German text cp1250
    or a Mac codepage; Windows-1252 is by far the likelier on the web, so we take
    it when every non-ASCII character it yields is a Latin letter or common
    typographic punctuation and accented letters stay a minority (Cyrillic or
    Greek bytes read as 1252 give almost nothing but accented letters)."""
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        return False
    letters = accented = 0
    for ch in text:
        if ch.isalpha():
            letters += 1
            if ord(ch) > 127:
                accented += 1
                if not ("\u00c0" <= ch <= "\u00ff" or ch in "ŒœŠšŽžŸƒ"):
                    return False
        elif ord(ch) > 127 and ch not in _CP1252_PUNCT and not ch.isspace():
            return False
    return letters > 0 and accented <= 0.3 * letters


def _guess_codec(raw: bytes) -> str | None:
    import charset_normalizer

    best = charset_normalizer.from_bytes(raw).best()
    guess = best.encoding if best is not None else None
    if guess in ("utf_8", "ascii", "utf-8"):
        return None
    if (guess is None or guess in _WESTERN_GUESSES) and _plausible_cp1252(raw):
        return "cp1252"
    if guess is None or any(guess.startswith(s) for s in _STATEFUL):
        return None
    try:
        codecs.lookup(guess)
    except LookupError:
        return None
    return guess


# -- lines and normalisation ----------------------------------------------------------------------

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[tuple[int, int]]:
    """Character spans [start, end) of every line (``\\n``, ``\\r\\n`` or ``\\r`` ends one)."""
    spans = []
    pos = 0
    for m in _LINE_BREAK.finditer(text):
        spans.append((pos, m.start()))
        pos = m.end()
    if pos < len(text):
        spans.append((pos, len(text)))
    return spans


def line_breaks(text: str, start: int, end: int) -> int:
    """How many line breaks (as :func:`split_lines` counts them) ``text[start:end]`` holds."""
    return len(_LINE_BREAK.findall(text, start, end))


_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b\u2060\ufeff]")
"""C0/C1 controls, and the invisible zero-width space, word joiner and BOM that
pages use as blank lines. (ZWJ/ZWNJ stay: Persian and Indic text needs them.)"""
_SPACE = re.compile(r"\s")


def normalise(text: str) -> str:
    """The normalisation of every line and passage (see :data:`NORMALISATION`)."""
    if not text.isascii():  # a flag of the string: ASCII has no surrogate and is NFC
        if _SURROGATE.search(text):
            text = _SURROGATE.sub("\ufffd", text)
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
    if _CONTROL.search(text):
        text = _CONTROL.sub(" ", text)
    return _collapse_spaces(text)


_CHUNK = 1_000_000


def _collapse_spaces(text: str) -> str:
    r"""``" ".join(text.split())`` (str.split knows the same whitespace as ``\s``),
    done in chunks cut at whitespace so a 50 MB line never becomes a list of
    millions of words."""
    if len(text) <= _CHUNK:
        return " ".join(text.split())
    parts = []
    pos = 0
    while pos < len(text):
        end = pos + _CHUNK
        if end < len(text):
            m = _SPACE.search(text, end)
            end = m.start() if m else len(text)
        piece = " ".join(text[pos:end].split())
        if piece:
            parts.append(piece)
        pos = end
    return " ".join(parts)
