"""verify --fixity / --jobs, the rolling audits (--due, --sample, --budget), the text
verdict, and the standalone ``validate`` command on the official OCFL fixtures."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from provarchive import Archive
from provarchive.findings import FINDING_TYPES
from provarchive.store.ocfl import INVENTORY, SIDECAR, inventory_bytes, sidecar_bytes
from provarchive.store.validation import iter_object_roots

from .conftest import OCFL_FIXTURES, SEED_NAME, built_copy, ocfl_py_validate
from .test_verify_codes import DAMAGES, NOTE, build, content, flip

FIXTURES = OCFL_FIXTURES


@pytest.fixture
def built(archive: Archive, seeded: Path, tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return built_copy("verify-codes", archive, build, tmp_path_factory)


def run_json(cli, *args: str) -> tuple[int, dict]:
    result = cli(*args, "--json")
    assert "Traceback" not in result.stderr
    return result.exit_code, json.loads(result.stdout)


# -- --fixity and --jobs ---------------------------------------------------------------------


def test_fixity_checks_the_store_only(built: Archive, cli) -> None:
    built.close()
    built.home.catalog_path.unlink()  # nothing derived is looked at, not even the catalog
    code, doc = run_json(cli, "verify", "--fixity")
    assert code == 0, doc
    assert doc["checked"]["content_files"] == 3
    flip(content(built))
    code, doc = run_json(cli, "verify", "--fixity")
    assert code == 1
    assert [(f["code"], f["ocfl_code"]) for f in doc["findings"]] == [
        ("CONTENT_DIGEST_MISMATCH", "E092")
    ]
    assert not built.home.catalog_path.exists()


def test_jobs_do_not_change_the_findings(built: Archive, cli) -> None:
    flip(content(built))
    (built.store.object_dir(NOTE) / "inventory.json.sha512").write_text("0" * 128 + "  x\n")
    one = run_json(cli, "verify", "--fixity", "--jobs", "1")
    two = run_json(cli, "verify", "--fixity", "--jobs", "2")
    assert one == two and one[0] == 1


def test_verify_collects_garbage_less_often_while_it_runs_and_restores_the_collector(
    built: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full verify holds every catalog row at once: the collector's young generation
    is let grow to FEW_COLLECTIONS meanwhile (in the processes it forks too), and the
    old thresholds come back after, also when the run fails."""
    import gc

    import provarchive.verify as verify_module
    from provarchive.processes import FEW_COLLECTIONS

    before = gc.get_threshold()
    assert before[0] < FEW_COLLECTIONS  # pytest's own setting: the default
    seen: list[tuple[int, int, int]] = []
    real = verify_module._verify

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.get_threshold())
        return real(*args, **kwargs)

    monkeypatch.setattr(verify_module, "_verify", spy)
    assert built.verify().is_ok()
    assert seen == [(FEW_COLLECTIONS, *before[1:])]
    assert gc.get_threshold() == before

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the check failed")

    monkeypatch.setattr(verify_module, "_verify", failing)
    with pytest.raises(RuntimeError):
        built.verify()
    assert gc.get_threshold() == before


