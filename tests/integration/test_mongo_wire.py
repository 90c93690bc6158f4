"""The MongoDB-wire server keeps the promises the services rely on (DESIGN §7):
single-document updates are atomic, so a guard in the filter decides races."""
import threading
import uuid

import pytest


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
