"""Proof bundles: one self-contained JSON file that proves a leaf (and a passage) offline.

Contract:
- A bundle is the canonical JSON of an object with ``format``
  (:data:`BUNDLE_FORMAT`), ``leaf`` (base64 of the exact leaf bytes),
  ``leaf_index``, ``tree_size``, ``inclusion_proof`` (base64 hashes, RFC 9162
  order), ``checkpoint`` (the signed note), the attested ``document``,
  ``version``, ``type``, ``time``, ``sha256``, ``sha512``, ``size``,
  ``inventory_sha512`` (and ``derivation_output`` when the leaf has one),
  optionally ``derivation`` (the description whose digest the leaf records)
  and ``passage`` (a passage entry's fields with its ``index``, ``count`` and
  ``inclusion_proof`` in the leaf's passages tree), plus a final newline.
- :func:`check_bundle` needs no archive: it verifies the checkpoint's
  signature with the given key (every signature must be by a given key), the
  inclusion of the leaf under the signed root, that every stated field equals
  the leaf's, the derivation digest, the passage's inclusion, and, given the
  raw file, its size and digests and the passage's raw span. Any other
  content, a re-encoded bundle or non-canonical base64 is refused, so
  changing any byte of the bundle or of the raw file fails with a
  :class:`ProofError` whose message says why, in one line.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..digests import canonical_json, load_json
from .checkpoint import open_checkpoint, peek_checkpoint
from .encoding import b64decode, b64encode
from .errors import (
    FileMismatchError,
    InclusionProofError,
    LeafFormatError,
    LeafMismatchError,
    LogMismatchError,
    MalformedBundleError,
    SpanMismatchError,
)
from .leaf import Leaf, derivation_digest, make_passage_entry, parse_leaf
from .log import TransparencyLog
from .merkle import inclusion_proof, leaf_hash, verify_inclusion
from .note import Verifier

BUNDLE_FORMAT = "provarchive-proof/1"
_STATED = ("document", "version", "type", "time", "sha256", "sha512", "size", "inventory_sha512")
_REQUIRED = {"format", "leaf", "leaf_index", "tree_size", "inclusion_proof", "checkpoint", *_STATED}
_OPTIONAL = {"derivation_output", "derivation", "passage"}
_PASSAGE = {"id", "raw_span", "raw_sha256", "text_sha256", "index", "count", "inclusion_proof"}


@dataclass(frozen=True)
class PassageProof:
    """A passage entry and its inclusion proof in a derivation leaf's passages tree."""

    entry: bytes
    index: int
    count: int
    inclusion_proof: tuple[bytes, ...]


def passage_proof(entries: Sequence[bytes], index: int) -> PassageProof:
    """The proof for passage ``index`` among a derivation's passage entries."""
    proof = inclusion_proof(index, [leaf_hash(e) for e in entries])
    return PassageProof(entries[index], index, len(entries), tuple(proof))


@dataclass(frozen=True)
class BundleCheck:
    """What a bundle proved."""

    leaf: Leaf
    leaf_index: int
    tree_size: int
    origin: str
    key: str
    file_checked: bool
    passage_id: str | None
    span_checked: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "origin": self.origin,
            "key": self.key,
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
            "attests": self.leaf.to_json(),
            "file_checked": self.file_checked,
            "passage": self.passage_id,
            "span_checked": self.span_checked,
        }


def build_bundle(
    *,
    leaf: bytes,
    leaf_index: int,
    checkpoint: str,
    proof: Sequence[bytes],
    passage: PassageProof | None = None,
    derivation: Mapping[str, Any] | None = None,
) -> bytes:
    """The bundle's bytes. The inclusion proof is checked against the checkpoint's root."""
    parsed = parse_leaf(leaf)
    cp = peek_checkpoint(checkpoint)
    verify_inclusion(leaf_index, cp.size, leaf_hash(leaf), proof, cp.root)
    body: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "leaf": b64encode(leaf),
        "leaf_index": leaf_index,
        "tree_size": cp.size,
        "inclusion_proof": [b64encode(h) for h in proof],
        "checkpoint": checkpoint,
    }
    stated = parsed.to_json()
    for key in (*_STATED, "derivation_output"):
        if key in stated:
            body[key] = stated[key]
    if derivation is not None:
        if derivation_digest(derivation) != parsed.derivation:
            raise LeafMismatchError("the derivation description does not match the leaf")
        body["derivation"] = dict(derivation)
    if passage is not None:
        body["passage"] = _passage_json(passage)
        _check_passage(body["passage"], parsed)
    return canonical_json(body) + b"\n"


