"""Withdraw: a document leaves search and lists; nothing is ever deleted.

Contract:
- A withdrawal is a new OCFL version of the document's object whose state holds
  no file (:meth:`Transaction.prepare_withdrawal`): the bytes of every earlier
  version stay in the object, and ``cat --rev N``, ``history`` and proofs still
  reach them. Its message is ``withdraw: REASON``.
- The transparency log records it inside the store's commit (a ``withdrawal``
  leaf naming the file withdrawn), the catalog marks the document withdrawn and
  logs a ``withdrawal`` event with the reason. The withdrawn state is derived from
  the store (:func:`provarchive.recovery.sync_state`), so a rebuild, or the
  recovery after a crash between store and catalog, gives it back.
- The index then holds the document's entries as earlier versions: default search
  leaves them out, ``--all-versions`` (or ``search --withdrawn``) finds them.
- Ingest skips a seed whose bytes are the withdrawn file (status ``withdrawn``);
  new bytes, or ``add`` of the file, make a new version and end the withdrawal.
- The caller holds the writer lock (:meth:`Archive.withdraw` does).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .catalog import new_event, utcnow
from .errors import DocumentNotFoundError, UsageError
from .home import Home
from .recovery import WITHDRAW_PREFIX, sync_state, withdrawal_reason
from .store.ocfl import ObjectState, versions_from_inventory
from .timestamps import iso, iso_micro
from .timestamps import parse as parse_stamp

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Withdrawal:
    """What ``withdraw`` did: the version that withdrew the file, and which file."""

    document: str
    version: int
    withdrawn_version: int
    sha256: str
    reason: str
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "version": self.version,
            "withdrawn_version": self.withdrawn_version,
            "sha256": self.sha256,
            "reason": self.reason,
            "withdrawn_at": iso(self.at),
        }


def withdraw(home: Home, name: str, reason: str) -> Withdrawal:
    """Commit a version of ``name`` without its file, then record it in the catalog."""
    home.require_writer()
    reason = " ".join(reason.split())
    if not reason:
        raise UsageError("give the reason for the withdrawal with --reason TEXT")
    state = home.store.load(name)
    if state is None:
        raise DocumentNotFoundError(name)
    last = state.last_file()
    if state.withdrawn or last is None:
        raise UsageError(f"{name!r} is already withdrawn (at v{state.head})")
    now = utcnow()
    txn = home.store.begin()
    try:
        prepared = txn.prepare_withdrawal(
            state,
            created=iso_micro(now),
            message=WITHDRAW_PREFIX + reason,
            user=home.config.user,
        )
        txn.commit()
    except BaseException:
        txn.close_uncommitted()
        raise
    new_state = ObjectState(
        name,
        state.object_id,
        state.path,
        prepared.inventory,
        versions_from_inventory(prepared.inventory, state.path),
    )
    with home.catalog.session() as s:
        sync_state(s, home, new_state)
        s.add(
            new_event(
                "withdrawal",
                f"withdrawn at v{prepared.number} (v{last.number}, sha256 {last.sha256}, "
                f"stays archived): {reason}",
                document=name,
                version=prepared.number,
                when=now,
            )
        )
    txn.close()
    log.info("%s withdrawn at v%d (v%d stays in the store)", name, prepared.number, last.number)
    return Withdrawal(name, prepared.number, last.number, last.sha256, reason, now)


def withdrawals(home: Home, name: str) -> list[Withdrawal]:
    """Every withdrawal of ``name``, oldest first, read from its inventory (the store is
    the truth; a re-added document keeps its earlier withdrawals)."""
    state = home.store.load(name)
    if state is None:
        return []
    found = []
    for sv in state.versions:
        if not sv.withdrawn:
            continue
        last = state.last_file(sv.number)
        found.append(
            Withdrawal(
                document=name,
                version=sv.number,
                withdrawn_version=last.number if last else 0,
                sha256=last.sha256 if last else "",
                reason=withdrawal_reason(sv.message),
                at=parse_stamp(sv.created),
            )
        )
    return found
