"""The overview's counters in the `review` database (see overview.py for what they hold).

Each count is one upsert guarded by the event id (`seen`), so an event counted once is
never counted again however often it arrives: a repeat finds no document without its id
and its insert collides with the existing `_id`. Decisions are counted by the outbox
relay (dependencies.TallyingRelay) right after their event is published and before the outbox entry is removed, so
a crash in between counts them on the next publish; submissions are counted by the
handler of PackageSubmitted, whose message is redelivered until it succeeds."""
import json
import time

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from services.review import domain
from services.review.admin import overview


class Tallies:
    def __init__(self, db):
        self.collection = db.tallies
        self.cases = db.cases

    @staticmethod
    def create_indexes(db):
        db.tallies.create_index([("region", ASCENDING), ("day", ASCENDING)])
        db.tallies.create_index([("region", ASCENDING), ("site", ASCENDING), ("day", ASCENDING)])

    def count_submission(self, event):
        self._count(event, {"$inc": {"submitted": 1}})

    def count_decision(self, event_type, payload, case):
        fact = overview.decision_fact(event_type, payload, case)
        self._count(payload, {"$inc": {fact["k"]: 1}, "$push": {"decisions": fact}})

    def _count(self, event, update):
        day = overview.day_of(event["occurred_at"])
        update.setdefault("$push", {})["seen"] = event["event_id"]
        update["$setOnInsert"] = {"region": event["region"], "site": event["site"], "day": day}
        try:
            self.collection.update_one(
                {"_id": overview.tally_id(event["site"], day), "seen": {"$ne": event["event_id"]}},
                update, upsert=True)
        except DuplicateKeyError:
            pass  # counted already

    def between(self, area, first_day, last_day):
        return list(self.collection.find(dict(area, day={"$gte": first_day, "$lte": last_day}),
                                         {"seen": 0}))

    def counts_by_site(self, area, now):
        """{site: {status: n}} as reviewers see them (an expired claim counts as pending).

        One `count` per site and status, each an equality on the (region, site, status)
        prefix of the queue index, and one of the expired claims, a range on `lease_until`
        after that prefix (the (region, site, status, lease_until) index): MongoDB and
        dev/mongo answer them from the index alone, reading no case (grouping with an
        aggregate read the whole collection: 10 s at 200,000 cases)."""
        counts = {}
        for site in self._sites(area):
            # A site's code starts with its region's (auth refuses any other), so a national
            # scope's counts name the region too and stay on the index's prefix.
            query = dict(area, region=site[:2], site=site)
            counts[site] = {status: self._count_cases(dict(query, status=status)) for status in domain.STATUSES}
            expired = self._count_cases(dict(query, status=domain.CLAIMED, lease_until={"$lt": now}))
            counts[site][domain.CLAIMED] -= expired
            counts[site][domain.PENDING] += expired
        return {site: n for site, n in counts.items() if any(n.values())}

    def _sites(self, area):
        """The sites of the area: named in it, or known from its tallies."""
        site = area.get("site")
        if isinstance(site, str):
            return [site]
        if isinstance(site, dict):
            return sorted(site["$in"])
        return sorted(self.collection.distinct("site", {"region": area["region"]} if "region" in area else {}))

    def _count_cases(self, query):
        return self.cases.database.command("count", self.cases.name, query=query)["n"]


class StatusCounts:
    """Per-site counts by status, kept a minute per scope in this process.

    They are the one part of the overview that counts cases: MongoDB 7 and dev/mongo
    answer each from an index, but a region's counts are nine per site (each status and
    the expired claims). A manager's overview a minute old is as useful, so each scope
    is counted at most once a minute here, and the answer says when (`counts_at`)."""

    def __init__(self, ttl_s):
        self.ttl_s = ttl_s
        self._entries = {}

    def get(self, tallies, area, now):
        key = json.dumps(area, sort_keys=True)
        at, counted_at, counts = self._entries.get(key, (0.0, None, None))
        if counts is None or time.monotonic() - at > self.ttl_s:
            counts, counted_at = tallies.counts_by_site(area, now), now
            self._entries[key] = (time.monotonic(), counted_at, counts)
        return counts, counted_at
