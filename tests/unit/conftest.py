"""The unit lane under a moved clock (issue 26).

`EXAM_TEST_CLOCK=utc-late` starts the lane at 23:30 UTC of today's UTC date (07:30 the
next day in Beijing), `EXAM_TEST_CLOCK=beijing-early` at 00:30 Beijing time of today's
Beijing date (16:30 UTC the day before): the eight hours when the machine's date and
the exam's differ. `make test` runs the lane at both, so a test that takes "today" from
the machine fails every time rather than by the hour CI happens to run. Time keeps
flowing from there (`tick=True`): timeouts and token lifetimes still work. Only this
process's clock moves; integration and e2e servers run on the real one, hence the
static guard in test_clock_discipline.py for those."""
import os
from datetime import datetime, time as clock_time, timezone

import pytest

from common import clock

LANES = {
    "utc-late": lambda now: datetime.combine(now.date(), clock_time(23, 30), timezone.utc),
    "beijing-early": lambda now: datetime.combine(clock.beijing_date(now), clock_time(0, 30), clock.BEIJING),
}


def lane_start(name, now):
    """Where the lane named `name` starts its clock, given the real `now` (UTC)."""
    return LANES[name](now)


@pytest.fixture(scope="session", autouse=True)
def moved_clock():
    name = os.environ.get("EXAM_TEST_CLOCK")
    if not name:
        yield None
        return
    if name not in LANES:
        raise pytest.UsageError(f"EXAM_TEST_CLOCK must be one of {sorted(LANES)}, not {name!r}")
    import time_machine
    start = lane_start(name, clock.utcnow())
    with time_machine.travel(start, tick=True):
        yield start

