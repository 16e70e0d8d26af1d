"""Crash trials: kill a real `provarchive ingest` with SIGKILL, run it again, check everything.

Each trial (seeded, so reproducible):

1. writes a few hundred generated news-like documents into a fresh seeds folder;
2. phase A: starts `provarchive ingest` in a subprocess; phase B (half the
   trials): first ingests everything, then edits a tenth of the seeds so that the
   killed run is one that writes new versions;
3. kills the running ingest with SIGKILL at a moment chosen from the trial's
   seed: early, middle, or while the search index is being written (when
   Whoosh's ``passages.tmp`` exists);
4. runs `provarchive ingest` again, which must exit 0;
5. checks: `provarchive verify` exits 0 with no error finding; ocfl-py's
   validator accepts the storage root; every seed is archived exactly once
   (one version, two for edited seeds; the latest equal to the seed's bytes);
   every current passage is in the index (verify's index audit, plus a search
   count equal to the catalog's passage count).

Usage: scripts/crash-test [N] [--seed S] [--docs D] [--keep DIR] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

WORDS = [
    "the",
    "council",
    "said",
    "on",
    "monday",
    "that",
    "its",
    "plan",
    "for",
    "the",
    "harbour",
    "would",
    "cost",
    "more",
    "than",
    "expected",
    "after",
    "months",
    "of",
    "talks",
    "residents",
    "and",
    "officials",
    "agreed",
    "to",
    "review",
    "the",
    "budget",
    "next",
    "spring",
    "while",
    "critics",
    "warned",
    "that",
    "the",
    "river",
    "crossing",
    "could",
    "flood",
    "during",
    "the",
    "coldest",
    "winter",
    "nights",
    "a",
    "spokesperson",
    "for",
    "the",
    "ministry",
    "declined",
    "to",
    "comment",
    "on",
    "the",
    "report",
    "published",
    "late",
    "in",
    "the",
    "week",
]
FURNITURE = [
    "Advertisement",
    "Share this article",
    "Photo: Getty Images",
    "Related articles",
    "By Staff Reporter",
    "0",
]
PHASES = ("early", "middle", "index")


def make_document(rng: random.Random, n: int) -> str:
    lines = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 11))).capitalize()]
    lines.append(rng.choice(FURNITURE))
    for _ in range(rng.randint(3, 8)):
        sentence_count = rng.randint(2, 4)
        para = " ".join(
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20))).capitalize() + "."
            for _ in range(sentence_count)
        )
        lines.append(para)
        if rng.random() < 0.3:
            lines.append(rng.choice(FURNITURE))
    lines.append(f"Document number {n} ends here with a closing sentence for the record.")
    return "\n\n".join(lines) + "\n"


def write_seeds(seeds: Path, rng: random.Random, count: int) -> None:
    seeds.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        folder = seeds / f"batch-{n % 7}"
        folder.mkdir(exist_ok=True)
        (folder / f"doc-{n:04d}.txt").write_text(make_document(rng, n), encoding="utf-8")


def run(
    args: list[str], env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "provarchive", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _wait_for(proc: subprocess.Popen[bytes], path: Path) -> bool:
    """Wait until ``path`` exists (a glob pattern in its last parts) or the process ends."""
    pattern = path.relative_to(path.anchor).as_posix()
    root = Path(path.anchor)
    while proc.poll() is None:
        if next(root.glob(pattern), None) is not None:
            return True
        time.sleep(0.001)
    return False


def ingest_and_kill(
    env: dict[str, str], archive: Path, phase: str, rng: random.Random, work: float
) -> tuple[float, bool]:
    """Start an ingest and SIGKILL it in ``phase``; returns (seconds after the writer
    lock was taken, whether the process was still running when killed).

    The clock starts when the writer lock is held (the holder file appears), not at
    process start, so that kills land in the work and not in the interpreter's start.
    ``work`` is the duration of an uninterrupted run of the same work, measured first.
    """
    proc = _start_ingest(env, archive)
    start = time.monotonic()
    if phase == "index":
        # Kill at a random point while Whoosh is writing (its temporary exists).
        _wait_for(proc, archive / "index" / "g-*" / "passages.tmp")
        time.sleep(rng.uniform(0.0, 0.3) * work)
    else:
        lo, hi = (0.0, 0.3) if phase == "early" else (0.3, 0.85)
        time.sleep(rng.uniform(lo, hi) * work)
    elapsed = time.monotonic() - start
    alive = proc.poll() is None
    if alive:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    return elapsed, alive


def _start_ingest(env: dict[str, str], archive: Path) -> subprocess.Popen[bytes]:
    """Start ``provarchive ingest`` and return once it holds the writer lock."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "provarchive", "ingest", "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for(proc, archive / "writer.lock.holder")
    return proc


