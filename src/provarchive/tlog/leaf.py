"""The log's leaves (schema v1) and the passage entries a derivation leaf commits to.

Contract:
- A leaf is the canonical JSON (:func:`provarchive.digests.canonical_json`) of
  one state change; :func:`make_leaf` validates the fields and returns those
  exact bytes, :func:`parse_leaf` accepts only bytes that are the canonical
  form of a valid leaf, so equal leaves are equal bytes and a re-encoded or
  edited leaf is refused.
- Schema ``"v": 1``. Required: ``type`` (event type, ``[a-z][a-z0-9_-]*``
  with optional ``.``-separated parts, e.g. ``"version"``, ``"derivation"``),
  ``document`` (name), ``version`` (>= 1), ``inventory_sha512`` (hex sha512
  of that version's ``inventory.json`` bytes), ``sha256``/``sha512``/``size``
  of the version's content, ``time`` (RFC 3339 UTC, ``Z``), ``agent``.
  Optional: ``derivation`` (``sha256:<hex>`` of the canonical JSON of the
  derivation's immutable description, see :func:`derivation_digest`),
  ``derivation_output`` (``sha256:<hex>`` of the clean text), and together
  ``passages`` (count) and ``passages_root`` (``sha256:<hex>`` RFC 9162 root
  over the passage entries, see :func:`passages_root`). Unknown fields are
  refused: a new field means ``"v": 2``.
- Digests in fields named after their algorithm are plain lowercase hex;
  the others are tagged ``sha256:<hex>`` (the project's rule).
- A passage entry is the canonical JSON of ``{"id", "raw_span": [start, end],
  "raw_sha256", "text_sha256"}``: the passage's raw bytes ``raw[start:end]``
  hash to ``raw_sha256``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from ..config import MAX_AGENT
from ..digests import canonical_json, canonical_json_plain, sha256_hex
from .errors import LeafFormatError
from .merkle import leaf_hash, root

LEAF_VERSION = 1
MAX_LEAF_BYTES = 64 * 1024
EVENT_VERSION = "version"
"""Suggested type of the leaf recording a new stored version."""
EVENT_DERIVATION = "derivation"
"""Suggested type of the leaf recording a derivation (cleaning run) of a version."""

_TYPE = re.compile(r"[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX128 = re.compile(r"[0-9a-f]{128}")
_TAGGED = re.compile(r"sha256:[0-9a-f]{64}")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z")


@dataclass(frozen=True)
class Leaf:
    """One parsed leaf (schema v1)."""

    type: str
    document: str
    version: int
    inventory_sha512: str
    sha256: str
    sha512: str
    size: int
    time: str
    agent: str
    derivation: str | None = None
    derivation_output: str | None = None
    passages: int | None = None
    passages_root: str | None = None
    v: int = LEAF_VERSION

    def to_json(self) -> dict[str, Any]:
        return {k: val for k, val in asdict(self).items() if val is not None}


def format_time(value: datetime) -> str:
    """RFC 3339 UTC with ``Z``; seconds, or microseconds when there are any."""
    if value.tzinfo is None:
        raise LeafFormatError("time must be timezone-aware")
    value = value.astimezone(UTC)
    spec = "microseconds" if value.microsecond else "seconds"
    return value.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def _text(fields: Mapping[str, Any], key: str, limit: int) -> None:
    value = fields[key]
    if not isinstance(value, str) or not value or len(value) > limit:
        raise LeafFormatError(f"{key} must be a non-empty string of at most {limit} characters")


def _count(fields: Mapping[str, Any], key: str, minimum: int) -> None:
    value = fields[key]
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value < 2**63:
        raise LeafFormatError(f"{key} must be an integer >= {minimum}")


def _pattern(fields: Mapping[str, Any], key: str, pattern: re.Pattern[str], what: str) -> None:
    value = fields[key]
    if not isinstance(value, str) or not pattern.fullmatch(value):  # patterns have no ^$
        raise LeafFormatError(f"{key} must be {what}")


_LEAF_FIELDS = frozenset(Leaf.__dataclass_fields__)
_LEAF_REQUIRED = frozenset(f for f, d in Leaf.__dataclass_fields__.items() if d.default is not None)


def _validate(fields: Mapping[str, Any]) -> None:
    if fields.get("type") == EVENT:
        raise LeafFormatError("an event leaf is not a version or derivation leaf")
    keys = fields.keys()
    if not (_LEAF_REQUIRED - {"v"} <= keys <= _LEAF_FIELDS):
        missing = sorted(_LEAF_REQUIRED - set(keys) - {"v"})
        unknown = sorted(set(keys) - _LEAF_FIELDS)
        raise LeafFormatError(f"missing fields {missing}, unknown fields {unknown}")
    if fields.get("v", LEAF_VERSION) != LEAF_VERSION:
        raise LeafFormatError(f"unsupported leaf schema v={fields.get('v')!r}")
    _pattern(fields, "type", _TYPE, "a lower-case event type like 'version'")
    _text(fields, "document", 4096)
    _text(fields, "agent", MAX_AGENT)
    _count(fields, "version", 1)
    _count(fields, "size", 0)
    _pattern(fields, "inventory_sha512", _HEX128, "128 lowercase hex digits")
    _pattern(fields, "sha512", _HEX128, "128 lowercase hex digits")
    _pattern(fields, "sha256", _HEX64, "64 lowercase hex digits")
    _pattern(fields, "time", _TIME, "RFC 3339 UTC time like 2026-01-31T12:00:00Z")
    try:
        datetime.fromisoformat(fields["time"][:19])
    except ValueError:
        raise LeafFormatError(f"time {fields['time']!r} is not a real date and time") from None
    for key in ("derivation", "derivation_output", "passages_root"):
        if fields.get(key) is not None:
            _pattern(fields, key, _TAGGED, "a tagged digest sha256:<64 hex digits>")
    if (fields.get("passages") is None) != (fields.get("passages_root") is None):
        raise LeafFormatError("passages and passages_root go together")
    if fields.get("passages") is not None:
        _count(fields, "passages", 1)


def make_leaf(**fields: Any) -> bytes:
    """Validate ``fields`` and return the leaf's canonical bytes (``v`` is filled in).

    ``time`` may be given as an aware :class:`datetime`; None values are dropped.
    """
    values = {k: v for k, v in fields.items() if v is not None}
    if isinstance(values.get("time"), datetime):
        values["time"] = format_time(values["time"])
    values.setdefault("v", LEAF_VERSION)
    _validate(values)
    data = canonical_json(values)
    if len(data) > MAX_LEAF_BYTES:
        raise LeafFormatError(f"the leaf has {len(data)} bytes, over {MAX_LEAF_BYTES}")
    return data


def parse_leaf(data: bytes) -> Leaf:
    """The leaf in ``data``, which must be exactly the canonical bytes of a valid leaf."""
    values = _load_canonical(data, "leaf")
    if not isinstance(values, dict) or "v" not in values:
        raise LeafFormatError("a leaf is a JSON object with a schema version 'v'")
    _validate(values)
    return Leaf(**values)


def _load_canonical(data: bytes, what: str) -> Any:
    import orjson  # strict: no NaN, no lone surrogate; here, not at start-up

    try:
        values = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise LeafFormatError(f"the {what} is not UTF-8 JSON") from None
    if _has_float(values):  # no field is one; orjson reads integers past 64 bits as one
        raise LeafFormatError(f"the {what} holds a number that is not an integer of 64 bits")
    if canonical_json_plain(values) != data:
        raise LeafFormatError(f"the {what} is not in canonical JSON form")
    return values


def _has_float(value: Any) -> bool:
    """Whether orjson's output ``value`` holds a float anywhere (exact types: orjson
    makes no subclasses). A loop over the members, recursing only into containers:
    ``verify`` calls this once per leaf of the log."""
    kind = type(value)
    if kind is not dict and kind is not list:
        return kind is float
    for member in value.values() if kind is dict else value:
        kind = type(member)
        if kind is float or ((kind is dict or kind is list) and _has_float(member)):
            return True
    return False


def derivation_digest(description: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of the canonical JSON of a derivation's immutable description.

    Leave out what changes later (e.g. whether the derivation is still current).
    """
    return "sha256:" + sha256_hex(canonical_json(dict(description)))


