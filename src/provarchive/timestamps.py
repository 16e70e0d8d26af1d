"""The archive's time stamps: ISO 8601 in UTC, written with ``Z`` (as OCFL inventories,
the catalog's JSON and the transparency log's leaves carry them).

One home for reading and writing them, so that every module reads a stamp the same
way. The log's leaves keep their own stricter format (:mod:`provarchive.tlog.leaf`):
what a leaf says is part of what is signed.
"""

from __future__ import annotations

from datetime import UTC, datetime


def parse(text: str) -> datetime:
    """The moment a stamp names, as an aware datetime in UTC (``Z`` or an offset; a
    stamp without either is taken as UTC, never as this machine's local time, so that
    the same stamp names the same moment everywhere). ValueError if it is not ISO 8601."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso(value: datetime) -> str:
    """A stamp for ``value`` with ``Z`` for UTC, to the precision it holds (seconds, or
    microseconds when it has them)."""
    return value.isoformat().replace("+00:00", "Z")


def iso_or_none(value: datetime | None) -> str | None:
    return None if value is None else iso(value)


def iso_micro(value: datetime) -> str:
    """A stamp for ``value`` always to the microsecond (a version's ``created``): stamps
    of one width sort as the moments they name."""
    return value.isoformat(timespec="microseconds").replace("+00:00", "Z")
