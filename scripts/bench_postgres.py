"""Benchmark of the PostgreSQL search engine against SQLite FTS5, same passages, same run.

Passages: 1-4 sentences drawn at random from the real article paragraphs of the
shared dev corpus (scripts/bench.py's pools; made-up text without it), grouped
into documents of a title and 8-30 body passages, one version each, ingested
date spread over a year. They are indexed into the PostgreSQL engine (a
throw-away server started by tests/postgres.py, fsync off: this measures search,
not durability) in transactions of 200 versions, as an ingest writes batches,
and into an FTS5 table (porter unicode61 remove_diacritics 2) in one transaction.

Then a mixed set of queries drawn from the passages' own words (term, two-term
AND, two-word phrase, prefix, fuzzy, and kind:title + term; scripts/bench.py's
generator), each run once to warm caches and once timed: top-10 hits with
snippets and the total, through PostgresEngine.search; for FTS5, bm25 top-10
with snippet() plus count(*) (FTS5 has no fuzzy terms: it gets the right word).
Printed: indexing rate of each, p50/p95/p99 latency overall and by kind, the load
average when the queries end (the machines are shared), and the sizes on disk.
Nothing is asserted.

With ``--archive-passages N`` it first measures the archive as a whole in both modes,
same seeds, same run (scripts/bench.py's generator, N passages): ``provarchive ingest``
into a SQLite + Whoosh archive and into a PostgreSQL archive (catalog and search in one
database on the throw-away server), then ``provarchive verify`` of each, and prints the
ratios (PostgreSQL / SQLite: > 1 is faster for ingest, < 1.2 is the goal for verify).

    .venv/bin/python scripts/bench_postgres.py                       # 1,000,000 passages
    .venv/bin/python scripts/bench_postgres.py --passages 100000 --json out.json
    .venv/bin/python scripts/bench_postgres.py --archive-passages 100000 --passages 1000000
    .venv/bin/python scripts/bench_postgres.py --archive-passages 100000 --archive-jobs 2 --passages 0
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO))

import bench  # noqa: E402  (scripts/bench.py: corpus pools, query mix, percentiles)

from provarchive.catalog import Catalog  # noqa: E402
from provarchive.catalog.postgres_search import PostgresEngine  # noqa: E402
from provarchive.search.engine import IndexEntry, SearchQuery  # noqa: E402
from tests.postgres import running_server  # noqa: E402

SERVER = {
    "shared_buffers": "1GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    "effective_cache_size": "4GB",
    "jit": "off",
}
BATCH_VERSIONS = 200
T0 = datetime(2025, 1, 1, tzinfo=UTC)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def make_passages(n: int, seed: int) -> list[tuple[str, int, list[IndexEntry]]]:
    """Versions (document, 1, entries) holding ``n`` passages in all."""
    rng = random.Random(seed)
    bodies, _ = bench.load_pools(bench.DEFAULT_CORPUS)
    sentences = [s for body in bodies for p in body for s in _SENTENCE.split(p) if len(s) > 20]
    out, total, d = [], 0, 0
    while total < n:
        name = f"{d // 1000:04d}/doc-{d:07d}.txt"
        k = min(rng.randint(9, 31), n - total)
        ingested = T0 + timedelta(minutes=rng.randrange(525_600))
        entries = []
        for ordinal in range(1, k + 1):
            if ordinal == 1:
                kind, text = "title", " ".join(rng.choice(sentences).split()[: rng.randint(6, 12)])
            else:
                kind, text = (
                    "body",
                    " ".join(rng.choice(sentences) for _ in range(rng.randint(1, 4))),
                )
            pid, raw = f"{name}@v1#{ordinal}", f"{d:064d}"
            span = (ordinal * 100, ordinal * 100 + len(text))
            entries.append(
                IndexEntry(pid, name, 1, ordinal, kind, text, "p" * 64, raw, *span, ingested, True)
            )
        out.append((name, 1, entries))
        total += k
        d += 1
    return out


def make_queries(
    versions: list[tuple[str, int, list[IndexEntry]]], n: int, seed: int
) -> list[tuple[str, str, str]]:
    """(kind, our query, FTS5 query): scripts/bench.py's mix plus kind:title."""
    flat = [
        (e.passage_id, e.document, 1, e.ordinal, e.kind, e.text)
        for _, _, es in versions
        for e in es
    ]
    mixed = bench.make_queries(flat, seed, n - n // 6)
    rng = random.Random(seed + 1)
    titles = [e.text.lower() for _, _, es in versions[:5000] for e in es if e.kind == "title"]
    while len(mixed) < n:
        words = bench._WORD.findall(rng.choice(titles))
        if words:
            w = rng.choice(words)
            mixed.append(("kind", f"kind:title {w}", f'kind : title AND text : "{w}"'))
    return [(k, q, f if k == "kind" else f"text : ({f})") for k, q, f in mixed]


def index_postgres(
    url: str, versions: list[tuple[str, int, list[IndexEntry]]]
) -> tuple[PostgresEngine, float]:
    catalog = Catalog(url)
    catalog.migrate()
    engine = PostgresEngine(url)
    engine.create()
    start = time.perf_counter()
    for i in range(0, len(versions), BATCH_VERSIONS):
        with engine.writing() as w:
            for name, number, entries in versions[i : i + BATCH_VERSIONS]:
                w.replace_version(name, number, entries)
    with engine.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE search_entries")
        conn.exec_driver_sql("VACUUM ANALYZE search_index")
        conn.exec_driver_sql("VACUUM ANALYZE search_words")
    catalog.close()
    return engine, time.perf_counter() - start


def index_fts5(
    path: Path, versions: list[tuple[str, int, list[IndexEntry]]]
) -> tuple[sqlite3.Connection, float]:
    db = sqlite3.connect(path)
    start = time.perf_counter()
    db.execute(
        "CREATE VIRTUAL TABLE p USING fts5(pid UNINDEXED, kind, text, "
        "tokenize='porter unicode61 remove_diacritics 2')"
    )
    db.executemany(
        "INSERT INTO p (pid, kind, text) VALUES (?, ?, ?)",
        ((e.passage_id, e.kind, e.text) for _, _, es in versions for e in es),
    )
    db.commit()
    return db, time.perf_counter() - start


def time_postgres(
    engine: PostgresEngine, queries: list[tuple[str, str, str]]
) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for timed in (False, True):
        for kind, q, _ in queries:
            start = time.perf_counter()
            engine.search(SearchQuery(q, limit=10))
            if timed:
                out.setdefault(kind, []).append(time.perf_counter() - start)
    return out


def time_fts5(
    db: sqlite3.Connection, queries: list[tuple[str, str, str]]
) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for timed in (False, True):
        for kind, _, q in queries:
            start = time.perf_counter()
            db.execute(
                "SELECT pid, snippet(p, 2, '**', '**', ' … ', 24), bm25(p) FROM p "
                "WHERE p MATCH ? ORDER BY bm25(p) LIMIT 10",
                (q,),
            ).fetchall()
            db.execute("SELECT count(*) FROM p WHERE p MATCH ?", (q,)).fetchone()
            if timed:
                out.setdefault(kind, []).append(time.perf_counter() - start)
    return out


def summary(latencies: dict[str, list[float]]) -> dict[str, Any]:
    every = [x for v in latencies.values() for x in v]
    return {
        "p50_ms": bench.percentile(every, 0.5) * 1000,
        "p95_ms": bench.percentile(every, 0.95) * 1000,
        "p99_ms": bench.percentile(every, 0.99) * 1000,
        "by_kind_p50_ms": {k: statistics.median(v) * 1000 for k, v in latencies.items()},
        "by_kind_ms": {
            k: {f"p{round(p * 100)}": bench.percentile(v, p) * 1000 for p in (0.5, 0.95, 0.99)}
            for k, v in latencies.items()
        },
    }


def postgres_sizes(engine: PostgresEngine) -> dict[str, float]:
    with engine.engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT pg_total_relation_size('search_entries') + pg_total_relation_size('search_index'), "
            "pg_total_relation_size('search_index'), pg_relation_size('ix_search_index_tsv'), "
            "pg_total_relation_size('search_words'), "
            "(SELECT count(*) FROM search_words)"
        ).one()
    mb = 1024 * 1024
    return {"total_mb": row[0] / mb, "search_index_mb": row[1] / mb, "gin_mb": row[2] / mb,
            "words_mb": row[3] / mb, "distinct_lexemes": row[4]}  # fmt: skip