# -- passage entries ------------------------------------------------------------------


@dataclass(frozen=True)
class PassageEntry:
    """One passage as the passages tree of a derivation leaf records it."""

    id: str
    raw_start: int
    raw_end: int
    raw_sha256: str
    text_sha256: str


def make_passage_entry(
    *, id: str, raw_start: int, raw_end: int, raw_sha256: str, text_sha256: str
) -> bytes:
    """Canonical bytes of one passage entry (``raw_sha256``/``text_sha256``: plain hex)."""
    values = {
        "id": id,
        "raw_span": [raw_start, raw_end],
        "raw_sha256": raw_sha256,
        "text_sha256": text_sha256,
    }
    _validate_passage(values)
    return canonical_json(values)


def _validate_passage(values: Mapping[str, Any]) -> None:
    if set(values) != {"id", "raw_span", "raw_sha256", "text_sha256"}:
        raise LeafFormatError("a passage entry has exactly id, raw_span, raw_sha256, text_sha256")
    _text(values, "id", 4096)
    span = values["raw_span"]
    if (
        not isinstance(span, list)
        or len(span) != 2
        or any(isinstance(x, bool) or not isinstance(x, int) for x in span)
        or not 0 <= span[0] <= span[1] < 2**63
    ):
        raise LeafFormatError("raw_span must be [start, end] with 0 <= start <= end")
    _pattern(values, "raw_sha256", _HEX64, "64 lowercase hex digits")
    _pattern(values, "text_sha256", _HEX64, "64 lowercase hex digits")