def timed_ingest(env: dict[str, str], archive: Path) -> float:
    """Duration of a whole ingest from the moment it holds the writer lock."""
    proc = _start_ingest(env, archive)
    start = time.monotonic()
    if proc.wait() != 0:
        raise RuntimeError("calibration ingest failed")
    return time.monotonic() - start


@dataclass
class Trial:
    number: int
    seed: int
    phase: str
    new_versions: bool
    killed_after_s: float = 0.0
    killed: bool = True
    ok: bool = False
    problems: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)


def ocfl_validate(root: Path) -> subprocess.CompletedProcess[str]:
    """ocfl-py's own command-line validator on a storage root and on every object in it.

    ocfl-py 2.1.0 checks only the structure of a storage root it is given (its
    objects' errors are neither printed nor reflected in the exit code), so each
    object directory is passed too: the validator then exits 1 if any is invalid.
    A missing validator is an error, never a pass."""
    script = Path(sys.executable).parent / "ocfl-validate.py"
    if not script.exists():
        raise SystemExit(f"ocfl-py's validator is not installed ({script}): install the dev extras")
    objects = sorted(str(d.parent) for d in root.glob("*/*/*/*/0=ocfl_object_1.1"))
    return subprocess.run(
        [sys.executable, str(script), "-v", str(root), *objects],
        capture_output=True,
        text=True,
        timeout=600,
    )


def check_log(trial: Trial, work: Path, seeds: Path) -> None:
    """The transparency log and the store agree: one version leaf per stored version."""
    from provarchive import Archive, ArchiveConfig
    from provarchive.ledger import open_log, store_states
    from provarchive.tlog.leaf import EVENT_VERSION, Leaf, parse_any_leaf

    with Archive(ArchiveConfig(root=work / "archive", seeds=seeds)) as archive:
        stored = {
            (name, sv.number, sv.sha512)
            for name, state in store_states(archive.home).items()
            for sv in state.versions
        }
        with open_log(archive.home) as tl:
            leaves = [parse_any_leaf(d) for d in tl.iter_entries(0, tl.size)]
    logged = [
        (leaf.document, leaf.version, leaf.sha512)
        for leaf in leaves
        if isinstance(leaf, Leaf) and leaf.type == EVENT_VERSION
    ]
    if sorted(logged) != sorted(stored):
        trial.problems.append(
            f"log and store disagree: {len(logged)} version leaves, {len(stored)} stored "
            f"versions, e.g. {sorted(set(logged) ^ stored)[:3]}"
        )


def check(trial: Trial, work: Path, env: dict[str, str], seeds: Path, edited: set[str]) -> None:
    second = run(["ingest", "--json"], env)
    if second.returncode != 0:
        trial.problems.append(
            f"second ingest exited {second.returncode}: {second.stderr.strip()[-300:]}"
        )
        return
    verify = run(["verify", "--json"], env)
    report = json.loads(verify.stdout or "{}")
    errors = [f for f in report.get("findings", []) if f["severity"] == "error"]
    if verify.returncode != 0 or errors:
        trial.problems.append(
            f"verify exited {verify.returncode}: {[f['code'] + ' ' + f['message'] for f in errors][:5]}"
        )
    warnings = [f["code"] for f in report.get("findings", []) if f["severity"] == "warning"]
    if warnings:
        trial.problems.append(f"verify warnings after the repairing run: {warnings}")
    validated = ocfl_validate(work / "archive" / "ocfl")
    if validated.returncode != 0:
        detail = validated.stdout + validated.stderr
        trial.problems.append(f"ocfl-validate failed: {detail[-300:]}")
    check_log(trial, work, seeds)
    from provarchive.home import read_settings

    settings = read_settings(work / "archive")
    db = sqlite3.connect(work / "archive" / (settings.catalog if settings else "catalog.sqlite"))
    try:
        versions = dict(
            db.execute(
                "SELECT d.name, count(v.id) FROM documents d JOIN versions v ON v.document_id = d.id GROUP BY d.name"
            )
        )
        # The index holds every passage and every removed line of a current derivation.
        passages = sum(
            db.execute(
                f"SELECT count(*) FROM {table} p JOIN derivations r ON r.id = p.derivation_id WHERE r.current"
            ).fetchone()[0]
            for table in ("passages", "removals")
        )
        current_passages = db.execute(
            "SELECT count(*) FROM passages p JOIN derivations r ON r.id = p.derivation_id "
            "JOIN versions v ON v.id = r.version_id JOIN documents d ON d.id = v.document_id "
            "WHERE r.current AND v.number = d.head"
        ).fetchone()[0]
        trial.repairs = [
            row[0] for row in db.execute("SELECT detail FROM events WHERE event_type = 'recovery'")
        ]
    finally:
        db.close()
    names = sorted(p.relative_to(seeds).as_posix() for p in seeds.rglob("*.txt"))
    missing = [n for n in names if n not in versions]
    wrong = [n for n in names if n in versions and versions[n] != (2 if n in edited else 1)]
    extra = sorted(set(versions) - set(names))
    if missing or wrong or extra:
        trial.problems.append(
            f"versions: {len(missing)} missing, {len(wrong)} wrong count, {len(extra)} extra (e.g. {(missing + wrong + extra)[:3]})"
        )
    from provarchive import Archive, ArchiveConfig

    with Archive(ArchiveConfig(root=work / "archive", seeds=seeds)) as archive:
        for name in names:
            if name in versions and archive.read_bytes(name) != (seeds / name).read_bytes():
                trial.problems.append(f"the latest version of {name} is not the seed's bytes")
        indexed = archive.home.fresh_engine().doc_count()
    if indexed != passages or current_passages == 0:
        trial.problems.append(
            f"index holds {indexed} entries, the catalog {passages} current passages and removed lines"
        )
    trial.ok = not trial.problems


