"""verify while a real ingest process writes: no false finding for a commit in flight (#19).

A second process ingests batch after batch; meanwhile verify runs again and again in
this process. Every finding it reports must be true of the archive at some moment, so
none may be an error: a version committed to the store but not yet to the catalog is
``PENDING_WRITE`` (info), a staging area in use is not a leftover. (Whether a run lands
inside a commit is up to timing; ``PENDING_WRITE`` itself is produced deterministically
by tests/test_verify_codes.py.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from provarchive import Archive

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from provarchive import Archive, ArchiveConfig

    root, seeds, batches = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    with Archive(ArchiveConfig(root=root, seeds=seeds)) as archive:
        for batch in range(batches):
            for i in range(8):
                (seeds / f"b{batch}-{i}.txt").write_text(
                    f"Report {batch}.{i}: the harbour froze over on night {i}.\\n" * (i + 1)
                )
            (seeds / "running.txt").write_text(f"Revision {batch} of the running note.\\n")
            archive.ingest()
    """
)


@pytest.mark.slow
def test_verify_during_a_concurrent_ingest_reports_no_error(
    archive: Archive, seeded: Path, tmp_path: Path
) -> None:
    archive.ingest()
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    writer = subprocess.Popen(
        [sys.executable, str(script), str(archive.config.root), str(seeded), "12"],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    runs, errors = 0, []
    try:
        while writer.poll() is None or runs == 0:
            with Archive(archive.config) as reader:
                report = reader.verify(check_seeds=False)
            runs += 1
            errors += [f.to_json() for f in report.errors()]
    finally:
        _out, err = writer.communicate(timeout=600)
    assert writer.returncode == 0, err.decode()
    assert runs >= 2
    assert errors == [], sorted({(e["code"], e["document"], e["message"][-60:]) for e in errors})[
        :6
    ]
    with Archive(archive.config) as reader:  # and once the writer is done, all is settled
        final = reader.verify(check_seeds=False)
    assert final.findings == [], [f.to_json() for f in final.findings]


def test_an_empty_object_folder_a_writer_fills_is_not_reported(tmp_path: Path) -> None:
    """The writer makes an object's parent folders, then renames the object in: the empty
    folder seen in between is looked at again; a stale one stays reported."""
    import threading

    from provarchive.verify.objects import _filled_since

    for rel in ("0c5/d67", "0c5/d68", "abc/stale"):
        (tmp_path / rel).mkdir(parents=True)
    fill = threading.Timer(0.02, lambda: (tmp_path / "0c5/d67/obj").mkdir())
    gone = threading.Timer(0.02, lambda: (tmp_path / "0c5/d68").rmdir())
    fill.start()
    gone.start()
    try:
        assert _filled_since(tmp_path, {"0c5/d67", "0c5/d68", "abc/stale"}) == {
            "0c5/d67",
            "0c5/d68",
        }
    finally:
        fill.join()
        gone.join()
    assert _filled_since(tmp_path, set()) == set()