def _passage_json(p: PassageProof) -> dict[str, Any]:
    entry = json.loads(p.entry)
    return {
        **entry,
        "index": p.index,
        "count": p.count,
        "inclusion_proof": [b64encode(h) for h in p.inclusion_proof],
    }


def prove(
    log: TransparencyLog,
    index: int,
    checkpoint: str,
    *,
    passage: PassageProof | None = None,
    derivation: Mapping[str, Any] | None = None,
) -> bytes:
    """The bundle for leaf ``index`` of ``log`` under the signed ``checkpoint``."""
    cp = peek_checkpoint(checkpoint)
    log.check_checkpoint(cp)
    if not 0 <= index < cp.size:
        raise LogMismatchError(
            log.directory, f"leaf {index} is not covered by the checkpoint ({cp.size} leaves)"
        )
    return build_bundle(
        leaf=log.entry(index),
        leaf_index=index,
        checkpoint=checkpoint,
        proof=log.inclusion_proof(index, cp.size),
        passage=passage,
        derivation=derivation,
    )


# -- checking -------------------------------------------------------------------------


def check_bundle(
    bundle_json: bytes | str, verifier_key: str | Verifier, raw_file: bytes | None = None
) -> BundleCheck:
    """Check a bundle with nothing but the verifier key (and the raw file, if given)."""
    verifier = (
        verifier_key
        if isinstance(verifier_key, Verifier)
        else Verifier.from_verifier_key(verifier_key)
    )
    data = bundle_json.encode("utf-8") if isinstance(bundle_json, str) else bundle_json
    body = _load(data)
    cp = open_checkpoint(body["checkpoint"], [verifier], allow_unknown=False)
    if body["tree_size"] != cp.size:
        raise MalformedBundleError(
            f"the bundle says tree size {body['tree_size']}, its checkpoint signs {cp.size}"
        )
    leaf_bytes = _b64(body["leaf"], "leaf")
    try:
        leaf = parse_leaf(leaf_bytes)
    except LeafFormatError as exc:
        raise MalformedBundleError(f"the bundle's leaf is not a valid leaf: {exc.reason}") from None
    _check_stated(body, leaf)
    proof = [_b64(h, "inclusion proof hash") for h in body["inclusion_proof"]]
    try:
        verify_inclusion(body["leaf_index"], cp.size, leaf_hash(leaf_bytes), proof, cp.root)
    except InclusionProofError as exc:
        raise InclusionProofError(f"the leaf is not in the signed log: {exc.reason}") from None
    if "derivation" in body and derivation_digest(body["derivation"]) != leaf.derivation:
        raise LeafMismatchError("the derivation description differs from the one the leaf attests")
    passage = body.get("passage")
    if passage is not None:
        _check_passage(passage, leaf)
    if raw_file is not None:
        _check_file(raw_file, leaf, passage)
    return BundleCheck(
        leaf=leaf,
        leaf_index=body["leaf_index"],
        tree_size=cp.size,
        origin=cp.origin,
        key=f"{verifier.name}+{verifier.key_id:08x}",
        file_checked=raw_file is not None,
        passage_id=None if passage is None else passage["id"],
        span_checked=raw_file is not None and passage is not None,
    )