def run(passages: int, n_queries: int, seed: int) -> dict[str, Any]:
    t = time.perf_counter()
    versions = make_passages(passages, seed)
    count = sum(len(es) for _, _, es in versions)
    print(
        f"{count} passages in {len(versions)} documents generated in {time.perf_counter() - t:.0f} s",
        flush=True,
    )
    queries = make_queries(versions, n_queries, seed)
    with running_server(SERVER) as server, tempfile.TemporaryDirectory(prefix="fts5-") as tmp:
        server.execute("CREATE DATABASE bench TEMPLATE template0")
        engine, pg_seconds = index_postgres(server.url("bench"), versions)
        print(f"PostgreSQL indexed in {pg_seconds:.0f} s", flush=True)
        db, fts_seconds = index_fts5(Path(tmp) / "fts.sqlite", versions)
        print(f"FTS5 indexed in {fts_seconds:.0f} s", flush=True)
        pg = summary(time_postgres(engine, queries))
        fts = summary(time_fts5(db, queries))
        result = {
            "passages": count,
            "documents": len(versions),
            "queries": len(queries),
            "seed": seed,
            "machine": f"{os.cpu_count()} cores",
            "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
            "postgres": {**pg, "index_passages_per_s": count / pg_seconds, **postgres_sizes(engine)},
            "fts5": {**fts, "index_passages_per_s": count / fts_seconds,
                     "file_mb": (Path(tmp) / "fts.sqlite").stat().st_size / 1024 / 1024},
        }  # fmt: skip
        db.close()
        engine.close()
    return result


