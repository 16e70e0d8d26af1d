"""Properties of provarchive.tlog.merkle against the RFC 9162 recursive definitions.

The reference functions below transcribe RFC 9162 §2.1.1 (MTH), §2.1.3.1
(PATH) and §2.1.4.1 (PROOF/SUBPROOF) literally and recursively, so the
iterative, node-store based code is checked against the text of the RFC and
not only against itself (tests/test_tlog_vectors.py adds third-party vectors).
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provarchive.tlog import merkle
from provarchive.tlog.errors import ConsistencyProofError, InclusionProofError


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = _k(len(d))
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def data(n: int) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(n)]


class NodeStore:
    """Perfect-subtree roots kept in the order of a stored-hash file."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.hashes: list[bytes] = []
        compact = merkle.CompactRange()
        for leaf in leaves:
            for level, index, h in compact.append(merkle.leaf_hash(leaf)):
                assert merkle.stored_hash_index(level, index) == len(self.hashes)
                self.hashes.append(h)
        self.size = len(leaves)
        assert len(self.hashes) == merkle.stored_hash_count(self.size)

    def node(self, level: int, index: int) -> bytes:
        return self.hashes[merkle.stored_hash_index(level, index)]

    def subtree(self, start: int, end: int) -> bytes:
        return merkle.subtree_root(start, end, self.node)


sizes = st.integers(min_value=1, max_value=70)


@given(st.lists(st.binary(max_size=8), max_size=40))
def test_root_equals_rfc_mth(leaves: list[bytes]) -> None:
    assert merkle.root(merkle.leaf_hash(x) for x in leaves) == ref_mth(leaves)


@given(sizes, st.data())
def test_inclusion_proofs_equal_rfc_path_and_verify(n: int, draw: st.DataObject) -> None:
    d = data(n)
    index = draw.draw(st.integers(0, n - 1))
    hashes = [merkle.leaf_hash(x) for x in d]
    proof = merkle.inclusion_proof(index, hashes)
    assert proof == ref_path(index, d)
    store = NodeStore(d)
    assert merkle.inclusion_proof_from(index, n, store.subtree) == proof
    merkle.verify_inclusion(index, n, hashes[index], proof, ref_mth(d))


@given(sizes, st.data())
def test_consistency_proofs_equal_rfc_subproof_and_verify(n: int, draw: st.DataObject) -> None:
    d = data(n)
    m = draw.draw(st.integers(1, n))
    proof = merkle.consistency_proof(m, [merkle.leaf_hash(x) for x in d])
    assert proof == ref_subproof(m, d, True)
    assert merkle.consistency_proof_from(m, n, NodeStore(d).subtree) == proof
    merkle.verify_consistency(m, n, ref_mth(d[:m]), ref_mth(d), proof)


@given(sizes, st.data())
def test_every_tampered_inclusion_proof_fails(n: int, draw: st.DataObject) -> None:
    d = data(n)
    index = draw.draw(st.integers(0, n - 1))
    hashes = [merkle.leaf_hash(x) for x in d]
    proof = merkle.inclusion_proof(index, hashes)
    root = ref_mth(d)
    bad = [bytearray(p) for p in proof]
    kind = draw.draw(st.sampled_from(["flip", "drop", "extra", "index", "size", "leaf"]))
    args = [index, n, hashes[index], [bytes(p) for p in bad], root]
    if kind == "flip" and bad:
        i = draw.draw(st.integers(0, len(bad) - 1))
        bad[i][draw.draw(st.integers(0, 31))] ^= 1 << draw.draw(st.integers(0, 7))
        args[3] = [bytes(p) for p in bad]
    elif kind == "drop" and bad:
        args[3] = [bytes(p) for p in bad[:-1]]
    elif kind == "extra":
        args[3] = [*proof, root]
    elif kind == "index" and n > 1:
        args[0] = (index + draw.draw(st.integers(1, n - 1))) % n
    elif kind == "size":
        # Doubling always changes the depth. (Some other sizes give a tree of the
        # same shape around this leaf; the signed checkpoint binds size to root.)
        args[1] = 2 * n
    else:
        args[2] = merkle.leaf_hash(b"not in the log")
    with pytest.raises(InclusionProofError):
        merkle.verify_inclusion(*args)  # type: ignore[arg-type]


@given(st.integers(2, 70), st.data())
def test_every_tampered_consistency_proof_fails(n: int, draw: st.DataObject) -> None:
    d = data(n)
    m = draw.draw(st.integers(1, n - 1))
    proof = merkle.consistency_proof(m, [merkle.leaf_hash(x) for x in d])
    root_m, root_n = ref_mth(d[:m]), ref_mth(d)
    kind = draw.draw(st.sampled_from(["flip", "drop", "extra", "root_m", "root_n", "rewrite"]))
    if kind == "flip":
        i = draw.draw(st.integers(0, len(proof) - 1))
        b = bytearray(proof[i])
        b[draw.draw(st.integers(0, 31))] ^= 1
        proof[i] = bytes(b)
    elif kind == "drop":
        proof = proof[:-1]
    elif kind == "extra":
        proof = [*proof, root_n]
    elif kind == "root_m":
        root_m = ref_mth([*d[: m - 1], b"rewritten"])
    elif kind == "root_n":
        root_n = ref_mth([*d[:-1], b"rewritten"])
    else:
        # A log that rewrote history before m and recomputed everything.
        forged = [b"forged", *d[1:]]
        root_n = ref_mth(forged)
        proof = merkle.consistency_proof(m, [merkle.leaf_hash(x) for x in forged])
    with pytest.raises(ConsistencyProofError):
        merkle.verify_consistency(m, n, root_m, root_n, proof)


@given(st.integers(0, 300))
@settings(max_examples=60)
def test_stored_hash_file_layout_and_peaks(n: int) -> None:
    store = NodeStore(data(n))
    peaks = [store.node(level, index) for level, index in merkle.peak_positions(n)]
    assert merkle.CompactRange(n, peaks).root() == ref_mth(data(n))


def test_compact_range_resumes_from_stored_peaks() -> None:
    d = data(37)
    store = NodeStore(d[:20])
    peaks = [store.node(level, index) for level, index in merkle.peak_positions(20)]
    resumed = merkle.CompactRange(20, peaks)
    for x in d[20:]:
        resumed.append(merkle.leaf_hash(x))
    assert resumed.root() == ref_mth(d)


def test_subtree_root_refuses_ranges_outside_the_rfc_shape() -> None:
    store = NodeStore(data(8))
    with pytest.raises(ValueError, match="not a subtree"):
        merkle.subtree_root(2, 6, store.node)
    assert merkle.subtree_root(4, 7, store.node) == ref_mth(data(8)[4:7])


def test_proof_requests_outside_the_tree_are_refused() -> None:
    hashes = [merkle.leaf_hash(x) for x in data(5)]
    with pytest.raises(ValueError):
        merkle.inclusion_proof(5, hashes)
    with pytest.raises(ValueError):
        merkle.consistency_proof(0, hashes)
    with pytest.raises(ValueError):
        merkle.consistency_proof(6, hashes)


def test_short_proof_hash_is_named_in_the_reason() -> None:
    hashes = [merkle.leaf_hash(x) for x in data(2)]
    with pytest.raises(InclusionProofError, match="inclusion proof hash has 31 bytes"):
        merkle.verify_inclusion(0, 2, hashes[0], [hashes[1][:31]], merkle.root(hashes))
