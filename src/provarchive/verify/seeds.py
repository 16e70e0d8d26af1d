"""Seeds-folder drift: files new, changed or missing since they were archived.

Contract: reads the seeds folder and a git-style stat cache; only files whose
stat changed are hashed (``full=True`` hashes all). The stat cache is only a
cache: when the catalog cannot be written the next verify hashes those files again.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import Any

from ..catalog import queries
from ..digests import hash_stream
from ..errors import ArchiveError
from ..findings import Finding
from ..home import Home
from ..seeds import CachedStat, SeedFile, same_stat, scan, stat_row, stat_trusted
from .catalog import Catalog

ProgressCallback = Callable[[str, int, int], None]


def check_seeds(
    home: Home,
    catalog: Catalog | None,
    checked: dict[str, int],
    *,
    full: bool,
    on_progress: ProgressCallback | None,
    may_write: Callable[[], bool] = lambda: True,
) -> list[Finding]:
    config = home.config
    if not home.seeds.is_dir():
        return []
    findings: list[Finding] = []
    seeds, problems = scan(home.seeds, exclude=[config.root])
    problems = [p for p in problems if p.status != "ignored"]
    for problem in problems:
        findings.append(
            Finding(
                "SEED_UNARCHIVABLE",
                f"{problem.path}: {problem.reason}",
                document=problem.name,
                path=problem.path,
            )
        )
    known = catalog or {}
    heads = {name: versions[-1] for name, versions in known.items() if versions}
    stats: dict[str, CachedStat] = {}
    withdrawn: set[str] = set()
    if catalog is not None:
        with contextlib.suppress(ArchiveError), home.catalog.session() as s:
            stats = queries.load_seed_stats(s)
            withdrawn = set(queries.withdrawn_files(s))
    updates: list[dict[str, Any]] = []
    for i, seed in enumerate(seeds, 1):
        checked["seeds"] += 1
        if on_progress is not None:
            on_progress("seeds", i, len(seeds))
        finding, row = _check_seed(seed, heads.get(seed.name), stats, full=full)
        findings += [finding] if finding is not None else []
        updates += [row] if row is not None else []
    # A withdrawn document's seed may be gone: that is what withdrawing it meant.
    gone = set(known) - {s.name for s in seeds} - {p.name for p in problems} - withdrawn
    for name in sorted(gone):
        findings.append(Finding("SEED_MISSING", name, document=name))
    if updates and catalog is not None and may_write():
        with contextlib.suppress(ArchiveError), home.catalog.session() as s:
            queries.save_seed_stats(s, updates, known=set(stats))
    return findings


def _check_seed(
    seed: SeedFile, head: Any, stats: dict[str, CachedStat], *, full: bool
) -> tuple[Finding | None, dict[str, Any] | None]:
    """One seeds file against the head version archived for it: a finding if it is new,
    unreadable or changed, and the stat-cache row to save when it was hashed."""
    if head is None:
        return Finding("SEED_NEW", seed.name, document=seed.name, path=str(seed.path)), None
    try:
        before = os.stat(seed.path)
        if not full and stat_trusted(stats.get(seed.name), before, head.sha512):
            return None, None
        with open(seed.path, "rb") as fh:
            digests = hash_stream(fh)
            after = os.fstat(fh.fileno())
    except OSError as exc:
        reason = f"{seed.path}: {exc.strerror}"
        return Finding("SEED_UNARCHIVABLE", reason, document=seed.name, path=str(seed.path)), None
    row = (
        stat_row(seed.name, after, digests.sha256, digests.sha512)
        if same_stat(before, after)
        else None
    )
    if digests.sha512 == head.sha512:
        return None, row
    changed = Finding(
        "SEED_CHANGED",
        f"{seed.name} differs from v{head.number}",
        document=seed.name,
        path=str(seed.path),
        expected=head.sha512,
        found=digests.sha512,
    )
    return changed, row
