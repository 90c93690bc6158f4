"""One rate limit for every service: at most `limit` hits per key in any rolling window,
counted in a MongoDB collection that every instance shares. notify limits SMS per
phone and hour, materials uploads per candidate and minute, auth failed sign-ins per
account and per address.

A key is one document of `limit` slots, each holding the time of one hit (milliseconds
since the epoch, as notify stored them before this was shared):

    {"_id": key, "slots": {"s0": t0, "s1": t1, ...}, "expires_at": last hit + window}

A hit takes an empty slot, or the oldest one whose time is a whole window old, by a
compare-and-set on that one slot (its guard is the value read), so two instances never
both take a slot and the limit holds without transactions (common/mongo.py's subset).
Empty slots are tried in random order: parallel hits on one key (a candidate's
uploads from several tabs) then rarely race for the same slot. A key whose every slot
was taken within the window is at its limit until its oldest hit is a window old. No
TTL index: `purge` drops keys whose last hit is a window old, from the services'
own timers.
"""
import random

from pymongo.errors import DuplicateKeyError

TRIES = 5  # reads of a key's document before a hit gives up to contention


def free_slots(slots, now_ms, limit, window_ms, shuffle=random.shuffle):
    """The slots a hit at `now_ms` may take, best first: the empty ones (in random
    order), then those whose hit is a whole window old, oldest first. None are left
    when `limit` hits fell within the window."""
    empty = [f"s{n}" for n in range(limit) if slots.get(f"s{n}") is None]
    shuffle(empty)
    lapsed = sorted((key for key in (f"s{n}" for n in range(limit))
                     if slots.get(key) is not None and slots[key] <= now_ms - window_ms),
                    key=lambda key: slots[key])
    return empty + lapsed


class RateLimit:
    """At most `limit` hits per key within any `window_s`, counted in `collection`."""

    def __init__(self, collection, limit, window_s, tries=TRIES):
        self.collection = collection
        self.limit = int(limit)
        self.window_ms = int(window_s * 1000)
        self.tries = tries

    def take(self, key, now):
        """Count a hit on `key` at `now` (epoch seconds) if it fits: True. False when the
        key is at its limit (nothing is counted); None when other hits kept taking the
        slots this one was after (the caller tries again later, or refuses)."""
        now_ms = int(now * 1000)
        for _ in range(self.tries):
            doc = self.collection.find_one({"_id": key})
            slots = (doc or {}).get("slots") or {}
            candidates = free_slots(slots, now_ms, self.limit, self.window_ms)
            if not candidates:
                return False
            if doc is None:
                try:
                    self.collection.insert_one({"_id": key, "slots": {candidates[0]: now_ms},
                                                "expires_at": now_ms + self.window_ms})
                    return True
                except DuplicateKeyError:
                    continue  # another hit made the document first: read it again
            for slot in candidates:
                held = slots[slot] if slots.get(slot) is not None else {"$exists": False}
                taken = self.collection.update_one(
                    {"_id": key, f"slots.{slot}": held},
                    {"$set": {f"slots.{slot}": now_ms, "expires_at": now_ms + self.window_ms}})
                if taken.modified_count == 1:
                    return True
        return None

    def count(self, key, since):
        """Hits on `key` after `since` (epoch seconds), at most `limit`."""
        doc = self.collection.find_one({"_id": key}, {"slots": 1})
        since_ms = since * 1000
        return sum(1 for at in ((doc or {}).get("slots") or {}).values() if at is not None and at > since_ms)

    def retry_after(self, key, now):
        """Seconds until `key` may be hit again (0 when it may now)."""
        doc = self.collection.find_one({"_id": key}, {"slots": 1})
        slots = [at for at in ((doc or {}).get("slots") or {}).values() if at is not None]
        if len(slots) < self.limit:
            return 0.0
        return max(min(slots) + self.window_ms - now * 1000, 0) / 1000

    def clear(self, key):
        """Forget every hit on `key` (auth: a successful sign-in forgives its failures)."""
        self.collection.delete_one({"_id": key})

    def purge(self, now):
        """Drop the keys whose last hit is a window old at `now` (epoch seconds)."""
        return purge(self.collection, now)


def purge(collection, now):
    """`RateLimit.purge` for a collection whatever its keys' limits (their window is in
    `expires_at`); the number of keys dropped."""
    return collection.delete_many({"expires_at": {"$lt": int(now * 1000)}}).deleted_count
