"""``provarchive clean``: cleaning files without archiving them (a dry run of ingest).

Contract: reads the given files, writes only into the output folder it is given;
never touches an archive.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cleaning.passages import Derivation, derive
from .errors import StorageError
from .store import durable


@dataclass
class CleanedFile:
    """``provarchive clean`` on one file: its derivation, or why there is none."""

    path: str
    derivation: Derivation | None
    error: str | None = None
    output: str | None = None

    def to_json(self) -> dict[str, Any]:
        d = self.derivation
        return {
            "file": self.path,
            "status": d.status if d else "failed",
            "encoding": d.encoding_label if d else None,
            "title": d.title if d else None,
            "cleaner": d.cleaner_name if d else None,
            "page": d.page.to_json() if d and d.page else None,
            "published": d.published if d else None,
            "standfirst": [p.text for p in d.passages if p.kind == "standfirst"] if d else [],
            "body": [p.text for p in d.body()] if d else [],
            "passages": [
                {
                    "ordinal": p.ordinal,
                    "kind": p.kind,
                    "text": p.text,
                    "passage_sha256": p.sha256,
                    "raw_span": [p.raw_start, p.raw_end],
                }
                for p in (d.passages if d else ())
            ],
            "removed": [
                {
                    "raw_span": [r.raw_start, r.raw_end],
                    "text": r.text,
                    "rule": r.rule,
                    "reason": r.reason,
                }
                for r in (d.removals if d else ())
            ],
            "output": self.output,
            "error": self.error,
        }


def output_names(files: list[Path]) -> dict[Path, Path]:
    """Where each file's output goes inside the output folder: its name, or, when two
    files share a name, its path relative to the files' common folder (never one output
    for two inputs)."""
    names = [f.name for f in files]
    if len(set(names)) == len(names):
        return {f: Path(f.name) for f in files}
    absolute = [Path(os.path.abspath(f)) for f in files]
    common = Path(os.path.commonpath([str(a.parent) for a in absolute]))
    return {f: a.relative_to(common) for f, a in zip(files, absolute, strict=True)}


def clean_files(
    files: list[Path], out_dir: Path | None = None, *, cleaner: str = "default"
) -> list[CleanedFile]:
    """Clean files without archiving them; with ``out_dir``, write one output file per
    input (see :func:`output_names`) holding its body passages, one per line."""
    results: list[CleanedFile] = []
    targets = output_names(files)
    for file in files:
        try:
            if not file.is_file():
                raise (
                    IsADirectoryError(21, "not a regular file")
                    if file.exists()
                    else FileNotFoundError(2, "no such file")
                )
            raw = file.read_bytes()
        except OSError as exc:
            results.append(CleanedFile(str(file), None, exc.strerror or str(exc)))
            continue
        d = derive(raw, cleaner=cleaner)
        item = CleanedFile(str(file), d)
        if out_dir is not None:
            target = out_dir / targets[file]
            body = "".join(p.text + "\n" for p in d.body())
            outcome = f"{len(results)} file(s) written before it (clean never changes the archive)"
            try:
                durable.make_dirs(out_dir)
                durable.make_dirs(target.parent)
                target.write_text(body, encoding="utf-8")
            except StorageError as exc:
                raise exc.with_outcome(outcome) from exc
            except OSError as exc:
                raise StorageError(target, durable.describe_os_error(exc), outcome) from exc
            item.output = str(target)
        results.append(item)
    return results
