"""common/clock.py: the one timestamp format and Beijing time."""
from datetime import datetime, timedelta, timezone

from common import clock


def test_instants_are_written_in_utc_with_milliseconds_and_z():
    beijing_morning = datetime(2026, 5, 20, 10, 0, 0, 123456, tzinfo=clock.BEIJING)
    assert clock.iso(beijing_morning) == "2026-05-20T02:00:00.123Z"
    assert clock.iso_from_epoch(0) == "1970-01-01T00:00:00.000Z"


def test_a_written_instant_reads_back_as_the_same_moment():
    now = clock.utcnow()
    assert now.tzinfo is not None
    assert clock.parse_iso(clock.iso(now)) == now.replace(microsecond=now.microsecond // 1000 * 1000)
    assert clock.parse_iso(clock.utcnow_iso()) - now < timedelta(seconds=5)


def test_offsets_other_than_z_are_read_too():
    assert clock.parse_iso("2026-05-20T10:00:00+08:00") == datetime(2026, 5, 20, 2, tzinfo=timezone.utc)
    assert clock.BEIJING.utcoffset(None) == timedelta(hours=8)
