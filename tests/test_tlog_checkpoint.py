"""C2SP tlog-checkpoint bodies and their signed notes."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from provarchive.tlog import checkpoint as ckpt
from provarchive.tlog import note
from provarchive.tlog.errors import MalformedCheckpointError, ProofError, UnknownKeyError

# The example of c2sp.org/tlog-checkpoint (github.com/C2SP/C2SP tlog-checkpoint.md).
SPEC_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
ROOT = hashlib.sha256(b"root").digest()


def test_spec_example_body_parses_and_formats_back() -> None:
    cp = ckpt.parse_checkpoint(SPEC_BODY)
    assert cp.origin == "example.com/behind-the-sofa"
    assert cp.size == 20852163
    assert cp.root == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert ckpt.format_checkpoint(cp) == SPEC_BODY


def test_extension_lines_round_trip() -> None:
    cp = ckpt.Checkpoint("a.example/log", 7, ROOT, ("ext one", "ext two"))
    assert ckpt.parse_checkpoint(ckpt.format_checkpoint(cp)) == cp


@pytest.mark.parametrize(
    "body",
    [
        "a.example/log\n01\n" + base64.b64encode(ROOT).decode() + "\n",
        "a.example/log\n-1\n" + base64.b64encode(ROOT).decode() + "\n",
        "a.example/log\n 1\n" + base64.b64encode(ROOT).decode() + "\n",
        "a.example/log\n1\n" + base64.b64encode(ROOT[:31]).decode() + "\n",
        "a.example/log\n1\n" + base64.b64encode(ROOT).decode(),
        "a.example/log\n1\n" + base64.b64encode(ROOT).decode() + "\n\n",
        "\n1\n" + base64.b64encode(ROOT).decode() + "\n",
        "a.example/log\n1\n",
        "a.example/log\n99999999999999999999\n" + base64.b64encode(ROOT).decode() + "\n",
    ],
    ids=[
        "leading-zero",
        "negative",
        "space",
        "short-root",
        "no-newline",
        "empty-extension",
        "empty-origin",
        "two-lines",
        "too-large",
    ],
)
def test_malformed_bodies_are_rejected(body: str) -> None:
    with pytest.raises(MalformedCheckpointError):
        ckpt.parse_checkpoint(body)


def test_sign_and_open_checkpoint() -> None:
    signer = note.Signer.generate("archive.example/log")
    cp = ckpt.Checkpoint("archive.example/log", 0, hashlib.sha256(b"").digest())
    signed = ckpt.sign_checkpoint(cp, signer)
    assert signed.startswith(ckpt.format_checkpoint(cp) + "\n— archive.example/log ")
    assert ckpt.open_checkpoint(signed, [signer.verifier]) == cp
    assert ckpt.peek_checkpoint(signed) == cp
    with pytest.raises(ProofError, match=re.escape("not 'other.example/log'")):
        ckpt.open_checkpoint(signed, [signer.verifier], origin="other.example/log")
    with pytest.raises(UnknownKeyError):
        ckpt.open_checkpoint(signed, [note.Signer.generate("archive.example/log").verifier])


def test_signing_key_must_be_named_after_the_origin() -> None:
    cp = ckpt.Checkpoint("archive.example/log", 1, ROOT)
    with pytest.raises(MalformedCheckpointError, match="origin"):
        ckpt.sign_checkpoint(cp, note.Signer.generate("someone.else"))


def test_a_checkpoint_signed_for_another_origin_is_refused() -> None:
    # A validly signed note whose body names another log than the signing key.
    signer = note.Signer.generate("archive.example/log")
    body = ckpt.format_checkpoint(ckpt.Checkpoint("victim.example/log", 1, ROOT))
    with pytest.raises(
        ProofError, match=re.escape("for log 'victim.example/log' but signed by key")
    ):
        ckpt.open_checkpoint(note.sign(body, signer), [signer.verifier])
