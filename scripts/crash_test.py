"""Crash trials: kill a real writing command with SIGKILL, then check everything.

Commands (``--command``, repeatable; default: all of them): ``ingest``, ``add``,
``add-replace``, ``reclean``, ``reindex``, ``rebuild``, ``checkpoint`` (and
``withdraw`` once that command exists). Each trial (seeded, so reproducible):

1. writes generated news-like documents (each with a word of its own, ``dqNNNNNx``)
   into a fresh seeds folder and, for every command but a first ``ingest``,
   archives them first (the trial starts from a copy of that archive);
2. starts the command in a subprocess and kills it with SIGKILL at a moment
   chosen from the trial's seed, between the moment it holds the writer lock
   and the end of an uninterrupted run (measured once per command);
3. right after the kill, with no writing command in between: the catalog holds
   at least the events it held before; ``provarchive search`` finds every
   document the catalog has committed (by its own word); nothing is archived
   that was not in the seeds before the trial (or being added);
4. runs ``provarchive ingest`` (the next writing command: it repairs), which must
   exit 0, then checks: ``verify`` exits 0 with no error and no warning; ocfl-py's
   validator accepts the storage root and every object; the transparency log and
   the store agree; every seed is archived with the expected number of versions,
   the latest equal to the seed's bytes; the index holds every current passage;
   events were kept; no file is left behind (temporary files in the seeds
   folder, in staging, unfinished catalogs, stray index generations or files).

Usage: scripts/crash-test [N] [--command C]... [--seed S] [--docs D] [--keep DIR] [--json OUT]
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
"""When an ingest trial is killed: in the first 30% of a run, between 30% and 85%, or
while Whoosh writes the index (see :func:`start_and_kill`)."""
COMMANDS = ("ingest", "add", "add-replace", "reclean", "reindex", "rebuild", "checkpoint")
ADDED = "incoming/large-report.txt"
"""The document name ``add`` writes (``add-replace`` replaces an existing seed instead)."""
REPLACED = "batch-0/doc-0000.txt"


def token(n: int) -> str:
    """The word only document ``n`` holds (found by a prefix search for ``dq``)."""
    return f"dq{n:05d}x"


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
    lines.append(
        f"Document number {n} ends here with a closing sentence for the record {token(n)}."
    )
    return "\n\n".join(lines) + "\n"


def write_seeds(seeds: Path, rng: random.Random, count: int) -> None:
    seeds.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        folder = seeds / f"batch-{n % 7}"
        folder.mkdir(exist_ok=True)
        (folder / f"doc-{n:04d}.txt").write_text(make_document(rng, n), encoding="utf-8")


def write_large(path: Path, rng: random.Random, number: int, size: int) -> None:
    """A large text file (the input of ``add``), with a word of its own."""
    parts: list[str] = []
    total = 0
    k = 0
    while total < size:
        text = make_document(rng, number) if k == 0 else make_document(rng, 90000 + k)
        parts.append(text.replace(token(90000 + k), "later"))
        total += len(text)
        k += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(parts), encoding="utf-8")


def run(
    args: list[str], env: dict[str, str], timeout: float = 900
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


def _start(env: dict[str, str], archive: Path, args: list[str]) -> subprocess.Popen[bytes]:
    """Start ``provarchive ARGS`` and return once it holds the writer lock."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "provarchive", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for(proc, archive / "writer.lock.holder")
    return proc


