"""The transactional outbox (DESIGN §6): an event is saved in the same single-document
update as the state change it announces, then published with publisher confirms and
removed only after the broker confirmed it.

Layout inside an aggregate document (a map keyed by event id, so each entry is set and
removed by its own path): `outbox.<event_id> = {type, source, seq, payload}`, a counter
`outbox_n`, and a flag `outbox_pending` the relay finds work by (an equality on an
indexed field: a point lookup on MongoDB and on dev/mongo alike). An
entry is thus saved (in `outbox`), published (removed after the confirm) or still
failing (left in place, `attempts` counting up, retried with backoff). Delivery is at
least once; consumers are idempotent on event_id.
"""
import logging
import time
from dataclasses import dataclass

import eventlet
from eventlet import corolocal
from eventlet.queue import Empty, LightQueue
from nameko.extensions import DependencyProvider
from nameko.standalone.events import get_event_exchange

from common.messaging import confirmed_publisher
from common.metrics import EVENTS_PUBLISHED
from common.mongo import MongoDependency
from common.settings import load, setting
from common.wiring import sibling

log = logging.getLogger(__name__)

LEASE_S = 30
PENDING = "outbox_pending"

# Whether the current worker (its green thread) recorded outbox entries. The relay looks
# for work after a worker only when it did: a look is a query on every collection with
# an outbox, and most workers (reads, refusals) record nothing. Checked in
# worker_result, i.e. after the worker's write.
_worker = corolocal.local()


def record(events, update=None, hold_until=None):
    """Add `events` to a MongoDB update document (mutates and returns it).

    `hold_until` (epoch seconds) holds the document's entries until then: the relay's
    lease on the document is set to that moment, so no relay takes them earlier. The
    hold is stored with the state it announces, not kept in a timer, so it holds across
    a crash and ends by itself; until it ends, a guarded update that still finds the
    lease at that moment may take the entry back out (review's undo of a decision). It
    holds the whole document: an earlier entry not yet published (normally gone within
    milliseconds) waits with it and still leaves first, in `seq` order."""
    update = update if update is not None else {}
    sets = update.setdefault("$set", {})
    incs = update.setdefault("$inc", {})
    if events:
        _worker.recorded = True
        sets[PENDING] = True
    if events and hold_until is not None:
        sets["outbox_lease"] = hold_until
        _worker.held_until = max(getattr(_worker, "held_until", 0.0), hold_until)
    base = time.time_ns()
    for offset, event in enumerate(events):
        sets[f"outbox.{event.event_id}"] = {
            "type": event.event_type(), "source": event.source, "seq": base + offset,
            "payload": event.to_payload()}
    incs["outbox_n"] = incs.get("outbox_n", 0) + len(events)
    return update


def pending_filter(now):
    return {PENDING: True,
            "$or": [{"outbox_lease": {"$exists": False}}, {"outbox_lease": {"$lt": now}}]}


@dataclass(frozen=True)
class RelaySettings:
    # The safety net for what a crash left (seconds); new events wake the relay at once.
    poll_s: float = setting("OUTBOX.POLL_S", float, 5.0, minimum=0.05)


