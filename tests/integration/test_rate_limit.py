"""common/ratelimit.py on the real MongoDB-wire server: hits racing for a key's last
slots never go beyond its limit, a full key frees its oldest slot a window later, and
counting, clearing and purging work on what instances stored."""
import threading
import uuid

import pytest

from common import ratelimit
from common.ratelimit import RateLimit


@pytest.fixture
def collection(mongo_client):
    db = mongo_client[f"t{uuid.uuid4().hex[:10]}_ratelimit"]
    collection = db.limits
    collection.create_index("expires_at")
    yield collection
    mongo_client.drop_database(db.name)


def test_parallel_hits_take_exactly_the_limit_and_no_more(collection):
    limit = RateLimit(collection, 5, 60, tries=50)  # enough tries that contention never ends one
    results = []

    def hit():
        results.append(limit.take("candidate:c1", 1_000.0))

    threads = [threading.Thread(target=hit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 5 and results.count(False) == 15
    assert limit.count("candidate:c1", since=1_000.0 - 60) == 5
    assert len(collection.find_one({"_id": "candidate:c1"})["slots"]) == 5


def test_a_full_key_frees_its_oldest_slot_a_window_after_it_was_taken(collection):
    limit = RateLimit(collection, 3, 60)
    assert [limit.take("k", 100.0 + n) for n in range(3)] == [True, True, True]
    assert limit.take("k", 150.0) is False
    assert limit.retry_after("k", 150.0) == pytest.approx(10.0)
    assert limit.take("k", 159.9) is False
    assert limit.take("k", 160.0) is True  # the hit at 100 is a whole window old
    assert limit.take("k", 160.5) is False  # the one at 101 is not yet
    assert limit.take("other", 160.5) is True  # keys are counted apart
    assert limit.count("k", since=160.0 - 60) == 3


def test_clear_forgets_a_key_and_purge_drops_the_keys_whose_last_hit_is_a_window_old(collection):
    limit = RateLimit(collection, 2, 60)
    limit.take("old", 100.0)
    limit.take("recent", 150.0)
    limit.clear("recent")
    assert limit.count("recent", since=0) == 0 and limit.take("recent", 151.0) is True
    assert ratelimit.purge(collection, 170.0) == 1
    assert collection.find_one({"_id": "old"}) is None and collection.find_one({"_id": "recent"}) is not None
