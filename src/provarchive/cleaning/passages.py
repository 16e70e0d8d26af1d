"""Passages: the searchable units of a document, each mapped to an exact byte span.

Contract: :func:`derive` turns raw bytes into a :class:`Derivation`: how they
were decoded, every :class:`Passage` (title, standfirst, byline, dateline, body
paragraphs), every :class:`Removal` (a dropped line with its rule and reason),
the page verdict (was it cleaned as a page scrape, on what evidence), the
publication date found in a byline or dateline, and the versions of the
libraries and data the result depends on. ``cleaner`` picks one of
:data:`CLEANERS`: ``default`` (judge, then clean) or ``keep-all`` (archive every
line, strip nothing). For every
passage and removal, ``raw_span = (start, end)`` satisfies::

    text.decode_span(raw, start, end, derivation.codec) == passage.text

i.e. decoding those bytes and applying the recorded normalisation gives the
text exactly. This is tested with Hypothesis and re-checked by ``verify``.

Paragraphs: in a page scrape each kept unit of the cleaner is one passage (a
line, where each line is a block, or a whole paragraph of hard-wrapped text,
which the cleaner classifies as one unit). In a document judged no page, kept
whole, lines that run on (no blank line between them, no sentence ended at the
break) make one passage, so a phrase wrapped from one line into the next is in
one passage: a licence clause, an indented definition, a changelog entry, code.
Such a run is cut at line ends into passages of at most
:attr:`PassageOptions.max_chars`, each ending once past
:attr:`PassageOptions.target_chars`; a single longer line or paragraph is split
at sentence ends (or, failing that, at spaces) into pieces of about
:attr:`PassageOptions.target_chars`. ``keep-all`` leaves units as they are.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field, replace

from ..digests import sha256_hex, sha256_tagged
from .cleaner import (
    CLEANER_NAME,
    CLEANER_VERSION,
    KEEP_ALL_NAME,
    CleanResult,
    Decision,
    clean,
    keep_all,
    rules_digest,
)
from .options import CleanOptions, PassageOptions
from .rules import ends_sentence
from .text import BINARY, NORMALISATION, TEXT, Decoded, decode, line_breaks, normalise
from .verdict import PageVerdict

CLEANERS = ("default", "keep-all")
"""The cleaners :func:`derive` knows: judge and clean, or keep every line."""
CLEANER_NAMES = {"default": CLEANER_NAME, "keep-all": KEEP_ALL_NAME}
"""Cleaner (as chosen with --cleaner) -> the name its derivations record."""


DEFAULT_PASSAGE_OPTIONS = PassageOptions()


@dataclass(frozen=True, slots=True)
class Passage:
    ordinal: int
    kind: str
    text: str
    sha256: str
    raw_start: int
    raw_end: int


@dataclass(frozen=True, slots=True)
class Removal:
    ordinal: int
    text: str
    rule: str
    reason: str
    raw_start: int
    raw_end: int


@dataclass(frozen=True)
class Derivation:
    """The result of cleaning one version's raw bytes with one cleaner."""

    status: str
    codec: str | None
    encoding_label: str
    detail: str | None
    passages: tuple[Passage, ...]
    removals: tuple[Removal, ...]
    cleaner_name: str = CLEANER_NAME
    cleaner_version: str = CLEANER_VERSION
    rules_digest: str = ""
    normalisation: str = NORMALISATION
    page: PageVerdict | None = None
    """Whether it was cleaned as a page scrape, and why (None: kept whole unjudged)."""
    published: str | None = None
    """The publication date stated in a byline or dateline, ``YYYY-MM-DD``."""
    environment: dict[str, str] = field(default_factory=dict)
    """Versions of what the output depends on besides the cleaner (see :func:`environment`)."""

    @property
    def clean_text(self) -> str:
        """All passage texts in order, one per line: the derivation's output."""
        return "\n".join(p.text for p in self.passages)

    @property
    def output_sha256(self) -> str:
        return sha256_tagged(self.clean_text)

    @property
    def title(self) -> str | None:
        return next((p.text for p in self.passages if p.kind == "title"), None)

    def body(self) -> list[Passage]:
        return [p for p in self.passages if p.kind == "body"]

    def signature(self) -> tuple[object, ...]:
        """Everything a re-derivation must reproduce for the result to count as the same."""
        return (
            self.status,
            self.codec,
            tuple((p.kind, p.text, p.raw_start, p.raw_end) for p in self.passages),
            tuple((r.rule, r.raw_start, r.raw_end) for r in self.removals),
            self.page,
            self.published,
        )


