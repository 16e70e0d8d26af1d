"""Derived data in the catalog: recording cleaning runs, filling gaps, re-cleaning.

Contract:
- :func:`record` stores one :class:`~provarchive.passages.Derivation` for one
  version (derivation row, passages with ids ``NAME@vN#K``, removed lines, and
  normalization + derivation events) inside the caller's transaction.
- Every stored version has exactly one current derivation. :func:`derive_missing`
  creates it where a crash or a rebuild left none, from the bytes in the store.
- :func:`reclean` re-runs the current cleaner; only when its output differs
  is a new derivation recorded and made current, the old one kept as superseded.
- :func:`rederive_drift` re-runs the recorded cleaner (when it is the one this
  build carries) and reports differences, changing nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .catalog import DerivationRecord, Session, Version, new_event, queries, utcnow
from .cleaning.cleaner import CLEANER_NAME, CLEANER_VERSION, rules_digest
from .cleaning.passages import CLEANER_NAMES, Derivation, derive, passage_id
from .cleaning.text import sniff_file
from .cleaning.workers import CleaningPool
from .errors import CorruptArchiveError, DocumentNotFoundError
from .home import Home
from .search.engine import IndexEntry, entries_of

log = logging.getLogger(__name__)


def record(s: Session, version: Version, name: str, d: Derivation) -> DerivationRecord:
    """Store ``d`` as the current derivation of ``version`` (older ones are superseded)."""
    return record_many(s, [(version, name, d)])[0]


def record_many(
    s: Session, items: list[tuple[Version, str, Derivation]], *, indexed: str | None = None
) -> list[DerivationRecord]:
    """Store derivations as the current ones of their versions, in a few statements:
    one INSERT for the derivations (the ORM batches it), one for all their passages
    and one for all removed lines. A version's earlier derivation is superseded.
    ``indexed`` records what the search index already holds for them."""
    if not items:
        return []
    now = utcnow()
    numbers = queries.supersede_current(s, [v.id for v, _n, _d in items], now)
    records = [_record(v, d, numbers.get(v.id, 0) + 1, now, indexed) for v, _n, d in items]
    s.add_all(records)
    s.flush()
    done = list(zip(records, items, strict=True))
    queries.insert_passages(s, [row for rec, item in done for row in _passage_rows(rec, item)])
    queries.insert_removals(s, [row for rec, item in done for row in _removal_rows(rec, item)])
    for rec, (v, name, d) in done:
        s.add_all(_events(rec, v, name, d, now))
    return records


def _record(
    v: Version, d: Derivation, number: int, now: datetime, indexed: str | None
) -> DerivationRecord:
    return DerivationRecord(
        version_id=v.id,
        number=number,
        cleaner_name=d.cleaner_name,
        cleaner_version=d.cleaner_version,
        rules_digest=d.rules_digest,
        normalisation=d.normalisation,
        encoding=d.codec,
        status=d.status,
        detail=d.detail,
        title=d.title,
        output_sha256=d.output_sha256,
        page=json.dumps(d.page.to_json(), sort_keys=True) if d.page else None,
        published=d.published,
        environment=json.dumps(d.environment, sort_keys=True),
        created_at=now,
        current=True,
        indexed=indexed,
    )


def _passage_rows(
    rec: DerivationRecord, item: tuple[Version, str, Derivation]
) -> list[dict[str, Any]]:
    v, name, d = item
    return [
        {
            "derivation_id": rec.id,
            "passage_id": passage_id(name, v.number, p.ordinal),
            "ordinal": p.ordinal,
            "kind": p.kind,
            "text": p.text,
            "sha256": p.sha256,
            "raw_start": p.raw_start,
            "raw_end": p.raw_end,
        }
        for p in d.passages
    ]


def _removal_rows(
    rec: DerivationRecord, item: tuple[Version, str, Derivation]
) -> list[dict[str, Any]]:
    return [
        {
            "derivation_id": rec.id,
            "ordinal": r.ordinal,
            "text": r.text,
            "rule": r.rule,
            "reason": r.reason,
            "raw_start": r.raw_start,
            "raw_end": r.raw_end,
        }
        for r in item[2].removals
    ]


def _events(
    rec: DerivationRecord, v: Version, name: str, d: Derivation, now: datetime
) -> list[Any]:
    """The normalization and derivation events of one recorded derivation."""
    decoded = (
        f"decoded as {d.encoding_label}"
        if d.status == "text"
        else f"no text ({d.status}: {d.detail})"
    )
    return [
        new_event(
            "normalization",
            f"{decoded}; normalisation {d.normalisation.split(':')[0]}",
            outcome="success" if d.status == "text" else "warning",
            document=name,
            version=v.number,
            when=now,
        ),
        new_event(
            "derivation",
            f"derivation {rec.number} by {d.cleaner_name} {d.cleaner_version} "
            f"({d.rules_digest[:23]}...): {len(d.passages)} passage(s), "
            f"{len(d.removals)} line(s) removed, output {d.output_sha256[:23]}...",
            document=name,
            version=v.number,
            when=now,
            derivation_id=rec.id,
        ),
    ]


def derive_version(
    home: Home, name: str, number: int, size: int, sha512: str, cleaner: str | None = None
) -> Derivation:
    """The derivation of one stored version (see :func:`stored_text`)."""
    text = stored_text(home, name, number, size, sha512)
    if isinstance(text, Derivation):
        return text
    return derive(text, cleaner=cleaner or home.config.cleaner)


UNREADABLE = "the stored bytes cannot be read"
_NOT_CLEANED = ": not cleaned or indexed"


def stored_text(home: Home, name: str, number: int, size: int, sha512: str) -> bytes | Derivation:
    """The stored bytes of a version, to clean, checked against its ``sha512``; or, for a
    version that is not cleaned, its derivation already. A version larger than the
    archive's text limit is archived and hashed but not cleaned or indexed, and its
    derivation says so: decoding and cleaning need memory in proportion to the text.
    Bytes that cannot be read or do not match their digest are never cleaned: no
    passage may cite a file's digest for text the file did not hold."""
    limit = home.config.max_text_bytes
    if size > limit:
        status, detail = (
            "too-large",
            (
                f"{size} bytes is over the {limit}-byte text limit (--max-text-bytes): "
                "archived and hashed, not cleaned or indexed"
            ),
        )
        with contextlib.suppress(OSError, CorruptArchiveError):
            with open(home.content_path(name, number), "rb") as fh:
                reason = sniff_file(fh.fileno(), size)
            if reason is not None:  # judged from a few sampled blocks, never read whole
                status, detail = "binary", f"{reason} ({size} bytes, sampled)"
        return Derivation(status, None, "none", detail, (), (), rules_digest=rules_digest())
    try:
        data = home.read_bytes(name, number)
    except CorruptArchiveError as exc:
        # A finding on this document (verify reports it), never a failure of the batch
        # or of recovery; reclean derives it again once it can be read.
        return _unreadable(exc.reason)
    if hashlib.sha512(data).hexdigest() != sha512:
        return _unreadable("they do not match their sha512 digest")
    return data


