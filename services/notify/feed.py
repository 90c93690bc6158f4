"""The outcome feed (DESIGN §4a): record each outcome once, number them, serve pages.

Why numbers are given by one sequencer, after the write, and not by the writers:

The promise is that a reader following `next` from the start sees every outcome once,
in `sequence` order, even while outcomes are being written. Event handlers run
concurrently, in several instances, and MongoDB has no multi-document transactions
here. If each handler took a number from a `$inc` counter and then wrote its outcome,
numbers could become visible out of order: A takes 5, B takes 6, B's write lands first,
a reader reads 6 and moves its cursor past 5, and never sees 5. No cursor can fix that
afterwards.

So handlers only store the outcome, `unnumbered`. One sequencer at a time (a lease in
`locks`, renewed every round) numbers stored outcomes in the order they were stored,
one guarded write each, each write issued only after the previous one was
acknowledged, and each number the last one plus one, the last one read from the
outcomes themselves (the highest `seq`) at the start of a round. Hence the invariant a
reader relies on: **number k is written only after number k-1 is visible**. A reader
that sees k therefore sees every number below it, so `seq > cursor` in order can never
pass over a number that appears later. Numbers are dense (1, 2, 3, ...) because no
write takes a number without its outcome.

A lease can lapse while its holder is merely slow (a pause, a slow disk) and a second
sequencer can start. The lease is not what keeps the numbers right: the unique sparse
index on `seq` refuses a second outcome under a taken number, and a sequencer whose
write is refused stops its round and reads the highest number again next time. Two
sequencers can thus only race for the same next number; neither can write k+1 before
k exists. Outcomes are visible to readers once numbered, at most a round (NOTIFY.POLL_S,
or at once when a handler wakes the sequencer in the same instance) after the event.

The sequence is the order notify recorded the outcomes. Events from two services, or
an event that was retried, may arrive later than a newer one of the same package; a
reader orders one package's outcomes by `attempt` and `occurred_at`.

Numbering an outcome also writes, in the same document update, the webhook deliveries
it owes (the ids of the subscribers that want its region: the outbox), and a second
step makes one delivery document per subscriber from that outbox and clears it, so a
crash between the two is repaired by the next round (delivery ids are derived from
outcome and subscriber, so making them again finds the ones already made).
"""
import logging
import time
import uuid

from common import errors
from common.clock import parse_iso, utcnow
from services.notify import hooks, outcomes
from services.notify.metrics import OUTCOMES, OUTCOMES_NUMBERED

log = logging.getLogger(__name__)

LEASE_S = 10.0
BATCH = 200
FEED_ROLES = ("registration", "admin")


class Feed:
    def __init__(self, repo, hooks_repo, keys, clock=time.time, on_new=None):
        self.repo = repo
        self.hooks_repo = hooks_repo
        self.keys = keys
        self.clock = clock
        self.on_new = on_new  # a new outcome to number: the sequencer need not wait its tick

    # -- events (handlers; idempotent on event_id) ------------------------------------------------
    def record(self, status, event):
        """Store the outcome of `event`, unnumbered; True if it is new."""
        rec = outcomes.record(status, event)
        try:
            happened = parse_iso(rec["occurred_at"])
        except ValueError:
            happened = utcnow()
        year = outcomes.exam_year(rec["package_id"], happened)
        created = self.repo.insert({
            "_id": rec["event_id"], "record": rec, "region": rec["region"], "site": rec["site"],
            "unnumbered": True, "received_at": utcnow(), "exam_year": year,
            "keep_until": outcomes.keep_until(year)})
        if created:
            OUTCOMES.labels(status=status).inc()
            log.info("outcome recorded status=%s event_id=%s", status, rec["event_id"])
            if self.on_new is not None:
                self.on_new()
        return created

    # -- the pull feed -----------------------------------------------------------------------------
    def page(self, principal, after, limit):
        """{"items", "next"} for the registration system (or a national administrator)."""
        if principal.role not in FEED_ROLES or (principal.role == "admin" and not principal.is_national):
            raise errors.Forbidden("只有报名系统和全国管理员可以读取审核结果")
        position = outcomes.read_cursor(after, self.keys)
        size = outcomes.parse_limit(limit)
        docs = self.repo.page(position, size)
        items = [outcomes.with_sequence(d["record"], d["seq"]) for d in docs]
        last = items[-1]["sequence"] if items else position
        return {"items": items, "next": outcomes.sign_cursor(last, self.keys)}

    # -- retention --------------------------------------------------------------------------------
    def purge(self, batches=20, size=500):
        """Delete what is past its keep_until, at most `batches` x `size` of each kind a
        call (the hourly call keeps up with millions a year without holding numbering up)."""
        now, removed = utcnow(), 0
        for repo in (self.repo, self.hooks_repo):
            for _ in range(batches):
                done = repo.purge(now, size)
                removed += done
                if done < size:
                    break
        return removed


