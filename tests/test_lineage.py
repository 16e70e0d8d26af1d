"""Lineage, re-derivation and the derived-data checks of verify."""

from __future__ import annotations

import functools
import importlib
import json
import sqlite3

import prov.model as pm
import pytest

from provarchive import Archive
from provarchive.cleaning.cleaner import CleanOptions
from provarchive.cleaning.passages import derive
from provarchive.errors import NotFoundError, PassageNotFoundError
from provarchive.lineage import to_json, to_prov, to_text

from .conftest import GO, SEED_NAME


def test_lineage_chain(seeded_archive: Archive, seed_bytes: bytes) -> None:
    lin = seeded_archive.lineage(GO)
    assert lin.seed.document == SEED_NAME
    assert lin.seed.source.endswith(f"seeds/{SEED_NAME}")
    assert lin.version.version == 1 and lin.version.object_id == f"provarchive:{SEED_NAME}"
    content = seeded_archive.store.root / lin.version.content_path
    assert content.read_bytes() == seed_bytes
    assert lin.derivation.cleaner == "provarchive-clean" and lin.derivation.current
    start, end = lin.passage.raw_span
    assert seed_bytes[start:end].decode() == lin.passage.text
    assert "Go Myong-hyun" in lin.passage.text
    text = to_text(lin)
    assert GO in text and lin.version.sha512 in text
    data = to_json(lin)
    assert data["passage"]["raw_span"] == [start, end]
    json.dumps(data)


def test_prov_json_round_trips_through_the_prov_package(seeded_archive: Archive) -> None:
    doc = to_prov(seeded_archive.lineage(GO))
    serialized = doc.serialize(indent=2)
    back = pm.ProvDocument.deserialize(content=serialized, format="json")
    assert back == doc
    data = json.loads(serialized)
    assert set(data) >= {
        "prefix",
        "entity",
        "activity",
        "agent",
        "wasGeneratedBy",
        "used",
        "wasDerivedFrom",
        "wasAssociatedWith",
    }
    assert len(data["entity"]) == 4 and len(data["activity"]) == 2
    passage = next(v for k, v in data["entity"].items() if k.startswith("pa:passage/"))
    assert passage["pa:sha256"] == seeded_archive.lineage(GO).passage.sha256


@pytest.mark.parametrize(
    "pid", ["nope", f"{SEED_NAME}@v1#99", f"{SEED_NAME}@v2#1", "other.txt@v1#1"]
)
def test_unknown_passage(seeded_archive: Archive, pid: str) -> None:
    with pytest.raises(PassageNotFoundError):
        seeded_archive.lineage(pid)


def _different_cleaner(
    monkeypatch: pytest.MonkeyPatch, options: CleanOptions | None = None
) -> None:
    """Make 'the current cleaner' one with other thresholds (a new rule set)."""
    options = options or CleanOptions(prose_words=30)
    mod = importlib.import_module("provarchive.derivations")
    monkeypatch.setattr(mod, "derive", functools.partial(derive, options=options))


