"""The archive's one reader and writer of time stamps."""

from datetime import UTC, datetime, timedelta, timezone

from provarchive import timestamps


def test_a_stamp_with_z_or_an_offset_reads_as_the_same_moment_in_utc() -> None:
    z = timestamps.parse("2026-03-01T12:00:00.250000Z")
    offset = timestamps.parse("2026-03-01T13:00:00.25+01:00")
    assert z == offset == datetime(2026, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)
    assert z.tzinfo is UTC and offset.tzinfo is UTC


def test_stamps_are_written_with_z_and_read_back_unchanged() -> None:
    moment = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert timestamps.iso(moment) == "2026-03-01T12:00:00Z"
    assert timestamps.iso(moment.replace(microsecond=5)) == "2026-03-01T12:00:00.000005Z"
    assert timestamps.parse(timestamps.iso(moment)) == moment
    assert timestamps.iso_or_none(None) is None
    assert timestamps.iso_or_none(moment) == "2026-03-01T12:00:00Z"


def test_a_version_stamp_always_has_microseconds_so_stamps_sort_as_their_moments() -> None:
    first = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    later = first + timedelta(microseconds=1)
    assert timestamps.iso_micro(first) == "2026-03-01T12:00:00.000000Z"
    assert sorted([timestamps.iso_micro(later), timestamps.iso_micro(first)]) == [
        timestamps.iso_micro(first),
        timestamps.iso_micro(later),
    ]
    # Not UTC: the offset is kept, not rewritten as Z.
    east = first.astimezone(timezone(timedelta(hours=2)))
    assert timestamps.iso(east) == "2026-03-01T14:00:00+02:00"


def test_a_stamp_without_a_zone_is_utc_on_every_machine(monkeypatch) -> None:
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        assert timestamps.parse("2026-03-01T12:00:00") == datetime(2026, 3, 1, 12, tzinfo=UTC)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
