"""Withdraw: a new OCFL version without the file; nothing deleted, history kept, out of
default search and list, recorded in the event log and the transparency log, derived
from the store by rebuild, ended by adding the file again."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from provarchive import Archive
from provarchive.errors import UsageError, WithdrawnError
from provarchive.ledger import EVENT_WITHDRAWAL, open_log
from provarchive.tlog.leaf import Leaf, parse_any_leaf

from .conftest import SEED_NAME, ocfl_validate

WORD = "Go Myong-hyun"


def _hits(cli, *extra: str) -> list[dict]:
    result = cli("search", f'"{WORD}"', "--json", *extra)
    return json.loads(result.stdout)["hits"]


def _withdraw(cli, reason: str = "legal review") -> dict:
    result = cli("withdraw", SEED_NAME, "--reason", reason, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_withdraw_makes_a_version_without_the_file_and_keeps_the_bytes(
    cli, seeded: Path, seed_bytes: bytes, tmp_path: Path
) -> None:
    cli("ingest")
    assert _hits(cli)
    done = _withdraw(cli)
    assert done["document"] == SEED_NAME
    assert (done["version"], done["withdrawn_version"]) == (2, 1)
    assert done["sha256"] == hashlib.sha256(seed_bytes).hexdigest()
    assert done["reason"] == "legal review"

    # The OCFL object has a v2 whose state is empty; v1's bytes are still there.
    [declaration] = (tmp_path / "archive" / "ocfl").rglob("0=ocfl_object_1.1")
    inv = json.loads((declaration.parent / "inventory.json").read_text())
    assert inv["head"] == "v2" and inv["versions"]["v2"]["state"] == {}
    assert inv["versions"]["v2"]["message"] == "withdraw: legal review"
    assert cli("cat", SEED_NAME, "--rev", "1").stdout_bytes == seed_bytes
    store = tmp_path / "archive" / "ocfl"
    assert ocfl_validate(store).returncode == 0

    # cat without --rev names the withdrawal and the version that holds the bytes.
    result = cli("cat", SEED_NAME)
    assert result.exit_code == 4
    assert result.stderr.strip() == (
        f"Error: '{SEED_NAME}' was withdrawn at v2; '--rev 1' gives the bytes it withdrew"
    )
    assert result.stdout_bytes == b""


def test_withdrawn_document_leaves_default_search_and_list(cli, seeded: Path) -> None:
    cli("ingest")
    _withdraw(cli)
    result = cli("search", f'"{WORD}"')
    assert result.exit_code == 1
    assert [h["document"] for h in _hits(cli, "--all-versions")] == [SEED_NAME]
    hits = _hits(cli, "--withdrawn")
    assert [(h["document"], h["version"]) for h in hits] == [(SEED_NAME, 1)]
    assert "(withdrawn)" in cli("search", f'"{WORD}"', "--all-versions").stdout
    assert json.loads(cli("list", "--json").stdout) == {"documents": []}
    [row] = json.loads(cli("list", "--withdrawn", "--json").stdout)["documents"]
    assert (row["document"], row["version"], row["withdrawn"]) == (SEED_NAME, 1, True)
    assert row["withdrawn_reason"] == "legal review"


def test_show_and_history_mark_the_withdrawal(cli, seeded: Path) -> None:
    cli("ingest")
    _withdraw(cli, "source asked")
    show = cli("show", SEED_NAME)
    assert show.exit_code == 0
    assert "WITHDRAWN at v2 on " in show.stdout and "source asked" in show.stdout
    doc = json.loads(cli("show", SEED_NAME, "--json").stdout)
    assert doc["withdrawn"]["version"] == 2 and doc["withdrawn"]["reason"] == "source asked"
    history = cli("history", SEED_NAME)
    assert f"{SEED_NAME}: 1 version(s) (withdrawn)" in history.stdout
    assert "withdrawn v1: source asked" in history.stdout
    data = json.loads(cli("history", SEED_NAME, "--json").stdout)
    assert data["withdrawn"] is True
    assert [w["version"] for w in data["withdrawals"]] == [2]
    [event] = [e for e in data["events"] if e["type"] == "withdrawal"]
    assert event["version"] == 2 and event["detail"].endswith(": source asked")


def test_the_transparency_log_records_the_withdrawal_and_verify_agrees(
    cli, seeded: Path, archive: Archive
) -> None:
    cli("ingest")
    _withdraw(cli)
    with open_log(archive.home) as tl:
        leaves = [parse_any_leaf(d) for d in tl.iter_entries(0, tl.size)]
    [leaf] = [x for x in leaves if isinstance(x, Leaf) and x.type == EVENT_WITHDRAWAL]
    first = archive.version(SEED_NAME, 1)
    assert (leaf.document, leaf.version, leaf.sha256) == (SEED_NAME, 2, first.sha256)
    assert any(getattr(x, "event_type", None) == "withdrawal" for x in leaves)
    result = cli("verify", "--json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["findings"] == []
    prove = cli("prove", SEED_NAME)
    assert prove.exit_code == 0, prove.stderr


def test_ingest_skips_the_withdrawn_seed_and_add_brings_it_back(
    cli, seeded: Path, seed_bytes: bytes
) -> None:
    cli("ingest")
    _withdraw(cli)
    again = json.loads(cli("ingest", "--json").stdout)
    assert again["counts"] == {"withdrawn": 1}
    assert again["counts"] == json.loads(cli("ingest", "--json").stdout)["counts"]  # cached
    back = json.loads(cli("add", str(seeded / SEED_NAME), "--as", SEED_NAME, "--json").stdout)
    assert [(r["status"], r["version"]) for r in back["results"]] == [("new-version", 3)]
    assert [(h["document"], h["version"]) for h in _hits(cli)] == [(SEED_NAME, 3)]
    history = json.loads(cli("history", SEED_NAME, "--json").stdout)
    assert history["withdrawn"] is False
    assert [v["version"] for v in history["versions"]] == [1, 3]
    assert cli("cat", SEED_NAME).stdout_bytes == seed_bytes
    assert cli("cat", SEED_NAME, "--rev", "2").exit_code == 4
    assert cli("verify").exit_code == 0


def test_changed_seed_bytes_end_the_withdrawal(cli, seeded: Path, seed_bytes: bytes) -> None:
    cli("ingest")
    _withdraw(cli)
    (seeded / SEED_NAME).write_bytes(seed_bytes + b"\nA correction.\n")
    [r] = json.loads(cli("ingest", "--json").stdout)["results"]
    assert (r["status"], r["version"]) == ("new-version", 3)
    assert json.loads(cli("list", "--json").stdout)["documents"][0]["version"] == 3


def test_rebuild_derives_the_withdrawn_state_from_the_store(cli, seeded: Path) -> None:
    cli("ingest")
    _withdraw(cli)
    assert cli("rebuild").exit_code == 0
    [row] = json.loads(cli("list", "--withdrawn", "--json").stdout)["documents"]
    assert row["withdrawn"] is True and row["withdrawn_reason"] == "legal review"
    assert cli("search", f'"{WORD}"').exit_code == 1
    assert cli("verify").exit_code == 0


def test_withdraw_refuses_twice_and_needs_a_reason(archive: Archive, seeded: Path) -> None:
    archive.ingest()
    with pytest.raises(UsageError, match="reason"):
        archive.withdraw(SEED_NAME, "   ")
    archive.withdraw(SEED_NAME, "once")
    with pytest.raises(UsageError, match="already withdrawn"):
        archive.withdraw(SEED_NAME, "twice")
    with pytest.raises(WithdrawnError):
        archive.version(SEED_NAME, 2)


def test_withdraw_of_an_unknown_name_suggests_the_archived_one(cli, seeded: Path) -> None:
    cli("ingest")
    result = cli("withdraw", SEED_NAME[:-5] + "x.txt", "--reason", "x")
    assert result.exit_code == 4
    assert f"did you mean '{SEED_NAME}'" in result.stderr


def test_a_withdrawal_interrupted_before_the_catalog_is_finished_by_the_next_writer(
    archive: Archive, seeded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store commit is the withdrawal; a writer that dies before recording it in the
    catalog leaves a journal, and the next writer records it (flag and event)."""
    from provarchive import withdrawal

    archive.ingest()

    def die(*_args: object, **_kw: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(withdrawal, "sync_state", die)
    with pytest.raises(KeyboardInterrupt):
        archive.withdraw(SEED_NAME, "cut off")
    assert archive.store.load(SEED_NAME).withdrawn  # type: ignore[union-attr]
    monkeypatch.undo()
    archive.init()  # any writing command
    assert archive.document(SEED_NAME).withdrawn
    assert archive.document(SEED_NAME).withdrawn_reason == "cut off"
    [event] = [e for e in archive.events(SEED_NAME) if e.event_type == "withdrawal"]
    assert event.version == 2 and event.detail.endswith(": cut off")
    assert archive.verify().is_ok()


@pytest.mark.slow
def test_withdraw_on_a_postgresql_catalog(tmp_path: Path, seeded: Path, pg_url: str) -> None:
    """Migration 0007 and the withdrawn state on PostgreSQL: search, rebuild, verify."""
    from provarchive import ArchiveConfig

    config = ArchiveConfig(root=tmp_path / "archive", seeds=seeded, db_url=pg_url)
    with Archive(config) as archive:
        archive.ingest()
        archive.withdraw(SEED_NAME, "on postgres")
        assert archive.search(f'"{WORD}"').total == 0
        assert archive.search(f'"{WORD}"', all_versions=True).total == 1
        assert [r.document for r in archive.list_documents(withdrawn=True)] == [SEED_NAME]
        assert archive.list_documents() == []
        assert archive.rebuild() == 1
        assert archive.document(SEED_NAME).withdrawn_reason == "on postgres"
        assert archive.stats().to_json()["withdrawn"] == 1
        assert archive.verify().is_ok()


def test_withdraw_names_the_document_in_full_never_by_a_prefix(
    archive: Archive, seeds: Path, cli
) -> None:
    """Read commands take a unique prefix ('show su' is sub/c.txt); withdraw, which makes
    a signed version for good, does not: 'withdraw su' suggests the name instead."""
    (seeds / "sub").mkdir()
    (seeds / "sub" / "c.txt").write_text("a page kept in a sub-folder\n")
    assert cli("ingest").exit_code == 0
    assert cli("show", "su").exit_code == 0
    result = cli("withdraw", "su", "--reason", "typo")
    assert result.exit_code == 4 and "sub/c.txt" in result.stderr  # as a suggestion
    assert not archive.document("sub/c.txt").withdrawn
    assert cli("withdraw", str(seeds / "sub" / "c.txt"), "--reason", "x").exit_code == 0


def test_explain_of_a_withdrawal_says_it_was_withdrawn(archive: Archive, seeded: Path, cli) -> None:
    """As show, cat and diff do; explain said 'no version 2 (latest is v1)'."""
    assert cli("ingest").exit_code == 0
    assert cli("withdraw", SEED_NAME, "--reason", "legal review").exit_code == 0
    result = cli("explain", SEED_NAME, "--rev", "2")
    assert result.exit_code == 4
    assert "withdrawn at v2" in result.stderr and "--rev 1" in result.stderr
    assert "latest is v2" in cli("explain", SEED_NAME, "--rev", "3").stderr
