"""Hostile and odd input: each has a clear outcome and leaves the archive valid."""

from __future__ import annotations

import codecs
import json
import os
import resource
import stat
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provarchive import Archive, ArchiveConfig
from provarchive.seeds import StoreLimits
from provarchive.store.ocfl import object_path_for
from provarchive.store.storage import Transaction

from .conftest import ocfl_py_validate, run_provarchive
from .test_seeds import tree_state, unchanged_outside
from .test_seeds_limits import long_name


def _ingested(archive: Archive, seeds: Path, name: str, data: bytes):
    (seeds / name).write_bytes(data)
    [result] = [r for r in archive.ingest().results if r.document == name]
    return result


def test_random_binary_is_archived_as_bytes_without_passages(
    archive: Archive, seeds: Path, cli
) -> None:
    data = os.urandom(20000)
    result = _ingested(archive, seeds, "blob.bin", data)
    assert result.status == "new"
    assert archive.read_bytes("blob.bin") == data
    dv = archive.view("blob.bin")
    assert dv is not None and dv.status == "binary" and dv.passages == []
    assert "binary" in (dv.detail or "")
    shown = json.loads(cli("show", "blob.bin", "--json").stdout)
    assert shown["derivation"]["status"] == "binary" and shown["passages"] == []
    assert archive.verify().is_ok()


@pytest.mark.parametrize(
    ("encoding", "text", "query"),
    [
        (
            "latin-1",
            "Grüße aus München: die Straßenbahn fährt wieder über die Brücke am Fluss.",
            "Straßenbahn",
        ),
        (
            "cp1252",
            "Ação rápida: a prefeitura de São Paulo anunciou obras “urgentes” na ponte.",
            "prefeitura",
        ),
        (
            "utf-16",
            "Die Brücke über den Fluss wurde nach zwei Jahren Bauzeit wieder eröffnet.",
            "Bauzeit",
        ),
        (
            "utf-16-le",
            "Die Brücke über den Fluss wurde nach zwei Jahren Bauzeit wieder eröffnet.",
            "eroffnet",
        ),
    ],
)
def test_legacy_and_utf16_text_is_decoded_and_searchable(
    archive: Archive, seeds: Path, encoding: str, text: str, query: str
) -> None:
    data = (text + "\n").encode(encoding)
    _ingested(archive, seeds, "legacy.txt", data)
    dv = archive.view("legacy.txt")
    assert dv is not None and dv.status == "text"
    assert [p["text"] for p in dv.passages] == [text]
    hits = archive.search(query).hits
    assert hits and hits[0].document == "legacy.txt"
    start, end = hits[0].raw_span
    assert data[start:end].decode(dv.encoding or "") == text
    assert archive.verify().is_ok()


def test_invalid_utf8_keeps_the_valid_text(archive: Archive, seeds: Path) -> None:
    data = (
        "Une phrase en français, avec des accents: été, déjà.".encode()
        + b"\xc3\x28\xff"
        + b" Et la suite du texte ici."
    )
    _ingested(archive, seeds, "broken.txt", data)
    dv = archive.view("broken.txt")
    assert dv is not None and dv.encoding == "utf-8"
    assert "\ufffd" in dv.passages[0]["text"] and "déjà" in dv.passages[0]["text"]
    assert archive.search("deja").total == 1
    assert archive.verify().is_ok()


def test_nul_bytes(archive: Archive, seeds: Path) -> None:
    _ingested(
        archive,
        seeds,
        "nul.txt",
        b"The report\x00was filed\x00late on Friday evening by the clerk.\n",
    )
    dv = archive.view("nul.txt")
    assert (
        dv is not None
        and dv.passages[0]["text"] == "The report was filed late on Friday evening by the clerk."
    )
    assert archive.verify().is_ok()


def test_empty_file(archive: Archive, seeds: Path) -> None:
    assert _ingested(archive, seeds, "empty.txt", b"").status == "new"
    dv = archive.view("empty.txt")
    assert dv is not None and dv.status == "empty" and dv.passages == []
    assert archive.read_bytes("empty.txt") == b""
    assert archive.verify().is_ok()


