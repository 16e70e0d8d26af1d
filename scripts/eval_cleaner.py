"""Score the cleaner on every labelled folder of the shared corpus in one run.

A folder is labelled when it holds pairs NAME.txt (the input) and NAME.gold.txt
(what a perfect cleaner keeps). Every input is derived exactly as the archive
derives it (:func:`provarchive.cleaning.passages.derive`), timed, and scored with
the corpus's own scorer (``boilerplate/score.py``: bag-of-word-token precision,
recall and F1 per document, macro-averaged).

Which passages are scored depends on what the folder's gold holds (the corpus
README says so for each): where the gold is the article body only, the body
passages are scored (what ``provarchive clean --out-dir`` writes); where it also
holds title, byline and date lines (dragnet) or every line (plain documents),
every passage is scored. ``--all-kinds`` scores every passage everywhere, i.e.
everything the archive makes searchable.

One line per folder: pages, macro P/R/F1, pages under F1 .5; for plain folders
also the lowest recall, how many documents have recall under .95, and the share
of line breaks inside a line that runs on (no sentence ends there) that fall
inside one passage, so that a phrase wrapped across them is found. The
readability folder is reported twice, real pages and the synthetic fixtures its
MANIFEST.json flags. The last line is the speed (decode + clean + passages, one
process).

--wrap N first rewrites every input the way text browsers dump a page
(`lynx -dump`, `html2text`): a line longer than N characters becomes a paragraph
hard-wrapped at N columns between blank lines, shorter lines stay one per line.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import re
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from provarchive.cleaning.cleaner import CLEANER_NAME, CLEANER_VERSION, rules_digest
from provarchive.cleaning.passages import CLEANERS, Derivation, derive

DEFAULT_ROOT = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"

ALL_KINDS = frozenset({"title", "standfirst", "byline", "dateline", "body"})
BODY_KINDS = frozenset({"body"})
GOLD_KINDS: dict[str, frozenset[str]] = {
    # The corpus README: dragnet's gold includes title, byline and date lines;
    # plain documents' gold is every non-empty line; elsewhere the article body.
    "dragnet-train": ALL_KINDS,
    "plain": ALL_KINDS,
}


@dataclass
class Row:
    name: str
    p: float
    r: float
    f1: float
    page: bool | None


@dataclass
class Folder:
    label: str
    path: Path
    names: list[str]
    kinds: frozenset[str]
    plain: bool
    rows: list[Row] = field(default_factory=list)
    seconds: float = 0.0
    run_on: int = 0
    """Line breaks where a line runs on into the next (plain folders)..."""
    run_on_kept: int = 0
    """...and how many of them fall inside one passage (a phrase across them is found)."""

    def summary(self) -> dict[str, Any]:
        n = len(self.rows) or 1
        out: dict[str, Any] = {
            "folder": self.label,
            "pages": len(self.rows),
            "P": sum(r.p for r in self.rows) / n,
            "R": sum(r.r for r in self.rows) / n,
            "F1": sum(r.f1 for r in self.rows) / n,
            "under_f1_05": sum(r.f1 < 0.5 for r in self.rows),
            "judged_pages": sum(bool(r.page) for r in self.rows),
            "seconds": self.seconds,
        }
        if self.plain:
            out["min_R"] = min((r.r for r in self.rows), default=0.0)
            out["under_R_095"] = sum(r.r < 0.95 for r in self.rows)
            out["run_on_breaks"] = self.run_on
            out["run_on_in_one_passage"] = self.run_on_kept / (self.run_on or 1)
        return out


def _scorer(root: Path) -> ModuleType:
    path = root / "boilerplate" / "score.py"
    spec = importlib.util.spec_from_file_location("corpus_score", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"error: no scorer at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _folders(root: Path, only: list[str]) -> list[Folder]:
    """Every labelled folder under ``root``, readability split into real pages and fixtures."""
    out: list[Folder] = []
    for gold_dir in sorted({g.parent for g in root.rglob("*.gold.txt")}):
        label = str(gold_dir.relative_to(root))
        if only and not any(label.startswith(o) or o in label for o in only):
            continue
        names = sorted(g.name[: -len(".gold.txt")] for g in gold_dir.glob("*.gold.txt"))
        plain = label.split("/")[0] == "plain"
        kinds = GOLD_KINDS.get(gold_dir.name, GOLD_KINDS.get(label.split("/")[0], BODY_KINDS))
        fixtures = _fixtures(gold_dir)
        if fixtures:
            real = [n for n in names if n not in fixtures]
            fake = [n for n in names if n in fixtures]
            out.append(Folder(f"{label} (real)", gold_dir, real, kinds, plain))
            out.append(Folder(f"{label} (fixtures)", gold_dir, fake, kinds, plain))
        else:
            out.append(Folder(label, gold_dir, names, kinds, plain))
    return out


def _fixtures(folder: Path) -> set[str]:
    manifest = folder / "MANIFEST.json"
    if not manifest.is_file():
        return set()
    pages = json.loads(manifest.read_text(encoding="utf-8")).get("pages", {})
    return {name for name, page in pages.items() if page.get("fixture")}


def _wrapped(raw: bytes, width: int) -> bytes:
    out: list[str] = []
    for line in raw.decode("utf-8", errors="replace").splitlines():
        out += ["", *textwrap.wrap(line, width), ""] if len(line) > width else [line]
    return ("\n".join(out) + "\n").encode("utf-8")


def _run(
    folder: Folder,
    derive_one: Callable[[bytes], Derivation],
    score: ModuleType,
    kinds: frozenset[str],
    keep: Path | None,
) -> None:
    inputs = {n: (folder.path / f"{n}.txt").read_bytes() for n in folder.names}
    start = time.perf_counter()
    derived = {n: derive_one(raw) for n, raw in inputs.items()}
    folder.seconds = time.perf_counter() - start
    for name in folder.names:
        d = derived[name]
        pred = "".join(p.text + "\n" for p in d.passages if p.kind in kinds)
        if keep is not None:
            target = keep / folder.label.replace("/", "_").replace(" ", "")
            target.mkdir(parents=True, exist_ok=True)
            (target / f"{name}.txt").write_text(pred, encoding="utf-8")
        gold = (folder.path / f"{name}.gold.txt").read_text(encoding="utf-8")
        p, r, f = score.prf(Counter(score.tokens(pred)), Counter(score.tokens(gold)))
        page = d.page.is_page if d.page is not None else None
        folder.rows.append(Row(name, p, r, f, page))
        if folder.plain:
            breaks = _run_on_breaks(inputs[name])
            folder.run_on += len(breaks)
            folder.run_on_kept += sum(_inside(d, b) for b in breaks)


_ENDS_SENTENCE = re.compile(rb"[.!?][\"')\]]*\s*$")


def _run_on_breaks(raw: bytes) -> list[int]:
    """Byte offsets of the line breaks between two non-blank lines where the first
    does not end a sentence: a phrase may run across them (a wrapped line)."""
    out, pos = [], 0
    lines = raw.split(b"\n")
    for a, b in itertools.pairwise(lines):
        pos += len(a) + 1
        if a.strip() and b.strip() and not _ENDS_SENTENCE.search(a):
            out.append(pos - 1)
    return out


def _inside(d: Derivation, offset: int) -> bool:
    return any(p.raw_start < offset < p.raw_end for p in d.passages)


def _print(folders: list[Folder], total_docs: int, total_s: float, worst: int) -> None:
    w = max(len(f.label) for f in folders)
    print(f"cleaner  {CLEANER_NAME} {CLEANER_VERSION} ({rules_digest()[:23]}...)")
    print(
        f"{'folder':<{w}}  {'pages':>5}  {'P':>5} {'R':>5} {'F1':>5}  {'<.5':>3}  {'pages?':>6}  plain"
    )
    for f in folders:
        s = f.summary()
        extra = (
            f"minR {s['min_R']:.3f}, R<.95: {s['under_R_095']}, "
            f"wraps in one passage {s['run_on_in_one_passage']:.1%} of {s['run_on_breaks']}"
            if f.plain
            else ""
        )
        print(
            f"{f.label:<{w}}  {s['pages']:5d}  {s['P']:.3f} {s['R']:.3f} {s['F1']:.3f}  "
            f"{s['under_f1_05']:3d}  {s['judged_pages']:6d}  {extra}"
        )
        for row in sorted(f.rows, key=lambda r: r.r if f.plain else r.f1)[:worst]:
            print(
                f"    {row.name[:40]:<40} P {row.p:.3f} R {row.r:.3f} F1 {row.f1:.3f} page={row.page}"
            )
    rate = total_docs / total_s if total_s else float("inf")
    print(f"speed    {rate:.0f} documents/s ({total_s:.2f} s for {total_docs}, one process)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="*", help="only folders whose path contains one of these")
    ap.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="corpus root (%(default)s)")
    ap.add_argument("--cleaner", choices=CLEANERS, default="default")
    ap.add_argument("--all-kinds", action="store_true", help="score every passage everywhere")
    ap.add_argument("--keep", type=Path, help="write the scored predictions under this folder")
    ap.add_argument("--worst", type=int, default=0, metavar="N", help="list the N worst documents")
    ap.add_argument("--json", type=Path, help="write the figures (and per-document rows) as JSON")
    ap.add_argument("--wrap", type=int, metavar="N", help="hard-wrap the inputs at N columns")
    args = ap.parse_args()
    if args.wrap is not None and args.wrap < 20:
        ap.error("--wrap needs a width of at least 20 columns")
    if not args.root.is_dir():
        print(f"error: no corpus at {args.root}", file=sys.stderr)
        return 2
    score = _scorer(args.root)
    folders = _folders(args.root, args.folders)
    if not folders:
        print(f"error: no labelled folders under {args.root}", file=sys.stderr)
        return 2

    def derive_one(raw: bytes) -> Derivation:
        return derive(_wrapped(raw, args.wrap) if args.wrap else raw, cleaner=args.cleaner)

    for f in folders:
        _run(f, derive_one, score, ALL_KINDS if args.all_kinds else f.kinds, args.keep)
    total_docs = sum(len(f.rows) for f in folders)
    total_s = sum(f.seconds for f in folders)
    _print(folders, total_docs, total_s, args.worst)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "cleaner": f"{CLEANER_NAME} {CLEANER_VERSION}",
                    "rules_digest": rules_digest(),
                    "folders": [f.summary() for f in folders],
                    "documents": total_docs,
                    "docs_per_s": total_docs / total_s if total_s else None,
                    "rows": {f.label: [vars(r) for r in f.rows] for f in folders},
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