def start_and_kill(
    env: dict[str, str], archive: Path, args: list[str], phase: str, rng: random.Random, work: float
) -> tuple[float, bool]:
    """Start a command and SIGKILL it in ``phase``; returns (seconds after the writer
    lock was taken, whether the process was still running when killed).

    The clock starts when the writer lock is held (the holder file appears), not at
    process start, so that kills land in the work and not in the interpreter's start.
    ``work`` is the duration of an uninterrupted run of the same work, measured first."""
    proc = _start(env, archive, args)
    start = time.monotonic()
    if phase == "index":
        # Kill at a random point while Whoosh is writing (its temporary exists).
        _wait_for(proc, archive / "index" / "g-*" / "passages.tmp")
        time.sleep(rng.uniform(0.0, 0.3) * work)
    else:
        lo, hi = {"early": (0.0, 0.3), "middle": (0.3, 0.85)}.get(phase, (0.0, 1.0))
        time.sleep(rng.uniform(lo, hi) * work)
    elapsed = time.monotonic() - start
    alive = proc.poll() is None
    if alive:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    return elapsed, alive


def timed(env: dict[str, str], archive: Path, args: list[str]) -> float:
    """Duration of a whole command from the moment it holds the writer lock."""
    proc = _start(env, archive, args)
    start = time.monotonic()
    if proc.wait() != 0:
        raise RuntimeError(f"calibration run of {args} failed")
    return time.monotonic() - start


@dataclass
class Trial:
    number: int
    seed: int
    command: str
    phase: str
    new_versions: bool
    killed_after_s: float = 0.0
    killed: bool = True
    ok: bool = False
    events_before: int = 0
    events_after: int = 0
    committed: int = 0
    found: int = 0
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


def open_catalog(archive: Path) -> sqlite3.Connection:
    """The live catalog, read-only (as a reader sees it: through the settings file)."""
    from provarchive.home import read_settings

    settings = read_settings(archive)
    path = archive / (settings.catalog if settings else "catalog.sqlite")
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def catalog_facts(archive: Path) -> tuple[int, dict[str, int]]:
    """(number of events, {document: number of versions}) of the live catalog."""
    try:
        db = open_catalog(archive)
    except sqlite3.Error:
        return 0, {}  # killed before the catalog file was created
    try:
        events = db.execute("SELECT count(*) FROM events").fetchone()[0]
        versions = dict(
            db.execute(
                "SELECT d.name, count(v.id) FROM documents d JOIN versions v "
                "ON v.document_id = d.id GROUP BY d.name"
            )
        )
    except sqlite3.Error:
        return 0, {}
    finally:
        db.close()
    return events, versions


def check_after_kill(trial: Trial, work: Path, env: dict[str, str], allowed: set[str]) -> None:
    """Before any writing command: events kept, every committed document searchable,
    nothing archived that was not a seed."""
    archive = work / "archive"
    events, versions = catalog_facts(archive)
    trial.events_after = events
    if events < trial.events_before:
        trial.problems.append(f"after the kill: {events} events, {trial.events_before} before")
    extra = sorted(set(versions) - allowed)
    if extra:
        trial.problems.append(f"after the kill: archived but never a seed: {extra[:3]}")
    # --everything: a committed document must be findable, and a line the cleaner dropped
    # is indexed too (kind removed); the token may sit in such a line.
    found = run(["search", "dq*", "--everything", "--json", "--limit", "100000"], env)
    if not versions and found.returncode in (1, 3, 8):
        return  # killed before anything was committed (or the index created): nothing to find
    if found.returncode not in (0, 1):
        trial.problems.append(
            f"search after the kill exited {found.returncode}: {found.stderr[-300:]}"
        )
        return
    data = json.loads(found.stdout or "{}")
    hits = {h["document"] for h in data.get("hits", [])}
    trial.committed, trial.found = len(versions), len(hits & set(versions))
    lost = sorted(set(versions) - hits)
    if lost:
        trial.problems.append(
            f"after the kill: {len(lost)} of {len(versions)} committed documents not found by "
            f"search (index_behind {data.get('index_behind')}), e.g. {lost[:3]}"
        )