class Sequencer:
    """One round of numbering and fan-out; runs in every instance, numbers in one."""

    def __init__(self, repo, hooks_repo, horizon_s, holder=None, lease_s=LEASE_S, batch=BATCH,
                 clock=time.time, ready=lambda: True, on_numbered=None):
        self.repo = repo
        self.horizon_s = horizon_s
        self.hooks_repo = hooks_repo
        self.holder = holder or uuid.uuid4().hex
        self.lease_s = lease_s
        self.batch = batch
        self.clock = clock
        self.ready = ready  # whether the unique `seq` index exists (see above): none, no numbers
        self.on_numbered = on_numbered  # webhook deliveries were made: their round need not wait

    def run(self):
        """Outcomes numbered this round (0 when another instance holds the lease, or
        before the indexes exist)."""
        if not self.ready() or not self.repo.take_lease(self.holder, self.clock(), self.lease_s):
            return 0
        ends = self.clock() + self.lease_s / 2  # stop well inside the lease; renew next round
        numbered = self._number(ends)
        self._fan_out(ends)
        if numbered and self.on_numbered is not None:
            self.on_numbered()
        return numbered

    def _number(self, ends):
        last = self.repo.last_sequence()
        subscribers = self.hooks_repo.active_subscribers()
        numbered = 0
        while self.clock() < ends:
            batch = self.repo.unnumbered(self.batch)
            if not batch:
                break
            for doc in batch:
                if self.clock() >= ends:
                    return numbered
                fanout = [s["_id"] for s in subscribers if hooks.wants(s, doc.get("region"))]
                if not self.repo.number(doc["_id"], last + 1, fanout, utcnow()):
                    # numbered meanwhile, or the number is taken: another sequencer is at
                    # work. Stop; the next round starts again from the highest number.
                    log.warning("outcome numbering stopped at %d: another sequencer is numbering", last + 1)
                    return numbered
                last += 1
                numbered += 1
                OUTCOMES_NUMBERED.inc()
        return numbered

    def _fan_out(self, ends):
        """Make the deliveries numbered outcomes owe, then clear their outbox."""
        while self.clock() < ends:
            docs = self.repo.pending_fanout(self.batch)
            if not docs:
                return
            for doc in docs:
                record = outcomes.with_sequence(doc["record"], doc["seq"])
                payload = hooks.body(record)
                for subscriber_id in doc.get("fanout") or []:
                    self.hooks_repo.insert_delivery(new_delivery(
                        subscriber_id, record, payload, doc["keep_until"], self.clock(), self.horizon_s))
                self.repo.fanned_out(doc["_id"])


def new_delivery(subscriber_id, record, payload, keep_until, now, horizon_s):
    """A pending delivery, due now, retried until `horizon_s` from now."""
    at = utcnow()
    return {"_id": hooks.delivery_id(subscriber_id, record["event_id"]),
            "subscriber_id": subscriber_id, "event_id": record["event_id"],
            "sequence": record["sequence"], "outcome": record["status"],
            "package_id": record["package_id"], "region": record["region"], "site": record["site"],
            "payload": payload, "status": hooks.PENDING, "due_at": now, "attempts": 0,
            "claim": None, "created_at": at, "updated_at": at, "created_epoch": now,
            "expires_at": now + horizon_s,
            "note": None, "last_status": None, "delivered_at": None, "log": [],
            "keep_until": keep_until}