def _timed(args: list[str], env: dict[str, str]) -> float:
    elapsed, code, _rss = bench.run_with_rss(args, env)
    if code != 0:
        raise SystemExit(f"provarchive {' '.join(args)} failed (exit {code})")
    return elapsed


def run_archives(size: int, seed: int, corpus: Path, jobs: int = 1) -> dict[str, Any]:
    """Ingest and verify of the same seeds in SQLite + Whoosh mode and PostgreSQL mode
    (with ``jobs`` > 1, also each mode's ``ingest --jobs N``, as ``<mode>-jN``)."""
    with running_server(SERVER) as server, tempfile.TemporaryDirectory(prefix="modes-") as tmp:
        work = Path(tmp)
        info = bench.generate(corpus, work / "seeds", size, seed)
        print(f"{info['documents']} documents ({info['bytes'] / 1e6:.0f} MB) generated", flush=True)
        runs: list[tuple[str, bool, int]] = [("sqlite", False, 1), ("postgres", True, 1)]
        if jobs > 1:
            runs += [(f"sqlite-j{jobs}", False, jobs), (f"postgres-j{jobs}", True, jobs)]
        out: dict[str, Any] = {"documents": info["documents"], "megabytes": info["bytes"] / 1e6}
        for mode, postgres, n in runs:
            url = None
            if postgres:
                database = "modes_" + mode.replace("-", "_")
                server.execute(f"CREATE DATABASE {database} TEMPLATE template0")
                url = server.url(database)
            env = dict(os.environ, PROVARCHIVE_ARCHIVE=str(work / mode),
                       PROVARCHIVE_SEEDS=str(work / "seeds"))  # fmt: skip
            env.pop("PROVARCHIVE_DB_URL", None)
            if url:
                env["PROVARCHIVE_DB_URL"] = url
            ingest = _timed(["ingest", "--json", "--jobs", str(n)], env)
            _timed(["verify", "--json"], env)  # warm the page cache
            verify = _timed(["verify", "--json"], env)
            passages = _passages(work / mode, url)
            out[mode] = {"ingest_s": ingest, "verify_s": verify, "passages": passages,
                         "passages_per_s": passages / ingest}  # fmt: skip
            print(f"{mode}: ingest {ingest:.0f} s, verify {verify:.1f} s", flush=True)
        out["ingest_ratio"] = out["postgres"]["passages_per_s"] / out["sqlite"]["passages_per_s"]
        out["verify_ratio"] = out["postgres"]["verify_s"] / out["sqlite"]["verify_s"]
        if jobs > 1:
            best = max(out["sqlite"], out[f"sqlite-j{jobs}"], key=lambda m: m["passages_per_s"])
            out["jobs"] = jobs
            out["ingest_ratio_jobs"] = (
                out[f"postgres-j{jobs}"]["passages_per_s"] / best["passages_per_s"]
            )
    return out


