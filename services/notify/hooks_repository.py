"""Webhook subscribers and deliveries in the `notify` database.

`webhook_subscribers`: one document per subscriber, its secret included (it signs every
request, so it is kept, and shown to a person only once, when it is made). A removed
subscriber stays, marked `removed`, with who removed it and when (notify keeps who did
what on the documents themselves, as for SMS retries).

`webhook_deliveries`: one document per (outcome, subscriber), `_id` the webhook-id
(hooks.delivery_id), holding the request body it sends and its whole state; every
change is one guarded write on it. Claims work as for SMS (repository.py): a guarded
`find_one_and_update` leases the most overdue delivery of one subscriber, and the
result is written only while that claim still holds.
"""
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from services.notify import hooks

AFTER = ReturnDocument.AFTER
OPEN = [hooks.PENDING, hooks.SENDING]
VIEW = {"payload": 0}


class HooksRepository:
    def __init__(self, db):
        self.db = db

    @staticmethod
    def create_indexes(db):
        db.webhook_deliveries.create_index(
            [("subscriber_id", ASCENDING), ("status", ASCENDING), ("due_at", ASCENDING)], name="due")
        db.webhook_deliveries.create_index([("status", ASCENDING), ("updated_at", DESCENDING)],
                                           name="by_status")
        db.webhook_deliveries.create_index([("keep_until", ASCENDING)], name="retention")

    # -- subscribers ----------------------------------------------------------------------------
    def add_subscriber(self, doc):
        self.db.webhook_subscribers.insert_one(doc)
        return doc

    def active_subscribers(self):
        return list(self.db.webhook_subscribers.find({"status": "active"})
                    .sort([("created_at", ASCENDING)]))

    def subscribers(self):
        return list(self.db.webhook_subscribers.find({}, {"secret": 0})
                    .sort([("created_at", ASCENDING)]))

    def active_with_url(self, url):
        return self.db.webhook_subscribers.find_one({"url": url, "status": "active"}, {"secret": 0})

    def remove_subscriber(self, subscriber_id, actor, at):
        return self.db.webhook_subscribers.find_one_and_update(
            {"_id": subscriber_id, "status": "active"},
            {"$set": {"status": "removed", "removed_by": actor, "removed_at": at}},
            projection={"secret": 0}, return_document=AFTER)

    def subscriber(self, subscriber_id):
        return self.db.webhook_subscribers.find_one({"_id": subscriber_id}, {"secret": 0})

    def cancel_open(self, subscriber_id, at):
        """Deliveries of a removed subscriber that are still owed; one in flight now
        cannot settle any more (its claim's guard fails) and is not sent again."""
        return self.db.webhook_deliveries.update_many(
            {"subscriber_id": subscriber_id, "status": {"$in": OPEN}},
            {"$set": {"status": hooks.CANCELLED, "due_at": None, "updated_at": at}}).modified_count

    def counts(self, subscriber_id):
        return {status: self.db.webhook_deliveries.count_documents(
            {"subscriber_id": subscriber_id, "status": status})
            for status in (hooks.PENDING, hooks.SENDING, hooks.DELIVERED, hooks.FAILED)}

    # -- deliveries -----------------------------------------------------------------------------
    def insert_delivery(self, doc):
        """True if made now; False if this (outcome, subscriber) was fanned out before."""
        try:
            self.db.webhook_deliveries.insert_one(doc)
            return True
        except DuplicateKeyError:
            return False

    def claim(self, subscriber_id, now, lease_s, claim):
        """Lease the most overdue delivery of one subscriber: pending and due, or
        sending with a lapsed lease (its sender died). `due_at` is the retry time or
        the lease's end."""
        return self.db.webhook_deliveries.find_one_and_update(
            {"subscriber_id": subscriber_id, "status": {"$in": OPEN}, "due_at": {"$lte": now}},
            {"$set": {"status": hooks.SENDING, "due_at": now + lease_s, "claim": claim}},
            sort=[("due_at", ASCENDING)], return_document=AFTER)

    def settle(self, delivery_id, claim, sets, attempted=True):
        """Write an attempt's outcome, if this claim still holds the delivery."""
        update = {"$set": dict(sets, claim=None)}
        if attempted:
            update["$inc"] = {"attempts": 1}
        result = self.db.webhook_deliveries.update_one(
            {"_id": delivery_id, "status": hooks.SENDING, "claim": claim}, update)
        return result.modified_count == 1

    def get(self, delivery_id):
        return self.db.webhook_deliveries.find_one({"_id": delivery_id}, VIEW)

    def failed(self, limit):
        return list(self.db.webhook_deliveries.find({"status": hooks.FAILED}, VIEW)
                    .sort([("status", ASCENDING), ("updated_at", DESCENDING)]).limit(limit))

    def replay(self, delivery_id, actor, now, expires_at, at):
        """A failed delivery back to pending: fresh attempts and a fresh horizon, the same
        webhook-id (a receiver that did get it after all applies it once)."""
        return self.db.webhook_deliveries.find_one_and_update(
            {"_id": delivery_id, "status": hooks.FAILED},
            {"$set": {"status": hooks.PENDING, "due_at": now, "attempts": 0, "expires_at": expires_at,
                      "note": None, "updated_at": at},
             "$push": {"log": {"at": at, "event": "operator_replay", "by": actor}}},
            projection=VIEW, return_document=AFTER)

    def purge(self, now, limit=500):
        ids = [d["_id"] for d in self.db.webhook_deliveries.find(
            {"keep_until": {"$lt": now}}, {"_id": 1}).limit(limit)]
        if ids:
            self.db.webhook_deliveries.delete_many({"_id": {"$in": ids}})
        return len(ids)
