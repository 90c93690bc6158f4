"""The MongoDB-wire server keeps the promises the services rely on (DESIGN §7):
single-document updates are atomic, so a guard in the filter decides races; and a query
answers the same whether or not an index serves it.

These run against whatever server `make test` uses (dev/mongo here, mongod where it is
on PATH), so they also hold the development server to MongoDB's behaviour."""
import random
import threading
import uuid

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from pymongo import ASCENDING, DESCENDING, MongoClient

from support import MONGO_URI


@pytest.fixture
def collection(mongo_client):
    name = f"t{uuid.uuid4().hex[:10]}_wire"
    yield mongo_client[name]["docs"]
    mongo_client.drop_database(name)


def run_together(target, count):
    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_concurrent_increments_of_one_document_are_never_lost(collection):
    collection.insert_one({"_id": 1, "n": 0})
    run_together(lambda i: [collection.update_one({"_id": 1}, {"$inc": {"n": 1}})
                            for _ in range(25)], 10)
    assert collection.find_one({"_id": 1})["n"] == 250


def test_ten_guarded_updates_racing_for_one_slot_leave_exactly_one_winner(collection):
    for trial in range(5):
        collection.replace_one({"_id": trial}, {"_id": trial, "count": 0, "images": {}}, upsert=True)
        winners = []

        def take(i, trial=trial):
            if collection.find_one_and_update({"_id": trial, "count": {"$lt": 1}},
                                              {"$inc": {"count": 1}, "$set": {f"images.i{i}": i}}):
                winners.append(i)

        run_together(take, 10)
        doc = collection.find_one({"_id": trial})
        assert len(winners) == 1
        assert doc["count"] == 1 and list(doc["images"]) == [f"i{winners[0]}"]


def test_a_unique_index_refuses_a_second_document_and_an_update_into_its_key(collection):
    from pymongo.errors import DuplicateKeyError
    collection.create_index([("candidate_id", ASCENDING), ("exam_year", ASCENDING)], unique=True)
    collection.insert_one({"_id": "a", "candidate_id": "c1", "exam_year": 2026})
    collection.insert_one({"_id": "b", "candidate_id": "c1", "exam_year": 2027})
    with pytest.raises(DuplicateKeyError):
        collection.insert_one({"_id": "c", "candidate_id": "c1", "exam_year": 2026})
    with pytest.raises(DuplicateKeyError):
        collection.update_one({"_id": "b"}, {"$set": {"exam_year": 2026}})
    with pytest.raises(DuplicateKeyError):
        collection.insert_one({"_id": "a", "candidate_id": "c9", "exam_year": 2026})
    # An upsert whose guard fails on an existing _id is a duplicate, as the services expect.
    with pytest.raises(DuplicateKeyError):
        collection.update_one({"_id": "a", "exam_year": {"$lt": 2000}}, {"$set": {"x": 1}}, upsert=True)
    assert collection.count_documents({}) == 2
    assert collection.find_one({"_id": "b"})["exam_year"] == 2027


def test_types_come_back_as_they_were_stored(collection):
    from datetime import datetime, timezone
    stamp = datetime(2026, 11, 29, 12, 0, 0, 123000, tzinfo=timezone.utc)
    doc = {"_id": "t", "yes": True, "no": False, "none": None, "n": 3, "x": 2.5, "big": 2 ** 40,
           "s": "考生", "at": stamp, "nested": {"deep": {"list": [1, "a", {"k": False}]}}, "empty": {}}
    collection.insert_one(doc)
    with MongoClient(MONGO_URI, tz_aware=True) as client:
        found = client[collection.database.name].docs.find_one(
            {"_id": "t"}, {"nested.deep": 1, "yes": 1, "no": 1, "none": 1, "n": 1, "x": 1, "big": 1,
                           "s": 1, "at": 1, "empty": 1})
    assert found == doc
    assert found["yes"] is True and found["no"] is False and type(found["n"]) is int


# -- the same answer with and without indexes -------------------------------------------------------
INDEXES = [[("a", ASCENDING), ("b", ASCENDING)], [("b", ASCENDING), ("c", DESCENDING)],
           [("s.t", ASCENDING)], [("c", ASCENDING)], [("region", ASCENDING), ("site", ASCENDING),
                                                      ("status", ASCENDING), ("key", ASCENDING)]]