def _load(data: bytes) -> dict[str, Any]:
    try:
        body = load_json(data.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError too
        raise MalformedBundleError("the bundle is not UTF-8 JSON") from None
    if not isinstance(body, dict):
        raise MalformedBundleError("the bundle is not a JSON object")
    if body.get("format") != BUNDLE_FORMAT:
        raise MalformedBundleError(
            f"unsupported bundle format {str(body.get('format'))[:40]!r} "
            f"(this version reads {BUNDLE_FORMAT})"
        )
    missing, unknown = _REQUIRED - set(body), set(body) - _REQUIRED - _OPTIONAL
    if missing or unknown:
        raise MalformedBundleError(
            f"the bundle lacks {sorted(missing)} or has unknown fields {sorted(unknown)}"
        )
    _check_types(body)
    try:
        canonical = canonical_json(body)
    except ValueError:
        raise MalformedBundleError("the bundle holds a value JSON cannot represent") from None
    if data not in (canonical, canonical + b"\n"):
        raise MalformedBundleError("the bundle is not in canonical form (edited or re-encoded)")
    return body


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63


def _check_types(body: Mapping[str, Any]) -> None:
    wrong = [
        key
        for key, ok in (
            ("leaf", isinstance(body["leaf"], str)),
            ("leaf_index", _is_count(body["leaf_index"])),
            ("tree_size", _is_count(body["tree_size"])),
            ("checkpoint", isinstance(body["checkpoint"], str)),
            ("inclusion_proof", _is_str_list(body["inclusion_proof"])),
            ("derivation", isinstance(body.get("derivation", {}), dict)),
            ("passage", _passage_shape(body.get("passage"))),
        )
        if not ok
    ]
    if wrong:
        raise MalformedBundleError(f"bundle fields of the wrong type: {', '.join(wrong)}")


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and len(value) <= 64 and all(isinstance(h, str) for h in value)


def _passage_shape(value: Any) -> bool:
    if value is None:
        return True
    return (
        isinstance(value, dict)
        and set(value) == _PASSAGE
        and _is_count(value["index"])
        and _is_count(value["count"])
        and _is_str_list(value["inclusion_proof"])
    )


def _b64(value: str, what: str) -> bytes:
    try:
        return b64decode(value)
    except ValueError:
        raise MalformedBundleError(f"the bundle's {what} is not canonical base64") from None


def _check_stated(body: Mapping[str, Any], leaf: Leaf) -> None:
    attested = leaf.to_json()
    for key in (*_STATED, "derivation_output"):
        if body.get(key) != attested.get(key):
            raise LeafMismatchError(
                f"the bundle states {key} {str(body.get(key))[:80]!r} "
                f"but the leaf attests {str(attested.get(key))[:80]!r}"
            )


def _check_passage(passage: Mapping[str, Any], leaf: Leaf) -> None:
    if leaf.passages_root is None or leaf.passages is None:
        raise LeafMismatchError("the bundle proves a passage but the leaf commits to none")
    if passage["count"] != leaf.passages:
        raise LeafMismatchError(
            f"the passage proof is for {passage['count']} passages, the leaf attests "
            f"{leaf.passages}"
        )
    try:
        start, end = passage["raw_span"]
        entry = make_passage_entry(
            id=passage["id"],
            raw_start=start,
            raw_end=end,
            raw_sha256=passage["raw_sha256"],
            text_sha256=passage["text_sha256"],
        )
    except (LeafFormatError, TypeError, ValueError):
        raise MalformedBundleError("the bundle's passage entry is malformed") from None
    proof = [_b64(h, "passage proof hash") for h in passage["inclusion_proof"]]
    root = bytes.fromhex(leaf.passages_root.removeprefix("sha256:"))
    try:
        verify_inclusion(passage["index"], passage["count"], leaf_hash(entry), proof, root)
    except InclusionProofError as exc:
        raise InclusionProofError(
            f"passage {passage['id'][:80]!r} is not among the passages the leaf attests: "
            f"{exc.reason}"
        ) from None


def _check_file(raw: bytes, leaf: Leaf, passage: Mapping[str, Any] | None) -> None:
    if len(raw) != leaf.size:
        raise FileMismatchError(
            f"the file has {len(raw)} bytes, the leaf attests {leaf.size}: not the archived file"
        )
    for name, expected in (("sha256", leaf.sha256), ("sha512", leaf.sha512)):
        actual = hashlib.new(name, raw).hexdigest()
        if actual != expected:
            raise FileMismatchError(
                f"the file's {name} is {actual[:16]}..., the leaf attests {expected[:16]}...: "
                "not the archived file"
            )
    if passage is not None:
        start, end = passage["raw_span"]
        actual = hashlib.sha256(raw[start:end]).hexdigest()
        if end > len(raw) or actual != passage["raw_sha256"]:
            raise SpanMismatchError(
                f"bytes [{start}, {end}) of the file hash to {actual[:16]}..., the passage "
                f"entry records {passage['raw_sha256'][:16]}..."
            )
