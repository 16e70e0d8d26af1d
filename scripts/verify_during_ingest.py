"""verify, again and again, while real ingest processes write: how many false findings (#19).

Builds an archive of --docs documents (scripts/crash_test.py's generator), then starts
one ``provarchive ingest`` after another in the background, each over a seeds folder
that gained --batch new documents and changed one old one, and runs ``provarchive
verify --json --no-seeds`` as a separate process --runs times meanwhile. The archive
is never damaged, so every error finding is false, and so is every warning
(``PENDING_WRITE`` is info: a commit in flight, said as such). It prints the count
per run and the totals; the exit status is 1 when any finding was false.

    .venv/bin/python scripts/verify_during_ingest.py [--runs 20] [--docs 400] [--batch 25]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from crash_test import make_document, write_seeds

TRUE_INFO = {"PENDING_WRITE"}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "provarchive", *args]


def _grow(seeds: Path, rng: random.Random, start: int, batch: int) -> int:
    """Add ``batch`` new documents and change one old one; returns the next number."""
    folder = seeds / "during"
    folder.mkdir(exist_ok=True)
    for n in range(start, start + batch):
        (folder / f"doc-{n:05d}.txt").write_text(make_document(rng, n), encoding="utf-8")
    changed = seeds / "batch-0" / "doc-0000.txt"
    changed.write_text(make_document(rng, start + 50_000), encoding="utf-8")
    return start + batch


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20, help="verify runs (default 20)")
    ap.add_argument("--docs", type=int, default=400, help="documents before the first run")
    ap.add_argument("--batch", type=int, default=25, help="new documents per ingest")
    ap.add_argument("--seed", type=int, default=20261202)
    ap.add_argument("--keep", type=Path, help="work here and keep the archive")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="verify-during-"))
    work.mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ,
        PROVARCHIVE_ARCHIVE=str(work / "archive"),
        PROVARCHIVE_SEEDS=str(work / "seeds"),
        HOME=str(work),
    )
    rng = random.Random(args.seed)
    try:
        write_seeds(work / "seeds", rng, args.docs)
        subprocess.run(_cli("ingest"), env=env, check=True, capture_output=True)
        false_total, during, pending_total, ingests = 0, 0, 0, 0
        next_doc = 100_000
        writer: subprocess.Popen[bytes] | None = None
        for k in range(1, args.runs + 1):
            if writer is None or writer.poll() is not None:
                if writer is not None and writer.returncode != 0:
                    print(f"an ingest failed (exit {writer.returncode})", file=sys.stderr)
                    return 2
                next_doc = _grow(work / "seeds", rng, next_doc, args.batch)
                writer = subprocess.Popen(
                    _cli("ingest"), env=env, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )  # fmt: skip
                ingests += 1
                time.sleep(rng.uniform(0.0, 1.5))  # verify starts at a random moment of it
            running = writer.poll() is None
            done = subprocess.run(
                _cli("verify", "--json", "--no-seeds"), env=env, capture_output=True
            )
            report = json.loads(done.stdout)
            findings = report["findings"]
            false = [f for f in findings if f["code"] not in TRUE_INFO]
            pending = len(findings) - len(false)
            during += running and writer.poll() is None
            false_total += len(false)
            pending_total += pending
            print(
                f"run {k:>3}/{args.runs}: exit {done.returncode}, writer "
                f"{'running' if running else 'done'}, {len(false)} false finding(s), "
                f"{pending} PENDING_WRITE",
                flush=True,
            )
            for f in false[:5]:
                print(f"    {f['code']}: {f['message']}", flush=True)
        if writer is not None:
            writer.wait()
        print(
            f"\n{args.runs} verify runs, {during} of them with an ingest running from start to "
            f"end, {ingests} ingests: {false_total} false finding(s), {pending_total} "
            f"PENDING_WRITE note(s)"
        )
        return 1 if false_total else 0
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