def passage_id(name: str, version: int, ordinal: int) -> str:
    """The stable id of a passage: ``NAME@vVERSION#ORDINAL``."""
    return f"{name}@v{version}#{ordinal}"


def parse_passage_id(value: str) -> tuple[str, int, int] | None:
    """(name, version, ordinal) of a passage id, or None. Names may contain '@' and '#'."""
    m = re.fullmatch(r"(?s)(.+)@v([1-9][0-9]*)#([1-9][0-9]*)", value)
    if m is None:
        return None
    return m.group(1), int(m.group(2)), int(m.group(3))


_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’»)\]]*\s+|(?<=[。！？])")


def derive(
    raw: bytes,
    *,
    cleaner: str = "default",
    options: CleanOptions | None = None,
    passage_options: PassageOptions | None = None,
) -> Derivation:
    """Decode, clean and cut ``raw`` into passages with byte spans. Never raises on
    input; an unknown ``cleaner`` (not in :data:`CLEANERS`) raises ValueError.
    ``passage_options`` replaces ``options.passages`` (and so changes the digest)."""
    if cleaner not in CLEANER_NAMES:
        raise ValueError(f"unknown cleaner {cleaner!r}: expected one of {', '.join(CLEANERS)}")
    name = CLEANER_NAMES[cleaner]
    clean_options = options or CleanOptions()
    if passage_options is not None:
        clean_options = replace(clean_options, passages=passage_options)
    meta = {
        "cleaner_name": name,
        "rules_digest": rules_digest(clean_options, name),
        "environment": environment(),
    }
    decoded = decode(raw)
    if decoded.status == BINARY:
        return Derivation(BINARY, None, "none", decoded.reason, (), (), **meta)  # type: ignore[arg-type]
    if decoded.status != TEXT or not decoded.text.strip():
        status = decoded.status if decoded.status != TEXT else "empty"
        return Derivation(
            status,
            decoded.codec,
            decoded.encoding_label,
            "no text",
            (),
            (),
            **meta,  # type: ignore[arg-type]
        )
    result: CleanResult = (clean if cleaner == "default" else keep_all)(decoded.text, clean_options)
    passages, removals = _cut(decoded, result, clean_options.passages)
    return Derivation(
        TEXT,
        decoded.codec,
        decoded.encoding_label,
        None,
        passages,
        removals,
        page=result.page,
        published=result.published,
        **meta,  # type: ignore[arg-type]
    )


@functools.cache
def _environment() -> tuple[tuple[str, str], ...]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"unicodedata": unicodedata.unidata_version}
    for package in ("charset-normalizer", "python-dateutil"):
        try:
            out[package.replace("-", "_")] = version(package)
        except PackageNotFoundError:
            out[package.replace("-", "_")] = "absent"
    return tuple(sorted(out.items()))


def environment() -> dict[str, str]:
    """Versions of what a derivation depends on besides the cleaner's own rules: the
    Unicode database (normalisation, character classes), charset-normalizer (the
    guessed encoding of undeclared bytes) and python-dateutil (published dates). When
    ``verify --rederive`` finds drift, a changed entry here says why."""
    return dict(_environment())


def _cut(
    decoded: Decoded, result: CleanResult, o: PassageOptions
) -> tuple[tuple[Passage, ...], tuple[Removal, ...]]:
    """Passages and removals with byte spans, from the cleaner's decisions."""
    plain = result.page is not None and not result.page.is_page  # keep-all: units as they are
    pieces = _pieces(decoded.text, list(result.decisions), o, blocks=plain)
    positions = sorted({p for start, end, *_ in pieces for p in (start, end)})
    offsets = dict(zip(positions, decoded.byte_offsets(positions), strict=True))
    passages: list[Passage] = []
    removals: list[Removal] = []
    for start, end, kind, rule, reason in pieces:
        text = normalise(decoded.text[start:end])
        if rule is None:
            passages.append(
                Passage(
                    len(passages) + 1, kind, text, sha256_hex(text), offsets[start], offsets[end]
                )
            )
        else:
            removals.append(
                Removal(len(removals) + 1, text, rule, reason, offsets[start], offsets[end])
            )
    return tuple(passages), tuple(removals)


