"""Strict base64 (RFC 4648 §4) shared by notes, checkpoints and bundles.

Contract: :func:`b64decode` accepts only the canonical encoding, the one
:func:`b64encode` produces: standard alphabet, padding, and zero bits where the
last character has spare ones. Lenient decoders map several strings to the
same bytes, so a changed character in a signature or hash could go unnoticed;
here any changed character is an error.
"""

from __future__ import annotations

import base64
import binascii


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes:
    """Decode canonical base64; ValueError for anything else."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise ValueError("not base64") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("not canonical base64")
    return raw