def test_overlapping_runs_with_fewer_collections_restore_the_first_thresholds() -> None:
    """Two threads' runs that overlap (A starts, B starts, A ends, B ends) leave the
    thresholds found before A, not the raised ones; collection turned off stays off."""
    import gc
    import threading

    from provarchive.processes import FEW_COLLECTIONS, few_collections

    before = gc.get_threshold()
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, tuple[int, int, int]] = {}

    def run_a() -> None:
        with few_collections():
            a_in.set()
            b_in.wait(10)
        a_out.set()

    def run_b() -> None:
        a_in.wait(10)
        with few_collections():
            b_in.set()
            a_out.wait(10)
            seen["b after a"] = gc.get_threshold()

    threads = [threading.Thread(target=run_a), threading.Thread(target=run_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert seen["b after a"] == (FEW_COLLECTIONS, *before[1:])  # B still runs: still raised
    assert gc.get_threshold() == before

    try:
        gc.set_threshold(0)
        with few_collections():
            assert gc.get_threshold()[0] == 0
        assert gc.get_threshold()[0] == 0
    finally:
        gc.set_threshold(*before)


def _second_file_in_head(objdir: Path) -> None:
    """A sound OCFL object that is not one of ours: its head state holds a second file."""
    inv = json.loads((objdir / INVENTORY).read_bytes())
    head, data = inv["head"], b"a second file\n"
    digest = hashlib.sha512(data).hexdigest()
    (objdir / head / "content" / "extra.txt").write_bytes(data)
    inv["manifest"][digest] = [f"{head}/content/extra.txt"]
    inv["versions"][head]["state"][digest] = ["extra.txt"]
    raw = inventory_bytes(inv)
    for where in (objdir, objdir / head):
        (where / INVENTORY).write_bytes(raw)
        (where / SIDECAR).write_bytes(sidecar_bytes(raw))


def test_fixity_reports_an_inventory_not_of_ours_and_counts_versions_whatever_the_jobs(
    built: Archive, cli
) -> None:
    """verify --fixity drops a sound object's inventory where it is validated (the pool's
    workers): the archive's own reading of it must still happen, and the counts stay."""
    _, before = run_json(cli, "verify", "--fixity", "--jobs", "1")
    objdir = built.store.object_dir(NOTE)
    _second_file_in_head(objdir)
    assert ocfl_py_validate(objdir.parent.parent.parent.parent)[0]
    runs = [run_json(cli, "verify", "--fixity", "--jobs", jobs) for jobs in ("1", "2")]
    assert runs[0] == runs[1]
    code, doc = runs[0]
    assert code == 1
    assert [(f["code"], f["document"]) for f in doc["findings"]] == [("INVENTORY_INVALID", NOTE)]
    assert doc["checked"]["versions"] == before["checked"]["versions"]
    assert doc["checked"]["content_files"] == before["checked"]["content_files"] + 1


OBJECT_LEVEL = sorted(
    code
    for code in DAMAGES
    if code
    in {
        "OBJECT_DECLARATION_INVALID",
        "INVENTORY_MISSING",
        "INVENTORY_INVALID",
        "INVENTORY_MODIFIED",
        "SIDECAR_MISSING",
        "SIDECAR_MISMATCH",
        "VERSION_INVENTORY_MISMATCH",
        "VERSION_DIR_MISSING",
        "VERSION_DIR_EXTRA",
        "CONTENT_MISSING",
        "CONTENT_DIGEST_MISMATCH",
        "CONTENT_SIZE_MISMATCH",
        "FIXITY_MISMATCH",
        "EXTRA_FILE",
        "OCFL_WARNING",
    }
)


def _ocfl_py_flags(root: Path, severity: str) -> set[str]:
    """The objects ocfl-py finds an error in (``severity`` "error"), or only warnings in."""
    from ocfl.validator import Validator

    flagged = set()
    for directory in iter_object_roots(root):
        v = Validator(log_warnings=True, log_errors=False)
        valid = v.validate_object(str(directory))
        if not valid if severity == "error" else valid and v.log.num_warnings > 0:
            flagged.add(directory.relative_to(root).as_posix())
    return flagged


def _flagged(doc: dict[str, Any], root: Path, severity: str) -> set[str]:
    """The objects our findings of ``severity`` name (for "warning": only warnings)."""

    def objects(level: str) -> set[str]:
        parts = {
            tuple(os.path.relpath(f["path"], root).split(os.sep)[:4])
            for f in doc["findings"]
            if f["severity"] == level and f["path"]
        }
        return {"/".join(p) for p in parts if len(p) == 4}

    errors = objects("error")
    return errors if severity == "error" else objects("warning") - errors


@pytest.mark.parametrize("code", OBJECT_LEVEL)
def test_ocfl_py_and_verify_fixity_flag_the_same_objects(
    built: Archive, seeded: Path, cli, code: str
) -> None:
    DAMAGES[code](built, seeded)
    root = built.store.root
    _, doc = run_json(cli, "verify", "--fixity")
    for severity in ("error", "warning"):
        assert _flagged(doc, root, severity) == _ocfl_py_flags(root, severity), doc["findings"]
    assert _flagged(doc, root, "warning" if code == "OCFL_WARNING" else "error")


# -- rolling audits --------------------------------------------------------------------------


def verified(a: Archive) -> dict[tuple[str, int], str | None]:
    with sqlite3.connect(a.home.catalog_path) as db:
        return {
            (name, number): when
            for name, number, when in db.execute(
                "SELECT d.name, v.number, v.verified_at FROM versions v "
                "JOIN documents d ON d.id = v.document_id"
            )
        }


def test_due_checks_versions_not_verified_lately_and_records_when(built: Archive, cli) -> None:
    assert set(verified(built).values()) == {None}
    code, doc = run_json(cli, "verify", "--due", "0d")
    assert code == 0, doc
    assert doc["checked"]["objects"] == 2 and doc["checked"]["versions"] == 3
    after = verified(built)
    assert None not in after.values()
    code, doc = run_json(cli, "verify", "--due", "30d")
    assert code == 0 and doc["checked"]["objects"] == 0  # all verified just now
    assert verified(built) == after


def test_due_reports_damage_and_keeps_the_damaged_version_due(built: Archive, cli) -> None:
    flip(content(built))
    code, doc = run_json(cli, "verify", "--due", "0d")
    assert code == 1
    assert ("CONTENT_DIGEST_MISMATCH", SEED_NAME) in {
        (f["code"], f["document"]) for f in doc["findings"]
    }
    marks = verified(built)
    assert marks[(SEED_NAME, 1)] is None and marks[(NOTE, 1)] is not None
    code, doc = run_json(cli, "verify", "--due", "30d")
    assert code == 1 and doc["checked"]["objects"] == 1  # only the damaged one is still due


def test_sample_checks_that_many_versions(built: Archive, cli, seeded: Path) -> None:
    for i in range(6):
        (seeded / f"page{i}.txt").write_text(f"Page {i} of the harbour report.\n")
    assert cli("ingest").exit_code == 0
    code, doc = run_json(cli, "verify", "--sample", "5")
    assert code == 0
    assert 1 <= doc["checked"]["objects"] <= 5
    assert sum(w is not None for w in verified(built).values()) >= 5  # whole objects marked
    before = json.loads(cli("stats", "--json").stdout)["last_verify"]
    code, doc = run_json(cli, "verify", "--sample", "0")
    assert doc["checked"]["objects"] == 0
    # an audit that checked nothing is no check: stats still shows the last real one
    assert json.loads(cli("stats", "--json").stdout)["last_verify"] == before


def test_budget_stops_once_spent_oldest_first(
    built: Archive, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_json(cli, "verify", "--due", "0d")
    with sqlite3.connect(built.home.catalog_path) as db:  # the seed was verified long ago
        db.execute(
            "UPDATE versions SET verified_at = '2020-01-01 00:00:00.000000' WHERE document_id = "
            "(SELECT id FROM documents WHERE name = ?)",
            (SEED_NAME,),
        )
    import provarchive.verify.objects as objects

    clock = iter(range(0, 10**6, 2))  # every look at the clock: two seconds later
    monkeypatch.setattr(objects.time, "monotonic", lambda: float(next(clock)))
    code, doc = run_json(cli, "verify", "--budget", "1s")
    assert code == 0
    assert doc["checked"]["objects"] == 1  # the first always runs, the budget stops the next
    assert verified(built)[(SEED_NAME, 1)] != "2020-01-01 00:00:00.000000"


def test_audit_options_are_parsed(cli, built: Archive) -> None:
    bad = cli("verify", "--due", "soon")
    assert bad.exit_code == 2 and "not a duration" in bad.stderr
    bare = cli("verify", "--due", "30")  # days or seconds? refused, never guessed
    assert bare.exit_code == 2 and "'30' has no unit: say 30d for days" in bare.stderr
    for option, value in (("--due", "999999d"), ("--due", "99999999999d"), ("--budget", "9e9w")):
        huge = cli("verify", option, value, "--json")  # as good as forever, no overflow
        assert huge.exit_code in (0, 2), huge.stderr
    assert json.loads(cli("verify", "--due", "999999d", "--json").stdout)["checked"]["objects"] == 0


@pytest.mark.parametrize("partial", [("--fixity",), ("--due", "0d"), ("--sample", "1")])
@pytest.mark.parametrize("asked", ["--rederive", "--checkpoint"])
def test_what_a_partial_verify_leaves_out_is_refused_not_ignored(
    cli, built: Archive, tmp_path: Path, partial: tuple[str, ...], asked: str
) -> None:
    checkpoint = tmp_path / "cp.txt"
    checkpoint.write_text(built.checkpoint())
    extra = [asked, str(checkpoint)] if asked == "--checkpoint" else [asked]
    result = cli("verify", *partial, *extra)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == (
        f"Error: {asked} needs a full verify; {partial[0]} checks only a part"
    )
    assert cli("verify", *extra).exit_code == 0  # the full verify does what it says


# -- text output -----------------------------------------------------------------------------


def test_text_says_ok_with_warnings_and_never_cuts(built: Archive, seeded: Path, cli) -> None:
    seed = seeded / SEED_NAME
    seed.write_bytes(seed.read_bytes() + b"\nAn edit not archived yet.\n")
    result = cli("verify")
    assert result.exit_code == 0
    assert "SEED_CHANGED" in result.stdout
    assert str(seed) in result.stdout.replace("\n", "")
    assert "OK with 1 warning(s)" in result.stdout
    assert result.stdout.index("SEED_CHANGED") < result.stdout.index("OK with 1 warning(s)")


def test_a_stray_file_in_the_storage_root_is_an_error_as_for_ocfl_py(built: Archive, cli) -> None:
    stray = built.store.root / ("a-rather-long-name-of-a-stray-file-" * 4 + ".txt")
    stray.write_text("x")
    result = cli("verify", "--fixity", "--json")
    assert result.exit_code == 1
    [finding] = json.loads(result.stdout)["findings"]
    assert (finding["code"], finding["severity"], finding["ocfl_code"]) == (
        "STRAY_PATH",
        "error",
        "E072",
    )
    assert finding["path"] == str(stray)


def test_text_shows_whole_digests(built: Archive, cli) -> None:
    flip(content(built))
    result = cli("verify", "--fixity")
    assert result.exit_code == 1
    digests = re.findall(r"\b[0-9a-f]{128}\b", result.stdout)
    assert len(digests) == 2 and "FAILED" in result.stdout


# -- validate --------------------------------------------------------------------------------


def fixtures(kind: str) -> list[str]:
    folder = FIXTURES / kind
    if not folder.is_dir():
        pytest.fail(f"the OCFL fixtures are missing: {folder} (set PROVARCHIVE_OCFL_FIXTURES)")
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("name", fixtures("bad-objects"))
def test_validate_rejects_each_bad_fixture_with_its_named_code(cli, name: str) -> None:
    code, doc = run_json(cli, "validate", str(FIXTURES / "bad-objects" / name))
    assert code == 1 and doc["ok"] is False
    named = set(re.findall(r"E\d{3}", name))
    assert named <= {f["ocfl_code"] for f in doc["findings"]}, doc["findings"]
    assert all(f["code"] in FINDING_TYPES for f in doc["findings"])


@pytest.mark.parametrize("name", fixtures("warn-objects"))
def test_validate_accepts_each_warn_fixture_with_its_named_warnings(cli, name: str) -> None:
    code, doc = run_json(cli, "validate", str(FIXTURES / "warn-objects" / name))
    assert code == 0 and doc["ok"] is True
    assert {f["ocfl_code"] for f in doc["findings"]} == set(re.findall(r"W\d{3}", name))
    assert {f["code"] for f in doc["findings"]} == {"OCFL_WARNING"}


@pytest.mark.parametrize("name", fixtures("good-objects"))
def test_validate_accepts_each_good_fixture_without_a_finding(cli, name: str) -> None:
    code, doc = run_json(cli, "validate", str(FIXTURES / "good-objects" / name))
    assert code == 0 and doc["findings"] == []


def test_validate_a_storage_root_and_text_output(built: Archive, cli) -> None:
    root = str(built.store.root)
    code, doc = run_json(cli, "validate", root)
    assert code == 0 and doc["checked"]["objects"] == 2
    assert {f["ocfl_code"] for f in doc["findings"]} <= {"W016"}  # our log's extension
    flip(content(built))
    result = cli("validate", root)
    assert result.exit_code == 1 and "E092" in result.stdout and "FAILED" in result.stdout
    missing = cli("validate", str(Path(root) / "nothing-here"))
    assert missing.exit_code == 1 and "STORE_MISSING (E069)" in missing.stdout
