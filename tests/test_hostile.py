"""Hostile and odd input: each has a clear outcome and leaves the archive valid."""

from __future__ import annotations

import codecs
import json
import os
import stat
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provarchive import Archive, ArchiveConfig

from .conftest import ocfl_py_validate


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
