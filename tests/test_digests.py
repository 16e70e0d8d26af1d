"""Digests from one read, and canonical JSON."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provarchive.digests import canonical_json, hash_bytes, hash_stream, sha256_hex, sha256_tagged


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
