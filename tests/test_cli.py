"""The command line: JSON shapes, exit codes, exact messages, and ocfl-py's validator."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from provarchive import Archive
from provarchive.cli import app

from .conftest import SEED_NAME, ocfl_validate, run_provarchive


def test_every_command_has_help_text(cli) -> None:
    for info in app.registered_commands:
        name = info.name
        assert info.callback is not None and (info.callback.__doc__ or "").strip(), name
        result = cli(name, "--help")
        assert result.exit_code == 0, name
        assert "--help" in result.stdout


def test_ingest_json_shape_and_statuses(cli, seeded: Path, seed_bytes: bytes) -> None:
    result = cli("ingest", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc == {
        "results": [
            {
                "document": SEED_NAME,
                "version": 1,
                "status": "new",
                "sha256": hashlib.sha256(seed_bytes).hexdigest(),
                "error": None,
            }
        ],
        "counts": {"new": 1},
    }
    again = json.loads(cli("ingest", "--json").stdout)
    assert again["results"][0]["status"] == "unchanged"
    (seeded / SEED_NAME).write_bytes(seed_bytes.replace(b"labourers", b"workers"))
    third = json.loads(cli("ingest", "--json").stdout)
    assert (third["results"][0]["status"], third["results"][0]["version"]) == ("new-version", 2)


def test_cat_returns_the_exact_bytes_of_each_version(cli, seeded: Path, seed_bytes: bytes) -> None:
    cli("ingest")
    (seeded / SEED_NAME).write_bytes(b"replaced entirely\x00\xff")
    cli("ingest")
    assert cli("cat", SEED_NAME, "--rev", "1").stdout_bytes == seed_bytes
    assert cli("cat", SEED_NAME).stdout_bytes == b"replaced entirely\x00\xff"


def test_cat_of_damaged_bytes_writes_them_only_with_force_and_says_which_it_did(
    cli, archive: Archive, seeded: Path, seed_bytes: bytes
) -> None:
    cli("ingest")
    path = archive.home.content_path(SEED_NAME)
    damaged = bytearray(seed_bytes)
    damaged[10] ^= 1
    path.chmod(0o644)
    path.write_bytes(bytes(damaged))
    refused = cli("cat", SEED_NAME)
    assert (refused.exit_code, refused.stdout_bytes) == (7, b"")
    assert "does not match its recorded digests; nothing was written" in refused.stderr
    forced = cli("cat", SEED_NAME, "--force")
    assert (forced.exit_code, forced.stdout_bytes) == (7, bytes(damaged))
    assert "its damaged bytes were written (--force)" in forced.stderr
    assert "nothing was written" not in forced.stderr


def test_show_json_sha256_is_what_sha256sum_gives(cli, seeded: Path, seed_bytes: bytes) -> None:
    cli("ingest")
    result = cli("show", SEED_NAME, "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["document"] == SEED_NAME
    [v] = doc["versions"]
    assert v["sha256"] == hashlib.sha256(seed_bytes).hexdigest()
    assert v["sha512"] == hashlib.sha512(seed_bytes).hexdigest()
    assert v["size"] == len(seed_bytes)
    assert v["version"] == 1 and v["ingested_at"].endswith("Z")
    assert v["source"].endswith(f"seeds/{SEED_NAME}")


def test_show_unknown_document_exits_4_with_a_clear_message(cli, seeded: Path) -> None:
    cli("ingest")
    result = cli("show", "nope.txt")
    assert result.exit_code == 4
    assert result.stderr.strip() == "Error: no archived document named 'nope.txt'"


def test_cat_unknown_version_exits_4(cli, seeded: Path) -> None:
    cli("ingest")
    result = cli("cat", SEED_NAME, "--rev", "7")
    assert result.exit_code == 4
    assert result.stderr.strip() == f"Error: document '{SEED_NAME}' has no version 7 (latest is v1)"


def test_reading_before_any_archive_exits_3(cli, tmp_path: Path) -> None:
    result = cli("show", SEED_NAME)
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: no archive at ")
    assert not (tmp_path / "archive").exists()


def test_add_as_dotdot_is_refused_and_writes_nothing_outside_seeds(
    cli, tmp_path: Path, seeds: Path
) -> None:
    src = tmp_path / "in.txt"
    src.write_text("hello")
    result = cli("add", str(src), "--as", "../x")
    assert result.exit_code == 2
    assert (
        result.stderr.strip()
        == "Error: invalid document name '../x': '..' would escape the seeds folder"
    )
    assert not (tmp_path / "x").exists()
    assert list(seeds.iterdir()) == []


def test_add_json_and_replace(cli, tmp_path: Path, seeds: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("one")
    doc = json.loads(cli("add", str(src), "--as", "press/in.txt", "--json").stdout)
    assert [(r["document"], r["status"]) for r in doc["results"]] == [("press/in.txt", "new")]
    src.write_text("two")
    refused = cli("add", str(src), "--as", "press/in.txt", "--json")
    assert refused.exit_code == 1
    assert json.loads(refused.stdout)["results"][0]["status"] == "failed"
    assert "use --replace" in refused.stderr
    replaced = cli("add", str(src), "--as", "press/in.txt", "--replace", "--json")
    assert json.loads(replaced.stdout)["results"][0]["version"] == 2


def test_failed_input_gives_one_line_naming_the_file_and_exit_1(
    cli, seeds: Path, tmp_path: Path
) -> None:
    (seeds / "good.txt").write_text("good")
    (seeds / "link.txt").symlink_to(tmp_path / "secret.txt")
    (tmp_path / "secret.txt").write_text("secret")
    result = cli("ingest")
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("failed:")]
    assert len(lines) == 1
    assert str(seeds / "link.txt") in lines[0]
    assert "symbolic link leads outside the seeds folder" in lines[0]
    assert json.loads(cli("show", "good.txt", "--json").stdout)["versions"][0]["version"] == 1


def test_verify_json_shape_and_exit_codes(cli, seeded: Path) -> None:
    cli("ingest")
    ok = cli("verify", "--json")
    assert ok.exit_code == 0
    doc = json.loads(ok.stdout)
    assert doc["ok"] is True and doc["findings"] == []
    content = next((Path(seeded).parent / "archive" / "ocfl").rglob(f"content/{SEED_NAME}"))
    data = bytearray(content.read_bytes())
    data[0] ^= 0x80
    content.write_bytes(bytes(data))
    bad = cli("verify", "--json")
    assert bad.exit_code == 1
    doc = json.loads(bad.stdout)
    assert doc["ok"] is False
    [finding] = doc["findings"]
    assert set(finding) == {
        "code", "severity", "document", "path", "message", "expected", "found", "ocfl_code"
    }  # fmt: skip
    assert finding["code"] == "CONTENT_DIGEST_MISMATCH"
    assert finding["severity"] == "error"
    assert finding["document"] == SEED_NAME
    human = cli("verify")
    assert human.exit_code == 1
    assert "CONTENT_DIGEST_MISMATCH" in human.stdout and "FAILED" in human.stdout


def test_history_and_log_json(cli, seeded: Path, seed_bytes: bytes) -> None:
    cli("ingest")
    (seeded / SEED_NAME).write_bytes(seed_bytes + b"x")
    cli("ingest")
    history = json.loads(cli("history", SEED_NAME, "--json").stdout)
    assert [v["version"] for v in history["versions"]] == [1, 2]
    assert history["versions"][0]["message"] == f"ingest {seeded}/{SEED_NAME}"
    assert {"ingestion", "message digest calculation"} <= {e["type"] for e in history["events"]}
    log = json.loads(cli("log", "--json").stdout)
    assert all(e["agent"].startswith("provarchive ") for e in log["events"])
    assert any(e["type"] == "creation" for e in log["events"])


def test_rebuild_command(cli, seeded: Path) -> None:
    cli("ingest")
    result = cli("rebuild", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"documents": 1, "foreign": []}
    assert cli("verify").exit_code == 0


def test_init_creates_an_empty_valid_archive(cli, tmp_path: Path) -> None:
    result = cli("init", "--json")
    assert json.loads(result.stdout) == {"archive": str(tmp_path / "archive"), "created": True}
    assert json.loads(cli("init", "--json").stdout)["created"] is False
    assert cli("verify", "--no-seeds").exit_code == 0


@pytest.mark.slow
def test_ocfl_py_validator_accepts_the_store_after_ingest_new_version_and_add(
    cli, seeded: Path, seed_bytes: bytes, tmp_path: Path
) -> None:
    root = tmp_path / "archive" / "ocfl"
    cli("ingest")
    first = ocfl_validate(root)
    assert first.returncode == 0, first.stdout + first.stderr
    (seeded / SEED_NAME).write_bytes(seed_bytes.replace(b"mystery", b"riddle"))
    cli("ingest")
    second = ocfl_validate(root)
    assert second.returncode == 0, second.stdout + second.stderr
    src = tmp_path / "added.txt"
    src.write_text("added later")
    assert cli("add", str(src)).exit_code == 0
    third = ocfl_validate(root)
    assert third.returncode == 0, third.stdout + third.stderr
    assert third.stdout.count("is VALID") == 2  # both objects were checked
    assert "[W" not in third.stdout  # no warnings either (ids are URIs, users have addresses)


def test_ocfl_py_validator_as_we_run_it_rejects_a_damaged_object(
    cli, seeded: Path, tmp_path: Path
) -> None:
    # The helper above must be able to fail: ocfl-py on a bare storage root would not.
    root = tmp_path / "archive" / "ocfl"
    cli("ingest")
    (content,) = root.glob("*/*/*/*/v1/content/*")
    data = bytearray(content.read_bytes())
    data[10] ^= 0x01
    content.write_bytes(bytes(data))
    result = ocfl_validate(root)
    assert result.returncode == 1
    assert "E092" in result.stdout and "is INVALID" in result.stdout


def test_python_dash_m_and_a_real_process(seeded: Path) -> None:
    result = run_provarchive("ingest", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["results"][0]["status"] == "new"
    version = run_provarchive("--version")
    assert version.stdout.decode().startswith("provarchive ")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["show"], "NAME"),
        (["ingest", "--bogus"], "--bogus"),
        (["cat"], "NAME"),
        *((["--lock-timeout", t, "ls"], "--lock-timeout") for t in ("-1", "nan", "inf", "soon")),
        (["verify", "--key", "garbage"], "--key"),
        (["check-proof", "bundle.json", "--key", "garbage"], "--key"),
    ],
)
def test_usage_errors_exit_2(cli, args: list[str], named: str) -> None:
    result = cli(*args)
    assert result.exit_code == 2
    assert named in result.stderr and "Traceback" not in result.output


def test_a_lock_timeout_of_0_and_a_verifier_key_file_are_accepted(
    cli, seeded: Path, tmp_path: Path
) -> None:
    from provarchive.tlog.note import Signer

    assert cli("--lock-timeout", "0", "ingest").exit_code == 0
    key = tmp_path / "archive.pub"
    key.write_text(cli("key").stdout)
    assert cli("verify", "--key", str(key)).exit_code == 0
    other = Signer.generate("someone.example/key").verifier.verifier_key
    assert cli("verify", "--key", other).exit_code == 1  # a key, but not the archive's


def test_plain_lines_are_what_rich_prints_on_a_pipe() -> None:
    """The CLI writes a line of markup to a file or a pipe without rich: the text must be
    exactly what rich writes there, and ``escape`` must be rich's, on any text (random
    runs of brackets, backslashes, slashes and tags; the oracle is rich itself)."""
    import io
    import random

    from rich.console import Console
    from rich.errors import MarkupError
    from rich.markup import escape as rich_escape

    from provarchive.cli.common import escape, plain_markup

    def rich_plain(markup: str) -> str:
        file = io.StringIO()
        console = Console(file=file, highlight=False, soft_wrap=True, emoji=False)
        console.print(markup)
        return file.getvalue()[:-1]

    pieces = [*"[]\\/ab=@#:é中\n ", "[b]", "[/]", "[/b]", "\\[", ":smile:", "[link=x]"]
    rnd = random.Random(14)
    compared = 0
    for _ in range(4000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 12)))
        assert escape(text) == rich_escape(text), repr(text)
        assert plain_markup(escape(text)) == rich_plain(escape(text)), repr(text)
        try:
            expected = rich_plain(text)
        except MarkupError:
            continue  # a closing tag with nothing open: the CLI writes no such markup
        assert plain_markup(text) == expected, repr(text)
        compared += 1
    assert compared > 1000


def test_lines_to_a_pipe_skip_rich_and_a_terminal_still_gets_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    from provarchive.cli.common import _LazyConsole

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    pipe = io.StringIO()
    monkeypatch.setattr("sys.stdout", pipe)
    console = _LazyConsole()
    console.print("Verified 3 object(s): [green]OK[/] :warning: \\[x]")
    console.print("a\ttab")  # tabs go to rich, which expands them
    assert pipe.getvalue() == "Verified 3 object(s): OK :warning: [x]\na       tab\n"

    class Recording(io.StringIO):
        def flush(self) -> None:
            events.append(self.getvalue())

    events: list[str] = []
    monkeypatch.setattr("sys.stdout", Recording())
    _LazyConsole().print("one line")
    assert events == ["one line\n"]  # flushed, as rich does: stdout keeps its place
    tty = Tty()
    monkeypatch.setattr("sys.stdout", tty)
    console = _LazyConsole()
    console.print("[green]OK[/]")
    assert console._console is not None  # styled by rich
    assert "OK" in tty.getvalue()


def test_search_since_and_until_take_dates_and_stamps_and_refuse_anything_else(
    seeded_archive: Archive, cli
) -> None:
    """--since/--until: a date (--until to the end of that day), a stamp with Z, an
    offset, or none (UTC); anything else is a usage error naming the option."""
    from datetime import UTC, timedelta, timezone

    ingested = seeded_archive.versions(SEED_NAME)[0].ingested_at
    day = ingested.date().isoformat()
    assert cli("search", "Korean", "--until", day).exit_code == 0  # the whole of that day
    assert cli("search", "Korean", "--since", day).exit_code == 0
    before = (ingested - timedelta(seconds=1)).astimezone(UTC).replace(tzinfo=None)
    assert cli("search", "Korean", "--until", before.isoformat()).exit_code == 1  # naive: UTC
    assert cli("search", "Korean", "--since", before.isoformat() + "Z").exit_code == 0
    later = (ingested + timedelta(hours=1)).astimezone(timezone(timedelta(hours=5)))
    assert cli("search", "Korean", "--since", later.isoformat()).exit_code == 1  # offset kept
    bad = cli("search", "Korean", "--since", "last tuesday")
    assert bad.exit_code == 2
    assert "'last tuesday' is not a date (YYYY-MM-DD or ISO 8601)" in bad.stderr
    assert "--since" in bad.stderr


def test_a_user_too_long_for_a_log_entry_is_refused_before_anything_is_written(
    cli, seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user block becomes each version's log-leaf agent (at most MAX_AGENT
    characters): it used to fail as "invalid log leaf: agent must be…", naming no
    setting. Now a usage error naming the variables, and nothing stored."""
    monkeypatch.setenv("PROVARCHIVE_USER", "x" * 1100)
    refused = cli("ingest")
    assert refused.exit_code == 2
    assert "PROVARCHIVE_USER" in refused.stderr and "1,024" in refused.stderr
    assert "Traceback" not in refused.output
    objects = tmp_path / "archive" / "ocfl"
    assert not objects.exists() or not any(objects.glob("**/inventory.json"))
    monkeypatch.setenv("PROVARCHIVE_USER", "x" * 900)  # fits, with a short address
    monkeypatch.setenv("PROVARCHIVE_USER_ADDRESS", "mailto:desk@example.org")
    assert cli("ingest").exit_code == 0
    assert cli("verify").exit_code == 0


@pytest.mark.parametrize(
    "command", [("list",), ("init",), ("ingest",), ("verify",), ("search", "x"), ("key",)]
)
def test_a_file_given_as_the_archive_is_a_usage_error_and_is_left_alone(
    cli, tmp_path: Path, command: tuple[str, ...]
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("hi\n")
    result = cli("--archive", str(afile), *command)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == (
        f"Error: {afile} is a file, not an archive folder; give --archive a folder"
    )
    assert afile.read_text() == "hi\n" and sorted(tmp_path.iterdir()) == [afile]


@pytest.mark.parametrize("command", [("verify",), ("ingest",), ("init",), ("list",)])
def test_an_archive_path_through_a_file_is_a_usage_error(
    cli, tmp_path: Path, command: tuple[str, ...]
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("hi\n")
    result = cli("--archive", str(afile / "archive"), *command)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == (
        f"Error: {afile / 'archive'}: a part of this path is a file; give --archive a folder"
    )
    assert afile.read_text() == "hi\n"
