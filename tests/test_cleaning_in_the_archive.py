"""Issue #11 through the archive: nothing archived is unfindable, plain documents keep every
line, removed lines are searchable on request, publication dates are found and filterable."""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from provarchive import Archive
from provarchive.cleaning.text import normalise

from .conftest import SEED_NAME

LICENSES = Path("/usr/share/common-licenses")
DATED = """\
Harbour authority approves the new ferry terminal
By Jane Doe
Published: 3 March 2024
Share this article
The harbour authority approved the new ferry terminal on Tuesday after a two-year review of its plans.
Construction is expected to begin in the autumn and to last about eighteen months, the authority said.
Advertisement
"""


def _every_line_is_in_a_passage(archive: Archive, name: str, raw: bytes) -> None:
    view = archive.view(name)
    assert view is not None and view.removed == []
    kept = "\n".join(p["text"] for p in view.passages)
    for line in raw.decode("utf-8", "replace").splitlines():
        if normalise(line):
            assert normalise(line) in kept, (name, line)


def _changelogs(count: int) -> list[Path]:
    found = sorted(Path("/usr/share/doc").glob("*/changelog.Debian.gz"))
    return found[:count]


@pytest.mark.slow
@pytest.mark.skipif(not LICENSES.is_dir(), reason="no /usr/share/common-licenses on this machine")
def test_licences_and_changelogs_keep_every_line(archive: Archive, seeds: Path) -> None:
    shutil.copytree(LICENSES, seeds / "licenses", symlinks=False)
    changelogs = _changelogs(10)
    for path in changelogs:
        target = seeds / "changelogs" / f"{path.parent.name}.txt"
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(gzip.decompress(path.read_bytes()))
    report = archive.ingest()
    assert not report.failed
    for result in report.results:
        if result.status != "new":
            continue
        raw = archive.read_bytes(result.document)
        _every_line_is_in_a_passage(archive, result.document, raw)
        if result.document.startswith("changelogs/"):
            first = normalise(raw.decode("utf-8", "replace").splitlines()[0])
            assert archive.view(result.document).title == first  # type: ignore[union-attr]
    gpl = {h.document for h in archive.search('"WITHOUT ANY WARRANTY"', limit=50).hits}
    assert "licenses/GPL-3" in gpl
    assert archive.verify(check_seeds=False).is_ok()


def test_a_phrase_wrapped_over_two_lines_is_found(archive: Archive, seeds: Path) -> None:
    (seeds / "licence.txt").write_bytes(
        b"Mozilla Public License Version 2.0\n\n"
        b'1.4. "Covered Software"\n'
        b"    means Source Code Form to which the initial Contributor has attached\n"
        b"    the notice in Exhibit A, the Executable Form of such Source Code\n"
        b"    Form, and Modifications of such Source Code Form.\n"
    )
    archive.ingest()
    hits = archive.search('"has attached the notice"').hits
    assert [h.document for h in hits] == ["licence.txt"]
    raw = archive.read_bytes("licence.txt")
    hit = hits[0]
    assert b"attached\n    the notice" in raw[hit.raw_span[0] : hit.raw_span[1]]
    assert archive.search('"Source Code Form"').hits  # and within a line, as before


def test_removed_lines_are_found_only_when_asked(seeded_archive: Archive, cli) -> None:
    assert seeded_archive.search("Advertisement").total == 0
    hits = seeded_archive.search("Advertisement", everything=True).hits
    assert [(h.kind, h.rule, h.document) for h in hits] == [("removed", "ad-label", SEED_NAME)] * 2
    shown = cli("search", "--everything", "Advertisement")
    assert shown.exit_code == 0 and "removed by the cleaner: ad-label" in shown.stdout
    hidden = cli("search", "Advertisement")
    assert hidden.exit_code == 1  # nothing without --everything, but it says where the words are
    assert "2 line(s) the cleaner removed match" in hidden.stderr
    assert json.loads(cli("search", "Advertisement", "--json").stdout)["removed_matches"] == 2
    data = json.loads(cli("search", "--everything", "Advertisement", "--json").stdout)
    assert {h["removed_by"] for h in data["hits"]} == {"ad-label"}
    assert seeded_archive.search("labourers").removed_matches == 0  # kept words: no hint needed
    assert seeded_archive.search("nonexistentword").removed_matches == 0


def test_an_offset_past_the_last_hit_says_how_many_there_are(seeded_archive: Archive, cli) -> None:
    """Not "No hits" when there are some: the page asked for is past them (exit 0, as
    for any query that matches; 1 is kept for "nothing matches")."""
    total = seeded_archive.search("Korean").total
    assert total > 1
    page = cli("search", "Korean", "--offset", str(total))
    assert page.exit_code == 0
    assert page.stdout.strip() == (
        f"{total} hit(s) for Korean, none from {total + 1} on (--offset {total} is past the last)."
    )
    assert cli("search", "Korean", "--offset", str(total - 1)).stdout.startswith(
        f"{total} hit(s) for Korean, showing {total}-{total}:"
    )


