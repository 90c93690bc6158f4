"""The `notify` database: one document per notification, and the hourly SMS limit.

`messages`: one document per (event, candidate) holding both channels, the in-app
message and its SMS delivery (`sms`) with every attempt (`sms_log`). One insert writes
both, so they are recorded atomically without transactions (common/mongo.py); the
unique `event_id` index makes a redelivered event a no-op for each channel, which is
the (event_id, channel) idempotency the issue asks for. Deliveries are claimed with a
lease by one guarded `find_one_and_update` on (sms.status, sms.due_at), and every later
change is guarded by the claim token, so instances never both send one SMS.

`sms_texts`: one document per SMS text a package was sent for an attempt (its key,
domain.sms_key, is the `_id`), so a repeated text becomes an in-app message only.

Only `phone_masked` is ever stored; the phone itself lives in memory for one send.
"""

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from common import ratelimit
from common.clock import utcnow  # noqa: F401 (repository.utcnow)
from common.ratelimit import RateLimit
from services.notify import policy
from services.notify.feed_repository import FeedRepository
from services.notify.hooks_repository import HooksRepository

AFTER = ReturnDocument.AFTER
# What a candidate sees of a message; delivery internals stay with operators.
INBOX_FIELDS = {"sms": 0, "sms_log": 0, "event_id": 0, "region": 0, "site": 0}


class NotifyRepository:
    def __init__(self, db):
        self.db = db

    @staticmethod
    def create_indexes(db):
        db.messages.create_index([("event_id", ASCENDING)], unique=True, name="event_once")
        db.messages.create_index([("candidate_id", ASCENDING), ("occurred_at", DESCENDING)])
        db.messages.create_index([("sms.status", ASCENDING), ("sms.due_at", ASCENDING)])
        db.sms_limits.create_index([("expires_at", ASCENDING)])
        FeedRepository.create_indexes(db)   # the outcome feed (feed_repository.py)
        HooksRepository.create_indexes(db)  # its webhooks (hooks_repository.py)

    # -- recording (event handlers) -------------------------------------------------------------
    def insert(self, doc):
        """(document, created): an existing document for the same event wins."""
        try:
            self.db.messages.insert_one(doc)
            return doc, True
        except DuplicateKeyError:
            return self.db.messages.find_one({"event_id": doc["event_id"]}), False

    def claim_sms_text(self, key, event_id, now):
        """True when the event `event_id` is the one to send the SMS text `key` (see
        domain.sms_key): the first event to claim it, or that same event redelivered."""
        try:
            self.db.sms_texts.insert_one({"_id": key, "event_id": event_id, "at": now})
            return True
        except DuplicateKeyError:
            owner = self.db.sms_texts.find_one({"_id": key}, {"event_id": 1})
            return owner is not None and owner["event_id"] == event_id

    # -- the candidate's inbox ------------------------------------------------------------------
    def inbox(self, candidate_id, limit):
        cursor = (self.db.messages.find({"candidate_id": candidate_id}, INBOX_FIELDS)
                  .sort([("occurred_at", DESCENDING), ("_id", DESCENDING)]).limit(limit))
        return list(cursor)

    def unread_count(self, candidate_id):
        return self.db.messages.count_documents({"candidate_id": candidate_id, "read": False})

    def mark_read(self, candidate_id, message_id, now):
        """(message, first read): the first read keeps its time (the receipt); later
        reads change nothing. None for an unknown id or another candidate's."""
        result = self.db.messages.update_one(
            {"_id": message_id, "candidate_id": candidate_id, "read": False},
            {"$set": {"read": True, "read_at": now}})
        doc = self.db.messages.find_one({"_id": message_id, "candidate_id": candidate_id},
                                        INBOX_FIELDS)
        return doc, result.modified_count == 1

    # -- SMS deliveries -------------------------------------------------------------------------
    def claim_due(self, now, lease_s, claim):
        """Lease the most overdue delivery: pending and due, or sending with a lapsed lease
        (its sender died). `sms.due_at` is the retry time or the lease end."""
        return self.db.messages.find_one_and_update(
            {"sms.status": {"$in": [policy.PENDING, policy.SENDING]}, "sms.due_at": {"$lte": now}},
            {"$set": {"sms.status": policy.SENDING, "sms.due_at": now + lease_s,
                      "sms.claim": claim}},
            sort=[("sms.due_at", ASCENDING)], return_document=AFTER)

    def mark_in_flight(self, message_id, claim, started):
        """Note, before the provider hears of it, that this claim is sending now: a sender
        that dies (or loses the database) before recording the answer leaves the note, and
        the next one then looks for the SMS in the status reports before sending again.
        False when the claim no longer holds the delivery."""
        return self.db.messages.update_one(
            {"_id": message_id, "sms.status": policy.SENDING, "sms.claim": claim},
            {"$set": {"sms.in_flight_at": started}}).modified_count == 1

    def settle(self, message_id, claim, sets, log_entry=None, attempted=True):
        """Record an attempt's outcome, if this claim still holds the delivery."""
        update = {"$set": dict(sets, **{"sms.claim": None, "sms.updated_at": utcnow()}),
                  "$unset": {"sms.in_flight_at": ""}}
        if attempted:
            update["$inc"] = {"sms.attempts": 1}
        if log_entry is not None:
            update["$push"] = {"sms_log": log_entry}
        result = self.db.messages.update_one(
            {"_id": message_id, "sms.status": policy.SENDING, "sms.claim": claim}, update)
        return result.modified_count == 1

    def deliveries(self, statuses, area=None, limit=100):
        """`area`: the operator's (Principal.area), none for every region."""
        query = dict(area or {}, **{"sms.status": {"$in": list(statuses)}})
        cursor = (self.db.messages.find(query, {"body": 0, "items": 0})
                  .sort([("sms.due_at", ASCENDING)]).limit(limit))
        return list(cursor)

    def get(self, message_id):
        return self.db.messages.find_one({"_id": message_id})

    def of_candidate(self, candidate_id, limit=100):
        return list(self.db.messages.find({"candidate_id": candidate_id}, {"body": 0})
                    .sort([("occurred_at", DESCENDING)]).limit(limit))

    def retry(self, message_id, actor, now, area=None):
        """An operator's retry: failed or suppressed back to pending with fresh attempts,
        if the message is in `area` (Principal.area)."""
        query = dict(area or {}, _id=message_id, **{"sms.status": {"$in": list(policy.RETRYABLE_BY_OPERATOR)}})
        at = utcnow()
        return self.db.messages.find_one_and_update(query, {
            "$set": {"sms.status": policy.PENDING, "sms.due_at": now, "sms.attempts": 0,
                     "sms.slot_taken": False, "sms.note": None, "sms.updated_at": at},
            "$push": {"sms_log": {"at": at, "event": "operator_retry", "by": actor}}},
            return_document=AFTER)

    # -- the hourly limit (common/ratelimit.py) --------------------------------------------
    def take_slot(self, key, now, limit, window_s):
        """True if an SMS to `key` fits the limit (and is now counted), False if not, None
        if other senders kept taking slots meanwhile (try again later)."""
        return RateLimit(self.db.sms_limits, limit, window_s).take(key, now)

    def purge_slots(self, now):
        ratelimit.purge(self.db.sms_limits, now)