def _unreadable(reason: str) -> Derivation:
    return Derivation(
        "unreadable",
        None,
        "none",
        f"{UNREADABLE} ({reason}){_NOT_CLEANED}",
        (),
        (),
        rules_digest=rules_digest(),
    )


def derivation_entries(
    name: str, number: int, raw_sha256: str, ingested: datetime, current: bool, d: Derivation
) -> list[IndexEntry]:
    """The index entries of a derivation not yet in the catalog."""
    return entries_of(
        name, number, raw_sha256, ingested, current,
        ((passage_id(name, number, p.ordinal), p.ordinal, p.kind, p.text, p.sha256,
          p.raw_start, p.raw_end) for p in d.passages),
        ((r.ordinal, r.text, r.rule, r.raw_start, r.raw_end) for r in d.removals),
        d.published,
    )  # fmt: skip


def stored_environment(rec: DerivationRecord) -> dict[str, str]:
    return rec.json_field("environment") or {}


def stored_signature(s: Session, rec: DerivationRecord) -> tuple[object, ...]:
    """The signature (see :meth:`Derivation.signature`) of a stored derivation."""
    return (
        rec.status,
        rec.encoding,
        tuple((p.kind, p.text, p.raw_start, p.raw_end) for p in queries.passages_of(s, rec.id)),
        tuple((r.rule, r.raw_start, r.raw_end) for r in queries.removals_of(s, rec.id)),
        rec.page_verdict(),
        rec.published,
    )