def leftovers(work: Path) -> list[str]:
    """Files a finished writing command must not leave behind."""
    archive, seeds = work / "archive", work / "seeds"
    left = [str(p.relative_to(work)) for p in seeds.rglob(".provarchive-tmp-*")]
    staging = archive / "staging"
    if staging.is_dir():
        left += [str(p.relative_to(work)) for p in staging.iterdir()]
    left += [p.name for p in archive.glob("building-*")]
    catalogs = [p for p in archive.glob("catalog*.sqlite")]
    if len(catalogs) > 4:
        left.append(f"{len(catalogs)} catalog files (the live one and 3 backups at most)")
    index = archive / "index"
    generations = [p for p in index.glob("g-*")]
    if len(generations) > 2:
        left.append(f"{len(generations)} index generations (the live one and the previous)")
    left += [str(p.relative_to(work)) for p in index.glob(".CURRENT.*")]
    left += [str(p.relative_to(work)) for p in index.glob("g-*/*.tmp")]
    left += [str(p.relative_to(work)) for p in index.glob("g-*/.*.tmp")]
    return left


def check(
    trial: Trial,
    work: Path,
    env: dict[str, str],
    seeds: Path,
    versions_of: dict[str, set[int]],
    sources: dict[str, Path],
) -> None:
    """After the next writing command (an ingest, which repairs): the whole archive."""
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
            + ("" if errors else f"; stderr: {verify.stderr.strip()[-300:]!r}")
        )
    warnings = [f["code"] for f in report.get("findings", []) if f["severity"] == "warning"]
    if warnings:
        trial.problems.append(f"verify warnings after the repairing run: {warnings}")
    validated = ocfl_validate(work / "archive" / "ocfl")
    if validated.returncode != 0:
        detail = validated.stdout + validated.stderr
        trial.problems.append(f"ocfl-validate failed: {detail[-300:]}")
    check_log(trial, work, seeds)
    events, versions = catalog_facts(work / "archive")
    if events < max(trial.events_before, trial.events_after):
        trial.problems.append(
            f"events: {events} after the repair, {trial.events_before} before the trial"
        )
    db = open_catalog(work / "archive")
    try:
        # The index holds every passage and every removed line of a current derivation.
        passages = sum(
            db.execute(
                f"SELECT count(*) FROM {table} p JOIN derivations r ON r.id = p.derivation_id WHERE r.current"
            ).fetchone()[0]
            for table in ("passages", "removals")
        )
        trial.repairs = [
            row[0] for row in db.execute("SELECT detail FROM events WHERE event_type = 'recovery'")
        ]
    finally:
        db.close()
    names = sorted(p.relative_to(seeds).as_posix() for p in seeds.rglob("*.txt"))
    missing = [n for n in names if n not in versions]
    wrong = [n for n in names if n in versions and versions[n] not in versions_of.get(n, {1})]
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
        for name, source in sources.items():
            if name in versions and archive.read_bytes(name) != source.read_bytes():
                trial.problems.append(f"{name} is archived with other bytes than {source.name}")
        indexed = archive.home.fresh_engine().doc_count()
    if indexed != passages or passages == 0:
        trial.problems.append(
            f"index holds {indexed} entries, the catalog {passages} current passages and removed lines"
        )
    left = leftovers(work)
    if left:
        trial.problems.append(f"left behind: {left[:5]}")
    trial.ok = not trial.problems


# -- the commands ---------------------------------------------------------------------------


def _env(work: Path) -> dict[str, str]:
    env = dict(
        os.environ,
        PROVARCHIVE_ARCHIVE=str(work / "archive"),
        PROVARCHIVE_SEEDS=str(work / "seeds"),
        PROVARCHIVE_LOCK_TIMEOUT="120",
    )
    env.pop("PROVARCHIVE_DB_URL", None)
    return env


