"""Benchmark of the OCFL validator against bare hashing of the same storage root, same run.

Builds two storage roots with the archive's own writer (Store + Transaction):
- "small": --objects objects (default 10,000) of one small file each
  (100 B - 4 KiB, seeded), a tenth of them with a second version;
- "large": --large files (default 40) of --large-size bytes (default ~1 MB),
  one object each.
For each root it measures (best of --runs, after a warm-up pass, so all runs
read from the page cache):
- hash: walk the root and hash every file with sha512 + sha256 in one read,
  one process (the bare cost of a full fixity check);
- validate jobs=1 / jobs=2: ``validate_root`` (full digests);
- optionally (--ocfl-py) ocfl-py 2.1.0's validator on every object, for reference.
It prints the figures and the ratios validate/hash; it asserts nothing.

With --archive-docs N (and --archive-large M) it also ingests N small text documents
(and M of --large-size bytes) into real archives and times, as subprocesses with their
start-up: ``verify --fixity`` with --jobs 1 and 2, the full ``verify``, and
``validate`` on the storage root (with ``--json``; ``verify --fixity`` also with its
text output, as a cron job writes it), each against bare hashing of the same storage root
in one new Python process, its start-up included, as the goals of issues #14 and #18
say (the same hashing without start-up is printed too, and the start-up of an empty
Typer app, the floor under any command), and then each part of a full verify alone, in
process (store check, index audit, log checks, derived checks).

    .venv/bin/python scripts/bench_validation.py [--objects N] [--runs R] [--keep DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from provarchive.store.storage import Store
from provarchive.store.validation import validate_root

USER = {"name": "bench", "address": "mailto:bench@example.org"}
BATCH = 500


def build(root: Path, sizes: list[int], seed: int, second_every: int = 0) -> None:
    """A storage root with one object per size (a second version every ``second_every``)."""
    store = Store(root / "ocfl", root / "staging")
    store.initialize()
    rng = random.Random(seed)
    names = [f"doc-{i:06d}.txt" for i in range(len(sizes))]
    for start in range(0, len(names), BATCH):
        _write_batch(store, rng, names[start : start + BATCH], sizes[start : start + BATCH])
    if second_every:
        again = names[::second_every]
        for start in range(0, len(again), BATCH):
            chunk = again[start : start + BATCH]
            _write_batch(store, rng, chunk, [200] * len(chunk))


def _write_batch(store: Store, rng: random.Random, names: list[str], sizes: list[int]) -> None:
    with store.transaction() as txn:
        for name, size in zip(names, sizes, strict=True):
            data = rng.randbytes(size)
            staged = txn.stage(io.BytesIO(data))
            txn.prepare(
                name,
                staged,
                current=store.load(name),
                created="2026-01-01T00:00:00Z",
                message="bench",
                user=USER,
            )
        txn.commit()
        txn.close()


def hash_all(root: Path) -> tuple[int, int]:
    """(files, bytes): every file of the tree hashed with sha512 + sha256 in one read."""
    files = size = 0
    buffer = bytearray(1024 * 1024)
    view = memoryview(buffer)
    for directory, _dirs, names in os.walk(root):
        for name in names:
            h512, h256 = hashlib.sha512(), hashlib.sha256()
            with open(os.path.join(directory, name), "rb", buffering=0) as f:
                while n := f.readinto(buffer):
                    h512.update(view[:n])
                    h256.update(view[:n])
                    size += n
            h512.hexdigest()
            h256.hexdigest()
            files += 1
    return files, size


def ocfl_py_all(root: Path) -> None:
    import ocfl.validator

    for path in sorted(root.glob("*/*/*/*")):
        validator = ocfl.validator.Validator()
        if not validator.validate_object(str(path)):
            raise SystemExit(f"ocfl-py rejects {path}")


def best(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """(wall, cpu) seconds of the fastest of ``runs`` runs, after a warm-up run.

    The warm-up puts every file in the page cache, so all runs read from memory.
    CPU time is this process's alone: on a machine shared with other work it is
    the steadier figure for one-process runs (a pool's workers are not counted).
    """
    fn()
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def measure(label: str, root: Path, runs: int, with_ocfl_py: bool) -> None:
    files, size = hash_all(root)
    report = validate_root(root)
    if not report.is_valid():
        raise SystemExit(
            f"{label}: the validator rejects the benchmark root: {report.all_issues()[:3]}"
        )
    hashed = sum(o.bytes_read for o in report.objects)
    h_wall, h_cpu = best(lambda: hash_all(root), runs)
    v1_wall, v1_cpu = best(lambda: validate_root(root), runs)
    v2_wall, _ = best(lambda: validate_root(root, jobs=2), runs)
    print(
        f"\n{label}: {len(report.objects)} objects, {files} files, {size / 1e6:.1f} MB "
        f"({hashed / 1e6:.1f} MB of content hashed by validate); load {_load()}"
    )
    print(f"  {'':32} {'wall s':>8} {'cpu s':>8} {'wall/hash':>10} {'cpu/hash':>9}")
    print(f"  {'hash sha512+sha256, 1 process':32} {h_wall:8.3f} {h_cpu:8.3f} {1:10.2f} {1:9.2f}")
    print(
        f"  {'validate_root jobs=1':32} {v1_wall:8.3f} {v1_cpu:8.3f} "
        f"{v1_wall / h_wall:10.2f} {v1_cpu / h_cpu:9.2f}"
    )
    print(f"  {'validate_root jobs=2':32} {v2_wall:8.3f} {'':>8} {v2_wall / h_wall:10.2f}")
    print(
        f"  bare hashing: {size / 1e6 / h_wall:.1f} MB/s; validate jobs=1 runs at "
        f"{h_wall / v1_wall:.2f}x its speed, jobs=2 at {h_wall / v2_wall:.2f}x"
    )
    if with_ocfl_py:
        p_wall, p_cpu = best(lambda: ocfl_py_all(root), 1)
        print(
            f"  {'ocfl-py 2.1.0 validator':32} {p_wall:8.3f} {p_cpu:8.3f} "
            f"{p_wall / h_wall:10.2f} {p_cpu / h_cpu:9.2f}"
        )


def _burn(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def two_process_speedup() -> float:
    """How much faster 2 processes run a pure-CPU task than one: ~2 on an idle 2-core machine."""
    n = 2_000_000
    start = time.perf_counter()
    _burn(n)
    _burn(n)
    serial = time.perf_counter() - start
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2) as pool:
        list(pool.map(_burn, [n, n]))
    return serial / (time.perf_counter() - start)


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> None:
    from bench import byte_compile  # scripts/ is on the path: this file's folder

    byte_compile()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=40)
    parser.add_argument("--large-size", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--keep", type=Path, help="build the roots here and keep them (reused if present)"
    )
    parser.add_argument("--ocfl-py", action="store_true", help="also time ocfl-py's validator")
    parser.add_argument("--archive-docs", type=int, default=0, help="archive of N small documents")
    parser.add_argument("--archive-large", type=int, default=0, help="archive of M large documents")
    parser.add_argument("--only-archives", action="store_true", help="skip the bare store roots")
    args = parser.parse_args(argv)
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-validation-"))
    rng = random.Random(args.seed)
    if args.archive_docs:
        measure_archive("archive, small documents", base / "archive-small", args, large=False)
    if args.archive_large:
        measure_archive("archive, large documents", base / "archive-large", args, large=True)
    if args.only_archives:
        return
    small, large = base / "small", base / "large"
    t0 = time.perf_counter()
    if not (small / "ocfl").exists():
        build(
            small, [rng.randint(100, 4096) for _ in range(args.objects)], args.seed, second_every=10
        )
    if not (large / "ocfl").exists():
        build(large, [args.large_size + rng.randint(0, 4096) for _ in range(args.large)], args.seed)
    print(
        f"roots under {base} (built in {time.perf_counter() - t0:.1f} s); cpus: {os.cpu_count()}; "
        f"python {sys.version.split()[0]}"
    )
    print(
        f"2-process speedup of a pure-CPU task right now: {two_process_speedup():.2f}x "
        "(jobs=2 figures mean little below ~1.8)"
    )
    measure("small objects", small / "ocfl", args.runs, args.ocfl_py)
    measure("large files", large / "ocfl", args.runs, args.ocfl_py)


WORDS = [
    "harbour",
    "winter",
    "night",
    "council",
    "report",
    "market",
    "street",
    "river",
    "bridge",
    "school",
    "station",
    "weather",
    "price",
    "train",
    "letter",
    "mayor",
    "storm",
    "village",
    "museum",
    "library",
    "festival",
]


def build_archive(base: Path, count: int, size: int, seed: int) -> Path:
    """An archive of ``count`` text documents of about ``size`` bytes, ingested for real."""
    from provarchive import Archive, ArchiveConfig

    seeds, root = base / "seeds", base / "archive"
    if (root / "ocfl").exists():
        return root
    seeds.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    for i in range(count):
        lines, length = [], 0
        while length < size:
            line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))).capitalize() + "."
            lines.append(line)
            length += len(line) + 1
        (seeds / f"page-{i:06d}.txt").write_text("\n".join(lines) + "\n")
    with Archive(ArchiveConfig(root=root, seeds=seeds)) as archive:
        archive.ingest()
    return root


def run_cli(args: list[str], env: dict[str, str]) -> float:
    import subprocess

    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "provarchive", *args], env=env, capture_output=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"provarchive {' '.join(args)} failed: {done.stdout[-500:]!r}")
    return time.perf_counter() - start


def run_hash_process(root: Path) -> float:
    """Wall seconds of a new Python process that hashes every file of ``root``
    (:func:`hash_all`, sha512 + sha256 in one read), its start-up included."""
    import inspect
    import subprocess

    # hash_all's own source, so that the process imports nothing but os and hashlib.
    code = (
        "from __future__ import annotations\nimport hashlib, os, sys\n"
        + inspect.getsource(hash_all)
        + "hash_all(sys.argv[1])\n"
    )
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(root)], check=True)
    return time.perf_counter() - start


TYPER_FLOOR = """
import typer
app = typer.Typer()
@app.command()
def verify(fixity: bool = False) -> None: pass
@app.command()
def other() -> None: pass
app()
"""
"""A two-command Typer app that does nothing: the start-up no command of this CLI can go
under (the stack is chosen: Typer), printed beside the commands' own times."""


def run_typer_floor() -> float:
    import subprocess

    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", TYPER_FLOOR, "verify", "--fixity"], check=True)
    return time.perf_counter() - start


def measure_archive(label: str, base: Path, args: argparse.Namespace, *, large: bool) -> None:
    count = args.archive_large if large else args.archive_docs
    size = args.large_size if large else 1500
    t0 = time.perf_counter()
    root = build_archive(base, count, size, args.seed)
    env = dict(os.environ, PROVARCHIVE_ARCHIVE=str(root), PROVARCHIVE_SEEDS=str(base / "seeds"))
    store = root / "ocfl"
    files, total = hash_all(store)
    print(
        f"\n{label}: {count} documents, {files} files, {total / 1e6:.1f} MB in the storage root "
        f"(built in {time.perf_counter() - t0:.0f} s); load {_load()}"
    )
    h_inner, _ = best(lambda: hash_all(store), args.runs)
    # The goals' baseline: hashing "in one Python process, start-up included", like the
    # commands it is compared with, which are timed as subprocesses too.
    h_wall = min(run_hash_process(store) for _ in range(max(1, args.runs) + 1))
    rows = [
        ("verify --fixity --jobs 1", ["verify", "--fixity", "--jobs", "1", "--json"]),
        ("verify --fixity --jobs 2", ["verify", "--fixity", "--jobs", "2", "--json"]),
        ("  the same, text output", ["verify", "--fixity", "--jobs", "2"]),
        ("verify (full) --jobs 2", ["verify", "--jobs", "2", "--json"]),
        ("validate ROOT --jobs 1", ["validate", str(store), "--jobs", "1", "--json"]),
        ("validate ROOT --jobs 2", ["validate", str(store), "--jobs", "2", "--json"]),
    ]
    print(f"  {'':34} {'wall s':>8} {'x hash':>8} {'speed vs hash':>14}")
    print(f"  {'hash sha512+sha256, 1 process':34} {h_wall:8.3f} {1:8.2f} {1:14.2f}")
    print(f"  {'  the same without its start-up':34} {h_inner:8.3f} {h_inner / h_wall:8.2f}")
    floor = min(run_typer_floor() for _ in range(max(1, args.runs) + 1))
    print(f"  {'an empty Typer app (start-up only)':34} {floor:8.3f} {floor / h_wall:8.2f}")
    for name, cli_args in rows:
        wall = min(run_cli(cli_args, env) for _ in range(max(1, args.runs)))
        print(f"  {name:34} {wall:8.3f} {wall / h_wall:8.2f} {h_wall / wall:14.2f}")
    # Where the time goes: the validation alone, in this process, against hashing alone.
    for jobs in (1, 2):
        inner, _ = best(lambda j=jobs: validate_root(store, jobs=j), args.runs)  # type: ignore[misc]
        print(
            f"  {f'  validate_root, jobs={jobs}, no start-up':34} {inner:8.3f} "
            f"{inner / h_inner:8.2f} {h_inner / inner:14.2f}  (against hashing without start-up)"
        )
    verify_parts(root, base / "seeds", args.runs)


def verify_parts(root: Path, seeds: Path, runs: int) -> None:
    """Where a full verify's CPU goes: each of its parts alone, in this process, one
    process (the side checks are what ``--jobs 2`` runs in processes of their own)."""
    from provarchive import Archive, ArchiveConfig
    from provarchive.search.sync import audit_index
    from provarchive.verify import side

    with Archive(ArchiveConfig(root=root, seeds=seeds)) as archive:
        home = archive.home
        parts: list[tuple[str, Callable[[], object]]] = [
            ("store check (--fixity), jobs=1", lambda: archive.verify(fixity=True)),
            ("index audit", lambda: audit_index(home)),
            ("log checks", lambda: side.log_check(home, side.LogRequest())),
            ("derived checks", lambda: side.sound_versions(home)),
            ("full verify, jobs=1", lambda: archive.verify()),
        ]
        print("  parts of a full verify, each alone in this process:")
        for name, work in parts:
            seconds, _ = best(work, runs)
            print(f"    {name:32} {seconds:8.3f}")


if __name__ == "__main__":
    main()
