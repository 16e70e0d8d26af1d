"""Crash trials of writers sharing a PostgreSQL archive: ingests at once, one killed.

Each trial (seeded, so reproducible) writes ``--docs`` generated documents (each
with a sentence of its own) into a fresh seeds folder, starts ``--writers``
``provarchive ingest`` processes over all of them (each from its own starting
point, every other one backwards) against a fresh database of one throw-away
server (tests/postgres.py), and kills one of them with SIGKILL once a number of
documents drawn from the seed is in the store (anywhere from the first batch to
the last). Then, with no other command run:

- the survivors exited 0;
- every document has exactly one version in the catalog, and nothing else is;
- staging holds no batch (the survivors finished or discarded the dead one's);
- ``verify`` (store, catalog, derived data, index, transparency log) is clean;
- every document is found by its own sentence;
- ocfl-py's validator accepts the storage root.

Usage: .venv/bin/python scripts/crash_shared.py [N] [--writers W] [--seed S] [--docs D] [--json OUT]
Exit 0 only if every trial passed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO))

import crash_test  # noqa: E402

from provarchive import Archive, ArchiveConfig  # noqa: E402
from provarchive.catalog import queries  # noqa: E402
from tests.postgres import running_server  # noqa: E402


def _stored(root: Path) -> int:
    return sum(1 for _ in (root / "ocfl").glob("*/*/*/*/0=ocfl_object_1.1"))


def _own(name: str) -> str:
    """The phrase only this generated document holds (crash_test.make_document)."""
    number = int(name.rsplit("-", 1)[1].split(".")[0])
    return f'"Document number {number} ends here"'


def _start(base: list[str], paths: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*base, "ingest", *paths], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def trial(k: int, seed: int, docs: int, writers: int, url: str, work: Path) -> dict[str, Any]:
    rng = random.Random(seed * 1000 + k)
    seeds, root = work / "seeds", work / "archive"
    crash_test.write_seeds(seeds, rng, docs)
    names = sorted(p.relative_to(seeds).as_posix() for p in seeds.rglob("*.txt"))
    env = {**os.environ, "PROVARCHIVE_DB_URL": url, "PROVARCHIVE_LOCK_TIMEOUT": "600"}
    base = [sys.executable, "-m", "provarchive", "--archive", str(root), "--seeds", str(seeds)]
    subprocess.run([*base, "init"], env=env, check=True, capture_output=True)
    paths = [str(seeds / n) for n in names]
    orders = []
    for w in range(writers):
        turned = paths[w * docs // writers :] + paths[: w * docs // writers]
        orders.append(turned[::-1] if w % 2 else turned)
    procs = [_start(base, order, env) for order in orders]
    victim = rng.randrange(writers)
    at = rng.randint(1, docs - 1)
    while _stored(root) < at and procs[victim].poll() is None:
        time.sleep(0.002)
    procs[victim].send_signal(signal.SIGKILL)
    procs[victim].wait()
    result: dict[str, Any] = {
        "trial": k,
        "killed_at_stored": at,
        "killed": procs[victim].returncode == -signal.SIGKILL,
        "problems": [],
    }
    problems: list[str] = result["problems"]
    for w, proc in enumerate(procs):
        if w != victim:
            err = proc.communicate(timeout=900)[1].decode()
            if proc.returncode != 0:
                problems.append(f"writer {w} exited {proc.returncode}: {err[-300:]}")
    if problems:
        return result
    left = [p.name for p in (root / "staging").iterdir() if p.name.startswith("txn-")]
    if left:
        problems.append(f"batches left in staging: {left}")
    config = ArchiveConfig(root=root, seeds=seeds, lock_timeout=30, db_url=url)
    with Archive(config) as archive:
        with archive.catalog.session() as s:
            versions = sorted((name, v.number) for v, name in queries.versions_named(s, None))
        if versions != [(n, 1) for n in names]:
            problems.append(f"versions: {len(versions)} for {len(names)} documents")
        report = archive.verify()
        if not report.is_ok():
            problems.append(f"verify: {[f.code for f in report.findings][:5]}")
        lost = [n for n in names if [h.document for h in archive.search(_own(n)).hits] != [n]]
        if lost:
            problems.append(f"{len(lost)} documents not found: {lost[:3]}")
        repairs = [e.detail for e in archive.events() if e.event_type == "recovery"]
        result["repairs"] = len(repairs)
    check = crash_test.ocfl_validate(root / "ocfl")
    if check.returncode != 0:
        problems.append(f"ocfl-py: {check.stdout[-300:]}")
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("trials", nargs="?", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--docs", type=int, default=200)
    ap.add_argument("--writers", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    results = []
    with running_server() as server:
        for k in range(args.trials):
            url = server.url(server.create_database())
            with tempfile.TemporaryDirectory(prefix="crash-shared-") as tmp:
                r = trial(k, args.seed, args.docs, args.writers, url, Path(tmp))
            results.append(r)
            verdict = "ok" if not r["problems"] else "FAILED: " + "; ".join(r["problems"])
            print(
                f"trial {k + 1}/{args.trials}: killed after {r['killed_at_stored']} stored, "
                f"{r.get('repairs', 0)} repair event(s): {verdict}",
                flush=True,
            )
    failed = [r for r in results if r["problems"]]
    killed = sum(r["killed"] for r in results)
    print(
        f"\n{len(results) - len(failed)} of {len(results)} trials valid ({killed} killed mid-run)"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
