"""The `materials` database: regions (with every version kept), packages, rate counters.

Every package change is one guarded single-document update (DESIGN §7): the filter
carries the state-machine guard, the update carries the change, its history line, its
outbox event and `version + 1`. Nothing is read-modify-written without a guard.
"""
import time

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from common import outbox, ratelimit
from common.ratelimit import RateLimit
from services.materials import domain

AFTER = ReturnDocument.AFTER


def _change(events, sets=None, unsets=None, incs=None, history=None):
    update = {"$set": dict(sets or {}), "$inc": dict(incs or {})}
    update["$set"]["updated_at"] = domain.iso(domain.utcnow())
    update["$inc"]["version"] = 1
    if unsets:
        update["$unset"] = {key: "" for key in unsets}
    if history:
        update["$push"] = {"history": history}
    return outbox.record(events, update)


def _history(action, event=None, **extra):
    entry = {"at": domain.iso(domain.utcnow()), "action": action}
    if event is not None:
        entry["event_id"] = event.event_id
        entry["event_type"] = event.event_type()
    entry.update(extra)
    return entry


class PackageRepository:
    def __init__(self, db):
        self.db = db

    @staticmethod
    def create_indexes(db):
        db.packages.create_index([("candidate_id", ASCENDING), ("exam_year", ASCENDING)], unique=True)
        db.packages.create_index([("outbox_pending", ASCENDING)])
        db.packages.create_index([("pending_n", ASCENDING)])
        # Returned images the candidate deleted, kept for the reviewer until the package is
        # final: the sweeper asks for final packages still keeping some (status, then count).
        db.packages.create_index([("status", ASCENDING), ("retained_n", ASCENDING)])
        db.packages.create_index([("exam_year", ASCENDING)])
        db.region_versions.create_index([("region", ASCENDING), ("version", ASCENDING)], unique=True)
        db.upload_counters.create_index([("expires_at", ASCENDING)])
        db.live_tickets.create_index([("expires_at", ASCENDING)])  # live.py, swept by expiry

    # -- regions ------------------------------------------------------------------------------
    def get_region(self, region):
        return self.db.regions.find_one({"_id": region})

    def save_region(self, region, settings, actor, current):
        """Store a new version of the region's rules on top of `current` (as read);
        earlier versions are kept.

        The unique (region, version) index turns two concurrent changes into one
        success and one DuplicateKeyError for the caller to report."""
        version = (current or {}).get("version", 0) + 1
        doc = dict(settings, version=version, updated_by=actor,
                   updated_at=domain.iso(domain.utcnow()))
        self.db.region_versions.insert_one(dict(doc, region=region))
        self.db.regions.replace_one({"_id": region}, dict(doc, _id=region), upsert=True)
        return version

    def region_versions(self, region, limit):
        """The newest `limit` versions of a region, newest first."""
        return list(self.db.region_versions.find({"region": region}, {"_id": 0})
                    .sort("version", -1).limit(limit))

    # -- profiles learnt from CandidateProfileChanged -------------------------------------------
    def get_profile(self, candidate_id):
        return self.db.profiles.find_one({"_id": candidate_id})

    def save_profile(self, candidate_id, fields, occurred_at):
        """Keep the newest profile (events may arrive out of order)."""
        try:
            self.db.profiles.update_one(
                {"_id": candidate_id, "occurred_at": {"$lt": occurred_at}},
                {"$set": dict(fields, occurred_at=occurred_at)}, upsert=True)
        except DuplicateKeyError:
            pass  # a newer profile is already stored

    # -- packages: reads ------------------------------------------------------------------------
    def get(self, package_id):
        """The package as its rules need it: without history, applied events or outbox
        (the relay's business), which only grow."""
        return self.db.packages.find_one({"_id": package_id}, {"history": 0, "applied_events": 0,
                                                               "outbox": 0, "outbox_lease": 0})

    def get_full(self, package_id):
        return self.db.packages.find_one({"_id": package_id})

    def latest_package_of(self, candidate_id):
        found = list(self.db.packages.find({"candidate_id": candidate_id}, {"history": 0})
                     .sort("exam_year", -1).limit(1))
        return found[0] if found else None

    def create(self, package):
        try:
            self.db.packages.insert_one(package)
        except DuplicateKeyError:
            pass  # created by a concurrent request
        return self.get(package["_id"])

    # -- packages: candidate edits ----------------------------------------------------------------
    def record_consent(self, package_id, notice_version):
        consent = {"notice_version": notice_version, "at": domain.iso(domain.utcnow())}
        return self.db.packages.find_one_and_update(
            {"_id": package_id}, _change([], sets={"consent": consent},
                                         history=_history("consent", notice_version=notice_version)),
            return_document=AFTER)

    def reserve_upload(self, package_id, material_type, image_id, key):
        """Note the object about to be written, so a crash leaves a findable orphan."""
        result = self.db.packages.update_one(
            {"_id": package_id, "status": {"$in": list(domain.EDITABLE)},
             f"items.{material_type}.locked": False},
            {"$set": {f"pending.{image_id}": {"key": key, "at": time.time()}}, "$inc": {"pending_n": 1}})
        return result.modified_count == 1

    def add_image(self, package, material_type, image, event):
        """Attach an uploaded image if the type is still editable and has a free slot.

        `package` is the one the upload was checked against: the guard, not that read,
        decides, so a stale read can only make this refuse, never over-fill. Returns the
        package's `_id` only (a document, or None if the guard refused)."""
        item = package["items"][material_type]
        return self.db.packages.find_one_and_update(
            {"_id": package["_id"], "status": {"$in": list(domain.EDITABLE)},
             f"items.{material_type}.locked": False,
             f"items.{material_type}.count": {"$lt": item["max"]},
             f"pending.{image['image_id']}": {"$exists": True}},
            _change([event], sets={f"items.{material_type}.images.{image['image_id']}": image},
                    unsets=[f"pending.{image['image_id']}"],
                    incs={f"items.{material_type}.count": 1, "pending_n": -1},
                    history=_history("upload", event, material_type=material_type,
                                     image_id=image["image_id"])),
            projection={"_id": 1}, return_document=AFTER)

    def release_pending(self, package_id, image_id):
        self.db.packages.update_one(
            {"_id": package_id, f"pending.{image_id}": {"$exists": True}},
            {"$unset": {f"pending.{image_id}": ""}, "$inc": {"pending_n": -1}})

    def remove_image(self, package_id, material_type, image_id, event_factory):
        """Detach an unlocked image. Its object key moves to `pending` until deleted, or,
        for an image the type was returned with, to `retained`: the reviewer of the next
        attempt still compares with it, so the object stays until the package is final
        (`retained_sweep`). Returns ({"_id"} or None if the guard refused, retained?)."""
        package = self.get(package_id)
        item = (package or {}).get("items", {}).get(material_type, {})
        image = item.get("images", {}).get(image_id)
        if image is None:
            return None, False
        event = event_factory(package)
        retain = image_id in (item.get("returned_images") or ())
        entry = {"key": image["key"], "at": time.time()}
        if retain:
            sets, incs = {f"retained.{image_id}": dict(entry, attempt=package["attempt"])}, {"retained_n": 1}
        else:
            sets, incs = {f"pending.{image_id}": entry}, {"pending_n": 1}
        updated = self.db.packages.find_one_and_update(
            {"_id": package_id, "status": {"$in": list(domain.EDITABLE)},
             f"items.{material_type}.locked": False,
             f"items.{material_type}.images.{image_id}": {"$exists": True}},
            _change([event], sets=sets, unsets=[f"items.{material_type}.images.{image_id}"],
                    incs=dict(incs, **{f"items.{material_type}.count": -1}),
                    history=_history("delete", event, material_type=material_type, image_id=image_id,
                                     retained=retain)),
            projection={"_id": 1}, return_document=AFTER)
        return updated, retain

    def submit(self, package, event_factory):
        """Lock everything and announce it, if nothing changed since `package` was read."""
        attempt = package["attempt"] + (1 if package["status"] == domain.RETURNED else 0)
        event = event_factory(package, attempt)
        guard = {"_id": package["_id"], "version": package["version"],
                 "status": {"$in": list(domain.EDITABLE)}}
        for code, item in package["items"].items():
            if item["min"]:
                guard[f"items.{code}.count"] = {"$gte": item["min"]}
        sets = {"status": domain.SUBMITTED, "attempt": attempt, "submitted_at": domain.iso(domain.utcnow())}
        sets.update({f"items.{code}.locked": True for code in package["items"]})
        return self.db.packages.find_one_and_update(
            guard, _change([event], sets=sets, history=_history(
                "submit", event, attempt=attempt, from_status=package["status"])),
            return_document=AFTER)

    def withdraw(self, package, event_factory):
        event = event_factory(package)
        sets = {"status": domain.DRAFT}
        sets.update({f"items.{code}.locked": False for code in package["items"]})
        return self.db.packages.find_one_and_update(
            {"_id": package["_id"], "status": domain.SUBMITTED, "attempt": package["attempt"]},
            _change([event], sets=sets, history=_history("withdraw", event)),
            return_document=AFTER)

    # -- packages: review outcomes (idempotent on event_id) --------------------------------------
    def apply_review_event(self, event, from_statuses, sets, action):
        """Apply a review event once; False when already applied or not applicable."""
        result = self.db.packages.update_one(
            {"_id": event["package_id"], "attempt": event["attempt"],
             "status": {"$in": list(from_statuses)}, "applied_events": {"$ne": event["event_id"]}},
            {"$set": dict(sets, updated_at=domain.iso(domain.utcnow())),
             "$inc": {"version": 1},
             "$push": {"applied_events": event["event_id"]}})
        if result.modified_count:
            self.db.packages.update_one(
                {"_id": event["package_id"]},
                {"$push": {"history": {"at": domain.iso(domain.utcnow()), "action": action,
                                       "event_id": event["event_id"]}}})
        return result.modified_count == 1

    def reopen(self, package, sets, events, event_id):
        """Apply a profile change to a package read at `package['version']`."""
        update = _change(events, sets=sets, history=_history("profile_change", events[0] if events else None,
                                                             source_event=event_id))
        update["$push"]["applied_events"] = event_id
        return self.db.packages.find_one_and_update(
            {"_id": package["_id"], "version": package["version"],
             "applied_events": {"$ne": event_id}}, update, return_document=AFTER)

    # -- the upload rate (shared by every instance: common/ratelimit.py) --------------------------
    def uploads(self, limit, window_s):
        """Each candidate's upload attempts, at most `limit` within any `window_s`."""
        return RateLimit(self.db.upload_counters, limit, window_s)

    def purge_counters(self, now):
        ratelimit.purge(self.db.upload_counters, now)

    # -- retention ---------------------------------------------------------------------------
    def packages_of_year(self, exam_year, limit=200):
        return list(self.db.packages.find({"exam_year": exam_year}, {"history": 0}).limit(limit))

    def delete_package(self, package_id):
        self.db.packages.delete_one({"_id": package_id})

    # -- orphan sweeping ---------------------------------------------------------------------------
    def stale_pending(self, older_than, limit=100):
        cursor = self.db.packages.find({"pending_n": {"$gt": 0}}, {"pending": 1}).limit(limit)
        for doc in cursor:
            for image_id, entry in (doc.get("pending") or {}).items():
                if entry["at"] < older_than:
                    yield doc["_id"], image_id, entry["key"]

    def retained_done(self, limit=100):
        """(package_id, image_id, key) of kept returned images whose package is final."""
        cursor = self.db.packages.find(
            {"status": {"$in": list(domain.FINAL)}, "retained_n": {"$gt": 0}}, {"retained": 1}).limit(limit)
        for doc in cursor:
            for image_id, entry in (doc.get("retained") or {}).items():
                yield doc["_id"], image_id, entry["key"]

    def release_retained(self, package_id, image_id):
        self.db.packages.update_one(
            {"_id": package_id, f"retained.{image_id}": {"$exists": True}},
            {"$unset": {f"retained.{image_id}": ""}, "$inc": {"retained_n": -1}})

    def image_keys(self, package_id):
        doc = self.get(package_id) or {"items": {}}
        return {image["key"] for item in doc["items"].values() for image in item["images"].values()}
