"""Benchmarks of provarchive.tlog against bare baselines measured in the same run.

What is measured (median of --runs where repeated):
- append: 10k leaves of ~450 bytes in batches of 200 (prepare + commit, durable),
  seconds, flushes per batch (fsync and syncfs calls counted), against the bare
  work: SHA-256 of each leaf with hashlib, the records appended to one file and
  one fsync per batch.
- 1M leaves: building the log, opening it, the root, 100 inclusion proofs at
  random indices and sizes and one consistency proof, against hashing the same
  1M leaf bytes with hashlib alone and against merkle.root over the 1M hashes.
- checkpoint: sign + verify one checkpoint, against bare Ed25519 sign + verify
  with cryptography.
- --ingest (heavier): a 10k-passage corpus from scripts/bench.py, ingested by
  `provarchive ingest`; then the tlog work the integrated ingest would add
  (a version leaf and a derivation leaf with its passages tree per version,
  batches of 200 versions, one signed checkpoint per batch) as a share of the
  ingest time (goal <= 5%); and `provarchive verify` against verify plus the
  log audit and checkpoint check (goal <= 1.2x).

Usage: .venv/bin/python scripts/bench_tlog.py [--quick] [--ingest] [--json FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from provarchive.store import durable
from provarchive.tlog import (
    Signer,
    TransparencyLog,
    make_leaf,
    make_passage_entry,
    merkle,
    open_checkpoint,
    passages_root,
    sign_checkpoint,
)

REPO = Path(__file__).resolve().parent.parent
ORIGIN = "bench.example/log"


def median_of(runs: int, fn: Callable[[], float]) -> dict[str, float]:
    values = [fn() for _ in range(runs)]
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


@contextmanager
def count_flushes() -> Iterator[list[int]]:
    """Count os.fsync and durable.barrier calls (each barrier is one syncfs on Linux)."""
    counter = [0]
    real_fsync, real_barrier = os.fsync, durable.barrier

    def fsync(fd: int) -> None:
        counter[0] += 1
        real_fsync(fd)

    def barrier(anchor: Path, paths: Any) -> None:
        counter[0] += 1
        real_barrier(anchor, paths)

    os.fsync, durable.barrier = fsync, barrier  # type: ignore[assignment]
    try:
        yield counter
    finally:
        os.fsync, durable.barrier = real_fsync, real_barrier  # type: ignore[assignment]


def sample_leaf(i: int) -> bytes:
    content = f"document {i}".encode()
    return make_leaf(
        type="version",
        document=f"reports/{i // 500:03d}/doc-{i:06d}.txt",
        version=1 + i % 3,
        inventory_sha512=hashlib.sha512(b"inventory %d" % i).hexdigest(),
        sha256=hashlib.sha256(content).hexdigest(),
        sha512=hashlib.sha512(content).hexdigest(),
        size=len(content) * 1000,
        time="2026-03-01T12:00:00Z",
        agent="provarchive/0.1.0 (bench)",
    )


def bench_append(work: Path, runs: int, n: int = 10_000, batch: int = 200) -> dict[str, Any]:
    leaves = [sample_leaf(i) for i in range(n)]
    flushes: list[int] = []

    def ours() -> float:
        shutil.rmtree(work / "append", ignore_errors=True)
        log = TransparencyLog.create(work / "append")
        with count_flushes() as counter:
            start = time.perf_counter()
            for k in range(0, n, batch):
                log.commit(log.prepare(leaves[k : k + batch]))
            elapsed = time.perf_counter() - start
        flushes.append(counter[0])
        log.close()
        return elapsed

    def bare() -> float:
        path = work / "bare-append"
        path.unlink(missing_ok=True)
        start = time.perf_counter()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        for k in range(0, n, batch):
            chunk = [hashlib.sha256(b"\x00" + x).digest() + x for x in leaves[k : k + batch]]
            os.write(fd, b"".join(chunk))
            os.fsync(fd)
        os.close(fd)
        return time.perf_counter() - start

    result: dict[str, Any] = {"leaves": n, "batch": batch, "seconds": median_of(runs, ours)}
    result["bare_seconds"] = median_of(runs, bare)
    result["flushes_per_batch"] = statistics.median(flushes) / (n // batch)
    result["ms_per_batch"] = result["seconds"]["median"] / (n // batch) * 1000
    result["ratio_to_bare"] = result["seconds"]["median"] / result["bare_seconds"]["median"]

    def audit() -> float:
        start = time.perf_counter()
        with TransparencyLog.open(work / "append") as log:
            assert log.audit([log.checkpoint(ORIGIN)]) == []
        return (time.perf_counter() - start) * 1000

    result["open_and_audit_ms"] = median_of(runs, audit)
    return result


def fast_leaf(i: int) -> bytes:
    # Shaped like a real leaf (~430 bytes), without schema validation (1M of them).
    h = hashlib.sha256(i.to_bytes(8, "big")).hexdigest()
    return (
        f'{{"agent":"provarchive/0.1.0","document":"doc-{i:09d}.txt",'
        f'"inventory_sha512":"{h * 2}","sha256":"{h}","sha512":"{h * 2}","size":{i},'
        '"time":"2026-03-01T12:00:00Z","type":"version","v":1,"version":1}'
    ).encode()


def bench_million(work: Path, n: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    path = work / "million"
    shutil.rmtree(path, ignore_errors=True)
    leaves = [fast_leaf(i) for i in range(n)]
    start = time.perf_counter()
    hashes = [hashlib.sha256(b"\x00" + x).digest() for x in leaves]
    bare_hash = time.perf_counter() - start
    start = time.perf_counter()
    list_root = merkle.root(hashes)
    list_root_s = time.perf_counter() - start
    start = time.perf_counter()
    with TransparencyLog.create(path) as log:
        for k in range(0, n, 10_000):
            log.append(leaves[k : k + 10_000], sync=False)
    build = time.perf_counter() - start
    del leaves
    start = time.perf_counter()
    log = TransparencyLog.open(path)
    open_s = time.perf_counter() - start
    start = time.perf_counter()
    root = log.root()
    root_s = time.perf_counter() - start
    assert root == list_root
    picks = [(rng.randrange(1, n + 1),) for _ in range(100)]
    queries = [(rng.randrange(size), size) for (size,) in picks]
    start = time.perf_counter()
    for index, size in queries:
        log.inclusion_proof(index, size)
    proofs_s = time.perf_counter() - start
    m = rng.randrange(1, n)
    start = time.perf_counter()
    proof = log.consistency_proof(m)
    consistency_s = time.perf_counter() - start
    merkle.verify_consistency(m, n, log.root(m), root, proof)
    start = time.perf_counter()
    assert log.audit() == []
    audit_s = time.perf_counter() - start
    log.close()
    return {
        "leaves": n,
        "build_seconds": build,
        "open_ms": open_s * 1000,
        "root_ms": root_s * 1000,
        "inclusion_proofs_100_ms": proofs_s * 1000,
        "consistency_proof_ms": consistency_s * 1000,
        "full_audit_seconds": audit_s,
        "bare_hashlib_leaf_hashes_seconds": bare_hash,
        "list_merkle_root_seconds": list_root_s,
        "log_bytes": sum(p.stat().st_size for p in path.iterdir()),
    }


def bench_checkpoint(work: Path, runs: int) -> dict[str, Any]:
    signer = Signer.generate(ORIGIN)
    with TransparencyLog.create(work / "ckpt") as log:
        log.append([sample_leaf(i) for i in range(1000)])
        cp = log.checkpoint(ORIGIN)
    rounds = 500

    def ours() -> float:
        start = time.perf_counter()
        for _ in range(rounds):
            open_checkpoint(sign_checkpoint(cp, signer), [signer.verifier])
        return (time.perf_counter() - start) / rounds * 1e6

    key = Ed25519PrivateKey.generate()
    pub = key.public_key()
    body = b"bench.example/log\n1000\n" + b"A" * 44 + b"\n"

    def bare() -> float:
        start = time.perf_counter()
        for _ in range(rounds):
            pub.verify(key.sign(body), body)
        return (time.perf_counter() - start) / rounds * 1e6

    return {"sign_verify_us": median_of(runs, ours), "bare_ed25519_us": median_of(runs, bare)}


# -- the projection onto a real ingest -------------------------------------------------


def run_cli(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "provarchive", *args], env=env, capture_output=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"provarchive {' '.join(args)} failed: {done.stderr.decode()[-400:]}")
    return time.perf_counter() - start


def archive_rows(archive: Path) -> list[dict[str, Any]]:
    """One row per version: its digests, raw bytes and passages (from the catalog)."""
    db = sqlite3.connect(archive / "catalog.sqlite")
    try:
        versions = db.execute(
            "SELECT v.id, d.name, v.number, v.sha256, v.sha512, v.size, d.object_path, "
            "v.content_path, r.output_sha256 FROM versions v JOIN documents d ON d.id = "
            "v.document_id JOIN derivations r ON r.version_id = v.id AND r.current"
        ).fetchall()
        passages = db.execute(
            "SELECT r.version_id, p.passage_id, p.raw_start, p.raw_end, p.sha256 FROM passages p "
            "JOIN derivations r ON r.id = p.derivation_id WHERE r.current ORDER BY p.ordinal"
        ).fetchall()
    finally:
        db.close()
    by_version: dict[int, list[tuple[Any, ...]]] = {}
    for row in passages:
        by_version.setdefault(row[0], []).append(row[1:])
    out = []
    for vid, name, number, sha256, sha512, size, obj, content, output in versions:
        raw = (archive / "ocfl" / obj / content).read_bytes()
        out.append(
            dict(
                name=name,
                number=number,
                sha256=sha256,
                sha512=sha512,
                size=size,
                raw=raw,
                output=output,
                passages=by_version.get(vid, []),
            )
        )
    return out


def tlog_work(rows: list[dict[str, Any]], path: Path, signer: Signer) -> tuple[float, str]:
    """Time what an integrated ingest adds: leaves, passages trees, appends, checkpoints."""
    start = time.perf_counter()
    log = TransparencyLog.create(path)
    note = ""
    for k in range(0, len(rows), 200):
        leaves = []
        for row in rows[k : k + 200]:
            common = dict(
                document=row["name"],
                version=row["number"],
                inventory_sha512=row["sha512"],
                sha256=row["sha256"],
                sha512=row["sha512"],
                size=row["size"],
                time="2026-03-01T12:00:00Z",
                agent="provarchive/0.1.0",
            )
            entries = [
                make_passage_entry(
                    id=pid,
                    raw_start=s,
                    raw_end=e,
                    raw_sha256=hashlib.sha256(row["raw"][s:e]).hexdigest(),
                    text_sha256=sha.removeprefix("sha256:"),
                )
                for pid, s, e, sha in row["passages"]
            ]
            leaves.append(make_leaf(type="version", **common))
            extra = (
                {"passages": len(entries), "passages_root": passages_root(entries)}
                if entries
                else {}
            )
            leaves.append(
                make_leaf(type="derivation", derivation_output=row["output"], **common, **extra)
            )
        log.commit(log.prepare(leaves))
        note = sign_checkpoint(log.checkpoint(ORIGIN), signer)
    log.close()
    return time.perf_counter() - start, note


def bench_ingest_projection(work: Path, runs: int, seed: int) -> dict[str, Any]:
    sys.path.insert(0, str(REPO / "scripts"))
    import bench  # the corpus recipe of scripts/bench.py

    seeds, archive = work / "seeds", work / "archive"
    shutil.rmtree(seeds, ignore_errors=True)
    seeds.mkdir()
    corpus = bench.DEFAULT_CORPUS
    info = bench.generate(corpus, seeds, 10_000, seed)
    env = dict(os.environ, PROVARCHIVE_ARCHIVE=str(archive), PROVARCHIVE_SEEDS=str(seeds))
    ingest = []
    for _ in range(runs):
        shutil.rmtree(archive, ignore_errors=True)
        ingest.append(run_cli(["ingest", "--json"], env))
    rows = archive_rows(archive)
    signer = Signer.generate(ORIGIN)
    extra, note = [], ""
    for r in range(runs):
        seconds, note = tlog_work(rows, work / f"tlog-{r}", signer)
        extra.append(seconds)
    run_cli(["verify", "--json"], env)  # warm caches
    verify = [run_cli(["verify", "--json"], env) for _ in range(runs)]
    checks = []
    for _ in range(runs):
        start = time.perf_counter()
        with TransparencyLog.open(work / "tlog-0") as log:
            cp = open_checkpoint(note, [signer.verifier])
            log.check_checkpoint(cp)
            assert log.audit([cp]) == []
        checks.append(time.perf_counter() - start)
    n_passages = sum(len(r["passages"]) for r in rows)
    ingest_s, extra_s = statistics.median(ingest), statistics.median(extra)
    verify_s, check_s = statistics.median(verify), statistics.median(checks)
    return {
        "documents": info["documents"],
        "versions": len(rows),
        "passages": n_passages,
        "corpus": str(corpus) if corpus.is_dir() else "fallback (no shared corpus)",
        "ingest_seconds": ingest_s,
        "tlog_seconds": extra_s,
        "ingest_overhead_percent": 100 * extra_s / ingest_s,
        "verify_seconds": verify_s,
        "tlog_check_seconds": check_s,
        "verify_with_checkpoint_ratio": (verify_s + check_s) / verify_s,
    }


def report(name: str, figures: dict[str, Any]) -> None:
    print(f"\n== {name}")
    for key, value in figures.items():
        if isinstance(value, dict):
            value = f"{value['median']:.4g} (min {value['min']:.4g}, max {value['max']:.4g})"
        elif isinstance(value, float):
            value = f"{value:.4g}"
        print(f"  {key:34} {value}")


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="100k instead of 1M leaves, 1 run")
    ap.add_argument("--ingest", action="store_true", help="also project onto a 10k-passage ingest")
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--seed", type=int, default=20261128)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    runs = args.runs or (1 if args.quick else 3)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-tlog-") as tmp:
        work = Path(tmp)
        results["append_10k"] = bench_append(work, runs)
        report("append 10k leaves, batches of 200, durable", results["append_10k"])
        results["checkpoint"] = bench_checkpoint(work, runs)
        report("sign + verify a checkpoint", results["checkpoint"])
        n = 100_000 if args.quick else 1_000_000
        results["million"] = bench_million(work, n, args.seed)
        report(f"{n} leaves: proofs from the on-disk log", results["million"])
        if args.ingest:
            results["ingest"] = bench_ingest_projection(work, runs, args.seed)
            report("projection onto ingest / verify at 10k passages", results["ingest"])
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