SCALARS = [0, 1, 2, 3, 1.5, "p", "q", "r", None, True]


def dataset(count=400, seed=7):
    rng = random.Random(seed)
    docs = []
    for i in range(count):
        doc = {"_id": f"d{i:04d}", "u": i}
        if rng.random() < 0.9:
            doc["a"] = rng.choice(SCALARS + [[1, 2], [], ["p", 3]])
        if rng.random() < 0.9:
            doc["b"] = rng.choice(["p", "q", "r", 1, 2])
        if rng.random() < 0.85:
            doc["c"] = rng.choice([rng.randint(0, 20), rng.randint(0, 20) + 0.5])
        if rng.random() < 0.7:
            doc["s"] = rng.choice([{"t": rng.randint(0, 4)}, [{"t": 1}, {"t": 3}], {"u": 1}])
        doc.update(region=rng.choice(["32", "11"]), site=rng.choice(["3204", "3201", "1101"]),
                   status=rng.choice(["pending", "claimed", "approved"]), key=f"k{rng.randint(0, 99):02d}|{i}")
        docs.append(doc)
    return docs


@pytest.fixture(scope="module")
def twin_collections():
    """The same documents twice: one collection with indexes, one without."""
    client = MongoClient(MONGO_URI, serverSelectionTimeoutMS=3000)
    name = f"t{uuid.uuid4().hex[:10]}_planner"
    indexed, plain = client[name]["indexed"], client[name]["plain"]
    for keys in INDEXES:
        indexed.create_index(keys)
    indexed.create_index([("u", ASCENDING)], unique=True)
    docs = dataset()
    indexed.insert_many([dict(d) for d in docs])
    plain.insert_many([dict(d) for d in docs])
    yield indexed, plain
    client.drop_database(name)
    client.close()


FIELDS = ["a", "b", "c", "s.t", "u", "region", "site", "status", "key"]
values = st.sampled_from(SCALARS + ["3204", "3201", "32", "pending", "claimed", "k10|", "k50|", 10, 10.5])
condition = st.one_of(
    values,
    st.builds(lambda v: {"$eq": v}, values),
    st.builds(lambda vs: {"$in": vs}, st.lists(values, min_size=1, max_size=3)),
    st.builds(lambda op, v: {op: v}, st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), values),
    st.builds(lambda lo, hi: {"$gte": lo, "$lt": hi}, values, values),
    st.builds(lambda v: {"$ne": v}, values),
    st.builds(lambda v: {"$exists": v}, st.booleans()),
)
point = st.one_of(values, st.builds(lambda vs: {"$in": vs}, st.lists(values, min_size=1, max_size=3)))
bounds = st.one_of(
    st.builds(lambda op, v: {op: v}, st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), values),
    st.builds(lambda lo, hi: {"$gt": lo, "$lte": hi}, values, values))


@st.composite
def index_shaped(draw):
    """Equalities on an index's leading keys, maybe a range on the next: what the planner uses."""
    keys = [field for field, _ in draw(st.sampled_from(INDEXES))]
    used = draw(st.integers(min_value=1, max_value=len(keys)))
    found = {field: draw(point) for field in keys[:used - 1]}
    found[keys[used - 1]] = draw(st.one_of(point, bounds))
    found.update(draw(st.dictionaries(st.sampled_from(FIELDS), condition, max_size=1)))
    return found


clause = st.one_of(index_shaped(), st.dictionaries(st.sampled_from(FIELDS), condition, min_size=1, max_size=3))
query = st.one_of(clause, st.builds(lambda base, a, b: dict(base, **{"$or": [a, b]}),
                                    st.dictionaries(st.sampled_from(FIELDS), condition, max_size=2),
                                    clause, clause))
SORTABLE = ["b", "c", "u", "key", "region", "site", "status"]  # never arrays in the data
sort = st.one_of(st.none(), st.lists(st.tuples(st.sampled_from(SORTABLE), st.sampled_from([1, -1])),
                                     min_size=1, max_size=2, unique_by=lambda t: t[0]))


def sort_values(docs, sort_spec):
    def value(doc, field):
        found = doc
        for part in field.split("."):
            found = found.get(part) if isinstance(found, dict) else None
        return repr(found)
    return [tuple(value(d, field) for field, _ in sort_spec) for d in docs]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=query, sort_spec=sort, limit=st.sampled_from([0, 1, 5, 20]), skip=st.sampled_from([0, 0, 3]))
