"""Benchmark of writers sharing a PostgreSQL archive: one ingest against two at once.

Seeds: scripts/bench.py's generator (real article paragraphs of the shared dev corpus
plus their boilerplate lines), ``--passages`` passages in all. A throw-away server
(tests/postgres.py, the same settings as scripts/bench_postgres.py) holds one
database per archive. In each run, alternately:

- one: a single ``provarchive ingest`` of every seed;
- two: two ``provarchive ingest`` processes started together, each over half of the
  seeds (as two people archiving different folders of one project);
- overlap: two processes over every seed, in opposite orders (each locks what it
  writes; the other finds those documents ``unchanged`` when it comes to them);
- jobs: one ``provarchive ingest --jobs 2`` (two such processes over shares of the
  seeds, started and merged by the command).

Printed: wall times and the ratios to one as throughput (> 1 is faster; #16's
goal for two writers is >= 1.6x). Nothing is asserted. On a machine
with fewer cores than writers plus the server, the writers share the cores.

    .venv/bin/python scripts/bench_writers.py --passages 20000 --runs 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO))

import bench  # noqa: E402
from bench_postgres import SERVER  # noqa: E402

from tests.postgres import running_server  # noqa: E402


def _ingest_all(commands: list[list[str]], env: dict[str, str]) -> float:
    """Wall time of the commands (global options, ``ingest``, its paths) started together,
    until the last one ends."""
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "provarchive", *cmd, "--json"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for cmd in commands
    ]
    errors = [p.communicate()[1] for p in procs]
    elapsed = time.perf_counter() - start
    for p, err in zip(procs, errors, strict=True):
        if p.returncode != 0:
            raise SystemExit(f"ingest failed (exit {p.returncode}): {err.decode()[-1000:]}")
    return elapsed


def _halves(seeds: Path) -> tuple[list[str], list[str]]:
    names = sorted(p.relative_to(seeds).as_posix() for p in seeds.rglob("*") if p.is_file())
    return names[::2], names[1::2]


def run(passages: int, runs: int, seed: int, corpus: Path) -> dict[str, Any]:
    times: dict[str, list[float]] = {"one": [], "two": [], "overlap": [], "jobs": []}
    with running_server(SERVER) as server, tempfile.TemporaryDirectory(prefix="writers-") as tmp:
        work = Path(tmp)
        seeds = work / "seeds"
        info = bench.generate(corpus, seeds, passages, seed)
        print(f"{info['documents']} documents ({info['bytes'] / 1e6:.0f} MB) generated", flush=True)
        first, second = _halves(seeds)
        for k in range(runs):
            for mode in times:
                db = f"w_{mode}_{k}"
                server.execute(f'CREATE DATABASE "{db}" TEMPLATE template0')
                env = dict(os.environ, PROVARCHIVE_DB_URL=server.url(db),
                           PROVARCHIVE_LOCK_TIMEOUT="3600")  # fmt: skip
                base = ["--archive", str(work / db), "--seeds", str(seeds)]
                every = sorted(first + second)
                orders = {"one": [[]], "two": [first, second], "overlap": [every, every[::-1]]}
                commands = [
                    [*base, "ingest", *[str(seeds / n) for n in names]]
                    for names in orders.get(mode, [[]])
                ]
                if mode == "jobs":
                    commands = [[*base, "ingest", "--jobs", "2"]]
                elapsed = _ingest_all(commands, env)
                times[mode].append(elapsed)
                print(f"run {k + 1} {mode}: {elapsed:.1f} s", flush=True)
    best = {mode: statistics.median(ts) for mode, ts in times.items()}
    return {
        "documents": info["documents"],
        "times_s": times,
        "median_s": best,
        "two_over_one": best["one"] / best["two"],
        "overlap_over_one": best["one"] / best["overlap"],
        "jobs_over_one": best["one"] / best["jobs"],
    }


def main() -> int:
    bench.byte_compile()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--passages", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--corpus", type=Path, default=bench.DEFAULT_CORPUS)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    r = run(args.passages, args.runs, args.seed, args.corpus)
    m = r["median_s"]
    print(f"\n== {r['documents']} documents, PostgreSQL archive, median of {args.runs} run(s)")
    print(f"  one ingest {m['one']:.1f} s; two over halves {m['two']:.1f} s; "
          f"two over everything {m['overlap']:.1f} s; ingest --jobs 2 {m['jobs']:.1f} s")  # fmt: skip
    print(f"  two writers / one: {r['two_over_one']:.2f}x the throughput (goal >= 1.6x); "
          f"overlapping: {r['overlap_over_one']:.2f}x; --jobs 2: {r['jobs_over_one']:.2f}x; "
          f"{os.cpu_count()} cores")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
