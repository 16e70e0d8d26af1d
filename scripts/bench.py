"""Benchmarks: provarchive against the bare cost of the work it wraps, same data, same run.

Corpus recipe (deterministic for a given --seed): from every page of the
boilerplate dev corpus (NAME.txt scrape + NAME.gold.txt body) we take the gold
paragraphs (8+ words) as article text and the scrape lines that are not in the
gold body as page furniture. A synthetic document looks like a scrape, one
block per line: a run of 8-25 furniture lines from one page (its menu), a title
(the first 6-12 words of a paragraph), a byline, share and ad lines, 8-30 body
paragraphs taken in order from one page and topped up from others with an
"Advertisement" every few paragraphs and an occasional "... Photo: Reuters"
caption, then 10-20 furniture lines (its footer). Documents are generated until
their planned passages (title + body paragraphs) reach --size; the figures use
the passages actually derived.

What is measured (median of --runs, with min and max):
- clean: documents/s of decode + clean + passages, in process.
- ingest: end-to-end `provarchive ingest` (hash, store, catalog, clean, index)
  in a subprocess: documents/s, MB/s, passages/s, peak RSS; against a bare
  Whoosh index with the same schema indexing the same passages (one writer,
  the same limitmb). Ratio = ingest passages/s / bare passages/s (goal >= 0.6).
- incremental: 1% new documents and 1% new versions added to the archive; s/document.
- verify: `provarchive verify` MB/s (and `--rederive`) against hashlib sha512 +
  sha256 in one pass over the same content files. Goal ratio >= 0.8.
- search: p50/p95/p99 of 200 mixed queries (term, 2-term AND, phrase, prefix,
  fuzzy) with top-10 hits and snippets, against SQLite FTS5 (porter tokenizer,
  bm25, snippet()) over the same passages. Goal at 100k: p50 <= 20 ms, p95 <= 100 ms.
- store write: time per new version, against ocfl-py's Object.create of the same
  file. Goal <= 1/3 of ocfl-py.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import platform
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "boilerplate" / "dev"


def byte_compile() -> None:
    """Byte-compile the package first, as ``pip install`` does: with
    PYTHONDONTWRITEBYTECODE set (as on some CI machines) an editable checkout would
    otherwise compile some 80 modules on every command started (~0.15 s each time),
    which no installed copy does. Every script that times commands calls this."""
    import compileall

    compileall.compile_dir(REPO / "src" / "provarchive", quiet=1)


# -- corpus -----------------------------------------------------------------------------------------


def _norm(line: str) -> str:
    return unicodedata.normalize("NFC", " ".join(line.split()))


def _fallback_pools(seed: int) -> tuple[list[list[str]], list[list[str]]]:
    """Made-up pages for machines without the shared corpus (CI smoke runs), in
    the crash test's vocabulary."""
    from crash_test import FURNITURE, WORDS  # scripts/ is on sys.path: we run as a script

    rng = random.Random(seed)
    bodies = []
    for _ in range(40):
        bodies.append(
            [
                " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 40))).capitalize() + "."
                for _ in range(30)
            ]
        )
    return bodies, [list(FURNITURE)] * len(bodies)


def load_pools(corpus: Path) -> tuple[list[list[str]], list[list[str]]]:
    """Per page: its gold paragraphs, and its furniture lines."""
    if not corpus.is_dir():
        return _fallback_pools(0)
    bodies, furniture = [], []
    for gold_path in sorted(corpus.glob("*.gold.txt")):
        scrape = corpus / gold_path.name.replace(".gold.txt", ".txt")
        gold = [_norm(x) for x in gold_path.read_text(encoding="utf-8").splitlines() if x.strip()]
        gold_set = set(gold)
        paragraphs = [g for g in gold if len(g.split()) >= 8]
        lines = [_norm(x) for x in scrape.read_text(encoding="utf-8").splitlines() if x.strip()]
        junk = [
            x for x in lines if x not in gold_set and not any(x in g for g in gold if len(x) > 20)
        ]
        if paragraphs and junk:
            bodies.append(paragraphs)
            furniture.append(junk)
    if not bodies:
        raise SystemExit(f"no usable pages in {corpus}")
    return bodies, furniture


