"""The `review` database: cases (with their outbox), image metadata, the audit log.

Every case change is one guarded single-document update (DESIGN §7): the filter is
the state-machine guard, the update carries the change, its history line and, for
claims and decisions, the outbox event. Events from other services are applied with
keys that only move forward, so a repeated or late event changes nothing."""
import time
import uuid

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from common import outbox
from services.review import domain, migrations, similarity
from services.review.admin.tallies import Tallies

AFTER = ReturnDocument.AFTER
# What readers of a case never need (its outbox is the relay's business).
HIDDEN = {"outbox": 0, "outbox_lease": 0}


def _update(sets, history=None, events=(), inserts=None, hold_until=None):
    update = {"$set": dict(sets)}
    if history is not None:
        update["$push"] = {"history": history}
    if inserts:
        update["$setOnInsert"] = dict(inserts)
    if events:
        outbox.record(list(events), update, hold_until=hold_until)
    return update


class CaseRepository:
    def __init__(self, db):
        self.db = db
        self.images = ImageIndex(db)
        self.audit = AuditLog(db)
        self.id_checks = IdCheckStore(db)
        self.tallies = Tallies(db)

    @staticmethod
    def create_indexes(db):
        for sort in ("queue_key", "quality_key"):
            db.cases.create_index([("region", ASCENDING), ("site", ASCENDING),
                                   ("status", ASCENDING), (sort, ASCENDING)])
            db.cases.create_index([("region", ASCENDING), ("status", ASCENDING), (sort, ASCENDING)])
            db.cases.create_index([("status", ASCENDING), (sort, ASCENDING)])
        # The queue's filters (attempt, flags): an equality just before the queue key, so
        # a filtered page is still a range on one index, never a scan of the pending ones.
        for field in ("resubmission", *domain.FLAGS):
            db.cases.create_index([("region", ASCENDING), ("site", ASCENDING), ("status", ASCENDING),
                                   (field, ASCENDING), ("queue_key", ASCENDING)])
            db.cases.create_index([("region", ASCENDING), ("status", ASCENDING),
                                   (field, ASCENDING), ("queue_key", ASCENDING)])
        # The queue screen's count of expired claims (they count as pending): a range on
        # the lease after the site's status, answered from the index (COUNT_SCAN on MongoDB)
        # instead of reading every claimed case of the site.
        db.cases.create_index([("region", ASCENDING), ("site", ASCENDING), ("status", ASCENDING),
                               ("lease_until", ASCENDING)])
        db.cases.create_index([("candidate_id", ASCENDING)])
        # Search by name (a prefix range after the scope's equalities, in name order, so the
        # planner prefers it to the queue's indexes; a national scope has none) and a
        # reviewer's own live claims (issue 28).
        db.cases.create_index([("region", ASCENDING), ("site", ASCENDING), ("candidate.name", ASCENDING)])
        db.cases.create_index([("region", ASCENDING), ("candidate.name", ASCENDING)])
        db.cases.create_index([("candidate.name", ASCENDING)])
        db.cases.create_index([("claimed_by", ASCENDING), ("status", ASCENDING), ("lease_until", ASCENDING)])
        db.cases.create_index([("outbox_pending", ASCENDING)])
        db.images.create_index([("package_id", ASCENDING)])
        for band in similarity.bands("0" * 16):
            db.images.create_index([(band, ASCENDING)])
        db.audit.create_index([("package_id", ASCENDING), ("seq", ASCENDING)])
        Tallies.create_indexes(db)
        migrations.apply(db)  # after the indexes: cases older than the queue's filter fields

    # -- reads ----------------------------------------------------------------------------------
    def get(self, package_id):
        if not isinstance(package_id, str) or not 0 < len(package_id) <= 64:
            return None
        return self.db.cases.find_one({"_id": package_id}, HIDDEN)

    def queue(self, query, field, limit):
        projection = dict(HIDDEN, history=0, returned_images=0, notes=0)
        return list(self.db.cases.find(query, projection).sort(field, ASCENDING).limit(limit))

    def find_cases(self, query, limit, sort="queue_key", direction=ASCENDING):
        projection = dict(HIDDEN, history=0, returned_images=0, notes=0)
        return list(self.db.cases.find(query, projection).sort(sort, direction).limit(limit))

    def find_for_export(self, query, fields, limit):
        """Up to `limit` cases with only `fields` (an export's columns), in no order."""
        return list(self.db.cases.find(query, fields).limit(limit))

    # -- what materials and auth announce ----------------------------------------------------------
    def apply_lifecycle(self, package_id, key, sets, history):
        """Apply a materials event newer than any applied to this package; False if stale.

        Upserts, so a late-arriving older event finds the newer one's key and is dropped."""
        inserts = {k: v for k, v in domain.NEW_CASE.items() if k not in sets}
        try:
            result = self.db.cases.update_one(
                {"_id": package_id, "lifecycle_key": {"$lt": key}},
                _update(dict(sets, lifecycle_key=key), history, inserts=inserts), upsert=True)
        except DuplicateKeyError:
            return False  # the case already has this event or a newer one
        return bool(result.modified_count or result.upserted_id)

    def move_candidate(self, candidate_id, fields, occurred_at, history):
        """Follow a profile change; a claim at the old site no longer holds."""
        guard = {"candidate_id": candidate_id, "profile_at": {"$lt": occurred_at}}
        moved = dict(fields, profile_at=occurred_at, candidate=None)
        self.db.cases.update_many(
            dict(guard, status=domain.CLAIMED, site={"$ne": fields["site"]}),
            _update(dict(moved, status=domain.PENDING, claimed_by=None, lease_until=0), history))
        self.db.cases.update_many(guard, _update(moved, history))

    def set_snapshot(self, package_id, snapshot):
        self.db.cases.update_one({"_id": package_id}, {"$set": {"candidate": snapshot}})

    def mark_duplicate(self, package_ids):
        """Flag cases whose images turned out close to another candidate's."""
        if package_ids:
            self.db.cases.update_many({"_id": {"$in": sorted(package_ids)}}, {"$set": {"duplicate": True}})

    def set_quality(self, case, quality):
        self.db.cases.update_one({"_id": case["_id"], "attempt": case["attempt"]}, {"$set": {
            "quality": quality, "unclear": domain.unclear(quality),
            "quality_key": domain.quality_key(quality, case["submitted_at"], case["_id"])}})

    # -- claims and decisions -------------------------------------------------------------------
    def claim(self, case, reviewer, now, lease_until, events, history):
        """Take or renew the lease, if it is free or already ours: one atomic update."""
        sets = {"status": domain.CLAIMED, "claimed_by": reviewer, "claimed_at": domain.iso(now),
                "lease_until": lease_until}
        if events:
            sets["started_attempt"] = case["attempt"]
        guard = {"_id": case["_id"], "attempt": case["attempt"],
                 "status": {"$in": list(domain.IN_QUEUE)},
                 "started_attempt": case["started_attempt"],
                 "$or": [{"lease_until": {"$lt": now}}, {"claimed_by": reviewer}]}
        return self.db.cases.find_one_and_update(guard, _update(sets, history, events),
                                                 return_document=AFTER)

    def release(self, case, reviewer, history):
        return self.db.cases.find_one_and_update(
            {"_id": case["_id"], "attempt": case["attempt"], "status": domain.CLAIMED,
             "claimed_by": reviewer},
            _update({"status": domain.PENDING, "claimed_by": None, "lease_until": 0}, history),
            return_document=AFTER)

    def decide(self, case, reviewer, now, sets, event, history, hold_until=None):
        """Record a decision and its event (none for a proposed rejection), only for the
        holder of a live claim; `hold_until` holds the event in the outbox until then."""
        guard = {"_id": case["_id"], "attempt": case["attempt"], "status": domain.CLAIMED,
                 "claimed_by": reviewer, "lease_until": {"$gt": now}}
        change = dict(sets, claimed_by=None, lease_until=0)
        events = [event] if event is not None else []
        return self.db.cases.find_one_and_update(guard, _update(change, history, events, hold_until=hold_until),
                                                 return_document=AFTER)

    def settle_proposal(self, case, reviewer, sets, event, history, hold_until=None):
        """Confirm (with the event) or decline a proposed rejection: only a reviewer other
        than the proposer, and only while it is still the proposal of this attempt."""
        guard = {"_id": case["_id"], "attempt": case["attempt"], "status": domain.CONFIRMING,
                 "decision.by": {"$ne": reviewer}}
        events = [event] if event is not None else []
        return self.db.cases.find_one_and_update(guard, _update(sets, history, events, hold_until=hold_until),
                                                 return_document=AFTER)

    def add_note(self, package_id, note, limit):
        """Append a reviewers' note to the case (at most `limit`); False if the case is full."""
        result = self.db.cases.update_one(
            {"_id": package_id, "$or": [{"notes_n": {"$exists": False}}, {"notes_n": {"$lt": limit}}]},
            {"$push": {"notes": note}, "$inc": {"notes_n": 1}})
        return result.modified_count == 1

    def undo(self, case, sets, history):
        """Take a held decision back: its event leaves the outbox unpublished. Only while
        the relay's lease on the case is still the hold's own (a relay that took it has
        set its own lease and may be publishing: too late), so undo and release never
        both happen. The pending flag stays; the relay lowers it when it finds nothing."""
        decision = case["decision"]
        until = decision["hold_until"]
        guard = {"_id": case["_id"], "attempt": case["attempt"], "status": case["status"],
                 f"outbox.{decision['event_id']}": {"$exists": True},
                 "outbox_lease": {"$gte": until, "$lte": until}}
        update = {"$set": dict(sets, outbox_lease=0), "$unset": {f"outbox.{decision['event_id']}": ""},
                  "$inc": {"outbox_n": -1}, "$push": {"history": history}}
        return self.db.cases.find_one_and_update(guard, update, return_document=AFTER)


