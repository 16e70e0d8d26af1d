"""How an OCFL validation issue becomes one of the archive's findings.

Contract: pure. The archive's finding codes (:mod:`provarchive.findings`) stay the
stable interface; every finding made from an OCFL issue keeps the issue's code
(``ocfl_code``), its ``expected`` and ``found`` values (digests in full) and its
message as detail. :func:`finding_for` chooses the archive code from the OCFL code
and where the issue sits (storage root, object root, a version's inventory, a
content file).
"""

from __future__ import annotations

import re

from ..findings import Finding
from ..store.validation import Issue

_VERSION_INVENTORY = re.compile(r"v\d+/inventory\.json(\.[a-z0-9-]+)?")

_ROOT: dict[str, str] = {
    **dict.fromkeys(
        ("E069", "E074", "E075", "E076", "E077", "E078", "E079", "E080"), "STORE_MISSING"
    ),
    "E070": "LAYOUT_CONFIG_INVALID",
    "E071": "LAYOUT_CONFIG_INVALID",
    "E037": "OBJECT_PATH_MISMATCH",
    "E083": "OBJECT_PATH_MISMATCH",
    "E081": "OBJECT_DECLARATION_INVALID",
}
"""Storage-root issues; any other E code there is a hierarchy problem."""

_OBJECT: dict[str, str] = {
    **dict.fromkeys(("E001", "E015", "E022", "E023", "E024", "E067", "E089", "E090"), "EXTRA_FILE"),
    **dict.fromkeys(("E002", "E003", "E004", "E005", "E006", "E007"), "OBJECT_DECLARATION_INVALID"),
    **dict.fromkeys(("E008", "E009", "E010", "E011", "E012", "E013"), "VERSION_DIR_MISSING"),
    "E063": "INVENTORY_MISSING",
    "E058": "SIDECAR_MISSING",
    **dict.fromkeys(("E059", "E060", "E061", "E062"), "SIDECAR_MISMATCH"),
    "E064": "VERSION_INVENTORY_MISMATCH",
    "E066": "VERSION_INVENTORY_MISMATCH",
    "E103": "VERSION_INVENTORY_MISMATCH",
    "E110": "VERSION_INVENTORY_MISMATCH",
    "E092": "CONTENT_DIGEST_MISMATCH",
    "E093": "FIXITY_MISMATCH",
}
"""Object issues by code; any other E code is about the root inventory's content."""


def finding_for(
    issue: Issue,
    *,
    where: str,
    document: str | None,
    object_level: bool,
    sizes: dict[str, int] | None = None,
    found_sizes: dict[str, int] | None = None,
) -> Finding:
    """The archive finding for one OCFL issue; ``where`` is the issue's absolute path."""
    kw = {
        "document": document,
        "path": where,
        "expected": issue.expected,
        "found": issue.found,
        "ocfl_code": issue.code,
    }
    if issue.code.startswith("W"):
        return Finding("OCFL_WARNING", f"{issue.code}: {issue.message}", **kw)
    code = (
        _object_code(issue, sizes or {}, found_sizes or {}) if object_level else _root_code(issue)
    )
    return Finding(code, issue.message, **kw)


def _root_code(issue: Issue) -> str:
    return _ROOT.get(issue.code, "STORAGE_HIERARCHY_INVALID")


def _object_code(issue: Issue, sizes: dict[str, int], found_sizes: dict[str, int]) -> str:
    code = issue.code
    if code == "E046":
        return "VERSION_DIR_MISSING" if issue.found is None else "VERSION_DIR_EXTRA"
    if code == "E034" and issue.path.endswith(".sha512"):
        return "INVENTORY_MISSING"
    in_version = bool(_VERSION_INVENTORY.fullmatch(issue.path))
    if code in ("E092", "E093"):
        if in_version:
            return "VERSION_INVENTORY_MISMATCH"
        if issue.expected == "a file" or issue.expected is None:
            return "CONTENT_MISSING"
        if code == "E092":
            want, got = sizes.get(issue.path), found_sizes.get(issue.path)
            if want is not None and got is not None and want != got:
                return "CONTENT_SIZE_MISMATCH"
        return _OBJECT[code]
    if in_version and code not in ("E064", "E066", "E103", "E110", "E037"):
        return "VERSION_INVENTORY_MISMATCH"
    if code == "E037":
        return "VERSION_INVENTORY_MISMATCH" if in_version else "OBJECT_PATH_MISMATCH"
    return _OBJECT.get(code, "INVENTORY_INVALID")