def make_document(
    rng: random.Random, bodies: list[list[str]], furniture: list[list[str]]
) -> tuple[str, int]:
    page = rng.randrange(len(bodies))
    junk = furniture[page]
    paras = bodies[page]
    k = rng.randint(8, 30)
    start = rng.randrange(len(paras))
    body = paras[start : start + k]
    while len(body) < k:
        other = bodies[rng.randrange(len(bodies))]
        body.append(other[rng.randrange(len(other))])
    title_words = rng.choice(body).split()[: rng.randint(6, 12)]
    title = " ".join(title_words).rstrip(".,;:")
    lines = [rng.choice(junk) for _ in range(rng.randint(8, 25))]
    lines += [
        title,
        f"By {rng.choice(['Alex Morgan', 'Sam Lee', 'Ana Costa', 'Jo Weber'])}",
        "Share",
        "Advertisement",
    ]
    for i, para in enumerate(body):
        lines.append(para)
        if i % 5 == 4:
            lines.append("Advertisement")
        if rng.random() < 0.08:
            lines.append(f"{' '.join(rng.choice(body).split()[:8])}. Photo: Reuters")
    lines += [rng.choice(junk) for _ in range(rng.randint(10, 20))]
    return "\n".join(lines) + "\n", k + 1


def generate(corpus: Path, seeds: Path, size: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    bodies, furniture = load_pools(corpus)
    planned = docs = 0
    total_bytes = 0
    while planned < size:
        text, passages = make_document(rng, bodies, furniture)
        path = seeds / f"{docs // 500:03d}" / f"doc-{docs:06d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode("utf-8")
        path.write_bytes(data)
        total_bytes += len(data)
        planned += passages
        docs += 1
    return {"documents": docs, "bytes": total_bytes, "planned_passages": planned}


# -- helpers ----------------------------------------------------------------------------------------


def run_with_rss(args: list[str], env: dict[str, str]) -> tuple[float, int, int]:
    """(seconds, exit code, peak RSS KiB) using wait4 on the child."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "provarchive", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, proc.returncode, int(usage.ru_maxrss)


def stats(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def catalog_passages(archive: Path) -> list[tuple[str, str, int, int, str, str, int, int, str]]:
    from provarchive.home import read_settings

    settings = read_settings(archive)
    db = sqlite3.connect(archive / (settings.catalog if settings else "catalog.sqlite"))
    try:
        return db.execute(
            "SELECT p.passage_id, d.name, v.number, p.ordinal, p.kind, p.text, p.raw_start, p.raw_end, p.sha256 "
            "FROM passages p JOIN derivations r ON r.id = p.derivation_id JOIN versions v ON v.id = r.version_id "
            "JOIN documents d ON d.id = v.document_id WHERE r.current"
        ).fetchall()
    finally:
        db.close()


def content_files(archive: Path) -> list[Path]:
    return [p for p in (archive / "ocfl").rglob("*") if p.is_file() and "/content/" in p.as_posix()]


# -- benchmarks -------------------------------------------------------------------------------------


def bench_clean(seeds: Path, runs: int) -> dict[str, Any]:
    from provarchive.cleaning.passages import derive

    files = sorted(seeds.rglob("*.txt"))
    raws = [f.read_bytes() for f in files]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        for raw in raws:
            derive(raw)
        times.append(time.perf_counter() - start)
    return {"docs_per_s": stats([len(raws) / t for t in times])}


def bare_whoosh(passages: list[tuple[Any, ...]], runs: int, base: Path) -> list[float]:
    from datetime import UTC, datetime

    from whoosh import index

    from provarchive.search.whoosh_engine import (
        WRITER_LIMIT_MB,
        IndexEntry,
        document_fields,
        schema,
    )

    now = datetime.now(UTC)
    docs = [
        document_fields(
            IndexEntry(pid, name, number, ordinal, kind, text, sha, sha, rs, re_, now, True)
        )
        for pid, name, number, ordinal, kind, text, rs, re_, sha in passages
    ]
    times = []
    for _ in range(runs):
        tmp = Path(tempfile.mkdtemp(prefix="bare-whoosh-", dir=base))
        try:
            start = time.perf_counter()
            ix = index.create_in(str(tmp), schema(), indexname="passages")
            w = ix.writer(limitmb=WRITER_LIMIT_MB)
            for fields_ in docs:
                w.add_document(**fields_)
            w.commit()
            times.append(time.perf_counter() - start)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return times


def bench_ingest(
    seeds: Path, work: Path, runs: int, info: dict[str, Any]
) -> tuple[dict[str, Any], Path]:
    times, rss = [], []
    archive = work / "archive"
    for r in range(runs):
        if archive.exists():
            shutil.rmtree(archive)
        env = dict(os.environ, PROVARCHIVE_ARCHIVE=str(archive), PROVARCHIVE_SEEDS=str(seeds))
        elapsed, code, peak = run_with_rss(["ingest", "--json"], env)
        if code != 0:
            raise SystemExit(f"ingest failed in run {r + 1} (exit {code})")
        times.append(elapsed)
        rss.append(peak)
    passages = catalog_passages(archive)
    bare = bare_whoosh(passages, runs, work)
    n = len(passages)
    ingest_rate = [n / t for t in times]
    bare_rate = [n / t for t in bare]
    return {
        "documents": info["documents"],
        "passages": n,
        "megabytes": info["bytes"] / 1e6,
        "seconds": stats(times),
        "docs_per_s": stats([info["documents"] / t for t in times]),
        "mb_per_s": stats([info["bytes"] / 1e6 / t for t in times]),
        "passages_per_s": stats(ingest_rate),
        "bare_whoosh_passages_per_s": stats(bare_rate),
        "ratio": statistics.median(ingest_rate) / statistics.median(bare_rate),
        "peak_rss_mb": stats([x / 1024 for x in rss]),
    }, archive


def bench_incremental(
    seeds: Path, archive: Path, info: dict[str, Any], seed: int, corpus: Path
) -> dict[str, Any]:
    rng = random.Random(seed + 1)
    bodies, furniture = load_pools(corpus)
    count = max(1, info["documents"] // 100)
    for i in range(count):
        text, _ = make_document(rng, bodies, furniture)
        (seeds / "new").mkdir(exist_ok=True)
        (seeds / "new" / f"added-{i:05d}.txt").write_text(text, encoding="utf-8")
    existing = sorted(p for p in seeds.rglob("doc-*.txt"))
    for path in rng.sample(existing, min(count, len(existing))):
        path.write_text(
            path.read_text(encoding="utf-8") + "A correction was published the next day.\n",
            encoding="utf-8",
        )
    env = dict(os.environ, PROVARCHIVE_ARCHIVE=str(archive), PROVARCHIVE_SEEDS=str(seeds))
    elapsed, code, _peak = run_with_rss(["ingest", "--json"], env)
    if code != 0:
        raise SystemExit("incremental ingest failed")
    return {
        "new_documents": count,
        "new_versions": count,
        "seconds": elapsed,
        "s_per_document": elapsed / (2 * count),
    }


def bench_verify(seeds: Path, archive: Path, runs: int) -> dict[str, Any]:
    files = content_files(archive)
    total = sum(f.stat().st_size for f in files)
    env = dict(os.environ, PROVARCHIVE_ARCHIVE=str(archive), PROVARCHIVE_SEEDS=str(seeds))
    run_with_rss(["verify", "--json"], env)  # warm the stat cache and the page cache
    ours, rederive, bare = [], [], []
    for _ in range(runs):
        elapsed, code, _ = run_with_rss(["verify", "--json"], env)
        if code != 0:
            raise SystemExit("verify found errors in the benchmark archive")
        ours.append(elapsed)
        elapsed, code, _ = run_with_rss(["verify", "--json", "--rederive"], env)
        rederive.append(elapsed)
        start = time.perf_counter()
        for f in files:
            h512, h256 = hashlib.sha512(), hashlib.sha256()
            with open(f, "rb") as fh:
                while block := fh.read(1 << 20):
                    h512.update(block)
                    h256.update(block)
        bare.append(time.perf_counter() - start)
    mb = total / 1e6
    return {
        "megabytes": mb,
        "files": len(files),
        "mb_per_s": stats([mb / t for t in ours]),
        "rederive_mb_per_s": stats([mb / t for t in rederive]),
        "hashlib_mb_per_s": stats([mb / t for t in bare]),
        "ratio": statistics.median([mb / t for t in ours])
        / statistics.median([mb / t for t in bare]),
    }


_WORD = re.compile(r"[a-z]{4,}")


def make_queries(
    passages: list[tuple[Any, ...]], seed: int, n: int = 200
) -> list[tuple[str, str, str]]:
    """(kind, whoosh query, fts5 query) drawn from the passages' own words."""
    rng = random.Random(seed)
    out = []
    kinds = ["term", "and", "phrase", "prefix", "fuzzy"]
    while len(out) < n:
        text = passages[rng.randrange(len(passages))][5].lower()
        words = _WORD.findall(text)
        if len(words) < 3:
            continue
        kind = kinds[len(out) % len(kinds)]
        i = rng.randrange(len(words) - 2)
        w = words[i]
        if kind == "term":
            out.append((kind, w, f'"{w}"'))
        elif kind == "and":
            v = rng.choice(words)
            out.append((kind, f"{w} AND {v}", f'"{w}" AND "{v}"'))
        elif kind == "phrase":
            raw = text.split()
            j = rng.randrange(max(1, len(raw) - 2))
            phrase = " ".join(re.sub(r"[^\w]", "", x) for x in raw[j : j + 2]).strip()
            if len(phrase.split()) < 2:
                continue
            out.append((kind, f'"{phrase}"', f'"{phrase}"'))
        elif kind == "prefix":
            out.append((kind, f"{w[:4]}*", f'"{w[:4]}"*'))
        else:
            pos = rng.randrange(1, len(w))
            typo = w[:pos] + ("x" if w[pos] != "x" else "y") + w[pos + 1 :]
            out.append((kind, f"{typo}~", f'"{w}"'))  # FTS5 has no fuzzy: it gets the right word
    return out


def bench_search(archive: Path, seed: int) -> dict[str, Any]:
    from provarchive import Archive, ArchiveConfig

    passages = catalog_passages(archive)
    queries = make_queries(passages, seed)
    ours: dict[str, list[float]] = {}
    with Archive(ArchiveConfig(root=archive, seeds=archive / "none")) as a:
        a.search("warmup")
        for kind, q, _ in queries:
            start = time.perf_counter()
            a.search(q, limit=10)
            ours.setdefault(kind, []).append(time.perf_counter() - start)
    fts = fts5_latencies(passages, queries, archive)
    all_ours = [x for v in ours.values() for x in v]
    all_fts = [x for v in fts.values() for x in v]
    return {
        "queries": len(queries),
        "p50_ms": percentile(all_ours, 0.5) * 1000,
        "p95_ms": percentile(all_ours, 0.95) * 1000,
        "p99_ms": percentile(all_ours, 0.99) * 1000,
        "fts5_p50_ms": percentile(all_fts, 0.5) * 1000,
        "fts5_p95_ms": percentile(all_fts, 0.95) * 1000,
        "fts5_p99_ms": percentile(all_fts, 0.99) * 1000,
        "by_kind_p50_ms": {k: percentile(v, 0.5) * 1000 for k, v in ours.items()},
    }


def fts5_latencies(
    passages: list[tuple[Any, ...]], queries: list[tuple[str, str, str]], archive: Path
) -> dict[str, list[float]]:
    tmp = Path(tempfile.mkdtemp(prefix="fts5-", dir=archive.parent))
    try:
        db = sqlite3.connect(tmp / "fts.sqlite")
        db.execute(
            "CREATE VIRTUAL TABLE p USING fts5(pid UNINDEXED, text, tokenize='porter unicode61 remove_diacritics 2')"
        )
        db.executemany("INSERT INTO p (pid, text) VALUES (?, ?)", [(x[0], x[5]) for x in passages])
        db.commit()
        out: dict[str, list[float]] = {}
        for kind, _, q in queries:
            start = time.perf_counter()
            db.execute(
                "SELECT pid, snippet(p, 1, '**', '**', ' … ', 24), bm25(p) FROM p WHERE p MATCH ? ORDER BY bm25(p) LIMIT 10",
                (q,),
            ).fetchall()
            db.execute("SELECT count(*) FROM p WHERE p MATCH ?", (q,)).fetchone()
            out.setdefault(kind, []).append(time.perf_counter() - start)
        db.close()
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bench_store(seeds: Path, count: int, base: Path, runs: int) -> dict[str, Any]:
    """Per new version: our store (batched, durable, as ingest writes it) vs ocfl-py's
    Object.create of the same file (which neither places objects in a storage layout
    nor fsyncs). Runs alternate between the two so both see the same machine."""
    from provarchive.store.storage import Store

    files = sorted(seeds.rglob("*.txt"))[:count]
    try:
        import ocfl
    except ImportError:
        ocfl = None
    # ocfl-py logs every object it creates at INFO (and sets logging up on import)
    logging.getLogger().setLevel(logging.WARNING)
    user = {"name": "bench", "address": "mailto:bench@localhost"}
    ours_runs: list[float] = []
    theirs_runs: list[float] = []
    # Delete only at the end: on this machine's file system (ext4 mounted with
    # "discard") a big delete slowed the file creations that followed it by up to 5x.
    tmps: list[Path] = []
    try:
        for _ in range(runs):
            tmp = Path(tempfile.mkdtemp(prefix="store-", dir=base))
            tmps.append(tmp)
            store = Store(tmp / "ours" / "ocfl", tmp / "ours" / "staging")
            store.initialize()
            start = time.perf_counter()
            for i in range(0, len(files), 200):
                with store.transaction() as txn:
                    for f in files[i : i + 200]:
                        name = f.relative_to(seeds).as_posix()
                        with open(f, "rb") as fh:
                            staged = txn.stage(fh)
                        txn.prepare(
                            name,
                            staged,
                            current=None,
                            created="2026-01-01T00:00:00Z",
                            message=f"ingest {name}",
                            user=user,
                        )
                    txn.commit()
                    txn.close()
            ours_runs.append((time.perf_counter() - start) / len(files) * 1000)
            if ocfl is None:
                continue
            srcs = []
            for i, f in enumerate(files):
                src = tmp / "src" / str(i)
                src.mkdir(parents=True)
                shutil.copy(f, src / f.name)
                srcs.append(src)
            (tmp / "theirs").mkdir()
            start = time.perf_counter()
            for i, src in enumerate(srcs):
                meta = ocfl.VersionMetadata(
                    created="2026-01-01T00:00:00Z",
                    message="ingest",
                    name="bench",
                    address="mailto:bench@localhost",
                )
                ocfl.Object(identifier=f"bench-{i}").create(
                    srcdir=str(src), metadata=meta, objdir=str(tmp / "theirs" / str(i))
                )
            theirs_runs.append((time.perf_counter() - start) / len(files) * 1000)
    finally:
        for tmp in tmps:
            shutil.rmtree(tmp, ignore_errors=True)
    result: dict[str, Any] = {
        "versions": len(files),
        "runs": len(ours_runs),
        "ours_ms": stats(ours_runs),
        "ocfl_py_ms": None,
    }
    if theirs_runs:
        result["ocfl_py_ms"] = stats(theirs_runs)
        result["ratio"] = statistics.median(ours_runs) / statistics.median(theirs_runs)
    return result


# -- report ------------------------------------------------------------------------------------------


def fmt(s: dict[str, float], digits: int = 1) -> str:
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}-{s['max']:.{digits}f})"