def run_trial(number: int, seed: int, docs: int, keep: Path | None) -> Trial:
    rng = random.Random(seed)
    phase = PHASES[number % len(PHASES)]
    trial = Trial(number, seed, phase, new_versions=rng.random() < 0.5)
    work = Path(tempfile.mkdtemp(prefix=f"crash-{number}-"))
    try:
        seeds = work / "seeds"
        write_seeds(seeds, rng, docs)
        env = dict(
            os.environ,
            PROVARCHIVE_ARCHIVE=str(work / "archive"),
            PROVARCHIVE_SEEDS=str(seeds),
            PROVARCHIVE_LOCK_TIMEOUT="120",
        )
        env.pop("PROVARCHIVE_DB_URL", None)
        edited: set[str] = set()
        archive = work / "archive"
        # Measure the uninterrupted work first (on a throwaway archive), then redo it
        # and kill it part-way.
        env_probe = dict(env, PROVARCHIVE_ARCHIVE=str(work / "probe"))
        duration = timed_ingest(env_probe, work / "probe")
        if trial.new_versions:
            if run(["ingest", "--json"], env).returncode != 0:
                trial.problems.append("setup ingest failed")
                return trial
            for path in sorted(seeds.rglob("*.txt"))[::10]:
                path.write_text(
                    path.read_text(encoding="utf-8") + "\nA correction was added later.\n",
                    encoding="utf-8",
                )
                edited.add(path.relative_to(seeds).as_posix())
            duration = timed_ingest(env_probe, work / "probe")
        shutil.rmtree(work / "probe")
        elapsed, alive = ingest_and_kill(env, archive, phase, rng, duration)
        trial.killed_after_s, trial.killed = round(elapsed, 3), alive
        check(trial, work, env, seeds, edited)
        return trial
    finally:
        if keep is not None and not trial.ok:
            shutil.copytree(work, keep / work.name, dirs_exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", nargs="?", type=int, default=10, help="number of trials (default 10)")
    ap.add_argument("--seed", type=int, default=20261128, help="master seed (trial k uses seed+k)")
    ap.add_argument("--docs", type=int, default=300, help="documents per trial (default 300)")
    ap.add_argument("--keep", type=Path, help="copy the work folder of failed trials here")
    ap.add_argument("--json", type=Path, help="write every trial's outcome as JSON")
    args = ap.parse_args()
    trials = []
    started = time.monotonic()
    for k in range(args.n):
        t = run_trial(k, args.seed + k, args.docs, args.keep)
        trials.append(t)
        status = "ok" if t.ok else "FAILED"
        kind = "new versions" if t.new_versions else "first ingest"
        when = f"after {t.killed_after_s:6.3f}s" if t.killed else "too late (already done)"
        repairs = (
            "; repairs: " + ", ".join(sorted({r.split(":")[0] for r in t.repairs}))
            if t.repairs
            else ""
        )
        print(
            f"trial {k + 1:3d}/{args.n} seed {t.seed} kill {t.phase:6s} {when} ({kind}): {status}{repairs}",
            flush=True,
        )
        for p in t.problems:
            print(f"    {p}", flush=True)
    passed = sum(t.ok for t in trials)
    by_phase = {p: sum(1 for t in trials if t.phase == p and t.ok) for p in PHASES}
    repaired = sum(1 for t in trials if t.repairs)
    killed = sum(1 for t in trials if t.killed)
    print(
        f"\n{passed}/{len(trials)} trials ended with a valid archive and every document present "
        f"(passed by kill phase: {by_phase}; {killed} killed mid-run, {repaired} needed a logged repair) "
        f"in {time.monotonic() - started:.0f}s"
    )
    if args.json:
        args.json.write_text(json.dumps([asdict(t) for t in trials], indent=2))
    return 0 if passed == len(trials) else 1


if __name__ == "__main__":
    raise SystemExit(main())
