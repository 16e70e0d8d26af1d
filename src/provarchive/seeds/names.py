"""Document names: what a name may be, and how any name or path is shown.

Contract:
- A document's name is its path relative to the seeds folder, POSIX separators,
  Unicode NFC. :func:`validate_name` is the single gatekeeper: it rejects
  absolute names, ``..``/``.``/empty segments, a leading ``~``, control
  characters, undecodable bytes and over-long segments, each with its reason.
- :func:`display_name` is how a name or path appears in any message: control
  and other unprintable characters escaped (``\\n``, ``\\x1b``, ``\\u200b``),
  undecodable bytes as ``\\xNN``. It never produces a newline, so a reason stays
  one line. It is idempotent: escaping an escaped text changes nothing (a
  backslash is not itself escaped, so ``a\\nb`` spelled with a real backslash
  and a refused name with a newline look alike; the second can never be a
  document name).
- :func:`collision_reason` words the refusal of names that differ only in
  Unicode normalisation (issue #20: two ``café.txt`` files, one archived over
  the other).
"""

from __future__ import annotations

import os
import unicodedata

from ..errors import InvalidNameError

MAX_SEGMENT_BYTES = 255

_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\x0b": "\\v", "\x0c": "\\f", "\x00": "\\0"}


def printable(path: str | os.PathLike[str]) -> str:
    """A path as text that can always be encoded and stored (undecodable bytes as \\xNN).

    Control characters are kept: use :func:`display_name` for anything shown."""
    text = os.fspath(path)
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _escape(ch: str) -> str:
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as os.fsdecode spells it
        return f"\\x{code - 0xDC00:02x}"
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def display_name(name: str | os.PathLike[str]) -> str:
    """``name`` as it may be shown on a terminal or in a one-line reason.

    Everything :meth:`str.isprintable` refuses (controls, format characters such
    as U+200B or U+202E, separators other than the space, unassigned code
    points, lone surrogates) is escaped; undecodable file-name bytes become
    ``\\xNN`` exactly as :func:`printable` writes them."""
    text = os.fspath(name)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)


def validate_name(name: str) -> str:
    """Return the canonical (NFC) form of a document name, or raise InvalidNameError."""
    shown = display_name(name)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidNameError(shown, "the file name is not valid UTF-8") from None
    canonical = unicodedata.normalize("NFC", name)
    if not canonical:
        raise InvalidNameError(shown, "the name is empty")
    if canonical.startswith("/"):
        raise InvalidNameError(
            shown, "absolute names are not allowed; give a path inside the seeds folder"
        )
    if canonical.startswith("~"):
        raise InvalidNameError(
            shown, "a leading '~' is not allowed (it would mean a home directory)"
        )
    for ch in canonical:
        if unicodedata.category(ch) == "Cc":
            raise InvalidNameError(
                shown, f"the name contains a control character (U+{ord(ch):04X})"
            )
    for segment in canonical.split("/"):
        if segment == "..":
            raise InvalidNameError(shown, "'..' would escape the seeds folder")
        if segment in ("", "."):
            raise InvalidNameError(shown, "empty or '.' path segments are not allowed")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise InvalidNameError(
                shown, f"a path segment is longer than {MAX_SEGMENT_BYTES} bytes"
            )
    return canonical


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _spelling(raw: str) -> str:
    """The code points of ``raw`` beyond ASCII, so two look-alike names can be told apart."""
    return raw.encode("ascii", "backslashreplace").decode("ascii")


def collision_reason(raw: str, others: list[str], *, folder: bool = False) -> str:
    """Why ``raw`` is refused: it equals each of ``others`` once normalised to NFC."""
    kind = "folder name" if folder else "name"
    names = " and ".join(f"'{display_name(n)}'" for n in [raw, *others])
    spelt = ", ".join(_spelling(n) for n in [raw, *others])
    return (
        f"{kind}s {names} differ only in Unicode normalisation ({spelt}), so they would be "
        f"one document: all are refused; rename all but one"
    )


def nfc_collisions(names: list[str] | set[str]) -> dict[str, list[str]]:
    """For each of ``names`` (entries of one folder) that equals another once normalised
    to NFC, the others (sorted). Cheap when every name is already NFC, as nearly all are:
    two distinct spellings of one NFC name cannot both be NFC."""
    present = set(names)
    groups: dict[str, list[str]] = {}
    for name in present:
        if not unicodedata.is_normalized("NFC", name):
            groups.setdefault(nfc(name), []).append(name)
    clashes: dict[str, list[str]] = {}
    for key, members in groups.items():
        if key in present:
            members.append(key)
        if len(members) > 1:
            for member in members:
                clashes[member] = sorted(m for m in members if m != member)
    return clashes