@pytest.mark.slow
def test_fifty_megabytes_on_a_single_line(archive: Archive, seeds: Path) -> None:
    sentence = b"The archive keeps every version of every document it is given. "
    data = sentence * (50 * 1024 * 1024 // len(sentence) + 1)
    result = _ingested(archive, seeds, "huge.txt", data)
    assert result.status == "new"
    dv = archive.view("huge.txt")
    assert dv is not None and len(dv.passages) > 40000
    assert max(len(p["text"]) for p in dv.passages) <= 1500
    assert archive.search("archive", document="huge.txt").total == len(dv.passages)
    assert archive.verify(check_seeds=False).is_ok()


@pytest.mark.parametrize(
    "name",
    [
        "x" * 251 + ".txt",  # the longest a file system allows
        "name with spaces.txt",
        "عربي-שלום.txt",  # right-to-left scripts
        "emoji-🙂-名前.txt",
        "e\u0301cole.txt",  # decomposed: stored as NFC
        "a@v1#2.txt",  # looks like a passage id
        "percent%20and?query.txt",
        "-leading-dash.txt",
    ],
)
def test_odd_file_names(archive: Archive, seeds: Path, name: str, cli) -> None:
    (seeds / name).write_text("A short but complete sentence sits in this file for the test.\n")
    [result] = archive.ingest().results
    nfc = unicodedata.normalize("NFC", name)
    assert (result.document, result.status) == (nfc, "new")
    assert archive.read_bytes(nfc).startswith(b"A short")
    assert cli("cat", "--", nfc).exit_code == 0  # "--" as for any command line tool
    hit = archive.search("sentence").hits[0]
    assert hit.document == nfc and hit.passage_id == f"{nfc}@v1#1"
    assert archive.verify().is_ok()
    ok, messages = ocfl_py_validate(archive.store.root)
    assert ok, messages


def test_newline_in_a_name_is_refused_with_a_reason(archive: Archive, seeds: Path) -> None:
    (seeds / "two\nlines.txt").write_text("x")
    [result] = archive.ingest().results
    assert result.status == "failed" and "control character (U+000A)" in (result.error or "")


def test_device_node_is_skipped(archive: Archive, seeds: Path) -> None:
    try:
        os.mknod(seeds / "null-device", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("creating a device node needs CAP_MKNOD")
    (seeds / "good.txt").write_text("good")
    report = archive.ingest()
    statuses = {r.document: (r.status, r.error) for r in report.results}
    assert statuses["null-device"][0] == "skipped" and "device node" in (
        statuses["null-device"][1] or ""
    )
    assert statuses["good.txt"][0] == "new"


NAME_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@pytest.mark.slow
@given(name=st.text(NAME_CHARS, min_size=1, max_size=60))
def test_any_file_name_is_archived_or_refused_clearly(
    tmp_path_factory: pytest.TempPathFactory, name: str
) -> None:
    if name in (".", ".."):
        return
    base = tmp_path_factory.mktemp("names")
    seeds = base / "seeds"
    seeds.mkdir()
    try:
        (seeds / name).write_bytes(b"content of a file with a strange name\n")
    except OSError:
        return  # the file system itself refuses the name (too long in bytes)
    with Archive(ArchiveConfig(root=base / "archive", seeds=seeds)) as archive:
        [result] = archive.ingest().results
        if result.status == "failed":
            assert result.error and (
                "control character" in result.error
                or "not allowed" in result.error
                or "would escape" in result.error
                or "segment" in result.error
            )
        elif result.status == "ignored":  # dotfiles and editor backups, by default
            assert (result.error or "").startswith("default:")
        else:
            assert result.status == "new"
            assert result.document == unicodedata.normalize("NFC", name)
            assert archive.read_bytes(result.document) == b"content of a file with a strange name\n"
        assert archive.verify().is_ok()


def test_utf16_bom_file_spans_in_show(archive: Archive, seeds: Path, cli) -> None:
    text = "Ein Bericht über die Brücke, die nach zwei Jahren wieder geöffnet wurde.\n"
    data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    _ingested(archive, seeds, "bom16.txt", data)
    shown = json.loads(cli("show", "bom16.txt", "--json").stdout)
    [p] = shown["passages"]
    start, end = p["raw_span"]
    assert start >= 2 and data[start:end].decode("utf-16-le") == p["text"]


# -- issue #20, case by case, through the CLI ---------------------------------------------------
# Each test snapshots the folder around the archive and the seeds folder (tmp_path and
# its parent) and checks that nothing else changed, and that the rest of the batch was
# archived.


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The archive folder, made empty beforehand so that creating it changes nothing
    around it (an empty folder becomes an archive)."""
    path = tmp_path / "archive"
    path.mkdir()
    return path


def _archived(cli, name: str) -> bytes:
    result = cli("cat", "--", name)
    assert result.exit_code == 0, result.stderr
    return result.stdout_bytes


GOOD = b"A good document of the same batch, with a sentence worth finding.\n"


def test_case1_a_folder_that_is_not_an_archive_is_never_touched(
    tmp_path: Path, seeds: Path, home: Path, cli
) -> None:
    work = tmp_path / "work"
    for rel, data in {
        "staging/draft.txt": b"my draft",
        "index/index.html": b"<html>",
        "ocfl/notes.txt": b"notes",
    }.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_bytes(data)
    (seeds / "good.txt").write_bytes(GOOD)
    incoming = tmp_path / "in.txt"
    incoming.write_text("A note to add.\n")
    with unchanged_outside(tmp_path):  # not even the seeds folder changes
        for args in (["init"], ["ingest"], ["add", str(incoming)]):
            result = cli("--archive", str(work), *args)
            assert result.exit_code == 2, (args, result.stderr)
            [line] = _lines(result.stderr)
            assert line.startswith(f"Error: {work} is not an archive") and "index" in line
    with unchanged_outside(tmp_path, seeds, home):
        result = cli("ingest")  # the same batch, into an archive folder of its own
    assert result.exit_code == 0, result.stderr
    assert _archived(cli, "good.txt") == GOOD


def test_case2_links_never_lead_out_of_the_seeds_folder(
    tmp_path: Path, seeds: Path, home: Path, cli
) -> None:
    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "passwd").write_text("root:x:0:0\n")
    (seeds / "link").symlink_to(outside)
    (seeds / "etclink").symlink_to(outside)  # stands for a link to /etc
    (seeds / "good.txt").write_bytes(GOOD)
    x = tmp_path / "x.txt"
    x.write_text("A file to add under a name through a link.\n")
    with unchanged_outside(tmp_path, seeds, home):
        for target in ("link/newdir/x.txt", "link/x.txt", "link/sub/x.txt"):
            result = cli("add", str(x), "--as", target)
            assert result.exit_code == 1, (target, result.stdout)
            [line] = _lines(result.stderr)
            assert "outside the seeds folder" in line
        result = cli("ingest", str(seeds / "etclink" / "passwd"), str(seeds / "good.txt"))
        assert result.exit_code == 1
        [line] = _lines(result.stderr)
        assert line.startswith("failed: ") and "etclink is a symbolic link to" in line
        assert _archived(cli, "good.txt") == GOOD
        result = cli("ingest")  # the whole folder: each link out is refused, not followed
        assert result.exit_code == 1
        assert sorted(_lines(result.stderr)) == [
            f"failed: {seeds / n}: symbolic link leads outside the seeds folder (to {outside})"
            for n in ("etclink", "link")
        ]
    for name in ("etclink/passwd", "passwd", "link/passwd"):
        assert cli("cat", name).exit_code != 0
    assert sorted(p.name for p in outside.iterdir()) == ["passwd", "sub"]


def _added_file(tmp_path: Path) -> Path:
    """A file to add, made before the snapshot."""
    path = tmp_path / "added.txt"
    path.write_text("An added document that must be archived too.\n")
    return path


def _other_commands_succeed(tmp_path: Path, seeds: Path, cli, *extra: str) -> None:
    """After a refused or oversize seed: ingest, add and rebuild of other files succeed,
    and the store stays valid for us and for ocfl-py."""
    (seeds / "later.txt").write_text("A later document that must be archived too.\n")
    result = cli("ingest", *extra, str(seeds / "later.txt"))
    assert result.exit_code == 0, result.stderr
    result = cli("add", *extra, str(tmp_path / "added.txt"))
    assert result.exit_code == 0, result.stderr
    result = cli("rebuild")
    assert result.exit_code == 0, result.stderr
    assert _archived(cli, "later.txt").startswith(b"A later")
    assert _archived(cli, "added.txt").startswith(b"An added")
    result = cli("verify")
    assert result.exit_code == 0, result.stdout
    ok, messages = ocfl_py_validate(tmp_path / "archive" / "ocfl")
    assert ok, messages


def test_case3_a_name_too_long_for_the_store_is_refused_alone(
    tmp_path: Path, seeds: Path, home: Path, cli
) -> None:
    too_long = long_name(StoreLimits.probe(home / "ocfl").longest_name + 1, segment=249)
    (seeds / too_long).parent.mkdir(parents=True)
    (seeds / too_long).write_bytes(b"a seed whose store path would be too long\n")
    (seeds / "good.txt").write_bytes(GOOD)
    _added_file(tmp_path)
    with unchanged_outside(tmp_path, seeds, home):
        result = cli("ingest")
        assert result.exit_code == 1
        [line] = _lines(result.stderr)
        assert line.startswith("failed: ") and "cannot be stored: the name is" in line
        assert _archived(cli, "good.txt") == GOOD
        _other_commands_succeed(tmp_path, seeds, cli)
    assert cli("cat", too_long).exit_code != 0


def test_case3_the_store_refuses_a_long_name_that_got_past_the_scanner(
    tmp_path: Path, seeds: Path, home: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits = StoreLimits.probe(home / "ocfl")
    v1_prefix = len(os.fsencode(home / "ocfl")) + len("/aaa/bbb/ccc/") + 64 + len("/v1/content/")
    too_long = long_name(limits.path_max - v1_prefix + 1)  # committable, not readable
    (seeds / too_long).parent.mkdir(parents=True)
    (seeds / too_long).write_bytes(b"a seed whose store path would be too long\n")
    (seeds / "good.txt").write_bytes(GOOD)
    _added_file(tmp_path)
    monkeypatch.setattr(StoreLimits, "problem", lambda self, name: None)  # no scanner check
    with unchanged_outside(tmp_path, seeds, home):
        result = cli("ingest")
        assert result.exit_code == 1
        [line] = _lines(result.stderr)
        assert "cannot be stored: its path in the store would be" in line
        assert _archived(cli, "good.txt") == GOOD
        _other_commands_succeed(tmp_path, seeds, cli)
    assert list((home / "staging").iterdir()) == []


def test_case3_an_object_already_stored_that_cannot_be_read_wedges_nothing(
    tmp_path: Path, seeds: Path, home: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An archive written before the store checked lengths may hold such an object.
    limits = StoreLimits.probe(home / "ocfl")
    v1_prefix = len(os.fsencode(home / "ocfl")) + len("/aaa/bbb/ccc/") + 64 + len("/v1/content/")
    too_long = long_name(limits.path_max - v1_prefix + 1)
    (seeds / too_long).parent.mkdir(parents=True)
    (seeds / too_long).write_bytes(b"a seed whose store path is too long\n")
    (seeds / "good.txt").write_bytes(GOOD)
    monkeypatch.setattr(StoreLimits, "problem", lambda self, name: None)
    monkeypatch.setattr(Transaction, "_check_storable", lambda *args: None)
    result = cli("ingest")
    assert result.exit_code == 0, result.stderr
    assert _archived(cli, "good.txt") == GOOD
    # The store opens its files one directory at a time (open_contained), so even this
    # path is read back: its text is derived like any other.
    shown = json.loads(cli("show", too_long, "--json").stdout)
    assert shown["derivation"]["status"] == "text"
    (seeds / "later.txt").write_text("A later document that must be archived too.\n")
    assert cli("ingest", str(seeds / "later.txt")).exit_code == 0
    added = tmp_path / "added.txt"
    added.write_text("An added document that must be archived too.\n")
    assert cli("add", str(added)).exit_code == 0
    assert json.loads(cli("search", "later", "--json").stdout)["total"] == 1


@pytest.mark.slow
def test_case4_a_file_over_the_text_limit_is_archived_not_cleaned(
    tmp_path: Path, seeds: Path, home: Path, cli
) -> None:
    big = b"A line of text in a file over the text limit.\n" * 5000
    (seeds / "big.txt").write_bytes(big)
    (seeds / "good.txt").write_bytes(GOOD)
    limit = ["--max-text-bytes", "100000"]
    _added_file(tmp_path)
    with unchanged_outside(tmp_path, seeds, home):
        result = cli("ingest", *limit)
        assert result.exit_code == 0, result.stderr
        assert _archived(cli, "big.txt") == big and _archived(cli, "good.txt") == GOOD
        shown = json.loads(cli("show", "big.txt", "--json").stdout)
        assert shown["derivation"]["status"] == "too-large" and shown["passages"] == []
        history = cli("history", "big.txt").stdout
        assert "over the 100000-byte text limit" in history and "archived and hashed" in history
        assert json.loads(cli("search", "worth", "--json").stdout)["total"] == 1
        _other_commands_succeed(tmp_path, seeds, cli, *limit)


def _address_space(megabytes: int):
    limit = megabytes * 1024 * 1024
    return lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@pytest.mark.slow
def test_case4_a_1gb_file_under_a_700mb_address_space_limit(
    tmp_path: Path, seeds: Path, home: Path
) -> None:
    with open(seeds / "big.bin", "wb") as fh:
        fh.truncate(1024**3)  # sparse: a gigabyte of zeros
    (seeds / "good.txt").write_bytes(GOOD)
    added = _added_file(tmp_path)
    limited = _address_space(700)
    with unchanged_outside(tmp_path, seeds, home):
        result = run_provarchive("ingest", preexec_fn=limited, text=True)
        assert result.returncode == 0, result.stderr
        assert "2 new" in result.stdout
        (seeds / "big.bin").unlink()  # recovery must not need the stored object either
        for args in (["add", str(added)], ["rebuild"]):
            result = run_provarchive(*args, preexec_fn=limited, text=True)
            assert result.returncode == 0, (args, result.stderr)
        found = run_provarchive("search", "worth", "--json", preexec_fn=limited, text=True)
        assert json.loads(found.stdout)["hits"][0]["document"] == "good.txt"
        shown = run_provarchive("show", "big.bin", "--json", preexec_fn=limited, text=True)
        shown_json = json.loads(shown.stdout)
        assert shown_json["versions"][0]["size"] == 1024**3
        assert shown_json["derivation"]["status"] == "binary"  # sampled: all zero


def test_case5_names_equal_up_to_normalisation_are_both_refused(
    tmp_path: Path, seeds: Path, home: Path, cli
) -> None:
    composed, decomposed = "caf\u00e9.txt", "cafe\u0301.txt"
    (seeds / composed).write_bytes(b"the composed one\n")
    (seeds / decomposed).write_bytes(b"the decomposed one\n")
    (seeds / "good.txt").write_bytes(GOOD)
    with unchanged_outside(tmp_path, seeds, home):
        result = cli("ingest")
        assert result.exit_code == 1
        lines = _lines(result.stderr)
        assert len(lines) == 2
        for line in lines:  # each names both spellings, escaped so they can be told apart
            assert "differ only in Unicode normalisation" in line
            assert "caf\\xe9.txt" in line and "cafe\\u0301.txt" in line
        assert _archived(cli, "good.txt") == GOOD
        for name in (composed, decomposed):
            assert cli("cat", name).exit_code != 0  # neither one's bytes under the other's name
        (seeds / decomposed).unlink()
        assert cli("ingest").exit_code == 0
        for name in (composed, decomposed):  # one document, whatever the spelling asked for
            assert _archived(cli, name) == b"the composed one\n"


def test_case5_control_characters_are_shown_escaped_on_one_line(
    tmp_path: Path, seeds: Path, home: Path, cli
) -> None:
    (seeds / "esc\x1b[31mred.txt").write_text("escape\n")
    (seeds / "two\nlines.txt").write_text("newline\n")
    (seeds / "good.txt").write_bytes(GOOD)
    with unchanged_outside(tmp_path, seeds, home):
        result = cli("ingest")
    assert result.exit_code == 1
    assert "\x1b" not in result.stderr + result.stdout
    lines = sorted(_lines(result.stderr))
    assert len(lines) == 2
    assert "esc\\x1b[31mred.txt" in lines[0] and "control character (U+001B)" in lines[0]
    assert "two\\nlines.txt" in lines[1] and "control character (U+000A)" in lines[1]
    assert _archived(cli, "good.txt") == GOOD


def test_case5_all_zero_and_sparse_files_are_binary(
    tmp_path: Path, seeds: Path, home: Path, cli
) -> None:
    (seeds / "zeros.bin").write_bytes(bytes(100_000))
    for name, size in (("sparse.img", 10 * 1024**2), ("sparse-over-limit.img", 300_000)):
        with open(seeds / name, "wb") as fh:
            fh.write(b"a header")
            fh.truncate(size)
    (seeds / "good.txt").write_bytes(GOOD)
    with unchanged_outside(tmp_path, seeds, home):
        result = cli("ingest", "--max-text-bytes", "200000")
        assert result.exit_code == 0, result.stderr
        for name in ("zeros.bin", "sparse.img", "sparse-over-limit.img"):
            shown = json.loads(cli("show", name, "--json").stdout)
            assert (shown["derivation"]["status"], shown["passages"]) == ("binary", []), name
            assert shown["derivation"]["encoding"] is None
        assert _archived(cli, "sparse.img") == b"a header" + bytes(10 * 1024**2 - 8)
        assert _archived(cli, "good.txt") == GOOD
    history = cli("history", "sparse-over-limit.img").stdout
    assert "binary data: " in history and "bytes, sampled" in history


def test_case5_a_foreign_object_is_listed_by_rebuild_never_imported(
    tmp_path: Path, seeds: Path, home: Path, cli
) -> None:
    import ocfl

    (seeds / "good.txt").write_bytes(GOOD)
    assert cli("ingest").exit_code == 0
    source = tmp_path / "theirs"
    source.mkdir()
    (source / "file.txt").write_text("another tool's file\n")
    foreign_id = "urn:example:another-tool:1"
    where = home / "ocfl" / object_path_for(foreign_id)
    where.parent.mkdir(parents=True, exist_ok=True)
    meta = ocfl.VersionMetadata(created="2026-01-01T00:00:00Z", message="theirs",
                                name="other", address="mailto:other@example.org")  # fmt: skip
    ocfl.Object(identifier=foreign_id).create(srcdir=str(source), metadata=meta, objdir=str(where))
    theirs = tree_state(where, set())
    with unchanged_outside(tmp_path, seeds, home):
        result = cli("rebuild")
        assert result.exit_code == 0, result.stderr
        assert "1 document(s)" in result.stdout
        [line] = _lines(result.stderr)
        assert line == (
            f"not imported: foreign object {foreign_id} at "
            f"{where.relative_to(home / 'ocfl').as_posix()}"
        )
        shown = json.loads(cli("rebuild", "--json").stdout)
        assert shown["foreign"] == [
            {"id": foreign_id, "path": where.relative_to(home / "ocfl").as_posix()}
        ]
        assert "foreign object(s) not imported" in cli("log").stdout
        assert cli("ingest").exit_code == 0 and _archived(cli, "good.txt") == GOOD
    assert tree_state(where, set()) == theirs  # never changed
