"""A working day with the archive, command by command, as the README tells it: each step
through the real CLI, its --json checked, its text output readable and uncut."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from provarchive.cli import app

STORY = b"""The harbour reopens

By Ana Lopez

The harbour reopened on Monday after repairs to the north quay.
Fishing boats returned before dawn, their holds empty.
"""
STORY_V2 = STORY.replace(b"before dawn", b"at first light") + b"The mayor spoke at noon.\n"
NOTE = b"Interview notes: the quay was closed for three weeks.\n"


def _json(cli, *args: str) -> dict:
    result = cli(*args, "--json")
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return json.loads(result.stdout)


@pytest.fixture
def day(cli, tmp_path: Path, seeds: Path):
    """An archive holding 2026/harbour.txt (two versions) and 2026/notes/quay.txt."""
    outside = tmp_path / "downloads"
    outside.mkdir()
    (outside / "harbour.txt").write_bytes(STORY)
    (outside / "quay.txt").write_bytes(NOTE)
    assert cli("add", str(outside / "harbour.txt"), "--into", "2026").exit_code == 0
    assert cli("add", str(outside / "quay.txt"), "--into", "2026/notes").exit_code == 0
    (seeds / "2026" / "harbour.txt").write_bytes(STORY_V2)
    assert cli("ingest", "-q").exit_code == 0
    return cli


def test_list_shows_every_document_with_its_version_size_and_passages(day) -> None:
    doc = _json(day, "list")
    rows = {r["document"]: r for r in doc["documents"]}
    assert list(rows) == ["2026/harbour.txt", "2026/notes/quay.txt"]
    harbour = rows["2026/harbour.txt"]
    assert (harbour["version"], harbour["head"], harbour["size"]) == (2, 2, len(STORY_V2))
    assert harbour["sha256"] == hashlib.sha256(STORY_V2).hexdigest()
    assert harbour["status"] == "text" and harbour["passages"] >= 3
    assert harbour["withdrawn"] is False and harbour["ingested_at"].endswith("Z")
    assert [r["document"] for r in _json(day, "list", "2026/notes/")["documents"]] == [
        "2026/notes/quay.txt"
    ]
    assert [r["document"] for r in _json(day, "ls", "*/harbour.*")["documents"]] == [
        "2026/harbour.txt"
    ]
    text = day("list").stdout
    assert "2026/notes/quay.txt" in text and "2 document(s)." in text
    assert re.search(r"v2 +\S+ .*2026/harbour\.txt", text)


def test_search_document_takes_a_folder_and_refuses_an_unknown_name(day) -> None:
    hits = _json(day, "search", "quay", "--document", "2026/notes/")["hits"]
    assert {h["document"] for h in hits} == {"2026/notes/quay.txt"}
    result = day("search", "quay", "--document", "2026/harbor.txt")
    assert result.exit_code == 2
    assert "did you mean '2026/harbour.txt'" in result.stderr
    assert result.stdout == ""


def test_stats_counts_what_the_archive_holds(day) -> None:
    doc = _json(day, "stats")
    assert (doc["documents"], doc["withdrawn"], doc["versions"]) == (2, 0, 3)
    assert doc["bytes"] == len(STORY) + len(STORY_V2) + len(NOTE)
    assert doc["store_bytes"] > doc["bytes"]
    assert doc["passages"] > 0
    assert doc["removed_lines"] == 0  # none of them is a web page: every line is kept
    assert doc["index_bytes"] > 0 and doc["catalog_bytes"] > 0
    assert doc["last_verify"] is None and doc["never_verified"] == 3
    assert day("verify").exit_code == 0
    after = _json(day, "stats")
    assert after["last_verify"]["outcome"] == "success"
    text = day("stats").stdout
    assert "documents      2 (0 withdrawn)" in text and "last verify    20" in text


def test_diff_shows_the_kept_text_and_the_raw_text(day) -> None:
    result = day("diff", "2026/harbour.txt", "1", "2")
    assert result.exit_code == 0
    assert "--- 2026/harbour.txt v1 (kept text)\n+++ 2026/harbour.txt v2 (kept text)\n" in (
        result.stdout
    )
    assert "-Fishing boats returned before dawn, their holds empty.\n" in result.stdout
    assert "+The mayor spoke at noon.\n" in result.stdout
    doc = _json(day, "diff", "2026/harbour", "1", "2")  # a unique prefix will do
    assert doc["from"] == 1 and doc["to"] == 2 and doc["raw"] is False
    assert "The mayor spoke at noon." in doc["passages_added"]
    assert "Fishing boats returned before dawn, their holds empty." in doc["passages_removed"]
    raw = _json(day, "diff", "2026/harbour.txt", "1", "2", "--raw")
    assert raw["raw"] is True and raw["passages_added"] == []
    assert "+The mayor spoke at noon.\n" in raw["diff"]
    same = day("diff", "2026/harbour.txt", "2", "2")
    assert same.exit_code == 0 and same.stdout == ""
    missing = day("diff", "2026/harbour.txt", "1", "9")
    assert missing.exit_code == 4
    assert "has no version 9" in missing.stderr


def test_lineage_json_and_a_clear_error_for_an_unknown_derivation(day) -> None:
    pid = _json(day, "show", "2026/notes/quay.txt")["passages"][0]["passage_id"]
    doc = _json(day, "lineage", pid)
    assert doc == json.loads(day("lineage", pid, "--format", "json").stdout)
    assert doc["passage"]["passage_id"] == pid
    result = day("lineage", pid, "--derivation", "2")
    assert result.exit_code == 4
    assert result.stderr.strip() == (
        "Error: 2026/notes/quay.txt v1 has no derivation 2 (its derivations: 1); "
        f"the passage id {pid!r} is fine"
    )


def test_a_day_of_reading_commands_all_answer_in_json(day, seeds: Path) -> None:
    show = _json(day, "show", str(seeds / "2026" / "harbour.txt"))  # the seed's path
    assert show["document"] == "2026/harbour.txt" and show["withdrawn"] is None
    assert all("passage_sha256" in p for p in show["passages"])
    history = _json(day, "history", "2026/harbour.txt")
    assert [v["version"] for v in history["versions"]] == [1, 2]
    assert history["withdrawals"] == [] and history["withdrawn"] is False
    log = _json(day, "log", "--document", "2026/harbour.txt", "--limit", "0")
    assert {e["type"] for e in log["events"]} >= {"ingestion", "derivation"}
    search = _json(day, "search", "harbour")
    assert search["hits"] and all("file_sha256" in h for h in search["hits"])
    count = _json(day, "search", "quay", "--count")
    assert set(count) == {"query", "total", "index_behind"} and count["total"] >= 2
    files = _json(day, "search", "quay", "--files-only")
    assert sorted(files["documents"]) == ["2026/harbour.txt", "2026/notes/quay.txt"]
    explain = _json(day, "explain", "2026/notes/quay.txt")
    assert explain["lines"][0]["action"] == "KEEP"
    assert day("cat", "2026/harbour.txt", "--rev", "1").stdout_bytes == STORY


def test_a_typo_gets_a_suggestion_everywhere_a_name_is_taken(day) -> None:
    for command in (["show"], ["cat"], ["history"], ["explain"], ["diff", "-", "1", "2"]):
        args = [command[0], "2026/harbor.txt", *command[2:]]
        result = day(*args)
        assert result.exit_code == 4, args
        assert "did you mean '2026/harbour.txt'" in result.stderr, args


def test_the_withdrawal_walkthrough(day) -> None:
    done = _json(day, "withdraw", "2026/notes/quay.txt", "--reason", "source withdrew consent")
    assert done["version"] == 2 and done["withdrawn_version"] == 1
    assert [r["document"] for r in _json(day, "list")["documents"]] == ["2026/harbour.txt"]
    assert day("search", "three weeks").exit_code == 1
    assert _json(day, "search", "three weeks", "--withdrawn")["total"] == 1
    assert _json(day, "stats")["withdrawn"] == 1
    text = day("withdraw", "2026/harbour.txt", "--reason", "duplicate").stdout
    assert text.splitlines()[1] == f"    sha256 {hashlib.sha256(STORY_V2).hexdigest()}"


def test_help_is_readable_and_has_an_example_for_every_command(cli) -> None:
    top = cli("--help").stdout
    assert "..." not in top.split("Commands:")[1]
    assert "--install-completion" in top
    for info in app.registered_commands:
        if info.hidden:
            continue
        text = cli(info.name or "", "--help").stdout
        assert not re.search(r"\{\w|<(str|int|path|list)", text), (info.name, text)
        assert "Example" in text, info.name
