"""common/ratelimit.py's choice of slot, free of I/O: at most `limit` hits in any rolling
window (the collection's compare-and-set: tests/integration/test_rate_limit.py)."""
from common.ratelimit import free_slots

HOUR_MS = 3600 * 1000


def in_order(items):
    items.sort()


def take(slots, now, limit=5):
    free = free_slots(slots, now, limit, HOUR_MS, shuffle=in_order)
    if free:
        slots[free[0]] = now
    return free[0] if free else None


def test_five_slots_per_rolling_hour_and_the_oldest_frees_first():
    slots, now = {}, 10_000_000
    assert [take(slots, now + n) for n in range(5)] == ["s0", "s1", "s2", "s3", "s4"]
    assert free_slots(slots, now + 10, 5, HOUR_MS) == []
    assert free_slots(slots, now + HOUR_MS - 1, 5, HOUR_MS) == []
    # An hour after the first hit its slot (the oldest) is free again, and only it.
    assert take(slots, now + HOUR_MS) == "s0"
    assert free_slots(slots, now + HOUR_MS, 5, HOUR_MS) == []
    assert free_slots(slots, now + HOUR_MS + 1, 5, HOUR_MS) == ["s1"]
    assert free_slots(slots, now + HOUR_MS + 3, 5, HOUR_MS) == ["s1", "s2", "s3"]


def test_empty_slots_come_before_lapsed_ones_and_parallel_hits_spread_over_them():
    slots = {"s0": 1, "s3": 2}
    free = free_slots(slots, HOUR_MS + 10, 5, HOUR_MS, shuffle=in_order)
    assert free == ["s1", "s2", "s4", "s0", "s3"]
    picks = {free_slots({}, 0, 30, HOUR_MS)[0] for _ in range(200)}
    assert len(picks) > 10  # random among the empty ones, not always s0
