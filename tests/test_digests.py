"""Digests from one read, and canonical JSON."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provarchive.digests import (
    canonical_json,
    canonical_json_plain,
    hash_bytes,
    hash_stream,
    sha256_hex,
    sha256_tagged,
)


@given(st.binary(max_size=5000), st.integers(min_value=1, max_value=700))
def test_one_pass_gives_both_digests_and_an_exact_copy(data: bytes, block: int) -> None:
    sink = io.BytesIO()
    digests = hash_stream(io.BytesIO(data), sink=sink, block_size=block)
    assert digests.sha512 == hashlib.sha512(data).hexdigest()
    assert digests.sha256 == hashlib.sha256(data).hexdigest()
    assert digests.size == len(data)
    assert sink.getvalue() == data
    assert hash_bytes(data) == digests


def test_tagged_digests() -> None:
    assert sha256_tagged("abc") == "sha256:" + hashlib.sha256(b"abc").hexdigest()
    assert sha256_hex(b"abc") == hashlib.sha256(b"abc").hexdigest()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@pytest.mark.slow
@given(JSON)
def test_canonical_json_is_stable(value: object) -> None:
    data = canonical_json(value)
    assert json.loads(data) == value
    assert canonical_json(json.loads(data)) == data  # a round trip gives the same bytes
    if isinstance(value, dict):  # key order never matters
        assert canonical_json(dict(reversed(list(value.items())))) == data


PLAIN = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.text(st.characters(codec=None)),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text() | st.integers() | st.booleans(), inner, max_size=4)
    ),
    max_leaves=12,
)
"""JSON-like values without floats, with what orjson refuses: integers past 64 bits,
lone surrogates and non-string keys."""


def _bytes_or_error(encode: Callable[[object], bytes], value: object) -> bytes | str:
    try:
        return encode(value)
    except (ValueError, TypeError) as exc:  # UnicodeEncodeError is a ValueError
        return type(exc).__name__


class Word(str):
    pass


class Count(int):
    pass


class Table(dict):  # type: ignore[type-arg]
    pass


@dataclasses.dataclass
class Point:
    x: int


ODD = st.one_of(
    st.builds(Word, st.text()),
    st.builds(Count, st.integers()),
    st.builds(Table, st.dictionaries(st.text(), st.integers(), max_size=3)),
    st.builds(Point, st.integers()),
    st.datetimes(),
    st.dates(),
)
"""Values that are not plain JSON types: orjson would write them, json refuses or writes
them its own way; the fast path must hand them to json."""


@given(st.recursive(PLAIN | ODD, lambda inner: st.lists(inner, max_size=3), max_leaves=8))
def test_the_fast_canonical_json_gives_the_same_bytes_or_the_same_error(value: object) -> None:
    assert _bytes_or_error(canonical_json_plain, value) == _bytes_or_error(canonical_json, value)


def test_load_json_reports_nesting_too_deep_as_a_value_error() -> None:
    from provarchive.digests import load_json

    assert load_json(b'{"a": [1, 2]}') == {"a": [1, 2]}
    with pytest.raises(ValueError, match="nested too deeply"):
        load_json(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(ValueError):
        load_json(b"{not json")