def print_report(results: dict[str, Any]) -> None:
    print(
        f"\nprovarchive benchmark, {results['machine']}, runs={results['runs']}, seed={results['seed']}"
    )
    for size, r in results["sizes"].items():
        ing = r["ingest"]
        print(
            f"\n== {size} planned passages: {ing['documents']} documents, {ing['passages']} passages, {ing['megabytes']:.1f} MB"
        )
        print(f"  clean          {fmt(r['clean']['docs_per_s'], 0)} documents/s")
        print(
            f"  ingest         {fmt(ing['docs_per_s'])} documents/s, {fmt(ing['mb_per_s'], 2)} MB/s, {fmt(ing['passages_per_s'], 0)} passages/s, {fmt(ing['seconds'])} s"
        )
        print(
            f"  bare Whoosh    {fmt(ing['bare_whoosh_passages_per_s'], 0)} passages/s   -> ratio {ing['ratio']:.2f} (goal >= 0.6)"
        )
        print(f"  peak RSS       {fmt(ing['peak_rss_mb'], 0)} MB (ingest)")
        inc = r["incremental"]
        print(
            f"  incremental    {inc['new_documents']} new + {inc['new_versions']} changed documents: {inc['s_per_document'] * 1000:.1f} ms/document ({inc['seconds']:.2f} s)"
        )
        v = r["verify"]
        print(
            f"  verify         {fmt(v['mb_per_s'], 2)} MB/s over {v['files']} files, --rederive {fmt(v['rederive_mb_per_s'], 2)} MB/s"
        )
        print(
            f"  hashlib        {fmt(v['hashlib_mb_per_s'], 0)} MB/s (sha512+sha256, one pass)  -> ratio {v['ratio']:.3f} (goal >= 0.8)"
        )
        s = r["search"]
        print(
            f"  search         p50 {s['p50_ms']:.1f} ms, p95 {s['p95_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms ({s['queries']} queries, top-10 + snippets)"
        )
        print(
            f"  SQLite FTS5    p50 {s['fts5_p50_ms']:.1f} ms, p95 {s['fts5_p95_ms']:.1f} ms, p99 {s['fts5_p99_ms']:.1f} ms"
        )
        print(
            "  by kind p50    "
            + ", ".join(f"{k} {ms:.1f} ms" for k, ms in s["by_kind_p50_ms"].items())
        )
    st = results.get("store")
    if st:
        theirs = f"{fmt(st['ocfl_py_ms'], 2)} ms" if st.get("ocfl_py_ms") else "n/a"
        ratio = f" -> ratio {st['ratio']:.2f} (goal <= 0.33)" if st.get("ratio") else ""
        print(
            f"\n  store write    {fmt(st['ours_ms'], 2)} ms/version, ocfl-py Object.create {theirs}{ratio} ({st['versions']} versions)"
        )