def cleaner_of(rec: DerivationRecord | None, default: str = "default") -> str:
    """The cleaner (a name of :data:`CLEANERS`) that made a stored derivation."""
    if rec is None:
        return default
    return next((k for k, v in CLEANER_NAMES.items() if v == rec.cleaner_name), default)


def derive_missing(
    home: Home,
    s: Session,
    *,
    reason: str,
    only: list[tuple[Version, str]] | None = None,
    jobs: int = 1,
) -> list[tuple[str, int]]:
    """Give every version without a current derivation one, from the stored bytes.

    ``only`` restricts the work to versions just added (the ingest fast path); ``jobs``
    > 1 cleans in that many worker processes (this one alone writes)."""
    home.require_writer()
    rows = list(only) if only is not None else queries.versions_without_derivation(s)
    done: list[tuple[str, int]] = []
    with _pool(jobs, len(rows)) as pool:
        for batch in _batches(rows, whole=False):
            if pool is None:
                made = [derive_version(home, name, v.number, v.size, v.sha512) for v, name in batch]
            else:
                texts = [stored_text(home, name, v.number, v.size, v.sha512) for v, name in batch]
                made = _derive_each(pool, texts, [home.config.cleaner] * len(texts))
            record_many(s, [(v, name, d) for (v, name), d in zip(batch, made, strict=True)])
            done.extend((name, v.number) for v, name in batch)
    if done:
        log.info("derived %d version(s) (%s)", len(done), reason)
    return done


