"""Score the cleaner on a labelled corpus (scrape NAME.txt + gold NAME.gold.txt).

Runs exactly what `provarchive clean --out-dir` runs (library `clean_files`),
times it, then hands the predictions to the corpus's own scorer (score.py,
token F1) and prints its summary plus the cleaner's speed.

--wrap N first rewrites every scrape the way text browsers dump a page
(`lynx -dump`, `html2text`): a line longer than N characters becomes a paragraph
hard-wrapped at N columns between blank lines, shorter lines (menus, labels)
stay one per line. The gold is unchanged, so the score says how much of the
cleaner's quality survives hard-wrapped input.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from provarchive.cleaning.cleaner import CLEANER_NAME, CLEANER_VERSION, rules_digest
from provarchive.derivations import clean_files

DEFAULT_CORPUS = (
    Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "boilerplate" / "dev"
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "corpus",
        nargs="?",
        type=Path,
        default=DEFAULT_CORPUS,
        help="folder with NAME.txt and NAME.gold.txt (default: %(default)s)",
    )
    ap.add_argument("--scorer", type=Path, help="score.py (default: CORPUS/../score.py)")
    ap.add_argument(
        "--keep", type=Path, help="write the predictions here instead of a temporary folder"
    )
    ap.add_argument("--per-doc", action="store_true", help="print the scorer's per-document table")
    ap.add_argument("--json", type=Path, help="write the figures as JSON")
    ap.add_argument(
        "--wrap", type=int, metavar="N", help="hard-wrap the scrapes at N columns first (see above)"
    )
    args = ap.parse_args()
    if args.wrap is not None and args.wrap < 20:
        ap.error("--wrap needs a width of at least 20 columns")
    corpus: Path = args.corpus
    scorer: Path = args.scorer or corpus.parent / "score.py"
    if not corpus.is_dir():
        print(f"error: no corpus at {corpus}", file=sys.stderr)
        return 2
    if not scorer.is_file():
        print(f"error: no scorer at {scorer}", file=sys.stderr)
        return 2
    scrapes = sorted(p for p in corpus.glob("*.txt") if not p.name.endswith(".gold.txt"))
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp) / "out"
        out.mkdir(parents=True, exist_ok=True)
        if args.wrap:
            scrapes = [_wrapped_copy(p, Path(tmp) / "wrapped", args.wrap) for p in scrapes]
        start = time.perf_counter()
        results = clean_files(scrapes, out)
        elapsed = time.perf_counter() - start
        failed = [r for r in results if r.error]
        score = subprocess.run(
            [
                sys.executable,
                str(scorer),
                str(out),
                str(corpus),
                *([] if args.per_doc else ["--quiet"]),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    print(f"cleaner   {CLEANER_NAME} {CLEANER_VERSION} ({rules_digest()[:23]}...)")
    wrap = f", hard-wrapped at {args.wrap} columns" if args.wrap else ""
    print(f"corpus    {corpus} ({len(scrapes)} pages{wrap}, {len(failed)} failed)")
    sys.stdout.write(score.stdout)
    if score.returncode != 0:
        sys.stderr.write(score.stderr)
        return score.returncode
    docs_per_s = len(scrapes) / elapsed if elapsed else float("inf")
    print(
        f"speed     {docs_per_s:.0f} documents/s ({elapsed:.2f} s for {len(scrapes)}, decode + clean + passages, one process)"
    )
    if args.json:
        macro = [line for line in score.stdout.splitlines() if line.startswith("macro F1 ")]
        args.json.write_text(
            json.dumps(
                {
                    "macro_f1": float(macro[-1].split()[-1]) if macro else None,
                    "documents": len(scrapes),
                    "docs_per_s": docs_per_s,
                },
                indent=2,
            )
        )
    return 0


def _wrapped_copy(scrape: Path, folder: Path, width: int) -> Path:
    folder.mkdir(exist_ok=True)
    out: list[str] = []
    for line in scrape.read_text(encoding="utf-8", errors="replace").splitlines():
        if len(line) > width:
            out += ["", *textwrap.wrap(line, width), ""]
        else:
            out.append(line)
    copy = folder / scrape.name
    copy.write_text("\n".join(out) + "\n", encoding="utf-8")
    return copy


if __name__ == "__main__":
    raise SystemExit(main())