# -- start-up (issue #14) ------------------------------------------------------------------------

STARTUP_GOAL_S = 0.25


def bench_startup(runs: int = 15) -> dict[str, Any]:
    """Wall time of commands that open nothing, against bare ``python`` and bare
    ``import typer`` in the same run (the floor any Typer command line pays)."""
    exe = str(Path(sys.executable).with_name("provarchive"))
    probes = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import typer'": [sys.executable, "-c", "import typer"],
        "provarchive --version": [exe, "--version"],
        "provarchive --help": [exe, "--help"],
        "provarchive show --help": [exe, "show", "--help"],
    }
    result: dict[str, Any] = {}
    for label, args in probes.items():
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            times.append(time.perf_counter() - t0)
        result[label] = stats(times)
    return result


def print_startup(r: dict[str, Any]) -> None:
    print("\n== start-up, wall seconds: median (min-max)")
    for label, s in r.items():
        goal = (
            f"   (goal < {STARTUP_GOAL_S})"
            if label in ("provarchive --version", "provarchive --help")
            else ""
        )
        print(f"  {label:<28} {fmt(s, 3)}{goal}")


# -- ingest --jobs (issue #16) --------------------------------------------------------------------


def bench_ingest_jobs(corpus: Path, size: int, runs: int, work: Path, seed: int) -> None:
    """``ingest --jobs 1`` against ``--jobs N`` (N = 2 and the core count) on one corpus,
    alternating runs so that both see the same machine; prints medians and ratios."""
    seeds = work / "seeds"
    info = generate(corpus, seeds, size, seed)
    jobs = sorted({1, 2, os.cpu_count() or 1})
    times: dict[int, list[float]] = {j: [] for j in jobs}
    for r in range(runs):
        for j in jobs:
            archive = work / f"archive-{j}"
            shutil.rmtree(archive, ignore_errors=True)
            env = dict(os.environ, PROVARCHIVE_ARCHIVE=str(archive), PROVARCHIVE_SEEDS=str(seeds))
            elapsed, code, _peak = run_with_rss(["ingest", "--json", "--jobs", str(j)], env)
            if code != 0:
                raise SystemExit(f"ingest --jobs {j} failed in run {r + 1} (exit {code})")
            times[j].append(elapsed)
    print(f"\n== ingest --jobs, {info['documents']} documents, {info['bytes'] / 1e6:.1f} MB, "
          f"{os.cpu_count()} cores, runs={runs}")  # fmt: skip
    base = statistics.median(times[1])
    for j in jobs:
        median = statistics.median(times[j])
        print(f"  --jobs {j:<3} {fmt(stats(times[j]), 2)} s   -> {base / median:.2f}x --jobs 1")


