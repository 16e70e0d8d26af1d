"""The Merkle tree of RFC 9162 §2.1 (SHA-256): hashes, roots, inclusion and consistency proofs.

Contract:
- :func:`leaf_hash` is ``SHA-256(0x00 || data)``, :func:`node_hash` is
  ``SHA-256(0x01 || left || right)``, the empty tree's root is ``SHA-256()``
  (RFC 9162 §2.1.1).
- Proof generation follows the recursive definitions ``PATH`` (§2.1.3.1) and
  ``SUBPROOF`` (§2.1.4.1) exactly, iteratively; proof verification follows the
  step-by-step algorithms of §2.1.3.2 and §2.1.4.2 and raises
  :class:`InclusionProofError` / :class:`ConsistencyProofError` with the
  reason; it returns None on success. Consistency proofs are defined for
  ``0 < m <= n`` (``m == n``: an empty proof and equal roots).
- The list-based functions (:func:`root`, :func:`inclusion_proof`,
  :func:`consistency_proof`) take every leaf hash and cost O(n) hashing. The
  ``*_from`` variants take a :data:`SubtreeRoot` callback instead, so a store
  of interior nodes (see :func:`stored_hash_index`) gives O(log n) proofs.
- :class:`CompactRange` appends leaf hashes one by one, keeping only the
  O(log n) roots of the perfect subtrees that cover the leaves so far, and
  reports each interior node the moment it is complete: appending k leaves
  to a tree of n costs O(k) hashing, never a rehash of n.
- Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

from .errors import ConsistencyProofError, InclusionProofError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"

SubtreeRoot = Callable[[int, int], bytes]
"""``subtree(start, end)`` -> ``MTH(D[start:end])`` for the ranges the RFC recursion visits."""

NodeHash = Callable[[int, int], bytes]
"""``node(level, index)`` -> root of the perfect subtree ``D[index*2^level : (index+1)*2^level]``."""


def leaf_hash(data: bytes) -> bytes:
    """``MTH({d}) = SHA-256(0x00 || d)``."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``): the RFC's ``k``."""
    if n < 2:
        raise ValueError(f"no split point for a tree of {n} leaves")
    return 1 << ((n - 1).bit_length() - 1)


class CompactRange:
    """The roots of the perfect subtrees covering leaves ``[0, size)``, largest first.

    ``append`` returns the nodes it completes as ``(level, index, hash)`` (the
    leaf itself is level 0), in the order a stored-hash file keeps them.
    """

    __slots__ = ("_peaks", "size")

    def __init__(self, size: int = 0, peaks: Sequence[bytes] = ()) -> None:
        if len(peaks) != size.bit_count():
            raise ValueError(f"a range of {size} leaves has {size.bit_count()} peaks")
        self.size = size
        self._peaks = list(peaks)

    @property
    def peaks(self) -> list[bytes]:
        return list(self._peaks)

    def append(self, hash_: bytes) -> list[tuple[int, int, bytes]]:
        index = self.size
        completed = [(0, index, hash_)]
        level = 0
        current = hash_
        while (index >> level) & 1:
            current = node_hash(self._peaks.pop(), current)
            level += 1
            completed.append((level, index >> level, current))
        self._peaks.append(current)
        self.size += 1
        return completed

    def root(self) -> bytes:
        if not self._peaks:
            return EMPTY_ROOT
        acc = self._peaks[-1]
        for peak in reversed(self._peaks[:-1]):
            acc = node_hash(peak, acc)
        return acc


def root(leaf_hashes: Iterable[bytes]) -> bytes:
    """``MTH(D[n])`` of the given leaf hashes: O(n) hashing, O(log n) memory."""
    compact = CompactRange()
    for h in leaf_hashes:
        compact.append(h)
    return compact.root()


def peak_positions(size: int) -> list[tuple[int, int]]:
    """``(level, index)`` of the perfect subtrees covering ``[0, size)``, left to right."""
    positions = []
    start = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            positions.append((level, start >> level))
            start += 1 << level
    return positions


def subtree_root(start: int, end: int, node: NodeHash) -> bytes:
    """``MTH(D[start:end])`` from perfect-subtree roots, for an RFC-shaped range.

    The ranges that ``PATH`` and ``SUBPROOF`` visit start at a multiple of a
    power of two at least as large as the range, so the range is a sequence of
    aligned perfect subtrees of decreasing size, folded from the right.
    """
    if not 0 <= start < end:
        raise ValueError(f"empty or negative range [{start}, {end})")
    width = end - start
    if start and width > (start & -start):
        raise ValueError(f"[{start}, {end}) is not a subtree of an RFC 9162 tree")
    pieces = []
    pos = start
    for level in range(width.bit_length() - 1, -1, -1):
        if width >> level & 1:
            pieces.append(node(level, pos >> level))
            pos += 1 << level
    acc = pieces[-1]
    for piece in reversed(pieces[:-1]):
        acc = node_hash(piece, acc)
    return acc


def stored_hash_count(n: int) -> int:
    """How many hashes a stored-hash file holds for ``n`` leaves: ``2n - popcount(n)``.

    The file keeps, for each leaf in order, its hash followed by every interior
    node that leaf completes (the order of :meth:`CompactRange.append`).
    """
    return 2 * n - n.bit_count()


