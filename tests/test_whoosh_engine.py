"""What only the Whoosh engine has: its files on disk, its analyser, its child-process writer.

Everything an engine must do is in test_search_engines.py; these tests damage
Whoosh's own files and kill its indexing process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provarchive import Archive
from provarchive.errors import SearchIndexError
from provarchive.search import whoosh_engine
from provarchive.search.engine import IndexEntry, SearchQuery
from provarchive.search.whoosh_engine import CURRENT, BackgroundIndexWriter, WhooshEngine


def _entry(n: int) -> IndexEntry:
    return IndexEntry(
        f"doc.txt@v1#{n}", "doc.txt", 1, n, "body", f"paragraph number {n} about rivers",
        "x" * 64, "y" * 64, 0, 10, datetime.now(UTC), True,
    )  # fmt: skip


def _live(archive: Archive) -> Path:
    gen = WhooshEngine(archive.config.index_dir).generation()
    assert gen is not None
    return gen


def test_INDEX_UNREADABLE_when_the_table_of_contents_is_garbage(seeded_archive: Archive) -> None:
    for f in _live(seeded_archive).glob("*.toc"):
        f.write_bytes(b"garbage")
    report = seeded_archive.verify()
    assert "INDEX_UNREADABLE" in report.codes() and not report.is_ok()
    with pytest.raises(SearchIndexError):
        seeded_archive.search("mystery")
    seeded_archive.ingest()  # the next writer recreates it
    assert seeded_archive.verify().is_ok()
    assert "index-recreated" in [
        e.detail.split(":")[0] for e in seeded_archive.events() if e.event_type == "recovery"
    ]


def test_INDEX_DAMAGED_when_garbage_is_written_into_a_segment(seeded_archive: Archive) -> None:
    [segment] = [p for p in _live(seeded_archive).glob("*.seg")]
    data = bytearray(segment.read_bytes())
    data[len(data) // 2] ^= 0xFF
    segment.write_bytes(bytes(data))
    report = seeded_archive.verify()
    assert [f.code for f in report.errors()] == ["INDEX_DAMAGED"]
    assert segment.name in report.errors()[0].path
    # The next writer notices the change (a stat check, no hashing) and rebuilds it.
    repairs = seeded_archive.ingest().repairs
    assert "index-recreated" in [r.action for r in repairs]
    assert seeded_archive.verify().findings == []


@pytest.mark.parametrize("damage", ["no files", "files not a table", "files not tables"])
def test_INDEX_DAMAGED_when_the_record_of_file_digests_is_gone(
    seeded_archive: Archive, damage: str
) -> None:
    meta_path = _live(seeded_archive) / whoosh_engine.META
    meta = json.loads(meta_path.read_text())
    if damage == "no files":
        del meta["files"]
    elif damage == "files not a table":
        meta["files"] = list(meta["files"])
    else:
        meta["files"] = {name: "?" for name in meta["files"]}
    meta_path.write_text(json.dumps(meta))
    report = seeded_archive.verify()
    [finding] = report.errors()
    assert finding.code == "INDEX_DAMAGED"
    assert finding.path.endswith(f"{_live(seeded_archive).name}/{whoosh_engine.META}")
    # A writer does not bless files it cannot check: it rebuilds the index.
    assert "index-recreated" in [r.action for r in seeded_archive.ingest().repairs]
    assert seeded_archive.verify().findings == []


def test_a_commit_not_yet_recorded_is_not_damage(seeded_archive: Archive) -> None:
    """A writer records the digests of its files just after its Whoosh commit: a verify
    in between, or after a kill between the two, must not call the index damaged, and
    the next writer does not rebuild the index for it (its next commit records them)."""
    meta_path = _live(seeded_archive) / whoosh_engine.META
    meta = json.loads(meta_path.read_text())
    segment = next(name for name in meta["files"] if name.endswith(".seg"))
    del meta["files"][segment]
    meta_path.write_text(json.dumps(meta))
    assert seeded_archive.verify().errors() == []
    assert "index-recreated" not in [r.action for r in seeded_archive.ingest().repairs]


def test_an_index_of_an_older_schema_is_rebuilt_not_read(seeded_archive: Archive) -> None:
    meta = _live(seeded_archive) / whoosh_engine.META
    meta.write_text(
        meta.read_text().replace(f'"schema": {whoosh_engine.SCHEMA_VERSION}', '"schema": 1')
    )
    with pytest.raises(SearchIndexError, match="schema differs"):
        seeded_archive.search("mystery")
    assert "index-recreated" in [r.action for r in seeded_archive.ingest().repairs]
    assert seeded_archive.search("mystery").total == 1


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("missing", "is missing"),
        ("garbled", "is not valid JSON"),
        ("a list", "is not a JSON object"),
    ],
)
def test_an_index_whose_record_is_damaged_says_so_and_names_the_file(
    seeded_archive: Archive, damage: str, reason: str
) -> None:
    meta = _live(seeded_archive) / whoosh_engine.META
    if damage == "missing":
        meta.unlink()
    else:
        meta.write_text("{bad" if damage == "garbled" else "[]")
    with pytest.raises(SearchIndexError) as info:
        seeded_archive.search("mystery")
    assert str(info.value) == f"{meta} {reason}; run 'provarchive reindex'"
    assert "index-recreated" in [r.action for r in seeded_archive.ingest().repairs]
    assert seeded_archive.search("mystery").total == 1


def test_an_index_of_another_analyser_is_rebuilt_not_read(
    seeded_archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    meta = _live(seeded_archive) / whoosh_engine.META
    assert json.loads(meta.read_text())["analysis"] == whoosh_engine.analyzer_fingerprint()
    # An analyser that cuts words otherwise (Whoosh's default pattern) names itself apart...
    monkeypatch.setattr(whoosh_engine, "TOKEN_PATTERN", r"\w+(\.?\w+)*")
    whoosh_engine.analyzer_fingerprint.cache_clear()
    try:
        assert whoosh_engine.analyzer_fingerprint() != json.loads(meta.read_text())["analysis"]
        # ... so the index it did not build is refused, not read with the wrong terms,
        with pytest.raises(SearchIndexError, match="analysis differs"):
            seeded_archive.search("mystery")
        # and the next writer rebuilds it with its own.
        assert "index-recreated" in [r.action for r in seeded_archive.ingest().repairs]
        assert seeded_archive.search("mystery").total == 1
    finally:
        whoosh_engine.analyzer_fingerprint.cache_clear()


def test_reindex_switches_generations_and_keeps_one_previous(seeded_archive: Archive) -> None:
    first = _live(seeded_archive)
    seeded_archive.reindex()
    second = _live(seeded_archive)
    seeded_archive.reindex()
    third = _live(seeded_archive)
    assert len({first, second, third}) == 3
    gens = sorted(p.name for p in seeded_archive.config.index_dir.glob("g-*"))
    assert gens == sorted([second.name, third.name])
    assert (seeded_archive.config.index_dir / CURRENT).read_text().strip() == third.name


def test_a_generation_left_by_a_killed_reindex_is_removed_by_the_next_writer(
    seeded_archive: Archive,
) -> None:
    orphan = seeded_archive.config.index_dir / "g-29990101T000000-deadbeef"
    orphan.mkdir()
    (orphan / "_passages_1.toc").write_bytes(b"half written")
    repairs = seeded_archive.ingest().repairs
    assert "index-cleaned" in [r.action for r in repairs]
    assert not orphan.exists()
    assert seeded_archive.search("mystery").total == 1


@settings(max_examples=200)
@given(st.text(alphabet=st.sampled_from(list("ab 東京都は日本のカナ한국어 ＡＢ　x1")), max_size=40))
def test_cjk_filter_matches_whoosh3s_own(text: str) -> None:
    from whoosh import analysis

    ours = analysis.RegexTokenizer() | whoosh_engine.CJKUnigramFilter()
    theirs = analysis.RegexTokenizer() | analysis.CJKFilter()

    def tokens(a):
        return [
            (t.text, t.pos, t.startchar, t.endchar) for t in a(text, positions=True, chars=True)
        ]

    assert tokens(ours) == tokens(theirs)


def test_background_writer_failure_is_reported(tmp_path: Path) -> None:
    writer = BackgroundIndexWriter(tmp_path / "no-index-here")
    writer.replace_version("doc.txt", 1, [_entry(1)])
    with pytest.raises(SearchIndexError, match="indexing failed"):
        writer.commit()


def test_dead_indexer_does_not_hang_a_full_queue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the child gone nobody drains the bounded queue: queuing must raise, not wait forever."""
    monkeypatch.setattr(whoosh_engine, "_QUEUE_VERSIONS", 2)
    engine = WhooshEngine(tmp_path / "ix")
    engine.create()
    writer = engine.background_writer()
    assert isinstance(writer, BackgroundIndexWriter)
    os.kill(writer._process.pid, signal.SIGKILL)
    writer._process.join()
    with pytest.raises(SearchIndexError, match="died"):
        for n in range(10):
            writer.replace_version("doc.txt", n + 1, [_entry(n)])
    writer.cancel()


def test_background_indexer_dies_with_its_parent(tmp_path: Path) -> None:
    """A SIGKILLed ingest must not leave an indexer that commits later."""
    engine = WhooshEngine(tmp_path / "ix")
    engine.create()
    script = f"""
import time
from datetime import UTC, datetime
from pathlib import Path
from provarchive.search.engine import IndexEntry
from provarchive.search.whoosh_engine import WhooshEngine
w = WhooshEngine(Path({str(engine.path)!r})).background_writer()
w.replace_version("doc.txt", 1, [IndexEntry("doc.txt@v1#1", "doc.txt", 1, 1, "body", "text", "x", "y", 0, 4, datetime.now(UTC), True)])
print(w._process.pid, flush=True)
time.sleep(60)
"""
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the indexer outlived its parent")
    engine.close()
    assert engine.doc_count() == 0
    assert engine.search(SearchQuery("text")).total == 0
