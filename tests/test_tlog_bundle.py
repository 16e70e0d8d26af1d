"""Proof bundles: built from a real log, checked offline; any changed byte fails."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from provarchive.digests import canonical_json
from provarchive.tlog import (
    BadSignatureError,
    Checkpoint,
    FileMismatchError,
    InclusionProofError,
    LeafMismatchError,
    LogMismatchError,
    MalformedBundleError,
    ProofError,
    Signer,
    SpanMismatchError,
    TransparencyLog,
    UnknownKeyError,
    check_bundle,
    derivation_digest,
    make_leaf,
    make_passage_entry,
    passage_proof,
    passages_root,
    prove,
    sign_checkpoint,
)

ORIGIN = "archive.example/newsroom"
RAW = (
    b"MINUTES OF THE BUDGET COMMITTEE\n\n"
    b"The committee approved the transfer of 2.4 million to the harbour fund.\n"
    b"Two members abstained.\n"
)
PASSAGES = [(0, 31), (33, 104), (105, 127)]
DERIVATION = {"cleaner": "provarchive-cleaner", "cleaner_version": "1.1.0", "rules": "sha256:ab"}


def entries() -> list[bytes]:
    return [
        make_passage_entry(
            id=f"minutes.txt@v1#{i}",
            raw_start=s,
            raw_end=e,
            raw_sha256=hashlib.sha256(RAW[s:e]).hexdigest(),
            text_sha256=hashlib.sha256(RAW[s:e].strip()).hexdigest(),
        )
        for i, (s, e) in enumerate(PASSAGES)
    ]


def version_leaf(document: str, content: bytes, **extra: Any) -> bytes:
    return make_leaf(
        type="version",
        document=document,
        version=1,
        inventory_sha512=hashlib.sha512(b"inventory of " + document.encode()).hexdigest(),
        sha256=hashlib.sha256(content).hexdigest(),
        sha512=hashlib.sha512(content).hexdigest(),
        size=len(content),
        time="2026-03-01T12:00:00Z",
        agent="provarchive/0.1.0",
        **extra,
    )


class World:
    def __init__(self, tmp_path: Path) -> None:
        self.signer = Signer.generate(ORIGIN)
        self.vkey = self.signer.verifier.verifier_key
        self.log = TransparencyLog.create(tmp_path / "log")
        others = [version_leaf(f"other-{i}.txt", b"x" * i) for i in range(5)]
        self.version = version_leaf("minutes.txt", RAW)
        self.derivation = make_leaf(
            type="derivation",
            document="minutes.txt",
            version=1,
            inventory_sha512=hashlib.sha512(b"inventory of minutes.txt").hexdigest(),
            sha256=hashlib.sha256(RAW).hexdigest(),
            sha512=hashlib.sha512(RAW).hexdigest(),
            size=len(RAW),
            time="2026-03-01T12:00:01Z",
            agent="provarchive/0.1.0",
            derivation=derivation_digest(DERIVATION),
            derivation_output="sha256:" + hashlib.sha256(b"clean text").hexdigest(),
            passages=len(PASSAGES),
            passages_root=passages_root(entries()),
        )
        self.log.append([*others[:3], self.version, self.derivation, *others[3:]])
        self.checkpoint = self.sign()

    def sign(self) -> str:
        return sign_checkpoint(self.log.checkpoint(ORIGIN), self.signer)

    def version_bundle(self) -> bytes:
        return prove(self.log, 3, self.checkpoint)

    def passage_bundle(self, k: int = 1) -> bytes:
        return prove(
            self.log,
            4,
            self.checkpoint,
            passage=passage_proof(entries(), k),
            derivation=DERIVATION,
        )


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_version_bundle_checks_with_key_and_file(world: World) -> None:
    bundle = world.version_bundle()
    body = json.loads(bundle)
    assert body["format"] == "provarchive-proof/1"
    assert body["document"] == "minutes.txt" and body["leaf_index"] == 3
    assert body["tree_size"] == 7 and len(body["inclusion_proof"]) == 3
    result = check_bundle(bundle, world.vkey, RAW)
    assert result.leaf.sha256 == hashlib.sha256(RAW).hexdigest()
    assert (result.file_checked, result.passage_id, result.span_checked) == (True, None, False)
    assert result.to_json()["attests"]["document"] == "minutes.txt"
    assert not check_bundle(bundle, world.vkey).file_checked


def test_passage_bundle_checks_span_against_the_raw_file(world: World) -> None:
    bundle = world.passage_bundle(1)
    result = check_bundle(bundle, world.signer.verifier, RAW)
    assert result.passage_id == "minutes.txt@v1#1" and result.span_checked
    body = json.loads(bundle)
    assert body["passage"]["raw_span"] == [33, 104]
    assert body["derivation"] == DERIVATION


@pytest.mark.parametrize("kind", ["version", "passage"])
def test_changing_any_byte_of_the_bundle_fails(world: World, kind: str) -> None:
    bundle = world.version_bundle() if kind == "version" else world.passage_bundle()
    reasons: set[str] = set()
    for i in range(len(bundle)):
        tampered = bundle[:i] + bytes([bundle[i] ^ 0x01]) + bundle[i + 1 :]
        with pytest.raises(ProofError) as info:
            check_bundle(tampered, world.vkey, RAW)
        reason = str(info.value)
        assert "\n" not in reason and reason
        reasons.add(type(info.value).__name__)
    assert {"MalformedBundleError", "LeafMismatchError", "InclusionProofError"} <= reasons
    assert reasons & {"BadSignatureError", "MalformedNoteError", "UnknownKeyError"}


@pytest.mark.parametrize("kind", ["version", "passage"])
def test_changing_any_byte_of_the_raw_file_fails(world: World, kind: str) -> None:
    bundle = world.version_bundle() if kind == "version" else world.passage_bundle()
    for i in range(len(RAW)):
        tampered = RAW[:i] + bytes([RAW[i] ^ 0x20]) + RAW[i + 1 :]
        with pytest.raises(FileMismatchError, match="not the archived file"):
            check_bundle(bundle, world.vkey, tampered)
    with pytest.raises(FileMismatchError, match="has 127 bytes, the leaf attests 128"):
        check_bundle(bundle, world.vkey, RAW[:-1])


def test_wrong_key_is_named(world: World) -> None:
    impostor = Signer.generate(ORIGIN)
    with pytest.raises(UnknownKeyError, match="not signed by the trusted key"):
        check_bundle(world.version_bundle(), impostor.verifier, RAW)


def test_signature_by_the_right_key_over_other_text_is_a_bad_signature(world: World) -> None:
    body = json.loads(world.version_bundle())
    text = body["checkpoint"].partition("\n\n")[0]
    other = sign_checkpoint(Checkpoint(ORIGIN, 99, hashlib.sha256(b"x").digest()), world.signer)
    body["checkpoint"] = text + "\n\n" + other.partition("\n\n")[2]
    with pytest.raises(BadSignatureError, match="invalid signature for key"):
        check_bundle(_encode(body), world.vkey)


def _encode(body: dict[str, Any]) -> bytes:
    return canonical_json(body) + b"\n"


def test_inclusion_proof_mismatch_has_its_own_reason(world: World) -> None:
    body = json.loads(world.version_bundle())
    body["inclusion_proof"] = list(reversed(body["inclusion_proof"]))
    with pytest.raises(InclusionProofError, match="the leaf is not in the signed log"):
        check_bundle(_encode(body), world.vkey)


def test_a_leaf_for_another_document_does_not_attest_the_file(world: World) -> None:
    other = prove(world.log, 0, world.checkpoint)
    assert check_bundle(other, world.vkey).leaf.document == "other-0.txt"
    with pytest.raises(FileMismatchError, match="the file has 128 bytes, the leaf attests 0"):
        check_bundle(other, world.vkey, RAW)


def test_stated_fields_must_equal_the_leaf(world: World) -> None:
    body = json.loads(world.version_bundle())
    body["document"] = "someone-else.txt"
    with pytest.raises(LeafMismatchError, match=re.escape("states document 'someone-else.txt'")):
        check_bundle(_encode(body), world.vkey)


def test_span_mismatch_when_the_recorded_span_digest_is_wrong(tmp_path: Path) -> None:
    # An archive that recorded a wrong raw_sha256: the proof holds, the raw file disproves it.
    signer = Signer.generate(ORIGIN)
    bad = [
        make_passage_entry(
            id="m@v1#0", raw_start=0, raw_end=5, raw_sha256="0" * 64, text_sha256="1" * 64
        )
    ]
    leaf = version_leaf("m", RAW, passages=1, passages_root=passages_root(bad))
    with TransparencyLog.create(tmp_path / "log") as log:
        log.append([leaf])
        cp = sign_checkpoint(log.checkpoint(ORIGIN), signer)
        bundle = prove(log, 0, cp, passage=passage_proof(bad, 0))
    assert check_bundle(bundle, signer.verifier).passage_id == "m@v1#0"
    with pytest.raises(SpanMismatchError, match=r"bytes \[0, 5\) of the file hash to"):
        check_bundle(bundle, signer.verifier, RAW)


def test_derivation_description_must_match_the_leaf(world: World) -> None:
    body = json.loads(world.passage_bundle())
    body["derivation"]["cleaner_version"] = "9.9.9"
    with pytest.raises(LeafMismatchError, match="derivation description differs"):
        check_bundle(_encode(body), world.vkey)
    with pytest.raises(LeafMismatchError, match="does not match the leaf"):
        prove(world.log, 4, world.checkpoint, derivation={"cleaner": "other"})


def test_a_passage_proof_needs_a_leaf_with_passages(world: World) -> None:
    with pytest.raises(LeafMismatchError, match="commits to none"):
        prove(world.log, 3, world.checkpoint, passage=passage_proof(entries(), 0))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b"not json", "not UTF-8 JSON"),
        (lambda b: b"[]", "not a JSON object"),
        (lambda b: json.dumps(json.loads(b), indent=2).encode(), "not in canonical form"),
        (lambda b: b.replace(b'"provarchive-proof/1"', b'"provarchive-proof/2"'), "unsupported"),
        (lambda b: b.replace(b'"tree_size":7', b'"tree_size":7,"extra":1'), "unknown fields"),
        (lambda b: b.replace(b'"tree_size":7', b'"tree_size":8'), "tree size 8"),
        (lambda b: b.replace(b'"leaf_index":3', b'"leaf_index":"3"'), "wrong type: leaf_index"),
        (lambda b: b.replace(b'"tree_size":7', b'"tree_size":NaN'), "wrong type: tree_size"),
    ],
    ids=["garbage", "array", "indented", "format", "extra", "size", "type", "nan"],
)
def test_malformed_bundles(world: World, mutate: Any, message: str) -> None:
    with pytest.raises(MalformedBundleError, match=message):
        check_bundle(mutate(world.version_bundle()), world.vkey)


def test_prove_refuses_a_checkpoint_the_log_does_not_extend(world: World) -> None:
    ahead = sign_checkpoint(Checkpoint(ORIGIN, 8, hashlib.sha256(b"x").digest()), world.signer)
    with pytest.raises(LogMismatchError, match="leaves were removed"):
        prove(world.log, 0, ahead)
    with pytest.raises(LogMismatchError, match="not covered"):
        prove(world.log, 7, world.checkpoint)


def test_bundle_under_an_old_checkpoint_after_the_log_grew(world: World) -> None:
    old = world.checkpoint
    world.log.append([version_leaf(f"later-{i}", b"later") for i in range(9)])
    bundle = prove(world.log, 3, old)
    assert check_bundle(bundle, world.vkey, RAW).tree_size == 7
    fresh = prove(world.log, 3, world.sign())
    assert check_bundle(fresh, world.vkey, RAW).tree_size == 16