def stored_hash_index(level: int, index: int) -> int:
    """Position of node ``(level, index)`` in a stored-hash file.

    The node is completed by leaf ``(index + 1) * 2**level - 1``, whose own hash
    follows the ``stored_hash_count`` of the leaves before it; the nodes it
    completes follow, one per level.
    """
    last_leaf = ((index + 1) << level) - 1
    return stored_hash_count(last_leaf) + level


# -- inclusion proofs (RFC 9162 §2.1.3) --------------------------------------------


def inclusion_proof_from(index: int, size: int, subtree: SubtreeRoot) -> list[bytes]:
    """``PATH(index, D[size])``, ordered from the leaf's sibling up to the root's child."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    path = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            path.append(subtree(start + k, end))
            end = start + k
        else:
            path.append(subtree(start, start + k))
            start += k
    path.reverse()
    return path


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """``PATH(index, D[n])`` computed from every leaf hash (O(n) hashing)."""
    return inclusion_proof_from(index, len(leaf_hashes), lambda s, e: root(leaf_hashes[s:e]))


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that ``proof`` leads to from ``leaf`` (RFC 9162 §2.1.3.2 steps 1-4).

    Raises :class:`InclusionProofError` when the proof cannot belong to a tree
    of ``size`` leaves at all (index out of range, wrong number of hashes).
    """
    if not 0 <= index < size:
        raise InclusionProofError(f"leaf index {index} is not below the tree size {size}")
    _check_hash("leaf hash", leaf, InclusionProofError)
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        _check_hash("inclusion proof hash", p, InclusionProofError)
        if sn == 0:
            raise InclusionProofError("the inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InclusionProofError("the inclusion proof is shorter than the tree is deep")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root_hash: bytes
) -> None:
    """Check that ``leaf`` is leaf ``index`` of the tree of ``size`` leaves with ``root_hash``."""
    computed = root_from_inclusion_proof(index, size, leaf, proof)
    if computed != root_hash:
        raise InclusionProofError(
            f"the inclusion proof for leaf {index} leads to root {computed.hex()[:16]}..., "
            f"not the signed root {root_hash.hex()[:16]}..."
        )


# -- consistency proofs (RFC 9162 §2.1.4) -------------------------------------------


def consistency_proof_from(m: int, n: int, subtree: SubtreeRoot) -> list[bytes]:
    """``PROOF(m, D[n]) = SUBPROOF(m, D[n], true)`` for ``0 < m <= n``."""
    if not 0 < m <= n:
        raise ValueError(f"no consistency proof from {m} to {n} leaves (need 0 < m <= n)")
    proof = []
    start, end, known = 0, n, True
    while True:
        width = end - start
        if m == width:
            if not known:
                proof.append(subtree(start, end))
            break
        k = split_point(width)
        if m <= k:
            proof.append(subtree(start + k, end))
            end = start + k
        else:
            proof.append(subtree(start, start + k))
            m -= k
            start += k
            known = False
    proof.reverse()
    return proof


def consistency_proof(m: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """``PROOF(m, D[n])`` computed from every leaf hash (O(n) hashing)."""
    return consistency_proof_from(m, len(leaf_hashes), lambda s, e: root(leaf_hashes[s:e]))


def verify_consistency(
    m: int, n: int, root_m: bytes, root_n: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``n`` leaves with ``root_n`` extends the one of ``m`` with ``root_m``.

    RFC 9162 §2.1.4.2; the cases the RFC leaves out are decided as the
    transparency-dev reference does: ``m == n`` needs an empty proof and equal
    roots, and a proof from the empty tree (``m == 0``) is meaningless.
    """
    for c in proof:
        _check_hash("consistency proof hash", c, ConsistencyProofError)
    if not 0 <= m <= n:
        raise ConsistencyProofError(f"tree size {n} is smaller than the earlier size {m}")
    if m == 0:
        raise ConsistencyProofError("a consistency proof from the empty tree is meaningless")
    if m == n:
        if proof:
            raise ConsistencyProofError("equal tree sizes need an empty consistency proof")
        if root_m != root_n:
            raise ConsistencyProofError(f"two different roots for the same tree size {m}")
        return
    fr, sr = _consistency_roots(m, n, root_m, proof)
    if fr != root_m:
        raise ConsistencyProofError(f"the consistency proof does not lead to the root of size {m}")
    if sr != root_n:
        raise ConsistencyProofError(f"the consistency proof does not lead to the root of size {n}")


def _consistency_roots(
    first: int, second: int, first_hash: bytes, proof: Sequence[bytes]
) -> tuple[bytes, bytes]:
    """Steps 1-6 of RFC 9162 §2.1.4.2 for ``0 < first < second``: (fr, sr)."""
    if not proof:
        raise ConsistencyProofError("the consistency proof is empty")
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ConsistencyProofError("the consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ConsistencyProofError("the consistency proof is shorter than the tree is deep")
    return fr, sr


def _check_hash(what: str, value: bytes, error: type[Exception]) -> None:
    if len(value) != HASH_SIZE:
        raise error(f"{what} has {len(value)} bytes, not {HASH_SIZE}")