def _pieces(
    text: str, decisions: list[Decision], o: PassageOptions, *, blocks: bool
) -> list[tuple[int, int, str, str | None, str]]:
    """(char start, char end, kind, rule, reason) for every passage and removal, in order.

    With ``blocks`` (a document judged no page scrape), a body unit that runs on
    into the next (no blank line between them, no sentence ended at the break)
    makes one passage with it: a hard-wrapped licence clause, a changelog entry,
    an indented definition. A phrase wrapped from one line into the next is then
    within one passage, so it can be found."""
    out: list[tuple[int, int, str, str | None, str]] = []
    block: list[tuple[int, int]] = []
    last = ""

    def flush() -> None:
        out.extend((a, b, "body", None, "") for a, b in _split_block(text, block, o))
        block.clear()

    for d in decisions:
        if d.keep and d.kind == "body":
            if block and not (blocks and _runs_on(text, block[-1][1], d.line.start, last)):
                flush()
            block.append((d.line.start, d.line.end))
            last = d.line.text
            continue
        flush()
        if not d.keep:
            out.append((d.line.start, d.line.end, "", d.rule or "", d.reason or ""))
        else:
            out.append((d.line.start, d.line.end, d.kind or "body", None, ""))
    flush()
    return out


def _runs_on(text: str, end: int, start: int, before: str) -> bool:
    """Whether the unit ``before`` (ending at ``end``) runs on into the next one: no
    blank line between them and no sentence ended at the line break."""
    return line_breaks(text, end, start) <= 1 and not ends_sentence(before)


def _split_block(
    text: str, units: list[tuple[int, int]], o: PassageOptions
) -> list[tuple[int, int]]:
    """Passages of a block of adjacent units: whole units gathered while they fit in
    max_chars (cut at a line end once past target_chars), a longer unit split alone."""
    out: list[tuple[int, int]] = []
    start = end = -1
    for a, b in units:
        if start >= 0 and (b - start > o.max_chars or end - start >= o.target_chars):
            out.extend(_split_long(text, start, end, o))
            start = -1
        if start < 0:
            start = a
        end = b
    if start >= 0:
        out.extend(_split_long(text, start, end, o))
    return out


def _split_long(text: str, start: int, end: int, o: PassageOptions) -> list[tuple[int, int]]:
    """Split [start, end) at sentence ends into pieces of about target_chars."""
    if end - start <= o.max_chars:
        return [(start, end)]
    pieces = []
    pos = start
    while end - pos > o.max_chars:
        window_end = pos + o.max_chars
        cut = None
        for m in _SENTENCE_END.finditer(text, pos + o.target_chars // 2, window_end):
            cut = m.end()
            if m.end() - pos >= o.target_chars:
                break
        if cut is None or cut <= pos:
            space = text.rfind(" ", pos + o.target_chars // 2, window_end)
            cut = space + 1 if space > pos else window_end
        piece_end = cut
        while piece_end > pos and text[piece_end - 1].isspace():
            piece_end -= 1
        pieces.append((pos, piece_end))
        pos = cut
        while pos < end and text[pos].isspace():
            pos += 1
    if pos < end:
        pieces.append((pos, end))
    return [(a, b) for a, b in pieces if b > a]


def check_passage(raw: bytes, codec: str, start: int, end: int, text: str) -> bool:
    """The span invariant for one passage (used by verify and the tests)."""
    from .text import decode_span

    try:
        return decode_span(raw, start, end, codec) == text
    except (UnicodeDecodeError, ValueError):
        return False


__all__ = [
    "CLEANERS",
    "CLEANER_NAMES",
    "DEFAULT_PASSAGE_OPTIONS",
    "Decoded",
    "Derivation",
    "PageVerdict",
    "Passage",
    "PassageOptions",
    "Removal",
    "check_passage",
    "derive",
    "environment",
    "parse_passage_id",
    "passage_id",
]
