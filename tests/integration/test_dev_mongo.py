"""dev/mongo, the development MongoDB-wire server: what it acknowledged survives a SIGKILL,
after a restart its indexes (kept in memory, rebuilt from the data) answer again, and a
`count` read off an index answers what reading the documents would.

Which way a count went is seen in collStats: `devmongo.countsFromIndex` counts those
answered from an index alone (no timing: the answers and that counter are the test)."""
import os
import random
import shutil
import signal
import subprocess
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from pymongo import ASCENDING, MongoClient
from pymongo.errors import DuplicateKeyError

from dev import servers
from support import free_port, wait_for

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("MONGO_URI") or shutil.which("mongod")),
    reason="a real MongoDB is in use here, not dev/mongo")


class DevMongo:
    def __init__(self, base):
        self.layout = servers.Layout(base=base, mongo_port=free_port())
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(servers.devmongo_command(self.layout), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for(lambda: servers.mongo_ok(self.layout.mongo_uri), timeout=60, message="dev/mongo up")
        return MongoClient(self.layout.mongo_uri, serverSelectionTimeoutMS=5000)

    def kill(self):
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


@pytest.fixture
def devmongo(tmp_path):
    server = DevMongo(tmp_path)
    yield server
    if server.proc and server.proc.poll() is None:
        server.kill()


def test_acknowledged_writes_survive_a_sigkill_and_the_indexes_come_back(devmongo):
    client = devmongo.start()
    docs = client.durable.docs
    docs.create_index([("serial", ASCENDING)], unique=True)
    docs.create_index([("status", ASCENDING), ("key", ASCENDING)])

    def write(thread):
        for n in range(100):
            serial = thread * 100 + n
            docs.insert_one({"_id": f"d{serial}", "serial": serial, "status": "pending", "key": f"{serial:05d}"})
            if n % 2:  # a guarded state change, as the services make them
                assert docs.find_one_and_update({"_id": f"d{serial}", "status": "pending"},
                                                {"$set": {"status": "done"}})

    threads = [threading.Thread(target=write, args=(t,)) for t in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    devmongo.kill()  # at once after the last acknowledgement: no time for a background commit
    client.close()

    client = devmongo.start()
    docs = client.durable.docs
    assert docs.count_documents({}) == 1000
    assert docs.count_documents({"status": "done"}) == 500
    pending = [d["key"] for d in docs.find({"status": "pending", "key": {"$gt": "00500"}}).sort("key", ASCENDING)]
    assert pending == [f"{n:05d}" for n in range(502, 1000, 2)]
    with pytest.raises(DuplicateKeyError):
        docs.insert_one({"_id": "again", "serial": 7})
    client.close()


# -- counts from an index ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def counting_client(tmp_path_factory):
    """One private dev/mongo, built from this checkout, for the count tests."""
    server = DevMongo(tmp_path_factory.mktemp("devmongo"))
    client = server.start()
    yield client
    client.close()
    server.kill()


@pytest.fixture
def cases(counting_client):
    """A collection indexed as the review service's cases are for the queue and its counts."""
    name = f"t{uuid.uuid4().hex[:10]}_count"
    collection = counting_client[name].cases
    collection.create_index([("region", ASCENDING), ("site", ASCENDING), ("status", ASCENDING),
                             ("queue_key", ASCENDING)])
    collection.create_index([("status", ASCENDING), ("queue_key", ASCENDING)])
    yield collection
    counting_client.drop_database(name)


def count(collection, query):
    return collection.database.command("count", collection.name, query=query)["n"]


def counts_from_index(collection):
    return collection.database.command("collStats", collection.name)["devmongo"]["countsFromIndex"]


def scanned(model, query):
    """What the count should be, from the documents themselves."""
    return sum(all(doc.get(field) == value for field, value in query.items()) for doc in model.values())


SITES, STATUSES = ["3204", "3201", "1101"], ["pending", "claimed", "approved", "returned"]


def test_a_count_on_an_index_prefix_answers_the_same_as_a_scan(cases):
    rng = random.Random(19)
    model = {}

    def case(n):
        site = rng.choice(SITES)
        return {"_id": f"c{n}", "region": site[:2], "site": site, "status": rng.choice(STATUSES),
                "queue_key": f"{rng.randint(0, 999):03d}|c{n}", "note": rng.choice("xyz")}

    def check():
        queries = [{"region": "32"}, {"region": "11"}, {"region": "99"}]
        queries += [{"region": site[:2], "site": site} for site in SITES]
        queries += [{"region": site[:2], "site": site, "status": status} for site in SITES for status in STATUSES]
        queries += [{"status": status} for status in STATUSES]
        queries += [{"status": "claimed", "site": "3204", "region": "32"}]  # fields in another order
        before = counts_from_index(cases)
        for query in queries:
            assert count(cases, query) == scanned(model, query), query
        assert counts_from_index(cases) == before + len(queries)

    docs = [case(n) for n in range(600)]
    cases.insert_many([dict(doc) for doc in docs])
    model.update((doc["_id"], doc) for doc in docs)
    check()
    for step in range(400):
        doc_id = rng.choice(sorted(model))
        kind = rng.random()
        if kind < 0.35:  # the review flow: a status change, the indexed key moves
            status = rng.choice(STATUSES)
            cases.update_one({"_id": doc_id}, {"$set": {"status": status}})
            model[doc_id]["status"] = status
        elif kind < 0.45:  # a guarded change, as the services make them
            status = model[doc_id]["status"]
            assert cases.find_one_and_update({"_id": doc_id, "status": status}, {"$set": {"status": "approved"}})
            model[doc_id]["status"] = "approved"
        elif kind < 0.55:  # moved to another site (and region)
            site = rng.choice(SITES)
            cases.update_one({"_id": doc_id}, {"$set": {"site": site, "region": site[:2]}})
            model[doc_id].update(site=site, region=site[:2])
        elif kind < 0.65:  # a field outside the index: the entry stays
            cases.update_one({"_id": doc_id}, {"$set": {"note": "w"}})
            model[doc_id]["note"] = "w"
        elif kind < 0.75:
            replacement = dict(case(1000 + step), _id=doc_id)
            cases.replace_one({"_id": doc_id}, replacement)
            model[doc_id] = replacement
        elif kind < 0.85:
            cases.delete_one({"_id": doc_id})
            del model[doc_id]
        else:
            doc = case(2000 + step)
            cases.insert_one(dict(doc))
            model[doc["_id"]] = doc
        if step % 100 == 99:
            check()
    query = {"region": "32", "site": "3204", "status": "returned"}
    removed = cases.delete_many(query).deleted_count
    assert removed == scanned(model, query) > 0
    model = {doc_id: doc for doc_id, doc in model.items()
             if not all(doc.get(field) == value for field, value in query.items())}
    check()


def test_a_document_without_an_indexed_key_is_counted_under_none_of_its_values(cases):
    cases.insert_many([{"_id": 1, "region": "32", "site": "3204", "status": "pending", "queue_key": "a"},
                       {"_id": 2, "region": "32", "site": "3204"},
                       {"_id": 3, "region": "32", "status": "pending"},
                       {"_id": 4, "region": "32", "site": "3204", "status": None}])
    cases.update_one({"_id": 1}, {"$unset": {"site": ""}})
    before = counts_from_index(cases)
    assert count(cases, {"region": "32"}) == 4
    assert count(cases, {"region": "32", "site": "3204"}) == 2
    assert count(cases, {"region": "32", "site": "3204", "status": "pending"}) == 0
    assert count(cases, {"status": "pending"}) == 2
    assert counts_from_index(cases) == before + 4
    # null also matches a missing field (and 32 is not "32"): not strings, so read
    assert count(cases, {"region": "32", "site": "3204", "status": None}) == 2
    assert count(cases, {"region": 32}) == 0
    assert counts_from_index(cases) == before + 4


def test_an_array_under_an_indexed_key_makes_counts_read_the_documents_and_stay_right(cases):
    cases.insert_many([{"_id": n, "region": "32", "site": "3204", "status": STATUSES[n % 3], "queue_key": f"{n}"}
                       for n in range(30)])
    query = {"region": "32", "site": "3204", "status": "pending"}
    before = counts_from_index(cases)
    assert count(cases, query) == 10 and counts_from_index(cases) == before + 1
    # Two entries for one document: counting entries would say 31 and 32 below.
    cases.insert_one({"_id": "m", "region": "32", "site": "3204", "status": ["pending", "claimed"]})
    assert count(cases, query) == 11
    assert count(cases, dict(query, status="claimed")) == 11
    assert count(cases, {"region": "32", "site": "3204"}) == 31
    assert count(cases, {"status": "approved"}) == 10
    assert counts_from_index(cases) == before + 1
    # Multikey stays once seen (as MongoDB's flag does): still read, still right.
    cases.delete_one({"_id": "m"})
    assert count(cases, {"region": "32", "site": "3204"}) == 30
    assert counts_from_index(cases) == before + 1


def test_a_sparse_index_is_not_counted_from(counting_client):
    name = f"t{uuid.uuid4().hex[:10]}_sparse"
    collection = counting_client[name].docs
    try:
        collection.create_index([("tag", ASCENDING), ("n", ASCENDING)], sparse=True)
        collection.insert_many([{"_id": n, "tag": ["a", "b"][n % 2], "n": n} if n % 3 else {"_id": n, "n": n}
                                for n in range(60)])
        assert count(collection, {"tag": "a"}) == sum(1 for n in range(60) if n % 3 and n % 2 == 0)
        assert count(collection, {"tag": "b"}) == sum(1 for n in range(60) if n % 3 and n % 2 == 1)
        assert counts_from_index(collection) == 0
        assert count(collection, {"_id": 7}) == 1  # numbers are not counted from an index either
        assert counts_from_index(collection) == 0
    finally:
        counting_client.drop_database(name)


def test_a_count_with_a_condition_outside_the_index_prefix_reads_the_documents(cases):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    cases.insert_many([{"_id": n, "region": "32", "site": ["3204", "3201"][n % 2], "status": "claimed",
                        "queue_key": f"{n:03d}", "reviewer": f"r{n % 5}",
                        "lease_until": now + timedelta(minutes=(n % 4) - 2)} for n in range(80)])
    before = counts_from_index(cases)
    claimed = {"region": "32", "site": "3204", "status": "claimed"}
    assert count(cases, dict(claimed, reviewer="r1")) == sum(1 for n in range(80) if n % 2 == 0 and n % 5 == 1)
    # the review service's count of expired claims
    assert count(cases, dict(claimed, lease_until={"$lt": now})) == \
        sum(1 for n in range(80) if n % 2 == 0 and n % 4 < 2)
    assert count(cases, {"site": "3204", "status": "claimed"}) == 40  # no index starts with site
    assert count(cases, {"region": "32", "status": "claimed"}) == 80  # not a prefix: site skipped
    assert count(cases, {"region": "32", "site": {"$eq": "3204"}}) == 40
    assert count(cases, {"region": "32", "$comment": "x"}) == 80
    assert counts_from_index(cases) == before
    assert count(cases, claimed) == 40 and counts_from_index(cases) == before + 1


def test_a_count_of_a_range_after_the_prefix_answers_from_the_index_as_a_scan_would(counting_client):
    """The review queue's expired claims: a lease before now after (region, site, status).
    Values of other types sit in the same index among the numbers' neighbours (null for a
    missing lease, strings, dates, booleans) and are never in a numeric range."""
    name = f"t{uuid.uuid4().hex[:10]}_range"
    collection = counting_client[name].cases
    collection.create_index([("region", ASCENDING), ("site", ASCENDING), ("status", ASCENDING),
                             ("lease_until", ASCENDING)])
    collection.create_index([("site", ASCENDING), ("lease_until", -1)])
    rng = random.Random(21)
    now = 1_800_000_000.25
    others = [None, "1800000000", True, datetime(2027, 1, 1, tzinfo=timezone.utc), 0]
    model = {}
    try:
        for n in range(400):
            doc = {"_id": n, "region": "32", "site": rng.choice(SITES), "status": rng.choice(STATUSES)}
            kind = rng.random()
            if kind < 0.6:
                doc["lease_until"] = now + rng.choice([-600.5, -1, 0, 0.25, 1, 600])
            elif kind < 0.7:
                doc["lease_until"] = rng.randint(-5, 5)
            elif kind < 0.95:
                doc["lease_until"] = rng.choice(others)
            model[n] = doc
        collection.insert_many([dict(doc) for doc in model.values()])
        for n in range(0, 400, 7):  # moved under the index after the insert
            model[n]["lease_until"] = now + 5
            collection.update_one({"_id": n}, {"$set": {"lease_until": now + 5}})

        def scanned_range(site, status, test):
            return sum(1 for d in model.values() if d["site"] == site and d["status"] == status
                       and isinstance(d.get("lease_until"), (int, float)) and not isinstance(d["lease_until"], bool)
                       and test(d["lease_until"]))

        before = counts_from_index(collection)
        ranges = [({"$lt": now}, lambda v: v < now), ({"$lte": now}, lambda v: v <= now),
                  ({"$gt": 0}, lambda v: v > 0), ({"$gte": 0, "$lt": now + 1}, lambda v: 0 <= v < now + 1),
                  ({"$gt": now, "$lt": 0}, lambda v: False)]
        asked = 0
        for site in SITES:
            for status in STATUSES:
                for condition, test in ranges:
                    query = {"region": "32", "site": site, "status": status, "lease_until": condition}
                    assert count(collection, query) == scanned_range(site, status, test)
                    asked += 1
            # a descending key after the prefix
            assert count(collection, {"site": site, "lease_until": {"$lt": now}}) == \
                sum(scanned_range(site, status, lambda v: v < now) for status in STATUSES)
            asked += 1
        assert counts_from_index(collection) == before + asked
        # a range of strings is counted too; booleans, null and other operators are read
        assert count(collection, {"site": "3204", "lease_until": {"$gte": "1"}}) == \
            sum(1 for d in model.values() if d["site"] == "3204" and d.get("lease_until") == "1800000000")
        assert counts_from_index(collection) == before + asked + 1
        for condition in ({"$lt": True}, {"$gte": None}, {"$ne": 0}, {"$lt": now, "$exists": True}):
            expected = collection.count_documents({"site": "3201", "lease_until": condition})
            assert count(collection, {"site": "3201", "lease_until": condition}) == expected
        assert counts_from_index(collection) == before + asked + 1
    finally:
        counting_client.drop_database(name)
