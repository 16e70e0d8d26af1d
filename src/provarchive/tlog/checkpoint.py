"""C2SP tlog-checkpoints (c2sp.org/tlog-checkpoint): the signed head of the log.

Contract:
- The body is ``origin\\nsize\\nbase64(root)\\n`` followed by optional,
  non-empty extension lines; the size is decimal without leading zeros, the
  root a canonical base64 SHA-256 hash. :func:`format_checkpoint` and
  :func:`parse_checkpoint` are exact inverses.
- :func:`sign_checkpoint` signs the body as a signed note with a key whose name
  is the origin (as the spec recommends); :func:`open_checkpoint` verifies the
  note first and only then parses its text, so an unsigned body is never read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .encoding import b64decode, b64encode
from .errors import MalformedCheckpointError, ProofError
from .merkle import HASH_SIZE
from .note import Signer, Verifier, open_note, parse_note, sign, valid_key_name

_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")
MAX_SIZE = 2**63 - 1


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: which log, how many leaves, and the root hash at that size."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()


def format_checkpoint(cp: Checkpoint) -> str:
    """The checkpoint's note text."""
    if not valid_key_name(cp.origin):
        raise MalformedCheckpointError(f"origin {cp.origin!r} is not a valid key name")
    if not 0 <= cp.size <= MAX_SIZE or len(cp.root) != HASH_SIZE:
        raise MalformedCheckpointError("checkpoint size or root out of range")
    if any(not line or "\n" in line for line in cp.extensions):
        raise MalformedCheckpointError("extension lines must be non-empty single lines")
    lines = [cp.origin, str(cp.size), b64encode(cp.root), *cp.extensions]
    return "".join(line + "\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint body (the text of an opened note)."""
    if not text.endswith("\n"):
        raise MalformedCheckpointError("checkpoint text does not end in a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise MalformedCheckpointError("a checkpoint has at least three lines")
    origin, size, root, *extensions = lines
    if not origin:
        raise MalformedCheckpointError("the checkpoint origin is empty")
    if not _SIZE.fullmatch(size) or int(size) > MAX_SIZE:
        raise MalformedCheckpointError(f"checkpoint tree size {size[:30]!r} is not a decimal")
    try:
        root_hash = b64decode(root)
    except ValueError:
        root_hash = b""
    if len(root_hash) != HASH_SIZE:
        raise MalformedCheckpointError("the checkpoint root is not a base64 SHA-256 hash")
    if any(not line for line in extensions):
        raise MalformedCheckpointError("the checkpoint has an empty extension line")
    return Checkpoint(origin, int(size), root_hash, tuple(extensions))


def sign_checkpoint(cp: Checkpoint, signer: Signer) -> str:
    """The signed note of ``cp``; the signer's key name must be the origin."""
    if signer.name != cp.origin:
        raise MalformedCheckpointError(
            f"the key is named {signer.name!r} but the checkpoint origin is {cp.origin!r}"
        )
    return sign(format_checkpoint(cp), signer)


def open_checkpoint(
    signed: str | bytes,
    verifiers: Sequence[Verifier],
    *,
    origin: str | None = None,
    allow_unknown: bool = True,
) -> Checkpoint:
    """Verify a signed checkpoint and return its body; ``origin`` if given must match."""
    opened = open_note(signed, verifiers, allow_unknown=allow_unknown)
    cp = parse_checkpoint(opened.text)
    names = {s.name for s in opened.verified}
    if cp.origin not in names:
        raise ProofError(
            f"the checkpoint is for log {cp.origin!r} but signed by key {sorted(names)[0]!r}"
        )
    if origin is not None and cp.origin != origin:
        raise ProofError(f"the checkpoint is for log {cp.origin!r}, not {origin!r}")
    return cp


def peek_checkpoint(signed: str | bytes) -> Checkpoint:
    """The body of a signed checkpoint WITHOUT verifying it (to find the size to prove at)."""
    text, _ = parse_note(signed)
    return parse_checkpoint(text)
