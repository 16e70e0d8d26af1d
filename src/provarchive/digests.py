"""Message digests and canonical JSON.

Contract:
- :func:`hash_stream` reads a stream once, in fixed-size blocks into one reused
  buffer (memory does not grow with the file), and feeds every requested algorithm
  from that single pass (the way bagit and ocfl-py do), so
  sha512 (OCFL's inventory digest) and sha256 (what users compare with
  ``sha256sum``) never cost two reads.
- Digests that leave a column named after their algorithm are tagged strings,
  ``sha256:<hex>``, so an algorithm change is visible in the data itself.
- :func:`canonical_json` is the one serialisation we hash: sorted keys, compact
  separators, UTF-8; equal values always give equal bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import IO, Any

BLOCK_SIZE = 1024 * 1024
HASH_PREFIX = "sha256:"


@dataclass(frozen=True, slots=True)
class Digests:
    """The digests and size of one byte sequence, from a single read."""

    sha512: str
    sha256: str
    size: int


def hash_stream(
    stream: IO[bytes],
    *,
    sink: IO[bytes] | None = None,
    block_size: int = BLOCK_SIZE,
    sparse: bool = False,
) -> Digests:
    """Hash ``stream`` with sha512 and sha256 in one pass, optionally copying it to ``sink``.

    Copying while hashing is how ingest stages a file: the bytes we store are exactly
    the bytes we hashed, even if the source changes while we read it. Memory stays at
    one block whatever the size (``readinto`` one reused buffer). With ``sparse`` (the
    sink a real file, positioned at 0) blocks of zeros are skipped over, not written:
    a sparse seed stays sparse in the store, and reads back the same.
    """
    h512 = hashlib.sha512()
    h256 = hashlib.sha256()
    size = 0
    buf = bytearray(block_size)
    view = memoryview(buf)
    zeros = bytes(block_size) if sparse and sink is not None else b""
    skipped = False
    readinto = getattr(stream, "readinto", None)
    while True:
        if readinto is not None:
            n = readinto(buf)
        else:
            data = stream.read(block_size)
            n = len(data)
            buf[:n] = data
        if not n:
            break
        block = buf if n == block_size else view[:n]
        h512.update(block)
        h256.update(block)
        size += n
        if sink is None:
            continue
        # bytearray == bytes is one memcmp (a memoryview comparison is 100x slower)
        if zeros and (buf == zeros if n == block_size else bytes(block) == zeros[:n]):
            sink.seek(n, os.SEEK_CUR)
            skipped = True
        else:
            sink.write(block)
    if skipped:
        assert sink is not None
        sink.truncate(size)  # a hole at the end still counts in the size
    return Digests(sha512=h512.hexdigest(), sha256=h256.hexdigest(), size=size)


def hash_bytes(data: bytes) -> Digests:
    """Digests of an in-memory byte string."""
    return Digests(
        sha512=hashlib.sha512(data).hexdigest(),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )


def sha256_tagged(data: bytes | str) -> str:
    """``sha256:<hex>`` of bytes, or of the UTF-8 encoding of a string."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return HASH_PREFIX + hashlib.sha256(data).hexdigest()


def sha256_hex(data: bytes | str) -> str:
    """Plain hex sha256 of bytes, or of the UTF-8 encoding of a string."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
"""One encoder for every call: ``json.dumps`` with options builds a new one each time,
which is a third of the cost for the tens of thousands of small values verify encodes."""


def load_json(data: bytes | str) -> Any:
    """``json.loads``, with JSON nested too deeply for the parser reported as the
    ValueError that any other malformed JSON gives (it raised RecursionError): what the
    archive reads back from disk is parsed here, so one ``except ValueError`` covers it."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def canonical_json(value: Any) -> bytes:
    """Serialise ``value`` to canonical JSON bytes (sorted keys, compact, UTF-8)."""
    return _CANONICAL.encode(value).encode("utf-8")


def canonical_json_plain(value: Any) -> bytes:
    """:func:`canonical_json` of a value of plain JSON types without floats (str, int,
    bool, None, and lists, tuples and str-keyed dicts of them: a citation, a leaf, an
    event row): the same bytes, by orjson, ten times faster. Floats are left out because
    orjson writes some of them otherwise (``1e-05`` as ``0.00001``); so are enums and
    UUIDs, which orjson writes and json refuses. What orjson refuses or is told to pass
    through (integers past 64 bits, strings that are not Unicode, non-string keys,
    datetimes, dataclasses, subclasses of the plain types) goes through
    :func:`canonical_json`, so it gives or fails exactly as that does. (Imported here:
    the store's commands do not need it.)"""
    import orjson

    try:
        return orjson.dumps(
            value,
            option=orjson.OPT_SORT_KEYS
            | orjson.OPT_PASSTHROUGH_DATETIME
            | orjson.OPT_PASSTHROUGH_DATACLASS
            | orjson.OPT_PASSTHROUGH_SUBCLASS,
        )
    except orjson.JSONEncodeError:
        return canonical_json(value)
