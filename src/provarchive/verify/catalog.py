"""The catalog against the store: documents, versions, digests and paths both ways.

Contract: the catalog is read in one transaction (one snapshot), never written
here. A disagreement that a writer committing right now could cause (the store
is written before the catalog) is looked at again, from a fresh snapshot and a
fresh read of the object's inventory, before it is reported; one that persists
while a version is journaled is ``PENDING_WRITE`` (info), not damage.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..catalog import queries
from ..errors import ArchiveError
from ..findings import Finding
from ..home import Home
from ..store.ocfl import ObjectState, StoredVersion, object_id_for, object_path_for
from ..timestamps import parse as parse_stamp
from .objects import RETRIES


@dataclass(frozen=True)
class CatalogVersion:
    number: int
    sha256: str
    sha512: str
    size: int
    content_path: str
    message: str = ""
    user_name: str = ""
    user_address: str | None = None
    ingested_at: datetime | None = None
    withdrawn: bool = False
    """The document's flag (the same on each of its versions)."""


Catalog = dict[str, list[CatalogVersion]]


def catalog_problem(home: Home) -> Finding | None:
    """Why the catalog cannot be read at all, as a finding (None if it can be opened)."""
    if home.config.db_url is None and not home.catalog_path.exists():
        return Finding(
            "CATALOG_UNREADABLE",
            "the catalog file is missing; 'provarchive rebuild' recreates it",
            path=str(home.catalog_path),
        )
    try:
        home.catalog.require_current_schema()
    except ArchiveError as exc:
        return Finding("CATALOG_UNREADABLE", str(exc), path=home.catalog_url)
    return None


def load_catalog(s: Any, names: set[str] | None = None) -> Catalog:
    """Every document's versions (of ``names`` only, if given)."""
    result: Catalog = {}
    for name, number, *fields in queries.version_rows(s):
        if names is not None and name not in names:
            continue
        versions = result.setdefault(name, [])
        if number is not None:
            versions.append(CatalogVersion(number, *fields))
    return result


def object_path_for_name(name: str) -> str:
    return object_path_for(object_id_for(name))


def cross_check(
    catalog: Catalog, states: dict[str, ObjectState], present: set[str], *, whole: bool = True
) -> list[Finding]:
    """Findings between the catalog and the store's committed states. ``present``: the
    documents whose object exists in the store (even if unreadable). ``whole``: the
    store was read whole, so a catalogued document without an object is missing."""
    findings: list[Finding] = []
    for name, state in sorted(states.items()):
        versions = catalog.get(name)
        if versions is None:
            findings.append(
                Finding("CATALOG_DOCUMENT_MISSING", name, document=name, path=state.path)
            )
            continue
        findings.extend(_compare(name, state, versions))
    for name in sorted(set(catalog) - set(states) - present):
        if whole or name in present:
            findings.append(
                Finding(
                    "STORE_OBJECT_MISSING", name, document=name, path=object_path_for_name(name)
                )
            )
    return findings


def _compare(name: str, state: ObjectState, versions: list[CatalogVersion]) -> list[Finding]:
    findings = []
    by_number = {v.number: v for v in versions}
    for sv in state.versions:
        if sv.withdrawn:
            continue  # a withdrawal holds no file: the catalog has no version row for it
        cv = by_number.get(sv.number)
        if cv is None:
            findings.append(
                Finding(
                    "CATALOG_VERSION_MISSING",
                    f"{name} v{sv.number}",
                    document=name,
                    path=state.path,
                )
            )
            continue
        for what, want, got in (
            ("sha512", sv.sha512, cv.sha512),
            ("sha256", sv.sha256, cv.sha256),
            ("content path", sv.content_path, cv.content_path),
        ):
            if want != got:
                findings.append(
                    Finding(
                        "CATALOG_DIGEST_MISMATCH",
                        f"{name} v{sv.number}: catalog {what} differs from the inventory",
                        document=name,
                        path=state.path,
                        expected=want,
                        found=got,
                    )
                )
                break
        else:
            findings.extend(_provenance(name, state, sv, cv))
    if versions and versions[0].withdrawn != state.withdrawn:
        findings.append(
            Finding(
                "CATALOG_RECORD_MISMATCH",
                f"{name}: the catalog says {'' if versions[0].withdrawn else 'not '}withdrawn, "
                f"the store {'' if state.withdrawn else 'not '}withdrawn",
                document=name,
                path=state.path,
                expected=str(state.withdrawn).lower(),
                found=str(versions[0].withdrawn).lower(),
            )
        )
    for cv in versions:
        if cv.number > state.head:
            findings.append(
                Finding(
                    "STORE_VERSION_MISSING",
                    f"{name} v{cv.number} (store head is v{state.head})",
                    document=name,
                    path=state.path,
                )
            )
    return findings


def _provenance(
    name: str, state: ObjectState, sv: StoredVersion, cv: CatalogVersion
) -> list[Finding]:
    """The version's message and user as the catalog shows them (history, lineage)
    against the inventory's: who archived it, from where."""
    stored = cv.ingested_at.isoformat() if cv.ingested_at is not None else None
    for what, want, got in (
        ("message", sv.message, cv.message),
        ("user name", sv.user_name, cv.user_name),
        ("user address", sv.user_address, cv.user_address),
        ("time stored", parse_stamp(sv.created).isoformat(), stored),
    ):
        if want != got:
            return [
                Finding(
                    "CATALOG_RECORD_MISMATCH",
                    f"{name} v{sv.number}: catalog {what} differs from the inventory",
                    document=name,
                    path=state.path,
                    expected=want,
                    found=got,
                )
            ]
    return []


_IN_FLIGHT = frozenset(
    {
        "CATALOG_RECORD_MISMATCH",
        "CATALOG_DOCUMENT_MISSING",
        "CATALOG_VERSION_MISSING",
        "STORE_OBJECT_MISSING",
        "STORE_VERSION_MISSING",
        "CATALOG_DIGEST_MISMATCH",
    }
)


def settle(
    home: Home,
    findings: list[Finding],
    reload: Callable[[set[str]], dict[str, ObjectState]],
    pending: Callable[[], set[str]],
    busy: Callable[[], bool],
) -> list[Finding]:
    """Look again at disagreements a commit in flight can cause, before reporting them.

    ``reload(names)`` re-reads those objects' inventories; ``pending()`` names the
    documents journaled right now; ``busy()`` says whether a writer is at work.
    """
    for attempt in range(RETRIES + 1):
        doubtful = {f.document for f in findings if f.code in _IN_FLIGHT and f.document}
        if not doubtful:
            break
        # The store was read before the catalog: look again at both as they are now. A
        # result taken while no writer was at work is the truth.
        if attempt:
            time.sleep(0.05 * attempt)
        before = busy()
        states = reload(doubtful)
        try:
            with home.catalog.session() as s:
                catalog = load_catalog(s, doubtful)
        except ArchiveError:
            break
        fresh = cross_check(catalog, states, set(states), whole=False)
        fresh += [
            Finding("STORE_OBJECT_MISSING", n, document=n, path=object_path_for_name(n))
            for n in sorted(set(catalog) - set(states))
        ]
        findings = [f for f in findings if f.document not in doubtful or f.code not in _IN_FLIGHT]
        findings += fresh
        if not (before or busy()):
            break
    journaled = pending() if any(f.code in _IN_FLIGHT for f in findings) else set()
    writing = busy()
    return [
        f.pending() if f.code in _IN_FLIGHT and (writing or f.document in journaled) else f
        for f in findings
    ]