def _passages(root: Path, url: str | None) -> int:
    catalog = Catalog(url or f"sqlite:///{root / 'catalog.sqlite'}")
    try:
        with catalog.engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT count(*) FROM passages").scalar_one())
    finally:
        catalog.close()


def print_archives(r: dict[str, Any]) -> None:
    sq, pg = r["sqlite"], r["postgres"]
    print(f"\n== archive, {sq['passages']} passages in {r['documents']} documents "
          f"({r['megabytes']:.0f} MB), same seeds, same run")  # fmt: skip
    jobs = r.get("jobs")
    rows = [("sqlite+whoosh", sq), ("postgres", pg)]
    if jobs:
        rows += [(f"sqlite --jobs {jobs}", r[f"sqlite-j{jobs}"]),
                 (f"postgres --jobs {jobs}", r[f"postgres-j{jobs}"])]  # fmt: skip
    for name, m in rows:
        print(f"  {name:<19} ingest {m['ingest_s']:.1f} s ({m['passages_per_s']:.0f} passages/s), "
              f"verify {m['verify_s']:.1f} s")  # fmt: skip
    print(f"  ingest PostgreSQL/SQLite+Whoosh {r['ingest_ratio']:.2f}x (goal >= 5x); "
          f"verify PostgreSQL/SQLite time {r['verify_ratio']:.2f} (goal <= 1.2)")  # fmt: skip
    if jobs:
        print(f"  ingest PostgreSQL --jobs {jobs} against SQLite+Whoosh at its faster of --jobs 1 "
              f"and {jobs}: {r['ingest_ratio_jobs']:.2f}x")  # fmt: skip


def print_report(r: dict[str, Any]) -> None:
    print(
        f"\n== {r['passages']} passages, {r['documents']} documents, {r['queries']} queries (top-10 + snippets + total)"
        f"; load average at the end {r['load_average']}"
    )
    for name in ("postgres", "fts5"):
        s = r[name]
        print(
            f"  {name:<9} p50 {s['p50_ms']:.1f} ms, p95 {s['p95_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms; "
            f"indexing {s['index_passages_per_s']:.0f} passages/s"
        )
        for k, v in s["by_kind_ms"].items():
            print(
                f"            {k:<7} p50 {v['p50']:6.1f}, p95 {v['p95']:6.1f}, p99 {v['p99']:6.1f} ms"
            )
    pg = r["postgres"]
    print(
        f"  postgres size {pg['total_mb']:.0f} MB (search_index {pg['search_index_mb']:.0f} of which GIN {pg['gin_mb']:.0f}, "
        f"words {pg['words_mb']:.0f} MB, {pg['distinct_lexemes']} lexemes); FTS5 file {r['fts5']['file_mb']:.0f} MB"
    )


def main() -> int:
    bench.byte_compile()
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--passages", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument(
        "--archive-passages",
        type=int,
        default=0,
        help="also ingest and verify an archive of this many passages in both modes",
    )
    ap.add_argument(
        "--archive-jobs",
        type=int,
        default=1,
        help="with --archive-passages: also ingest in both modes with --jobs N",
    )
    ap.add_argument("--corpus", type=Path, default=bench.DEFAULT_CORPUS)
    args = ap.parse_args()
    result: dict[str, Any] = {}
    if args.archive_passages:
        result["archives"] = run_archives(
            args.archive_passages, args.seed, args.corpus, args.archive_jobs
        )
        print_archives(result["archives"])
    if args.passages:
        result.update(run(args.passages, args.queries, args.seed))
        print_report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