def test_a_query_answers_the_same_with_and_without_indexes(twin_collections, query, sort_spec, limit, skip):
    indexed, plain = twin_collections

    def run(coll, with_limit=True):
        cursor = coll.find(query)
        if sort_spec:
            cursor = cursor.sort(sort_spec)
        if with_limit:
            cursor = cursor.skip(skip).limit(limit)
        return list(cursor)

    everything = sorted(d["_id"] for d in run(plain, with_limit=False))
    assert sorted(d["_id"] for d in run(indexed, with_limit=False)) == everything
    got, expected = run(indexed), run(plain)
    assert len(got) == len(expected)
    assert {d["_id"] for d in got} <= set(everything)
    if sort_spec:
        # Ties may come out in another order (as on MongoDB); the sort values may not.
        assert sort_values(got, sort_spec) == sort_values(expected, sort_spec)
        if not limit and not skip:
            assert sorted(d["_id"] for d in got) == everything


@st.composite
def prefix_equalities(draw):
    """Plain equalities on an index's leading keys, in any order: what a count may read
    off the index alone (dev/mongo does when the values are strings and no document has
    an array under those keys)."""
    keys = [field for field, _ in draw(st.sampled_from(INDEXES))]
    used = keys[:draw(st.integers(min_value=1, max_value=len(keys)))]
    return {field: draw(values) for field in draw(st.permutations(used))}


@st.composite
def prefix_and_range(draw):
    """Equalities on an index's leading keys and a range on the next one: what a count
    may also read off the index alone (dev/mongo does for the review queue's expired
    claims), checking each entry's value against the range."""
    keys = [field for field, _ in draw(st.sampled_from(INDEXES))]
    used = draw(st.integers(min_value=0, max_value=len(keys) - 1))
    found = {field: draw(values) for field in keys[:used]}
    found[keys[used]] = draw(bounds)
    return found


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.one_of(prefix_equalities(), prefix_and_range(), query))
def test_a_count_answers_the_same_with_and_without_indexes(twin_collections, query):
    indexed, plain = twin_collections

    def count(coll):
        return coll.database.command("count", coll.name, query=query)["n"]

    assert count(indexed) == count(plain) == len(list(plain.find(query, {"_id": 1})))


def test_the_queue_comes_out_in_key_order_across_sites_and_statuses(twin_collections):
    indexed, plain = twin_collections
    query = {"region": "32", "site": {"$in": ["3204", "3201"]}, "status": {"$in": ["pending", "claimed"]},
             "key": {"$gt": "k20"}}
    pages, after = [], "k20"
    while True:
        page = list(indexed.find(dict(query, key={"$gt": after})).sort("key", ASCENDING).limit(7))
        if not page:
            break
        pages.extend(page)
        after = page[-1]["key"]
    expected = list(plain.find(query).sort("key", ASCENDING))
    assert [d["_id"] for d in pages] == [d["_id"] for d in expected] and len(expected) > 20


def test_delete_many_removes_exactly_the_matches_and_the_indexes_follow(collection):
    collection.create_index([("status", ASCENDING), ("key", ASCENDING)])
    collection.insert_many([{"_id": n, "status": ["pending", "done"][n % 2], "key": n % 7, "tag": f"t{n % 3}"}
                            for n in range(300)])
    assert collection.delete_many({"status": "done", "key": {"$lt": 3}}).deleted_count == \
        sum(1 for n in range(300) if n % 2 and n % 7 < 3)
    assert collection.delete_many({"tag": {"$regex": "^t1$"}}).deleted_count > 0  # no index: a scan
    left = [n for n in range(300) if not (n % 2 and n % 7 < 3) and n % 3 != 1]
    assert sorted(d["_id"] for d in collection.find({})) == left
    # Served by the index: the same answer as the data.
    assert sorted(d["_id"] for d in collection.find({"status": "done", "key": {"$gte": 0}})) == \
        [n for n in left if n % 2]
    assert collection.delete_one({"status": "pending"}).deleted_count == 1
    assert collection.count_documents({"status": "pending"}) == sum(1 for n in left if n % 2 == 0) - 1
