"""Publication dates stated in bylines and datelines.

Contract: :func:`parse_date` returns the calendar date a line states, as ISO
``YYYY-MM-DD``, or None. Pure and deterministic: nothing depends on today's
date or the machine's time zone. A date is returned only when the line states
day, month and year (the year written in full: the fuzzy parse must not take
"Version 3" for 2003), and numerically written dates only when they cannot be
read two ways (``2024-03-03``, ``25/12/2024``; not ``03/04/2024``, which is
3 April in Europe and March 4 in the United States): an archive records no
guess. Relative dates ("2 hours ago") give None.

The parsing is python-dateutil's (fuzzy mode skips the words around the date:
"Published: 3 March 2024", "by Jane Doe on June 27, 2012"). It reads English
month and day names; dates in other languages give None. dateparser reads
some 200 languages but costs about 1 s on its first call and 10-50 ms per
searched line, against 0.05-0.3 ms here (measured on the dev pages' datelines):
that would cost more than the whole cleaning of a page. It is imported on first
use, so importing the cleaner stays cheap.
"""

from __future__ import annotations

from datetime import date, datetime

_MAX_CHARS = 200
_YEARS = (1800, 2200)

RULES: dict[str, object] = {
    "library": "python-dateutil (fuzzy parse, time zones ignored)",
    "requires": "day, month and year stated, the year in full; numeric dates only when unambiguous",
    "years": list(_YEARS),
    "max_chars": _MAX_CHARS,
}
"""How dates are read (part of the cleaner's rules digest)."""

_DEFAULTS = (datetime(1801, 1, 1), datetime(1802, 2, 2))
"""Two defaults that differ in day, month and year: a part the line does not
state comes out differently under each, so it shows as missing."""


def parse_date(text: str) -> str | None:
    """The date ``text`` states, as ``YYYY-MM-DD``, or None (see the module docstring)."""
    if len(text) > _MAX_CHARS or not any(ch.isdigit() for ch in text):
        return None
    first = _parse(text, _DEFAULTS[0], dayfirst=False)
    if first is None or first != _parse(text, _DEFAULTS[1], dayfirst=False):
        return None
    if first != _parse(text, _DEFAULTS[0], dayfirst=True):
        return None  # 03/04/2024: day and month can be read either way
    if not _YEARS[0] <= first.year < _YEARS[1]:
        return None
    if str(first.year) not in text:
        return None  # "Version 3, 29 June 2007": the fuzzy parse took 3 for the year
    return first.isoformat()


def _parse(text: str, default: datetime, *, dayfirst: bool) -> date | None:
    from dateutil import parser  # type: ignore[import-untyped]  # no stubs in the dependencies

    try:
        parsed: datetime = parser.parse(
            text, default=default, fuzzy=True, dayfirst=dayfirst, ignoretz=True
        )
    except (ValueError, OverflowError):
        return None
    return parsed.date()
