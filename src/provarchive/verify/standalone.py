"""``provarchive validate``: the OCFL validator on any object or storage root, made by
any tool, with the archive's findings.

Contract: no archive is needed or opened. A path holding an object declaration
or an inventory is validated as an object, anything else as a storage root.
Every OCFL issue becomes one finding (nothing folded) carrying its OCFL code,
expected and found; ``document`` is the object id where the inventory gives one.
Never raises for damage.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..findings import Finding, VerifyReport
from ..store.validation import ObjectReport, validate_object, validate_root
from .mapping import finding_for


def _is_object(path: Path) -> bool:
    """An object declaration or inventory makes an object; a root declaration a storage
    root; without either, a folder holding folders is taken for a root, anything else
    (an empty folder, loose files) for an object."""
    try:
        with os.scandir(path) as it:
            entries = {e.name: e.is_dir(follow_symlinks=False) for e in it}
    except OSError:
        return False
    if "inventory.json" in entries or any(n.startswith("0=ocfl_object_") for n in entries):
        return True
    if any(n.startswith("0=ocfl_") for n in entries):
        return False
    return not any(entries.values())


def validate_paths(paths: Sequence[Path], *, jobs: int = 1) -> VerifyReport:
    """Validate each path as an OCFL object or storage root."""
    findings: list[Finding] = []
    checked = {"objects": 0, "content_files": 0, "bytes": 0}
    for path in paths:
        single = _is_object(path)
        if single:
            reports = [validate_object(path)]
            base = path
        else:
            root = validate_root(path, jobs=jobs)
            reports = list(root.objects)
            base = Path(root.path)
            findings.extend(
                finding_for(i, where=str(base / i.path), document=None, object_level=False)
                for i in root.issues
            )
        for report in reports:
            findings.extend(_object_findings(base, report, single=single))
            checked["objects"] += 1
            checked["content_files"] += report.files_hashed
            checked["bytes"] += report.bytes_read
    return VerifyReport(findings, checked)


def _object_findings(base: Path, report: ObjectReport, *, single: bool) -> list[Finding]:
    directory = base if single else base / report.path
    return [
        finding_for(
            issue,
            where=str(directory if issue.path == "." else directory / issue.path),
            document=report.object_id,
            object_level=True,
        )
        for issue in report.issues
    ]
