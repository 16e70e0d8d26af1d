"""The cleaning and lineage commands: clean, explain, show --json, lineage, reclean."""

from __future__ import annotations

import json
from pathlib import Path

import prov.model as pm

from .conftest import SEED_NAME, SEED_PATH


def test_clean_out_dir_writes_the_body_only(cli, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cli("clean", str(SEED_PATH), "--out-dir", str(out))
    assert result.exit_code == 0
    lines = (out / SEED_NAME).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5
    assert lines[0].startswith("It is an open secret") and lines[-1].startswith("On Saturday")
    assert not any("Gaps in records" in line or "Beijing has almost" in line for line in lines)
    assert not (tmp_path / "archive").exists()  # a dry run archives nothing


def test_clean_prints_the_body_and_json(cli) -> None:
    result = cli("clean", str(SEED_PATH))
    assert result.stdout.splitlines()[0].startswith("It is an open secret")
    doc = json.loads(cli("clean", str(SEED_PATH), "--json").stdout)
    [item] = doc["results"]
    assert item["status"] == "text" and item["encoding"] == "utf-8"
    assert item["title"].startswith("Gaps in records") and len(item["body"]) == 5
    assert {r["rule"] for r in item["removed"]} >= {
        "ad-label",
        "reading-time",
        "trust-badge",
        "counter",
        "caption-credit",
    }


def test_clean_bad_input_is_one_line_and_the_rest_goes_on(cli, tmp_path: Path) -> None:
    result = cli("clean", str(tmp_path / "missing.txt"), str(SEED_PATH))
    assert result.exit_code == 1
    assert result.stderr.strip() == f"failed: {tmp_path / 'missing.txt'}: no such file"
    assert "It is an open secret" in result.stdout


def test_clean_says_which_files_have_no_text(cli, tmp_path: Path) -> None:
    binary = tmp_path / "image.bin"
    binary.write_bytes(bytes(range(256)) * 4 + b"\x00" * 100)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    result = cli("clean", str(binary), str(empty), str(SEED_PATH))
    assert result.exit_code == 0  # nothing failed: they have no text to clean
    notes = result.stderr.splitlines()
    assert len(notes) == 2, result.stderr
    assert notes[0].startswith(f"no text: {binary}: binary (binary data")
    assert notes[1] == f"no text: {empty}: empty (no text)"
    assert "It is an open secret" in result.stdout  # the seed's body, as before


def test_show_json_passages_map_to_the_bytes_of_cat(cli, seeded: Path) -> None:
    cli("ingest")
    doc = json.loads(cli("show", SEED_NAME, "--json").stdout)
    assert doc["title"].startswith("Gaps in records")
    raw = cli("cat", SEED_NAME).stdout_bytes
    assert [p["kind"] for p in doc["passages"]][:3] == ["title", "standfirst", "body"]
    for p in doc["passages"]:
        assert set(p) == {"passage_id", "ordinal", "kind", "text", "passage_sha256", "raw_span"}
        start, end = p["raw_span"]
        assert raw[start:end].decode("utf-8") == p["text"]
    assert [r["text"] for r in doc["removed"]].count("Advertisement") == 2
    for r in doc["removed"]:
        assert set(r) == {"raw_span", "text", "rule", "reason"}
        assert raw[r["raw_span"][0] : r["raw_span"][1]].decode() == r["text"]


def test_explain_marks_every_line(cli, seeded: Path) -> None:
    cli("ingest")
    result = cli("explain", SEED_NAME)
    assert result.exit_code == 0
    assert "DROP ad-label" in result.stdout and "KEEP title" in result.stdout
    assert "DROP reading-time" in result.stdout and "KEEP body" in result.stdout
    doc = json.loads(cli("explain", SEED_NAME, "--json").stdout)
    actions = [(x["line"], x["action"], x["label"]) for x in doc["lines"]]
    assert actions[0] == (1, "DROP", "ad-label")
    assert (3, "KEEP", "title") in actions and (2, None, None) in actions
    assert len(doc["lines"]) == len(SEED_PATH.read_text().splitlines())


def test_lineage_formats(cli, seeded: Path) -> None:
    cli("ingest")
    pid = f"{SEED_NAME}@v1#5"
    text = cli("lineage", pid)
    assert text.exit_code == 0 and "seeds file" in text.stdout and pid in text.stdout
    data = json.loads(cli("lineage", pid, "--format", "json").stdout)
    assert data["passage"]["passage_id"] == pid
    prov_json = cli("lineage", pid, "--format", "prov-json").stdout
    doc = pm.ProvDocument.deserialize(content=prov_json, format="json")
    assert pm.ProvDocument.deserialize(content=doc.serialize(), format="json") == doc
    assert cli("lineage", pid, "--format", "xml").exit_code == 2
    missing = cli("lineage", f"{SEED_NAME}@v1#99")
    assert missing.exit_code == 4 and missing.stderr.startswith("Error: no passage with id")


def test_reclean_and_verify_rederive(cli, seeded: Path) -> None:
    cli("ingest")
    assert json.loads(cli("reclean", "--json").stdout) == {
        "checked": 1, "changed": [], "unreadable": []
    }  # fmt: skip
    assert cli("verify", "--rederive").exit_code == 0
    assert cli("reclean", "nope.txt").exit_code == 4


def test_numbers_past_what_the_catalog_holds_name_nothing(cli, seeded: Path) -> None:
    """A number over 2**63 - 1 cannot be bound to an SQLite integer: it raised
    OverflowError (a traceback); it names no passage, and a limit past it is no limit."""
    cli("ingest")
    huge = "9" * 21
    for args in (
        ("lineage", f"{SEED_NAME}@v1#{huge}"),
        ("lineage", f"{SEED_NAME}@v{huge}#1"),
        ("lineage", f"{SEED_NAME}@v1#1", "--derivation", huge),
    ):
        result = cli(*args)
        assert result.exit_code == 4, (args, result.stderr)
        assert "Traceback" not in result.stderr
    everything = json.loads(cli("log", "--limit", "0", "--json").stdout)
    assert json.loads(cli("log", "--limit", huge, "--json").stdout) == everything


def test_clean_into_a_folder_it_cannot_make_says_the_archive_is_not_involved(
    cli, tmp_path: Path
) -> None:
    page = tmp_path / "page.txt"
    page.write_text("A line of a page.\n")
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the output folder would go")
    result = cli("clean", str(page), "--out-dir", str(blocker / "out"))
    assert result.exit_code == 6
    assert "clean never changes the archive" in result.stderr
    assert "archive was left as it was" not in result.stderr