# -- big files (issue #20): memory and throughput ---------------------------------------------------


def _make_big(path: Path, size: int, *, sparse: bool) -> None:
    """A file of ``size`` bytes: a sparse one (a header, then a hole) or a dense one
    (a 1 MiB pseudo-random block repeated: every byte must be read and written)."""
    with open(path, "wb") as fh:
        if sparse:
            fh.write(b"a header before the hole\n")
            fh.truncate(size)
            return
        block = random.Random(size).randbytes(1024 * 1024)
        for _ in range(size // len(block)):
            fh.write(block)
        fh.write(block[: size % len(block)])


def _timed(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _store_one(source: Path, base: Path) -> float:
    """Seconds to hash and store ``source`` as one new version, as ingest does it
    (staged while hashed, journaled, fsynced, moved into a fresh store)."""
    from provarchive.store.storage import Store

    store = Store(base / "ocfl", base / "staging")
    store.initialize()
    start = time.perf_counter()
    with store.transaction() as txn, open(source, "rb") as fh:
        staged = txn.stage(fh)
        txn.prepare(source.name, staged, current=None, created="2026-01-01T00:00:00Z",
                    message="bench", user={"name": "bench", "address": "mailto:b@localhost"})  # fmt: skip
        txn.commit()
        txn.close()
    return time.perf_counter() - start


def bench_big(work: Path, gigabytes: float, runs: int) -> dict[str, Any]:
    """Peak RSS of `provarchive ingest` of one big file beside one of 20 MB (sparse and
    dense), and hashing + storing the big file against `sha512sum` + `cp` of it (and
    + `sync`, since the store fsyncs) in the same run, runs alternating."""
    big_size, small_size = int(gigabytes * 1024**3), 20 * 1024**2
    result: dict[str, Any] = {"big_bytes": big_size, "small_bytes": small_size}
    for kind in ("sparse", "dense"):
        files = {}
        for label, size in (("big", big_size), ("small", small_size)):
            folder = work / kind / label / "seeds"
            folder.mkdir(parents=True)
            files[label] = folder / f"{label}.bin"
            _make_big(files[label], size, sparse=kind == "sparse")
        rss = {}
        for label, path in files.items():
            home = path.parent.parent / "archive"
            env = dict(
                os.environ, PROVARCHIVE_ARCHIVE=str(home), PROVARCHIVE_SEEDS=str(path.parent)
            )
            seconds, code, kib = run_with_rss(["ingest"], env)
            rss[label] = {"seconds": seconds, "exit": code, "peak_rss_mb": kib / 1024}
            shutil.rmtree(home)
        ours, cp, cp_sync = [], [], []
        big = files["big"]
        for i in range(runs):
            copy = work / kind / f"copy-{i}"
            digest = _timed(["sha512sum", str(big)])
            copied = _timed(["cp", str(big), str(copy)])
            synced = copied + _timed(["sync", str(copy)])
            cp.append(digest + copied)
            cp_sync.append(digest + synced)
            copy.unlink()
            ours.append(_store_one(big, work / kind / f"store-{i}"))
            shutil.rmtree(work / kind / f"store-{i}")
        result[kind] = {
            "ingest": rss,
            "store_s": stats(ours),
            "sha512sum_cp_s": stats(cp),
            "sha512sum_cp_sync_s": stats(cp_sync),
            "ratio": statistics.median(cp) / statistics.median(ours),
            "ratio_sync": statistics.median(cp_sync) / statistics.median(ours),
        }
        shutil.rmtree(work / kind)
    return result


def print_big(r: dict[str, Any]) -> None:
    big_gb = r["big_bytes"] / 1024**3
    print(f"\nbig files: {big_gb:.1f} GiB beside {r['small_bytes'] / 1024**2:.0f} MiB")
    for kind in ("sparse", "dense"):
        k = r[kind]
        i = k["ingest"]
        print(
            f"  {kind}: ingest peak RSS {i['big']['peak_rss_mb']:.0f} MB "
            f"({i['big']['seconds']:.1f} s, exit {i['big']['exit']}) vs "
            f"{i['small']['peak_rss_mb']:.0f} MB ({i['small']['seconds']:.1f} s) for 20 MiB (goal <= 300 MB)"
        )
        print(
            f"  {kind}: hash + store {fmt(k['store_s'])} s; sha512sum + cp {fmt(k['sha512sum_cp_s'])} s "
            f"-> ratio {k['ratio']:.2f}; + sync {fmt(k['sha512sum_cp_sync_s'])} s "
            f"-> ratio {k['ratio_sync']:.2f} (goal >= 0.7)"
        )


def main_big(gigabytes: float, runs: int, work: Path | None, out: Path | None) -> int:
    """``scripts/bench --big [GB]``: only the big-file figures."""
    work_root = work or Path(
        tempfile.mkdtemp(
            prefix="bench-big-", dir=REPO.parent if os.access(REPO.parent, os.W_OK) else None
        )
    )
    try:
        results = bench_big(work_root, gigabytes, runs)
        print_big(results)
        if out:
            out.write_text(json.dumps(results, indent=2))
    finally:
        if work is None:
            shutil.rmtree(work_root, ignore_errors=True)
    return 0


def main() -> int:
    byte_compile()
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--size",
        type=int,
        action="append",
        help="passages per corpus (repeatable; default 1000 10000 100000)",
    )
    ap.add_argument(
        "--quick", action="store_true", help="1k passages, one run: a smoke test (< 2 minutes)"
    )
    ap.add_argument("--runs", type=int, help="runs per measurement (default 3; 1 with --quick)")
    ap.add_argument("--seed", type=int, default=20261128)
    ap.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        help="boilerplate dev corpus (default: %(default)s)",
    )
    ap.add_argument("--json", type=Path, help="write all figures here")
    ap.add_argument("--work", type=Path, help="keep the generated corpora and archives here")
    ap.add_argument("--big", type=float, nargs="?", const=2.0, metavar="GB",
                    help="only the big-file figures: peak RSS and throughput (default 2 GB)")  # fmt: skip
    ap.add_argument("--startup", action="store_true", help="only the start-up figures (seconds)")
    ap.add_argument("--ingest-jobs", type=int, metavar="PASSAGES",
                    help="only ingest --jobs 1 vs 2 vs cores, on a corpus of PASSAGES")  # fmt: skip
    args = ap.parse_args()
    if args.startup:
        print_startup(bench_startup())
        return 0
    if args.ingest_jobs:
        with tempfile.TemporaryDirectory(prefix="bench-jobs-", dir=REPO.parent) as tmp:
            bench_ingest_jobs(args.corpus, args.ingest_jobs, args.runs or 3, Path(tmp), args.seed)
        return 0
    if args.big is not None:
        return main_big(args.big, args.runs or 3, args.work, args.json)
    sizes = args.size or ([1000] if args.quick else [1000, 10000, 100000])
    runs = args.runs or (1 if args.quick else 3)
    if not args.corpus.is_dir():
        print(
            f"warning: no corpus at {args.corpus}: using made-up pages instead "
            "(figures are not comparable with runs on the real corpus)",
            file=sys.stderr,
        )
    # Work next to the repository rather than in the system temporary folder: a
    # shared /tmp (other jobs' files, heavy churn) made file creation 2-4x slower
    # there than elsewhere on the same disk of this machine.
    work_root = args.work or Path(
        tempfile.mkdtemp(
            prefix="bench-", dir=REPO.parent if os.access(REPO.parent, os.W_OK) else None
        )
    )
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "runs": runs,
        "seed": args.seed,
        "sizes": {},
    }
    started = time.perf_counter()
    try:
        for size in sizes:
            work = work_root / str(size)
            seeds = work / "seeds"
            if work.exists():
                shutil.rmtree(work)
            info = generate(args.corpus, seeds, size, args.seed)
            print(
                f"[{size}] corpus: {info['documents']} documents, {info['bytes'] / 1e6:.1f} MB",
                flush=True,
            )
            r: dict[str, Any] = {"corpus": info}
            r["clean"] = bench_clean(seeds, runs)
            print(f"[{size}] clean done", flush=True)
            r["ingest"], archive = bench_ingest(seeds, work, runs, info)
            print(f"[{size}] ingest done: ratio {r['ingest']['ratio']:.2f}", flush=True)
            r["search"] = bench_search(archive, args.seed)
            print(f"[{size}] search done: p50 {r['search']['p50_ms']:.1f} ms", flush=True)
            r["verify"] = bench_verify(seeds, archive, runs)
            print(f"[{size}] verify done", flush=True)
            r["incremental"] = bench_incremental(seeds, archive, info, args.seed, args.corpus)
            print(f"[{size}] incremental done", flush=True)
            results["sizes"][str(size)] = r
        largest = work_root / str(sizes[-1]) / "seeds"
        results["store"] = bench_store(largest, 300, work_root, max(runs, 3))  # cheap, noisy
        results["startup"] = bench_startup()
        results["seconds"] = time.perf_counter() - started
        print_report(results)
        print_startup(results["startup"])
        print(f"\n(total {results['seconds']:.0f} s)")
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
    finally:
        if args.work is None:
            shutil.rmtree(work_root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