class OutboxRelay(DependencyProvider):
    """Publishes outbox entries of the named collections of this service's database.

    Runs in every instance; a lease on each document keeps instances from publishing
    the same entries at once. Wakes up after every successful worker (so events leave
    within milliseconds) and otherwise polls, which is how a crash is recovered from."""

    def __init__(self, collections, database):
        """`database`: the service's MongoDependency (attribute name) holding `collections`."""
        self.collections = tuple(collections)
        self.database = database

    def setup(self):
        self._database = sibling(self, self.database, MongoDependency)
        self.publisher = confirmed_publisher(self.container.config)
        self.settings = load(RelaySettings, self.container.config)
        self._wake = LightQueue(maxsize=1)
        self._thread = None

    def start(self):
        self._thread = self.container.spawn_managed_thread(self._run)

    def stop(self):
        if self._thread is not None:
            self._thread.kill()

    def kill(self):
        self.stop()

    def worker_setup(self, worker_ctx):
        _worker.recorded = False
        _worker.held_until = 0.0

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        # Also after an error: what was written before it must leave promptly.
        if getattr(_worker, "recorded", False):
            _worker.recorded = False
            self.poke()
        held_until = getattr(_worker, "held_until", 0.0)
        if held_until:
            # Only a wake-up at the release time: the hold itself is the stored lease,
            # so a process that dies first leaves it to the idle poll of the next one.
            _worker.held_until = 0.0
            eventlet.spawn_after(max(held_until - time.time(), 0.0) + 0.05, self.poke)

    def poke(self):
        if self._wake.empty():
            self._wake.put_nowait(True)

    @property
    def db(self):
        return self._database.db

    def _run(self):
        idle = self.settings.poll_s
        backoff = idle
        while True:
            try:
                busy = self.relay_once()
                backoff = idle
            except Exception as exc:  # broker or database down: keep the entries, retry
                log.warning("outbox relay paused: %s", type(exc).__name__)
                busy = False
                backoff = min(backoff * 2, max(15, idle))
            if busy:
                eventlet.sleep(0)
                continue
            try:
                self._wake.get(timeout=backoff)
            except Empty:
                pass

    def relay_once(self):
        """Publish what one leased document holds per collection; True if any work."""
        busy = False
        for name in self.collections:
            collection = self.db[name]
            now = time.time()
            lease = now + LEASE_S
            # The pending flag is indexed: finding and leasing is one point lookup.
            doc = collection.find_one_and_update(pending_filter(now), {"$set": {"outbox_lease": lease}},
                                                 projection={"outbox": 1, "outbox_n": 1})
            if doc is None:
                continue
            busy = True
            published = []
            try:
                self._publish_entries(collection, doc, published)
            finally:
                self._finish(collection, doc, lease, published)
        return busy

    def _publish_entries(self, collection, doc, published):
        entries = sorted((doc.get("outbox") or {}).items(), key=lambda kv: kv[1]["seq"])
        for event_id, entry in entries:
            try:
                self.publish(entry)
                self.after_publish(collection, doc["_id"], entry)
            except Exception:
                collection.update_one({"_id": doc["_id"], f"outbox.{event_id}": {"$exists": True}},
                                      {"$inc": {f"outbox.{event_id}.attempts": 1}})
                raise
            published.append(event_id)

    @staticmethod
    def _finish(collection, doc, lease, published):
        """Remove the confirmed entries and hand the lease back, in one write guarded by
        the lease (a relay whose lease ran out and was taken over changes nothing; the
        new holder publishes again, which consumers tolerate). The pending flag is
        lowered in the same write only while nothing new is waiting: a write that
        recorded an event meanwhile has raised outbox_n, and that guard fails."""
        update = {"$set": {"outbox_lease": 0}}
        if published:
            update["$unset"] = {f"outbox.{event_id}": "" for event_id in published}
            update["$inc"] = {"outbox_n": -len(published)}
        guard = {"_id": doc["_id"], "outbox_lease": lease}
        if doc.get("outbox_n", 0) == len(published):
            done = dict(update, **{"$unset": dict(update.get("$unset", {}), **{PENDING: ""})})
            if collection.update_one(dict(guard, outbox_n=len(published)), done).modified_count:
                return
        collection.update_one(guard, update)

    def after_publish(self, collection, doc_id, entry):
        """Hook for work that must follow every published event at least once (the entry
        stays in the outbox until it has succeeded); it must be idempotent on event_id."""

    def publish(self, entry):
        exchange = get_event_exchange(entry["source"], self.container.config)
        self.publisher.publish(
            entry["payload"], exchange=exchange, routing_key=entry["type"], declare=[exchange],
            message_id=entry["payload"]["event_id"], retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5})
        EVENTS_PUBLISHED.labels(service=self.container.service_name, event_type=entry["type"]).inc()