def parse_passage_entry(data: bytes) -> PassageEntry:
    values = _load_canonical(data, "passage entry")
    if not isinstance(values, dict):
        raise LeafFormatError("a passage entry is a JSON object")
    _validate_passage(values)
    start, end = values["raw_span"]
    return PassageEntry(values["id"], start, end, values["raw_sha256"], values["text_sha256"])


def passages_root(entries: Sequence[bytes]) -> str:
    """``sha256:<hex>`` RFC 9162 root over the passage entries, in passage order."""
    if not entries:
        raise LeafFormatError("a passages tree needs at least one passage")
    return "sha256:" + root(leaf_hash(e) for e in entries).hex()


# -- event leaves ---------------------------------------------------------------------

EVENT = "event"
"""Type of the leaf that records one entry of the archive's event log."""
MAX_DETAIL = 8192


@dataclass(frozen=True)
class EventLeaf:
    """One event of the archive's (PREMIS-style) event log, as the log records it.

    ``event`` is ``sha256:<hex>`` of :func:`event_digest` over the whole catalog row,
    so an edited event is found even where ``detail`` had to be shortened."""

    event_id: int
    event_type: str
    outcome: str
    time: str
    agent: str
    detail: str
    event: str
    document: str | None = None
    version: int | None = None
    type: str = EVENT
    v: int = LEAF_VERSION

    def to_json(self) -> dict[str, Any]:
        return {k: val for k, val in asdict(self).items() if val is not None}


def event_digest(
    event_id: int,
    occurred_at: str,
    event_type: str,
    outcome: str,
    agent: str,
    document: str | None,
    version: int | None,
    detail: str,
) -> str:
    """``sha256:<hex>`` of one event row (the fields a catalog event holds)."""
    row = [event_id, occurred_at, event_type, outcome, agent, document, version, detail]
    return "sha256:" + sha256_hex(canonical_json_plain(row))


_EVENT_FIELDS = frozenset(EventLeaf.__dataclass_fields__)
_EVENT_REQUIRED = frozenset(
    {"event_id", "event_type", "outcome", "time", "agent", "detail", "event", "type"}
)
_EVENT_TYPE = re.compile(r"[a-z][a-z0-9 _-]*")


def _validate_event(fields: Mapping[str, Any]) -> None:
    keys = fields.keys()
    if not (_EVENT_REQUIRED <= keys <= _EVENT_FIELDS):
        missing = sorted(_EVENT_REQUIRED - set(keys))
        unknown = sorted(set(keys) - _EVENT_FIELDS)
        raise LeafFormatError(f"missing fields {missing}, unknown fields {unknown}")
    if fields.get("v", LEAF_VERSION) != LEAF_VERSION:
        raise LeafFormatError(f"unsupported leaf schema v={fields.get('v')!r}")
    _count(fields, "event_id", 1)
    _pattern(fields, "event_type", _EVENT_TYPE, "a lower-case event type")
    _text(fields, "outcome", 64)
    _text(fields, "agent", MAX_AGENT)
    _pattern(fields, "time", _TIME, "RFC 3339 UTC time like 2026-01-31T12:00:00Z")
    _pattern(fields, "event", _TAGGED, "a tagged digest sha256:<64 hex digits>")
    if not isinstance(fields["detail"], str) or len(fields["detail"]) > MAX_DETAIL:
        raise LeafFormatError(f"detail must be a string of at most {MAX_DETAIL} characters")
    if fields.get("document") is not None:
        _text(fields, "document", 4096)
    if fields.get("version") is not None:
        _count(fields, "version", 1)


def make_event_leaf(**fields: Any) -> bytes:
    """Canonical bytes of an event leaf (``time`` may be an aware datetime; a detail over
    :data:`MAX_DETAIL` characters is shortened, the digest still covers all of it)."""
    values = {k: v for k, v in fields.items() if v is not None}
    if isinstance(values.get("time"), datetime):
        values["time"] = format_time(values["time"])
    if isinstance(values.get("detail"), str) and len(values["detail"]) > MAX_DETAIL:
        values["detail"] = values["detail"][: MAX_DETAIL - 1] + "…"
    values.setdefault("v", LEAF_VERSION)
    values["type"] = EVENT
    _validate_event(values)
    return canonical_json(values)


def parse_any_leaf(data: bytes) -> Leaf | EventLeaf:
    """A version/derivation leaf or an event leaf, from its exact canonical bytes."""
    values = _load_canonical(data, "leaf")
    if not isinstance(values, dict) or "v" not in values:
        raise LeafFormatError("a leaf is a JSON object with a schema version 'v'")
    if values.get("type") == EVENT:
        _validate_event(values)
        return EventLeaf(**values)
    _validate(values)
    return Leaf(**values)