def test_reclean_records_a_new_derivation_and_supersedes_the_old(
    seeded_archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    with seeded_archive.writer("test"):
        assert seeded_archive.reclean().changed == []  # same cleaner: nothing to do
    old = seeded_archive.view(SEED_NAME)
    assert old is not None and old.number == 1
    _different_cleaner(monkeypatch)
    with seeded_archive.writer("test"):
        report = seeded_archive.reclean([SEED_NAME])
    assert report.changed == [(SEED_NAME, 1, 2)]
    new = seeded_archive.view(SEED_NAME)
    assert new is not None and new.number == 2 and new.rules_digest != old.rules_digest
    superseded = seeded_archive.lineage(old.passages[0]["passage_id"], derivation=1)
    assert not superseded.derivation.current and superseded.derivation.superseded_at
    assert any(e.event_type == "re-derivation" for e in seeded_archive.events())
    # The superseded derivation was kept, so the archive still verifies...
    assert seeded_archive.verify(check_seeds=False).is_ok()
    # ...but the recorded rules are not this build's: re-deriving cannot be checked.
    monkeypatch.undo()
    report2 = seeded_archive.verify(check_seeds=False, rederive=True)
    assert "DERIVATION_UNAVAILABLE" in report2.codes() and report2.is_ok()


def test_a_removed_line_s_lineage_is_that_of_the_derivation_asked_for(
    seeded_archive: Archive, monkeypatch: pytest.MonkeyPatch, cli
) -> None:
    # Derivation 2 keeps no title (title_max_words=0): the seed's headline is dropped
    # too, so from #r2 on the removed lines of the two derivations differ.
    first = derive(seeded_archive.read_bytes(SEED_NAME))
    with monkeypatch.context() as m, seeded_archive.writer("test"):
        _different_cleaner(m, CleanOptions(title_max_words=0))
        assert seeded_archive.reclean([SEED_NAME]).changed == [(SEED_NAME, 1, 2)]
    second = seeded_archive.view(SEED_NAME)
    assert second is not None and second.number == 2
    assert len(second.removed) == len(first.removals) + 1
    r2, last = f"{SEED_NAME}@v1#r2", f"{SEED_NAME}@v1#r{len(second.removed)}"
    was_r2 = first.removals[1]  # what derivation 1 removed as #r2

    old = seeded_archive.lineage(r2, derivation=1)
    assert (old.derivation.number, old.derivation.current) == (1, False)
    assert old.derivation.rules_digest == first.rules_digest != second.rules_digest
    assert (old.passage.rule, old.passage.text) == (was_r2.rule, was_r2.text)
    assert old.passage.raw_span == (was_r2.raw_start, was_r2.raw_end)

    new = seeded_archive.lineage(r2, derivation=2)
    assert (new.derivation.number, new.derivation.current) == (2, True)
    assert new.passage.rule == "outside-body" and new.passage.text == first.title
    assert seeded_archive.lineage(r2) == new  # the current derivation by default

    # Derivation 1 removed one line fewer: it has no removed line numbered like the last.
    assert seeded_archive.lineage(last, derivation=2).derivation.number == 2
    with pytest.raises(PassageNotFoundError):
        seeded_archive.lineage(last, derivation=1)
    with pytest.raises(NotFoundError, match="has no derivation 3"):
        seeded_archive.lineage(r2, derivation=3)

    shown = cli("lineage", r2, "--derivation", "1", "--json")
    assert shown.exit_code == 0
    data = json.loads(shown.stdout)
    assert data["derivation"]["number"] == 1 and data["passage"]["rule"] == old.passage.rule


def test_verify_rederive_reports_drift_and_changes_nothing(seeded_archive: Archive) -> None:
    assert seeded_archive.verify(rederive=True).findings == []
    with sqlite3.connect(seeded_archive.home.catalog_path) as db:
        db.execute("UPDATE removals SET rule = 'navigation' WHERE ordinal = 1")
    report = seeded_archive.verify(rederive=True, check_seeds=False)
    assert "DERIVATION_DRIFT" in report.codes()
    assert report.is_ok()  # drift is a warning: the recorded result stays what it was
    with sqlite3.connect(seeded_archive.home.catalog_path) as db:
        assert db.execute("SELECT count(*) FROM derivations").fetchone() == (1,)
        assert db.execute("SELECT rule FROM removals WHERE ordinal = 1").fetchone() == (
            "navigation",
        )


def test_PASSAGE_DIGEST_MISMATCH_when_passage_text_is_tampered(seeded_archive: Archive) -> None:
    with sqlite3.connect(seeded_archive.home.catalog_path) as db:
        db.execute(
            "UPDATE passages SET text = replace(text, 'zero', 'one') WHERE passage_id = ?",
            (f"{SEED_NAME}@v1#6",),
        )
    report = seeded_archive.verify()
    assert not report.is_ok()
    assert {
        "PASSAGE_DIGEST_MISMATCH",
        "PASSAGE_SPAN_MISMATCH",
        "DERIVATION_OUTPUT_MISMATCH",
    } <= report.codes()
    assert all(f.document == SEED_NAME for f in report.errors())


def test_PASSAGE_SPAN_MISMATCH_when_a_span_moves(seeded_archive: Archive) -> None:
    with sqlite3.connect(seeded_archive.home.catalog_path) as db:
        db.execute("UPDATE passages SET raw_start = raw_start + 3 WHERE passage_id = ?", (GO,))
    report = seeded_archive.verify()
    assert [f.code for f in report.errors()] == ["PASSAGE_SPAN_MISMATCH"]
    assert GO in report.errors()[0].message


def test_DERIVATION_OUTPUT_MISMATCH(seeded_archive: Archive) -> None:
    with sqlite3.connect(seeded_archive.home.catalog_path) as db:
        db.execute(
            "UPDATE derivations SET output_sha256 = 'sha256:' || substr(output_sha256, 9, 60) || '0000'"
        )
    assert [f.code for f in seeded_archive.verify().errors()] == ["DERIVATION_OUTPUT_MISMATCH"]


def test_DERIVATION_MISSING_and_the_next_writer_repairs_it(seeded_archive: Archive) -> None:
    with sqlite3.connect(seeded_archive.home.catalog_path) as db:
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("DELETE FROM derivations")
    report = seeded_archive.verify()
    assert [f.code for f in report.errors()] == ["DERIVATION_MISSING"]
    again = seeded_archive.ingest()
    assert "derivation-completed" in [r.action for r in again.repairs]
    assert seeded_archive.verify().is_ok()
