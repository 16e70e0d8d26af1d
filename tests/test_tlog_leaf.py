"""Leaf schema v1 and passage entries: canonical bytes in, the same bytes out, nothing else."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provarchive.digests import canonical_json
from provarchive.tlog import leaf as tleaf
from provarchive.tlog import merkle
from provarchive.tlog.errors import LeafFormatError


def fields(**over: Any) -> dict[str, Any]:
    content = b"raw bytes of the document"
    base: dict[str, Any] = {
        "type": "version",
        "document": "reports/2026/budget.txt",
        "version": 1,
        "inventory_sha512": hashlib.sha512(b"inventory").hexdigest(),
        "sha256": hashlib.sha256(content).hexdigest(),
        "sha512": hashlib.sha512(content).hexdigest(),
        "size": len(content),
        "time": "2026-03-01T12:00:00Z",
        "agent": "provarchive/0.1.0 (alice)",
    }
    base.update(over)
    return base


def test_make_leaf_is_canonical_json_with_schema_version() -> None:
    data = tleaf.make_leaf(**fields())
    assert data == canonical_json({**fields(), "v": 1})
    parsed = tleaf.parse_leaf(data)
    assert parsed.document == "reports/2026/budget.txt" and parsed.v == 1
    assert canonical_json(parsed.to_json()) == data


def test_optional_derivation_fields_round_trip() -> None:
    entries = [
        tleaf.make_passage_entry(
            id=f"doc@v1#{i}",
            raw_start=i * 10,
            raw_end=i * 10 + 5,
            raw_sha256="0" * 64,
            text_sha256="1" * 64,
        )
        for i in range(3)
    ]
    data = tleaf.make_leaf(
        **fields(
            type="derivation",
            derivation=tleaf.derivation_digest({"cleaner": "c", "version": "1"}),
            derivation_output="sha256:" + "a" * 64,
            passages=3,
            passages_root=tleaf.passages_root(entries),
        )
    )
    parsed = tleaf.parse_leaf(data)
    assert parsed.passages == 3
    assert parsed.passages_root == "sha256:" + merkle.root(map(merkle.leaf_hash, entries)).hex()
    assert (
        parsed.derivation
        == "sha256:" + hashlib.sha256(b'{"cleaner":"c","version":"1"}').hexdigest()
    )


def test_time_from_an_aware_datetime_is_utc_z() -> None:
    t = datetime(2026, 3, 1, 14, 0, 0, tzinfo=timezone(timedelta(hours=2)))
    assert tleaf.parse_leaf(tleaf.make_leaf(**fields(time=t))).time == "2026-03-01T12:00:00Z"
    t = datetime(2026, 3, 1, 12, 0, 0, 250, tzinfo=UTC)
    assert tleaf.format_time(t) == "2026-03-01T12:00:00.000250Z"
    with pytest.raises(LeafFormatError):
        tleaf.format_time(datetime(2026, 3, 1))


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"type": "Version"}, "type"),
        ({"document": ""}, "document"),
        ({"version": 0}, "version"),
        ({"version": True}, "version"),
        ({"size": -1}, "size"),
        ({"sha256": "A" * 64}, "sha256"),
        ({"sha512": "0" * 127}, "sha512"),
        ({"sha512": "0" * 128 + "\n"}, "sha512"),  # '$' alone would let a newline end it
        ({"type": "version\n"}, "type"),
        ({"time": "2026-03-01T12:00:00Z\n"}, "time"),
        ({"time": "\u0662026-03-01T12:00:00Z"}, "time"),  # an Arabic-Indic digit is no digit here
        ({"inventory_sha512": "sha512:" + "0" * 128}, "inventory_sha512"),
        ({"time": "2026-03-01 12:00:00"}, "time"),
        ({"time": "2026-02-30T12:00:00Z"}, "real date"),
        ({"time": "2026-03-01T12:00:00+01:00"}, "time"),
        ({"derivation_output": "a" * 64}, "derivation_output"),
        ({"passages": 3}, "together"),
        ({"colour": "red"}, "unknown fields \\['colour'\\]"),
        ({"v": 2}, "schema"),
    ],
)
def test_invalid_fields_are_refused(override: dict[str, Any], message: str) -> None:
    with pytest.raises(LeafFormatError, match=message):
        tleaf.make_leaf(**fields(**override))


def test_missing_field_is_named() -> None:
    values = fields()
    del values["agent"]
    with pytest.raises(LeafFormatError, match="missing fields \\['agent'\\]"):
        tleaf.make_leaf(**values)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b.replace(b'"version":1', b'"version": 1'),
        lambda b: json.dumps(json.loads(b), indent=1).encode(),
        lambda b: b.replace(b"budget", b"bud\\u0067et"),
        lambda b: b + b"\n",
    ],
    ids=["space", "indented", "escaped", "newline"],
)
def test_parse_refuses_non_canonical_bytes(mutate: Any) -> None:
    data = tleaf.make_leaf(**fields())
    with pytest.raises(LeafFormatError, match="canonical"):
        tleaf.parse_leaf(mutate(data))


@pytest.mark.parametrize(
    "old, new",
    [(b'"v":1', b'"v":1.0'), (b'"version":1', b'"version":1.5'), (b'"size":25', b'"size":2.5e1')],
    ids=["schema-version", "version", "exponent"],
)
def test_parse_refuses_a_number_that_is_not_an_integer(old: bytes, new: bytes) -> None:
    data = tleaf.make_leaf(**fields())
    assert old in data
    with pytest.raises(LeafFormatError, match="integer of 64 bits"):
        tleaf.parse_any_leaf(data.replace(old, new))


@given(
    st.text(min_size=1, max_size=40).filter(lambda s: "\x00" not in s),
    st.integers(1, 10**6),
    st.integers(0, 10**12),
)
def test_leaf_round_trip_property(document: str, version: int, size: int) -> None:
    data = tleaf.make_leaf(**fields(document=document, version=version, size=size))
    assert tleaf.make_leaf(**tleaf.parse_leaf(data).to_json()) == data


def test_passage_entry_round_trip_and_validation() -> None:
    data = tleaf.make_passage_entry(
        id="a@v1#0", raw_start=0, raw_end=4, raw_sha256="0" * 64, text_sha256="1" * 64
    )
    assert data == b'{"id":"a@v1#0","raw_sha256":"' + b"0" * 64 + (
        b'","raw_span":[0,4],"text_sha256":"' + b"1" * 64 + b'"}'
    )
    entry = tleaf.parse_passage_entry(data)
    assert (entry.raw_start, entry.raw_end) == (0, 4)
    with pytest.raises(LeafFormatError, match="raw_span"):
        tleaf.make_passage_entry(
            id="a", raw_start=5, raw_end=4, raw_sha256="0" * 64, text_sha256="1" * 64
        )
    with pytest.raises(LeafFormatError, match="at least one passage"):
        tleaf.passages_root([])