def archive_with_other_cleaner(work: Path) -> None:
    """Ingest the seeds as a build whose cleaner kept every line would have (same
    recorded cleaner): ``reclean`` then has a new derivation to write for most versions."""
    from dataclasses import replace

    import provarchive.derivations as derivations
    from provarchive import Archive, ArchiveConfig

    real = derivations.derive

    def keep_all(data: bytes, cleaner: str = "default") -> object:
        kept = real(data, cleaner="keep-all")
        made = real(data, cleaner=cleaner)
        return replace(
            kept,
            cleaner_name=made.cleaner_name,
            rules_digest=made.rules_digest,
            page=made.page,
            environment=made.environment,
        )

    derivations.derive = keep_all  # type: ignore[assignment]
    try:
        with Archive(ArchiveConfig(root=work / "archive", seeds=work / "seeds")) as a:
            a.ingest()
    finally:
        derivations.derive = real


@dataclass
class Base:
    """An archive every trial of one command starts from (copied), and the duration of
    an uninterrupted run of the command on it."""

    work: Path
    duration: float


def make_base(command: str, seed: int, docs: int) -> Base:
    rng = random.Random(seed)
    work = Path(tempfile.mkdtemp(prefix=f"crash-base-{command}-"))
    write_seeds(work / "seeds", rng, docs)
    write_large(work / "outside" / "large-report.txt", rng, 99999, 300_000)
    env = _env(work)
    if command == "reclean":
        archive_with_other_cleaner(work)
    elif command != "ingest" and run(["ingest", "--json"], env).returncode != 0:
        raise RuntimeError("setup ingest failed")
    probe = Path(tempfile.mkdtemp(prefix=f"crash-probe-{command}-"))
    try:
        shutil.copytree(work, probe, dirs_exist_ok=True)
        duration = timed(_env(probe), probe / "archive", command_args(command, probe))
    finally:
        shutil.rmtree(probe, ignore_errors=True)
    return Base(work, duration)


def command_args(command: str, work: Path) -> list[str]:
    large = str(work / "outside" / "large-report.txt")
    return {
        "ingest": ["ingest", "--json"],
        "add": ["add", large, "--as", ADDED, "--json"],
        "add-replace": ["add", large, "--as", REPLACED, "--replace", "--json"],
        "reclean": ["reclean", "--json"],
        "reindex": ["reindex", "--json"],
        "rebuild": ["rebuild", "--json"],
        "checkpoint": ["checkpoint"],
        "withdraw": ["withdraw", REPLACED, "--reason", "crash trial"],
    }[command]


def run_trial(
    number: int,
    seed: int,
    docs: int,
    keep: Path | None,
    command: str = "ingest",
    base: Base | None = None,
    phase: str | None = None,
) -> Trial:
    """One trial: run ``command`` and SIGKILL it in ``phase`` (by default, for an ingest,
    the trial number's phase, and for another command at any point of its run)."""
    rng = random.Random(seed)
    if phase is None:
        phase = PHASES[number % len(PHASES)] if command == "ingest" else "any"
    trial = Trial(number, seed, command, phase, new_versions=rng.random() < 0.5)
    if command != "ingest":
        trial.new_versions = False
    work = Path(tempfile.mkdtemp(prefix=f"crash-{command}-{number}-"))
    owned = base is None
    try:
        if base is None:
            base = make_base(command, seed, docs)
        shutil.copytree(base.work, work, dirs_exist_ok=True)
        seeds = work / "seeds"
        env = _env(work)
        archive = work / "archive"
        versions_of: dict[str, set[int]] = {}
        sources: dict[str, Path] = {}
        duration = base.duration
        if trial.new_versions:
            if run(["ingest", "--json"], env).returncode != 0:
                trial.problems.append("setup ingest failed")
                return trial
            for path in sorted(seeds.rglob("*.txt"))[::10]:
                path.write_text(
                    path.read_text(encoding="utf-8") + "\nA correction was added later.\n",
                    encoding="utf-8",
                )
                versions_of[path.relative_to(seeds).as_posix()] = {2}
            probe = Path(tempfile.mkdtemp(prefix="crash-probe-"))
            shutil.copytree(work, probe, dirs_exist_ok=True)
            duration = timed(_env(probe), probe / "archive", command_args(command, probe))
            shutil.rmtree(probe, ignore_errors=True)
        allowed = {p.relative_to(seeds).as_posix() for p in seeds.rglob("*.txt")}
        if command == "add":
            allowed.add(ADDED)
            versions_of[ADDED] = {1}
            sources[ADDED] = work / "outside" / "large-report.txt"
        elif command == "add-replace":
            versions_of[REPLACED] = {1, 2}
        trial.events_before = catalog_facts(archive)[0] if archive.exists() else 0
        elapsed, alive = start_and_kill(
            env, archive, command_args(command, work), phase, rng, duration
        )
        trial.killed_after_s, trial.killed = round(elapsed, 3), alive
        check_after_kill(trial, work, env, allowed)
        check(trial, work, env, seeds, versions_of, sources)
        return trial
    finally:
        if keep is not None and not trial.ok:
            shutil.copytree(work, keep / work.name, dirs_exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)
        if owned and base is not None:
            shutil.rmtree(base.work, ignore_errors=True)


