"""What show and explain present of a version's current derivation.

Contract: readers only. :func:`view` gives the current derivation of a version
(passages, removed lines, cleaner, page verdict, publication date);
:func:`explain` every raw line with the recorded decision that covers it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .catalog import queries
from .errors import DocumentNotFoundError, VersionNotFoundError
from .home import Home


@dataclass(frozen=True)
class DerivationView:
    """The current derivation of one version, as ``show`` and ``explain`` present it."""

    document: str
    version: int
    number: int
    status: str
    detail: str | None
    encoding: str | None
    title: str | None
    cleaner: str
    rules_digest: str
    output_sha256: str
    passages: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    page: dict[str, Any] | None = None
    """The cleaner's verdict: is_page, score, evidence (None for keep-all)."""
    published: str | None = None
    environment: dict[str, str] | None = None


def view(home: Home, name: str, number: int | None = None) -> DerivationView | None:
    """The current derivation of ``name`` v``number`` (default latest), or None if none yet."""
    with home.catalog.session() as s:
        versions = queries.versions_of(s, name)
        if not versions:
            raise DocumentNotFoundError(name)
        number = versions[-1].number if number is None else number
        if not 1 <= number <= len(versions):
            raise VersionNotFoundError(name, number, len(versions))
        version = versions[number - 1]
        rec = queries.current_derivation(s, version.id)
        if rec is None:
            return None
        passages = [
            {
                "passage_id": p.passage_id,
                "ordinal": p.ordinal,
                "kind": p.kind,
                "text": p.text,
                "passage_sha256": p.sha256,
                "raw_span": [p.raw_start, p.raw_end],
            }
            for p in queries.passages_of(s, rec.id)
        ]
        removed = [
            {
                "raw_span": [r.raw_start, r.raw_end],
                "text": r.text,
                "rule": r.rule,
                "reason": r.reason,
            }
            for r in queries.removals_of(s, rec.id)
        ]
        return DerivationView(
            document=name,
            version=number,
            number=rec.number,
            status=rec.status,
            detail=rec.detail,
            encoding=rec.encoding,
            title=rec.title,
            cleaner=f"{rec.cleaner_name} {rec.cleaner_version}",
            rules_digest=rec.rules_digest,
            output_sha256=rec.output_sha256,
            passages=passages,
            removed=removed,
            page=json.loads(rec.page) if rec.page else None,
            published=rec.published,
            environment=json.loads(rec.environment) if rec.environment else None,
        )


@dataclass(frozen=True)
class ExplainedLine:
    """One raw line and what the recorded derivation did with it."""

    number: int
    raw_span: tuple[int, int]
    text: str
    action: str  # "KEEP" | "DROP" | ""
    label: str  # passage kind, or rule id
    reason: str


def explain(
    home: Home, name: str, number: int | None = None
) -> tuple[DerivationView | None, list[ExplainedLine]]:
    """Every raw line of a version with the recorded decision that covers it."""
    from .cleaning.text import decode_as, split_lines

    dv = view(home, name, number)
    if dv is None or dv.status != "text" or dv.encoding is None:
        return dv, []
    decoded = decode_as(home.read_bytes(name, dv.version), dv.encoding)
    spans = split_lines(decoded.text)
    positions = sorted({p for span in spans for p in span})
    lookup = dict(zip(positions, decoded.byte_offsets(positions), strict=True))
    covering: list[tuple[int, int, str, str, str]] = [
        (p["raw_span"][0], p["raw_span"][1], "KEEP", p["kind"], "") for p in dv.passages
    ] + [(r["raw_span"][0], r["raw_span"][1], "DROP", r["rule"], r["reason"]) for r in dv.removed]
    covering.sort()
    lines = []
    k = 0
    for i, (start, end) in enumerate(spans, 1):
        b_start, b_end = lookup[start], lookup[end]
        text = decoded.text[start:end]
        while k < len(covering) and covering[k][1] <= b_start:
            k += 1
        action = label = reason = ""
        if text.strip() and k < len(covering) and covering[k][0] < b_end:
            _, _, action, label, reason = covering[k]
        lines.append(ExplainedLine(i, (b_start, b_end), text, action, label, reason))
    return dv, lines