class ImageIndex:
    """Image metadata from MaterialUploaded / MaterialDeleted, in either order."""

    def __init__(self, db):
        self.collection = db.images

    def save(self, image):
        self.collection.update_one({"_id": image["_id"]},
                                   {"$set": image, "$setOnInsert": {"deleted": False}}, upsert=True)

    def mark_deleted(self, image_id, about):
        self.collection.update_one({"_id": image_id},
                                   {"$set": {"deleted": True}, "$setOnInsert": about}, upsert=True)

    def get_many(self, image_ids):
        ids = list(image_ids)
        return {doc["_id"]: doc for doc in self.collection.find({"_id": {"$in": ids}})} if ids else {}

    def sharing_a_band(self, image, limit=200):
        """Other candidates' live images that share a hash band with `image`."""
        bands = similarity.bands(image["phash"])
        return list(self.collection.find(
            {"$or": [{band: value} for band, value in bands.items()],
             "candidate_id": {"$ne": image["candidate_id"]}, "deleted": {"$ne": True}},
            {"phash": 1, "sha256": 1, "candidate_id": 1, "package_id": 1, "region": 1, "site": 1}).limit(limit))


class AuditLog:
    """Append-only: this class offers no way to change or remove an entry."""

    def __init__(self, db):
        self.collection = db.audit

    def append(self, entry):
        entry = dict(entry, _id=uuid.uuid4().hex, seq=time.time_ns())
        self.collection.insert_one(entry)
        return entry

    def for_package(self, package_id, limit=1000):
        return list(self.collection.find({"package_id": package_id}, {"_id": 0})
                    .sort("seq", ASCENDING).limit(limit))


class IdCheckStore:
    """Per-image verdicts of the ID card cross-check (services/review/idcheck/checks.py)."""

    def __init__(self, db):
        self.collection = db.id_checks

    def has(self, image_id):
        return self.collection.find_one({"_id": image_id}, {"_id": 1}) is not None

    def save(self, record):
        # First check wins: a concurrent redelivery finds the record and changes nothing.
        self.collection.update_one({"_id": record["_id"]}, {"$setOnInsert": record}, upsert=True)

    def get_many(self, image_ids):
        ids = list(image_ids)
        return {doc["_id"]: doc for doc in self.collection.find({"_id": {"$in": ids}})} if ids else {}
