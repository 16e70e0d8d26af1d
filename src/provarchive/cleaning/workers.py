"""Cleaning in worker processes: what ``ingest --jobs N`` spreads over N cores.

Contract: :func:`~provarchive.cleaning.passages.derive` is a pure function of the raw
bytes and the cleaner's name, so a worker needs nothing but those: it never opens the
archive, the store or the catalog, and the parent alone writes. Results come back in
the order given, equal to what the parent would have computed itself. Workers are
started with ``spawn`` (a fresh interpreter: no inherited descriptor, so no copy of
the writer lock or of a database connection outlives the parent) and ignore SIGINT and
SIGTERM, from their first instruction (they start with interrupts held): an interrupt
is the parent's to handle, at its next safe point. A parent killed outright closes their
pipe, and they exit (on Linux at once: they die with their parent, see
:func:`~provarchive.processes.worker_pool`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ..processes import interrupts_held, stop_pool, worker_pool
from .passages import Derivation, derive

CHUNK_BYTES = 32 * 1024 * 1024
"""At most this many raw bytes in flight at once (plus one document)."""


def _derive(raw: bytes, cleaner: str) -> Derivation:
    return derive(raw, cleaner=cleaner)


class CleaningPool:
    """``jobs`` worker processes cleaning raw texts; use as a context manager. Left on
    an error or an interrupt, it kills its workers instead of waiting for the texts in
    hand (nobody wants what they compute then, and a second Ctrl-C must stop at once)."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self._executor = worker_pool(jobs)

    def derive_all(self, texts: Sequence[bytes], cleaner: str) -> list[Derivation]:
        """The derivation of each text, in order."""
        out: list[Derivation] = []
        for chunk in _chunks(texts):
            with interrupts_held():  # map submits every text now, starting any worker
                results = self._executor.map(_derive, chunk, [cleaner] * len(chunk))
            out.extend(results)
        return out

    def close(self, *, at_once: bool = False) -> None:
        """Stop the workers (``at_once``: without waiting for the texts in hand)."""
        stop_pool(self._executor, at_once=at_once)

    def __enter__(self) -> CleaningPool:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        self.close(at_once=exc_type is not None)


def _chunks(texts: Sequence[bytes]) -> Iterator[Sequence[bytes]]:
    start, size = 0, 0
    for i, text in enumerate(texts):
        size += len(text)
        if size >= CHUNK_BYTES:
            yield texts[start : i + 1]
            start, size = i + 1, 0
    if start < len(texts):
        yield texts[start:]
