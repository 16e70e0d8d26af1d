"""Which of the cleaner's drops were the text, rule by rule, on the news folders.

For every page of the labelled news folders of the shared corpus (dev, dragnet-train,
readability), each line the cleaner drops is counted under its rule and reason: as
*right* when its text is no line of the page's gold, as *wrong* when it is a gold
line the cleaner kept nowhere else on the page. A rule wrong more often than right
drops without evidence. Also printed: on dragnet-train, whose gold holds the
headline, how many titles are no line of the gold. Nothing is asserted.

    .venv/bin/python scripts/cleaner_audit.py [--root ../shared/corpus] [--examples 3]
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from pathlib import Path

from provarchive.cleaning.passages import derive
from provarchive.cleaning.text import normalise

FOLDERS = ("boilerplate/dev", "boilerplate/dragnet-train", "boilerplate/readability")


def _pages(folder: Path):  # type: ignore[no-untyped-def]
    for path in sorted(folder.glob("*.txt")):
        gold = path.with_name(path.name[: -len(".txt")] + ".gold.txt")
        if not path.name.endswith(".gold.txt") and gold.exists():
            lines = gold.read_text(encoding="utf-8", errors="replace").splitlines()
            yield path, [normalise(line) for line in lines if line.strip()]


def main() -> int:
    default_root = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=default_root)
    ap.add_argument("--examples", type=int, default=2, help="wrong drops shown per rule")
    args = ap.parse_args()
    right: Counter[tuple[str, str]] = Counter()
    wrong: Counter[tuple[str, str]] = Counter()
    examples: dict[tuple[str, str], list[str]] = defaultdict(list)
    titles = off_gold = 0
    for name in FOLDERS:
        for path, gold_lines in _pages(args.root / name):
            gold = set(gold_lines)
            d = derive(path.read_bytes())
            kept = {normalise(p.text) for p in d.passages}
            for r in d.removals:
                text, key = normalise(r.text), (r.rule, r.reason)
                if text not in gold:
                    right[key] += 1
                elif text not in kept:
                    wrong[key] += 1
                    examples[key].append(f"{path.stem[:12]}: {text[:70]}")
            if name.endswith("dragnet-train") and d.title is not None:
                titles += 1
                off_gold += normalise(d.title) not in gold
    print(f"{'wrong':>6} {'right':>6}  rule: reason")
    for key in sorted(set(right) | set(wrong), key=lambda k: -wrong[k]):
        print(f"{wrong[key]:6} {right[key]:6}  {key[0]}: {key[1]}")
        for line in examples[key][: args.examples]:
            print(f"{'':15}{line}")
    print(f"dragnet-train titles that are no line of the gold: {off_gold} of {titles}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
