"""One-off data changes that the service applies at start, beside its indexes
(CaseRepository.create_indexes): each runs in batches, touches only the documents that
need it, and records that it finished, so later starts skip it at the cost of one read.
Running one twice, or two replicas at once, changes nothing more."""
from pymongo import ASCENDING, UpdateOne

from common.clock import utcnow_iso
from services.review import domain

BATCH = 500
QUEUE_FLAGS = "queue_flags_v1"


def apply(db, batch=BATCH):
    if db.migrations.find_one({"_id": QUEUE_FLAGS}) is None:
        backfill_queue_flags(db, batch)
        db.migrations.update_one({"_id": QUEUE_FLAGS}, {"$set": {"done_at": utcnow_iso()}},
                                 upsert=True)


def backfill_queue_flags(db, batch=BATCH):
    """Give cases made before the queue's filters (resubmission, unclear, duplicate,
    returned_before) those fields; returns how many cases were changed."""
    missing = {"$or": [{field: {"$exists": False}} for field in domain.FILTER_FIELDS]}
    projection = {"attempt": 1, "quality": 1, "returned_images": 1, "history": 1,
                  **dict.fromkeys(domain.FILTER_FIELDS, 1)}
    changed, last = 0, None
    while True:
        query = missing if last is None else {"$and": [missing, {"_id": {"$gt": last}}]}
        cases = list(db.cases.find(query, projection).sort("_id", ASCENDING).limit(batch))
        if not cases:
            return changed
        changed += _write(db, cases)
        last = cases[-1]["_id"]


def _write(db, cases):
    # Each update only if the fields it sets are still missing: an event handled meanwhile
    # (a resubmission, a duplicate found) wrote the real value, which must stay.
    updates = []
    for case in cases:
        sets = domain.backfilled_flags(case)
        if sets:
            guard = {"_id": case["_id"], **{field: {"$exists": False} for field in sets}}
            updates.append(UpdateOne(guard, {"$set": sets}))
    return db.cases.bulk_write(updates, ordered=False).modified_count if updates else 0