def test_a_query_whoosh_refuses_is_a_bad_query_not_a_damaged_index(
    seeded_archive: Archive, cli
) -> None:
    """Whoosh's parser raises for ``version:""``: that is the query's fault (exit 2, one
    line), not the index's (exit 8). PostgreSQL's engine reads it as matching nothing,
    as both read ``version:x``."""
    from .conftest import TEST_DB

    done = cli("search", 'version:""')
    if TEST_DB == "postgres":
        assert done.exit_code == 1
    else:
        assert done.exit_code == 2, done.stderr
        assert done.stderr.startswith("Error: bad query 'version:\"\"': Whoosh cannot parse it")


def test_a_removed_line_s_citation_has_a_lineage(seeded_archive: Archive, cli) -> None:
    hit = seeded_archive.search("Advertisement", everything=True).hits[0]
    assert hit.passage_id.startswith(f"{SEED_NAME}@v1#r")
    lin = seeded_archive.lineage(hit.passage_id)
    assert (lin.passage.kind, lin.passage.rule, lin.passage.text) == (
        "removed",
        "ad-label",
        "Advertisement",
    )
    start, end = lin.passage.raw_span
    assert seeded_archive.read_bytes(SEED_NAME)[start:end] == b"Advertisement"
    shown = cli("lineage", hit.passage_id)
    assert shown.exit_code == 0 and "by rule ad-label" in shown.stdout
    prov = json.loads(cli("lineage", hit.passage_id, "--format", "prov-json").stdout)
    (entity,) = [e for k, e in prov["entity"].items() if "passage" in k]
    assert entity["pa:rule"] == "ad-label"
    proof = cli("prove", hit.passage_id)
    assert proof.exit_code == 4 and f"prove {SEED_NAME} --rev 1" in proof.stderr
    missing = cli("lineage", hit.passage_id.replace("#r", "#r9"))
    assert missing.exit_code == 4 and "Traceback" not in missing.stderr
    nowhere = cli("prove", "nosuch.txt@v7#r1")
    assert nowhere.exit_code == 4 and "no passage with id" in nowhere.stderr


def test_published_dates_are_shown_and_filter_search(archive: Archive, seeded: Path, cli) -> None:
    (seeded / "ferry.txt").write_text(DATED)
    archive.ingest()
    seed = json.loads(cli("show", SEED_NAME, "--json").stdout)
    assert seed["published"] is None
    ferry = json.loads(cli("show", "ferry.txt", "--json").stdout)
    assert ferry["published"] == "2024-03-03"
    assert ferry["derivation"]["page"]["is_page"] is True
    kinds = {p["kind"] for p in ferry["passages"]}
    assert {"title", "byline", "dateline", "body"} <= kinds
    assert archive.search("ferry", published_since="2024-03-01").total >= 1
    assert archive.search("ferry", published_until="2024-03-02").total == 0
    assert archive.search("Jane", kind="byline").total == 1
    assert cli("search", "ferry", "--published-since", "2024-03-04").exit_code == 1
    bad = cli("search", "ferry", "--published-since", "March")
    assert bad.exit_code == 2


def test_keep_all_is_recorded_and_kept_by_reclean(archive: Archive, seeded: Path, cli) -> None:
    (seeded / "ferry.txt").write_text(DATED)
    assert cli("ingest", "--cleaner", "keep-all").exit_code == 0
    view = archive.view("ferry.txt")
    assert (
        view is not None and view.removed == [] and view.cleaner.startswith("provarchive-keep-all")
    )
    assert archive.search("Advertisement", document="ferry.txt").total == 1
    archive.reclean()
    assert archive.view("ferry.txt").cleaner.startswith("provarchive-keep-all")  # type: ignore[union-attr]
    assert archive.verify(rederive=True, check_seeds=False).findings == []
    dry = json.loads(cli("clean", "--keep-all", str(seeded / "ferry.txt"), "--json").stdout)
    assert (
        dry["results"][0]["removed"] == []
        and dry["results"][0]["cleaner"] == "provarchive-keep-all"
    )


def test_reclean_with_a_new_cleaner_supersedes_and_rederive_passes(
    seeded_archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sqlite3.connect(seeded_archive.home.catalog_path) as db:
        db.execute("UPDATE derivations SET published = '1999-01-01'")  # an older cleaner's output
    report = seeded_archive.reclean()
    assert [(d, v) for d, v, _n in report.changed] == [(SEED_NAME, 1)]
    with sqlite3.connect(seeded_archive.home.catalog_path) as db:
        rows = db.execute(
            "SELECT number, current, superseded_at IS NOT NULL FROM derivations"
        ).fetchall()
    assert sorted(rows) == [(1, 0, 1), (2, 1, 0)]
    assert seeded_archive.verify(rederive=True, check_seeds=False).findings == []


def test_clean_out_dir_never_writes_one_output_for_two_inputs(tmp_path: Path, cli) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.txt").write_text(f"A short note kept in folder {folder}.\n")
    out = tmp_path / "out"
    result = cli(
        "clean", str(tmp_path / "a" / "x.txt"), str(tmp_path / "b" / "x.txt"), "--out-dir", str(out)
    )
    assert result.exit_code == 0
    assert (out / "a" / "x.txt").read_text() == "A short note kept in folder a.\n"
    assert (out / "b" / "x.txt").read_text() == "A short note kept in folder b.\n"
