"""The outcome feed's MongoDB side: `outcomes` (one document per event, `_id` the
event_id) and `locks` (the sequencer's lease).

An outcome is stored `unnumbered` by the event handler, then numbered by the sequencer
(feed.py says why numbering happens there and nowhere else): one guarded write sets
`seq`, removes `unnumbered` and, when subscribers want it, writes the webhook fan-out
(`fanout`, the subscriber ids, and the flag `fanout_pending`) into the same document,
so an outcome can never be numbered without its deliveries being owed. The unique
sparse index on `seq` refuses a second outcome under a number already taken, whatever
two sequencers believed about their leases.
"""
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

SEQUENCER = "outcome-sequencer"


class FeedRepository:
    def __init__(self, db):
        self.db = db

    @staticmethod
    def create_indexes(db):
        db.outcomes.create_index([("seq", ASCENDING)], unique=True, sparse=True, name="sequence_once")
        db.outcomes.create_index([("unnumbered", ASCENDING), ("received_at", ASCENDING)],
                                 name="to_number")
        db.outcomes.create_index([("fanout_pending", ASCENDING)], name="to_fan_out")
        db.outcomes.create_index([("keep_until", ASCENDING)], name="retention")

    # -- recording (event handlers) ------------------------------------------------------------
    def insert(self, doc):
        """True if stored now, False if this event's outcome was stored before."""
        try:
            self.db.outcomes.insert_one(doc)
            return True
        except DuplicateKeyError:
            return False

    # -- numbering (the sequencer, under its lease) --------------------------------------------
    def take_lease(self, holder, now, lease_s):
        """True while `holder` holds the sequencer's lease (taken or renewed now)."""
        for _ in range(2):
            doc = self.db.locks.find_one_and_update(
                {"_id": SEQUENCER, "$or": [{"holder": holder}, {"until": {"$lt": now}}]},
                {"$set": {"holder": holder, "until": now + lease_s}},
                return_document=ReturnDocument.AFTER)
            if doc is not None:
                return True
            try:  # the very first round anywhere: the lock document does not exist yet
                self.db.locks.insert_one({"_id": SEQUENCER, "holder": None, "until": 0})
            except DuplicateKeyError:
                return False
        return False

    def last_sequence(self):
        doc = self.db.outcomes.find_one({"seq": {"$gte": 1}}, {"seq": 1},
                                        sort=[("seq", DESCENDING)])
        return doc["seq"] if doc else 0

    def unnumbered(self, limit):
        return list(self.db.outcomes.find({"unnumbered": True}, {"region": 1})
                    .sort([("unnumbered", ASCENDING), ("received_at", ASCENDING)]).limit(limit))

    def number(self, event_id, sequence, fanout, now):
        """Give the outcome `sequence` (and its webhook fan-out) in one guarded write;
        False when it was numbered meanwhile or `sequence` is taken (another sequencer)."""
        sets = {"seq": sequence, "numbered_at": now}
        if fanout:
            sets.update(fanout=list(fanout), fanout_pending=True)
        try:
            result = self.db.outcomes.update_one({"_id": event_id, "unnumbered": True},
                                                 {"$set": sets, "$unset": {"unnumbered": ""}})
        except DuplicateKeyError:
            return False
        return result.modified_count == 1

    # -- webhook fan-out (the outbox of each numbered outcome) -----------------------------------
    def pending_fanout(self, limit):
        return list(self.db.outcomes.find({"fanout_pending": True},
                                          {"record": 1, "seq": 1, "fanout": 1, "keep_until": 1})
                    .limit(limit))

    def fanned_out(self, event_id):
        self.db.outcomes.update_one({"_id": event_id, "fanout_pending": True},
                                    {"$unset": {"fanout_pending": "", "fanout": ""}})

    # -- reading ----------------------------------------------------------------------------------
    def page(self, after, limit):
        return list(self.db.outcomes.find({"seq": {"$gt": after}}, {"record": 1, "seq": 1})
                    .sort([("seq", ASCENDING)]).limit(limit))

    def get(self, event_id):
        return self.db.outcomes.find_one({"_id": event_id})

    # -- retention ----------------------------------------------------------------------------------
    def purge(self, now, limit=500):
        """Delete up to `limit` outcomes past their keep_until, never the highest numbered
        one: it is where numbering goes on from (feed.py), even after a quiet year."""
        last = self.last_sequence()
        ids = [d["_id"] for d in self.db.outcomes.find(
            {"keep_until": {"$lt": now}, "seq": {"$lt": last}}, {"_id": 1}).limit(limit)]
        if ids:
            self.db.outcomes.delete_many({"_id": {"$in": ids}})
        return len(ids)
