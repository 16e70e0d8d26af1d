"""Rolling audits: which versions to check when not all of them, as ACE and
Archivematica schedule fixity.

Contract: pure. Candidates come least recently verified first (never verified
first); ``due`` keeps those not verified within that long, ``sample`` draws that
many at random (from what ``due`` kept), and the objects holding them are
returned oldest first, so a time budget spent from the front of the list checks
the most overdue objects.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ..errors import UsageError
from ..store.ocfl import object_id_for, object_path_for

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw]?)")
_LONGEST = timedelta(days=365 * 1000)
"""Longer is as good as forever (and would overflow the dates it is subtracted from)."""
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``10m``, ``1s``, ``2w`` as a duration. A number needs its unit:
    ``--due 30`` could mean thirty days as well as thirty seconds."""
    m = _DURATION.fullmatch(text.strip().lower())
    if m is None:
        raise UsageError(f"not a duration: {text!r} (try 30d, 12h, 10m or 1s)")
    if not m.group(2):
        raise UsageError(
            f"{text!r} has no unit: say {m.group(1)}d for days, {m.group(1)}h, "
            f"{m.group(1)}m or {m.group(1)}s"
        )
    try:
        return min(timedelta(seconds=float(m.group(1)) * _UNIT[m.group(2)]), _LONGEST)
    except OverflowError:
        return _LONGEST


@dataclass
class Selection:
    objects: list[tuple[str, str]] = field(default_factory=list)
    """(object path, object id) of the objects to check, oldest verification first."""
    versions: int = 0


def select_versions(
    candidates: Sequence[tuple[str, int, datetime | None]],
    *,
    due: timedelta | None,
    sample: int | None,
    now: datetime,
    rng: random.Random | None = None,
) -> Selection:
    chosen = list(candidates)
    if due is not None:
        cutoff = now - due
        chosen = [c for c in chosen if c[2] is None or _aware(c[2]) <= cutoff]
    if sample is not None and sample < len(chosen):
        picked = set((rng or random.SystemRandom()).sample(range(len(chosen)), max(0, sample)))
        chosen = [c for i, c in enumerate(chosen) if i in picked]
    selection = Selection(versions=len(chosen))
    seen: set[str] = set()
    for name, _number, _when in chosen:
        if name not in seen:
            seen.add(name)
            object_id = object_id_for(name)
            selection.objects.append((object_path_for(object_id), object_id))
    return selection


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
