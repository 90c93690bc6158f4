"""common/clock.py: the one timestamp format and Beijing time."""
from datetime import datetime, timedelta, timezone

from common import clock
from unit.conftest import lane_start


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



def test_the_moved_lanes_start_where_the_two_dates_differ():
    now = datetime(2026, 12, 7, 17, 6, tzinfo=timezone.utc)
    late, early = lane_start("utc-late", now), lane_start("beijing-early", now)
    assert late.astimezone(timezone.utc).date().isoformat() == "2026-12-07"
    assert clock.beijing_date(late).isoformat() == "2026-12-08"
    assert early.astimezone(timezone.utc).isoformat() == "2026-12-07T16:30:00+00:00"
    assert clock.beijing_date(early).isoformat() == "2026-12-08"


def test_a_moved_lane_runs_where_the_machines_date_is_not_the_exams(moved_clock):
    """Under `EXAM_TEST_CLOCK` every unit test runs in those hours; on the real clock there
    is nothing to check."""
    if moved_clock is not None:
        assert clock.utcnow().date() != clock.beijing_today()  # machine date: the lane's point
        assert abs((clock.utcnow() - moved_clock).total_seconds()) < 3600


def test_the_beijing_date_of_an_instant_turns_at_16_utc():
    assert clock.beijing_date(datetime(2026, 12, 7, 15, 59, tzinfo=timezone.utc)).isoformat() == "2026-12-07"
    assert clock.beijing_date(datetime(2026, 12, 7, 16, 0, tzinfo=timezone.utc)).isoformat() == "2026-12-08"
    assert clock.beijing_date(datetime(2026, 12, 7, 16, 0)).isoformat() == "2026-12-08"  # naive is UTC


def test_a_text_without_an_offset_is_beijing_wall_clock_time_and_one_with_an_offset_keeps_it():
    bare = clock.parse_beijing("2026-12-01T08:00:00")
    assert bare == datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc) and bare.utcoffset() == timedelta(hours=8)
    assert clock.parse_beijing("2026-12-01") == datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc)
    given = clock.parse_beijing("2026-05-20T16:30:00Z")
    assert given == datetime(2026, 5, 20, 16, 30, tzinfo=timezone.utc) and given.utcoffset() == timedelta(0)