@dataclass
class RecleanReport:
    checked: int = 0
    changed: list[tuple[str, int, int]] = field(default_factory=list)
    """(document, version, new derivation number) for every version whose output changed."""
    unreadable: list[tuple[str, int, str]] = field(default_factory=list)
    """(document, version, why) for every version whose stored bytes could not be read:
    its current derivation stays (damage in the store never unindexes a document)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "changed": [{"document": d, "version": v, "derivation": n} for d, v, n in self.changed],
            "unreadable": [
                {"document": d, "version": v, "reason": why} for d, v, why in self.unreadable
            ],
        }


def reclean(
    home: Home,
    names: list[str] | None = None,
    *,
    jobs: int = 1,
    on_progress: Callable[[int, int], None] | None = None,
) -> RecleanReport:
    """Re-run the current cleaner over every version (of ``names``), in one transaction;
    ``jobs`` > 1 cleans in that many worker processes (this one alone writes)."""
    home.require_writer()
    report = RecleanReport()
    with home.catalog.session() as s:
        if names:
            missing = set(names) - queries.document_names(s, names)
            if missing:
                raise DocumentNotFoundError(sorted(missing)[0])
        todo = queries.versions_named(s, names or None)
        with _pool(jobs, len(todo)) as pool:
            for batch in _batches(todo, whole=pool is None):
                for (version, name), rec, fresh in _fresh(home, s, batch, pool):
                    report.checked += 1
                    if rec is not None and fresh.status == "unreadable":
                        why = (fresh.detail or UNREADABLE).removesuffix(_NOT_CLEANED)
                        report.unreadable.append((name, version.number, why))
                    elif rec is None or stored_signature(s, rec) != fresh.signature():
                        new = record(s, version, name, fresh)
                        report.changed.append((name, version.number, new.number))
                    if on_progress is not None:
                        on_progress(report.checked, len(todo))
        s.add(
            new_event(
                "re-derivation",
                f"reclean with {CLEANER_NAME} {CLEANER_VERSION}: {report.checked} version(s) checked, "
                f"{len(report.changed)} changed",
            )
        )
    return report


RECLEAN_BATCH_BYTES = 32 * 1024 * 1024
"""With worker processes, the raw texts of at most this many bytes (and 256 versions) are
read and cleaned together; without, one version at a time."""


def _pool(jobs: int, items: int) -> contextlib.AbstractContextManager[CleaningPool | None]:
    """A pool of ``jobs`` cleaning workers when more than one process has work, else
    None (left on an error or an interrupt, the pool kills its workers at once)."""
    return CleaningPool(jobs) if jobs > 1 and items > 1 else contextlib.nullcontext()


def _batches(todo: list[Any], *, whole: bool) -> Iterator[list[Any]]:
    """``todo`` ((version, name) pairs) one at a time if ``whole``, else in batches."""
    batch: list[Any] = []
    size = 0
    for item in todo:
        batch.append(item)
        size += item[0].size
        if whole or size >= RECLEAN_BATCH_BYTES or len(batch) >= 256:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _fresh(
    home: Home, s: Any, batch: list[Any], pool: CleaningPool | None
) -> Iterator[tuple[Any, DerivationRecord | None, Derivation]]:
    """Each (version, name) of ``batch`` with its current derivation and a fresh one by
    the cleaner that derivation recorded (here, or in the pool's workers)."""
    recs = [queries.current_derivation(s, version.id) for version, _name in batch]
    cleaners = [cleaner_of(rec, home.config.cleaner) for rec in recs]
    if pool is None:
        fresh = [
            derive_version(home, name, version.number, version.size, version.sha512, cleaner)
            for (version, name), cleaner in zip(batch, cleaners, strict=True)
        ]
    else:
        texts = [stored_text(home, name, v.number, v.size, v.sha512) for v, name in batch]
        fresh = _derive_each(pool, texts, cleaners)
    return zip(batch, recs, fresh, strict=True)


def _derive_each(
    pool: CleaningPool, texts: list[bytes | Derivation], cleaners: list[str]
) -> list[Derivation]:
    """The derivation of each text by its own cleaner, in order (texts that are already
    a derivation, e.g. too large to clean, stay as they are)."""
    out: list[Derivation | None] = [t if isinstance(t, Derivation) else None for t in texts]
    for cleaner in sorted(set(cleaners)):
        where = [i for i, t in enumerate(texts) if isinstance(t, bytes) and cleaners[i] == cleaner]
        raw = [t for i in where if isinstance(t := texts[i], bytes)]
        for i, d in zip(where, pool.derive_all(raw, cleaner), strict=True):
            out[i] = d
    return [d for d in out if d is not None]


@dataclass
class Drift:
    document: str
    version: int
    kind: str  # "drift" | "unavailable"
    detail: str


def rederive_drift(home: Home, raw_of: Callable[[str, int], bytes]) -> list[Drift]:
    """Re-run the recorded cleaner on the raw bytes of every current derivation; change nothing."""
    drifts: list[Drift] = []
    with home.catalog.session() as s:
        for rec, number, name in queries.current_derivations(s):
            cleaner = cleaner_of(rec)
            digest = rules_digest(cleaner=CLEANER_NAMES[cleaner])
            if rec.cleaner_version != CLEANER_VERSION or rec.rules_digest != digest:
                drifts.append(
                    Drift(
                        name,
                        number,
                        "unavailable",
                        f"recorded {rec.cleaner_name} {rec.cleaner_version} ({rec.rules_digest[:23]}...), this build has {CLEANER_VERSION}",
                    )
                )
                continue
            fresh = derive(raw_of(name, number), cleaner=cleaner)
            if stored_signature(s, rec) != fresh.signature():
                changed = _environment_changes(stored_environment(rec), fresh.environment)
                drifts.append(
                    Drift(
                        name,
                        number,
                        "drift",
                        f"derivation {rec.number} differs from a fresh run of {rec.cleaner_name} "
                        f"{rec.cleaner_version}"
                        + (f"; since it was made {changed}" if changed else ""),
                    )
                )
    return drifts


def _environment_changes(recorded: dict[str, str], now: dict[str, str]) -> str:
    """What changed in the libraries the output depends on, e.g. 'unicodedata 15.0.0 -> 15.1.0'."""
    keys = sorted(set(recorded) | set(now))
    return ", ".join(
        f"{k} {recorded.get(k, '?')} -> {now.get(k, '?')}"
        for k in keys
        if recorded.get(k) != now.get(k)
    )