def _line(k: int, n: int, t: Trial) -> str:
    status = "ok" if t.ok else "FAILED"
    kind = " (new versions)" if t.new_versions else ""
    when = f"after {t.killed_after_s:6.3f}s" if t.killed else "too late (already done)"
    repairs = (
        "; repairs: " + ", ".join(sorted({r.split(":")[0] for r in t.repairs})) if t.repairs else ""
    )
    return (
        f"{t.command:11s} trial {k + 1:3d}/{n} seed {t.seed} kill {t.phase:6s} {when}{kind}: "
        f"{status}; found {t.found}/{t.committed} committed; events {t.events_before}->"
        f"{t.events_after}{repairs}"
    )


def summary(command: str, trials: list[Trial], seconds: float) -> str:
    passed = sum(t.ok for t in trials)
    kept = sum(1 for t in trials if not any("events" in p for p in t.problems))
    searchable = sum(1 for t in trials if t.found == t.committed)
    killed = sum(1 for t in trials if t.killed)
    repaired = sum(1 for t in trials if t.repairs)
    return (
        f"{command}: {passed} of {len(trials)} valid, {kept} of {len(trials)} kept every event, "
        f"{searchable} of {len(trials)} found every committed document; {killed} killed "
        f"mid-run, {repaired} needed a logged repair ({seconds:.0f}s)"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", nargs="?", type=int, default=10, help="trials per command (default 10)")
    ap.add_argument(
        "--command", action="append", choices=[*COMMANDS, "withdraw"], help="(default: all)"
    )
    ap.add_argument("--seed", type=int, default=20261128, help="master seed (trial k uses seed+k)")
    ap.add_argument("--docs", type=int, default=200, help="documents per trial (default 200)")
    ap.add_argument("--keep", type=Path, help="copy the work folder of failed trials here")
    ap.add_argument("--json", type=Path, help="write every trial's outcome as JSON")
    args = ap.parse_args()
    commands = args.command or list(COMMANDS)
    everything: list[Trial] = []
    lines = []
    for command in commands:
        started = time.monotonic()
        base = make_base(command, args.seed, args.docs)
        trials = []
        try:
            for k in range(args.n):
                t = run_trial(k, args.seed + k, args.docs, args.keep, command, base)
                trials.append(t)
                print(_line(k, args.n, t), flush=True)
                for p in t.problems:
                    print(f"    {p}", flush=True)
        finally:
            shutil.rmtree(base.work, ignore_errors=True)
        lines.append(summary(command, trials, time.monotonic() - started))
        print(lines[-1], flush=True)
        everything += trials
    print("\n" + "\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps([asdict(t) for t in everything], indent=2))
    return 0 if all(t.ok for t in everything) else 1


if __name__ == "__main__":
    raise SystemExit(main())
