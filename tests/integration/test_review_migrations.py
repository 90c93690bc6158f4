"""Cases stored before the queue's filter fields existed get them once, when review
starts (services/review/migrations.py), against the real MongoDB-wire server."""
from services.review import domain, migrations
from services.auth.service import AuthService
from services.review.service import ReviewService
from support import wait_for


def old_case(n, **fields):
    """A case as stored before `resubmission`, `unclear`, `duplicate`, `returned_before`."""
    submitted_at = f"2026-05-0{1 + n % 9}T02:00:00.000Z"
    package_id = f"20263204{n:05d}-2026"
    return dict({"_id": package_id, "candidate_id": package_id[:13], "region": "32", "site": "3204",
                 "attempt": 1, "status": domain.PENDING, "submitted_at": submitted_at,
                 "queue_key": domain.queue_key(submitted_at, package_id), "quality": 40.0,
                 "lease_until": 0, "history": [{"action": "submitted"}]}, **fields)


def filter_fields(db, package_id):
    case = db.cases.find_one({"_id": package_id})
    return {field: case.get(field) for field in domain.FILTER_FIELDS}


def test_review_gives_old_cases_the_queue_filter_fields_once_at_start(config, mongo_client, start_service):
    db = mongo_client[config["MONGO"]["DB_PREFIX"] + "review"]
    db.cases.insert_many([
        old_case(1),
        old_case(2, attempt=2, quality=12.0, returned_images={"a" * 32: 1},
                 history=[{"action": "submitted"}, {"action": "return", "attempt": 1}]),
        old_case(3, history=[{"action": "return", "attempt": 1}]),  # returned, not yet back
        # a case made since, with a duplicate found: nothing of it may change
        old_case(4, resubmission=False, unclear=False, duplicate=True, returned_before=False),
    ])
    start_service(AuthService)  # review waits for it at start
    start_service(ReviewService)
    wait_for(lambda: db.migrations.find_one({"_id": migrations.QUEUE_FLAGS}), timeout=20,
             message="the backfill finished")
    no_flags = {"resubmission": False, "unclear": False, "duplicate": False, "returned_before": False}
    assert filter_fields(db, old_case(1)["_id"]) == no_flags
    assert filter_fields(db, old_case(2)["_id"]) == {"resubmission": True, "unclear": True,
                                                     "duplicate": False, "returned_before": True}
    assert filter_fields(db, old_case(3)["_id"]) == dict(no_flags, returned_before=True)
    assert filter_fields(db, old_case(4)["_id"]) == dict(no_flags, duplicate=True)
    # the queue's filters find them now (each an equality on its indexed field)
    query = dict(region="32", status=domain.PENDING, **domain.queue_filter("resubmission", "unclear"))
    assert [c["_id"] for c in db.cases.find(query)] == [old_case(2)["_id"]]


def test_the_backfill_goes_in_batches_touches_only_cases_missing_fields_and_repeats_as_a_no_op(
        config, mongo_client):
    db = mongo_client[config["MONGO"]["DB_PREFIX"] + "review"]
    db.cases.insert_many([old_case(n, attempt=1 + n % 2) for n in range(1, 8)])
    db.cases.insert_one(old_case(9, resubmission=False, unclear=True, duplicate=False,
                                 returned_before=False))
    db.cases.update_one({"_id": old_case(5)["_id"]}, {"$set": {"duplicate": True}})  # found meanwhile
    assert migrations.backfill_queue_flags(db, batch=2) == 7
    assert db.cases.count_documents({"$or": [{f: {"$exists": False}} for f in domain.FILTER_FIELDS]}) == 0
    assert [c["_id"] for c in db.cases.find({"resubmission": True}).sort("_id")] == [
        old_case(n)["_id"] for n in (1, 3, 5, 7)]
    assert filter_fields(db, old_case(5)["_id"])["duplicate"] is True
    assert filter_fields(db, old_case(9)["_id"])["unclear"] is True  # not recomputed
    assert migrations.backfill_queue_flags(db, batch=2) == 0
    migrations.apply(db)
    migrations.apply(db)  # recorded once, skipped after
    assert db.migrations.count_documents({}) == 1
