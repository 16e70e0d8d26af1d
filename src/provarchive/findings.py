"""Verification findings: one table of codes, severities and messages.

Contract: every problem ``verify`` can report has a code here (and nowhere
else); a :class:`Finding` carries the code, the document and path it concerns,
and a detail; its message is the table's description plus that detail.
Severities: ``error`` (the archive is damaged: verify exits 1), ``warning``
(worth attention, nothing lost), ``info`` (for the record).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ERROR = "error"
WARNING = "warning"
INFO = "info"

FINDING_TYPES: dict[str, tuple[str, str]] = {
    # storage root
    "STORE_MISSING": (ERROR, "the OCFL storage root is missing or not declared (0=ocfl_1.1)"),
    "LAYOUT_CONFIG_INVALID": (ERROR, "the storage layout configuration is missing or altered"),
    "STRAY_PATH": (ERROR, "a path in the storage root belongs to no object (OCFL E072)"),
    "FOREIGN_OBJECT": (
        WARNING,
        "a valid OCFL object another tool wrote: listed, never imported, changed or removed",
    ),
    "STORAGE_HIERARCHY_INVALID": (
        ERROR,
        "the storage hierarchy holds something that is neither an object nor a path to one",
    ),
    "OCFL_WARNING": (WARNING, "an OCFL recommendation (W code) is not followed"),
    "STAGING_LEFTOVER": (
        WARNING,
        "an interrupted write left data in staging; the next writing command repairs it",
    ),
    "PENDING_WRITE": (INFO, "a version is being written (journaled); it is not yet in the catalog"),
    # objects
    "OBJECT_DECLARATION_INVALID": (
        ERROR,
        "the object declaration file 0=ocfl_object_1.1 is missing or altered",
    ),
    "OBJECT_PATH_MISMATCH": (ERROR, "the object is not where the storage layout puts its id"),
    "INVENTORY_MISSING": (ERROR, "the object has no root inventory"),
    "INVENTORY_INVALID": (ERROR, "the root inventory cannot be read as an OCFL inventory"),
    "INVENTORY_MODIFIED": (
        ERROR,
        "the root inventory was changed after it was written (its sidecar digest no longer matches)",
    ),
    "SIDECAR_MISSING": (ERROR, "the inventory sidecar (inventory.json.sha512) is missing"),
    "SIDECAR_MISMATCH": (
        ERROR,
        "the inventory sidecar does not match the inventory (the sidecar was altered)",
    ),
    "VERSION_INVENTORY_MISMATCH": (
        ERROR,
        "a version's copy of the inventory is missing, altered or differs from the root inventory",
    ),
    "VERSION_DIR_MISSING": (ERROR, "a version directory named in the inventory is missing"),
    "VERSION_DIR_EXTRA": (
        ERROR,
        "a version directory exists that the inventory does not name (half-written version?)",
    ),
    "CONTENT_MISSING": (ERROR, "a stored content file is missing"),
    "CONTENT_DIGEST_MISMATCH": (ERROR, "a stored content file no longer matches its sha512 digest"),
    "CONTENT_SIZE_MISMATCH": (
        ERROR,
        "a stored content file has the wrong size (truncated or extended)",
    ),
    "FIXITY_MISMATCH": (
        ERROR,
        "a stored content file does not match the sha256 in the inventory fixity block",
    ),
    "EXTRA_FILE": (ERROR, "a file inside an object is not recorded in its inventory"),
    # catalog vs store
    "CATALOG_UNREADABLE": (ERROR, "the catalog cannot be read"),
    "CATALOG_DOCUMENT_MISSING": (ERROR, "the store holds a document the catalog does not list"),
    "CATALOG_VERSION_MISSING": (ERROR, "the store holds a version the catalog does not list"),
    "STORE_OBJECT_MISSING": (ERROR, "the catalog lists a document the store does not hold"),
    "STORE_VERSION_MISSING": (ERROR, "the catalog lists a version the store does not hold"),
    "CATALOG_RECORD_MISMATCH": (
        ERROR,
        "the catalog's record of a version (message, user, time, size) or of a document's "
        "withdrawn state differs from the store's",
    ),
    "CATALOG_DIGEST_MISMATCH": (
        ERROR,
        "the catalog records a different digest or path for a stored version",
    ),
    # derived data
    "DERIVATION_MISSING": (ERROR, "a stored version has no current derivation (cleaning run)"),
    "PASSAGE_DIGEST_MISMATCH": (ERROR, "a passage's text does not match its recorded sha256"),
    "PASSAGE_SPAN_MISMATCH": (ERROR, "a passage's raw byte span does not decode to its text"),
    "DERIVATION_OUTPUT_MISMATCH": (
        ERROR,
        "a derivation's recorded output digest does not match its passages",
    ),
    "DERIVATION_DRIFT": (
        WARNING,
        "re-running the recorded cleaner on the raw bytes gives a different result",
    ),
    "DERIVATION_UNAVAILABLE": (WARNING, "the recorded cleaner version is not available to re-run"),
    # search index
    "INDEX_MISSING": (ERROR, "the search index is missing"),
    "INDEX_UNREADABLE": (ERROR, "the search index cannot be opened"),
    "INDEX_ENTRY_MISSING": (ERROR, "a current passage is missing from the search index"),
    "INDEX_ENTRY_EXTRA": (ERROR, "the search index holds an entry for no current passage"),
    "INDEX_ENTRY_ALTERED": (
        ERROR,
        "a search index entry cites its passage differently from the catalog "
        "(text, version, byte span or current flag)",
    ),
    "INDEX_DAMAGED": (
        ERROR,
        "a search index file differs from the digest recorded when it was written "
        "(or that record is gone)",
    ),
    "INDEX_BEHIND": (
        ERROR,
        "documents the catalog holds are not searchable yet; the next writing command "
        "(or 'provarchive reindex') indexes them",
    ),
    # seeds folder drift
    "SEED_NEW": (INFO, "a file in the seeds folder is not archived yet"),
    "SEED_CHANGED": (WARNING, "a file in the seeds folder changed since its last archived version"),
    "SEED_MISSING": (INFO, "an archived document is no longer in the seeds folder"),
    "SEED_UNARCHIVABLE": (WARNING, "a seeds-folder entry cannot be archived"),
    # transparency log (ledger.py)
    "LOG_NOT_STARTED": (INFO, "the archive has no transparency log yet"),
    "LOG_MISSING": (ERROR, "the transparency log is missing"),
    "LOG_DAMAGED": (ERROR, "the transparency log is damaged (a record, its hashes or a commit)"),
    "LOG_INCONSISTENT": (
        ERROR,
        "the transparency log does not extend a checkpoint: leaves were removed or rewritten",
    ),
    "CHECKPOINT_INVALID": (
        ERROR,
        "a checkpoint is malformed or not signed by the archive's key",
    ),
    "CHECKPOINT_MISSING": (
        WARNING,
        "the log has entries but no latest signed checkpoint (proofs cannot be made until one is)",
    ),
    "SIGNING_KEY_UNUSABLE": (
        WARNING,
        "the archive's signing key cannot be used: writing commands fail until it is restored",
    ),
    "LOG_VERSION_MISSING": (ERROR, "the log records a version the store no longer holds"),
    "LOG_VERSION_MISMATCH": (
        ERROR,
        "a stored version differs from what the log recorded when it was stored",
    ),
    "LOG_VERSION_UNLOGGED": (ERROR, "the store holds a version the log does not record"),
    "LOG_EVENT_MISSING": (ERROR, "the log records an event the catalog no longer holds"),
    "LOG_EVENT_ALTERED": (ERROR, "a catalog event differs from the one the log recorded"),
    "LOG_EVENT_UNLOGGED": (ERROR, "a catalog event is marked logged but the log lacks it"),
}


BAD_CATALOG_VALUE = (ValueError, TypeError, OverflowError)
"""What reading a catalog row raises when a value is not of its column's type (SQLite
stores what it is given: an edited row may hold text where a date or a number belongs)."""


def bad_catalog_value(exc: Exception, where: str | None = None) -> Finding:
    """The ``CATALOG_UNREADABLE`` finding for a catalog value of the wrong type."""
    return Finding(
        "CATALOG_UNREADABLE",
        f"a value is not of its column's type ({type(exc).__name__}: {exc}); "
        "'provarchive rebuild' recreates the catalog from the store",
        path=where,
    )


@dataclass(frozen=True)
class Finding:
    """One problem found by verify."""

    code: str
    detail: str = ""
    document: str | None = None
    path: str | None = None
    expected: str | None = None
    found: str | None = None
    ocfl_code: str | None = None
    """The OCFL 1.1 validation code (E001-E112, W001-W016) the problem breaks, if any."""

    def __post_init__(self) -> None:
        if self.code not in FINDING_TYPES:
            raise ValueError(f"unknown finding code {self.code}")

    @property
    def severity(self) -> str:
        return FINDING_TYPES[self.code][0]

    @property
    def message(self) -> str:
        description = FINDING_TYPES[self.code][1]
        return f"{description}: {self.detail}" if self.detail else description

    def pending(self) -> Finding:
        """This finding as ``PENDING_WRITE``: what it shows is a write still in flight."""
        return Finding(
            "PENDING_WRITE", f"{self.code}: {self.detail}", document=self.document, path=self.path
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "document": self.document,
            "path": self.path,
            "message": self.message,
            "expected": self.expected,
            "found": self.found,
            "ocfl_code": self.ocfl_code,
        }


@dataclass
class VerifyReport:
    findings: list[Finding]
    checked: dict[str, int]
    states: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The committed state (store.ocfl.ObjectState) of every object read, by document:
    for the ledger check, so that the store is not read twice."""

    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    def is_ok(self) -> bool:
        return not any(f.severity == ERROR for f in self.findings)

    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    def codes(self) -> set[str]:
        return {f.code for f in self.findings}

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.is_ok(),
            "findings": [f.to_json() for f in self.findings],
            "checked": self.checked,
        }
