"""Derived data against the raw bytes: derivations, passages, output digests.

Contract: every version has a current derivation; each passage's text matches
its digest and its byte span, in the raw bytes, decodes to it; each
derivation's output digest is that of its passages. Raw bytes are read only
through :func:`~provarchive.store.validation.open_contained` (never outside the
object), once per version, and only when the fixity check found them intact.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..catalog import queries
from ..digests import sha256_hex, sha256_tagged
from ..errors import ArchiveError, CorruptArchiveError
from ..findings import Finding
from ..home import Home
from ..store.ocfl import ObjectState
from ..store.validation import open_contained

CHUNK = 200
"""Objects whose derived rows are loaded in one query."""


def check_derived(
    s: Any,
    home: Home,
    states: dict[str, ObjectState],
    damaged: set[tuple[str, str]],
    checked: dict[str, int],
) -> Iterator[Finding]:
    """Findings for the derived data of these objects, read in the session ``s``.
    ``damaged``: (object path, content path) pairs whose bytes failed fixity."""
    by_path = {state.path: state for state in states.values()}
    paths = sorted(by_path)
    for start in range(0, len(paths), CHUNK):
        rows, by_derivation = queries.derived_rows(s, paths[start : start + CHUNK])
        for name, number, content_path, did, encoding, output in rows:
            state = states.get(name)
            if state is None or number > state.head:
                continue  # not in the store: reported by the cross-check
            if did is None:
                yield Finding("DERIVATION_MISSING", f"{name} v{number}", document=name)
                continue
            items = by_derivation.get(did, [])
            checked["passages"] = checked.get("passages", 0) + len(items)
            raw = None
            if encoding is not None and items and (state.path, content_path) not in damaged:
                raw = _read(home.store.root / state.path, content_path)
            yield from _check_passages(name, number, items, raw, encoding, output)


def _read(directory: Path, content_path: str) -> bytes | None:
    try:
        with open_contained(directory, content_path) as fh:
            return fh.read()
    except (CorruptArchiveError, OSError):
        return None  # the fixity check reports it


def _check_passages(
    name: str,
    number: int,
    items: list[Any],
    raw: bytes | None,
    encoding: str | None,
    output: str,
) -> Iterator[Finding]:
    from ..cleaning.text import decode_span

    for pid, text, digest, start, end in items:
        got = sha256_hex(text)
        if got != digest:
            yield Finding(
                "PASSAGE_DIGEST_MISMATCH",
                f"{pid}: text no longer matches its sha256",
                document=name,
                expected=digest,
                found=got,
            )
        if raw is None or encoding is None:
            continue
        try:
            ok = decode_span(raw, start, end, encoding) == text
        except (UnicodeDecodeError, ValueError, LookupError):
            ok = False
        if not ok:
            yield Finding(
                "PASSAGE_SPAN_MISMATCH",
                f"{pid}: bytes [{start}, {end}) do not decode to the passage text",
                document=name,
            )
    got_output = sha256_tagged("\n".join(item[1] for item in items))
    if got_output != output:
        yield Finding(
            "DERIVATION_OUTPUT_MISMATCH",
            f"{name} v{number}: passages do not give the recorded output digest",
            document=name,
            expected=output,
            found=got_output,
        )


def check_rederive(home: Home) -> list[Finding]:
    from ..derivations import rederive_drift

    def raw_of(name: str, number: int) -> bytes:
        return home.read_bytes(name, number)

    try:
        drifts = rederive_drift(home, raw_of)
    except ArchiveError as exc:
        return [Finding("CATALOG_UNREADABLE", str(exc))]
    return [
        Finding(
            "DERIVATION_DRIFT" if d.kind == "drift" else "DERIVATION_UNAVAILABLE",
            f"{d.document} v{d.version}: {d.detail}",
            document=d.document,
        )
        for d in drifts
    ]
