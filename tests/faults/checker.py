"""What must hold after every fault (DESIGN §6, §9), checked against the whole fault system.

- Every state change has exactly the events it should: each package history line that
  carries an outbox event (`event_type`) was announced on the broker, and nothing was
  announced that no history line explains. Events are seen by a tap: a durable queue
  of our own bound to every service's event exchange, so it keeps what arrives while
  the test is busy and survives a broker restart.
- Every consumer acted on every event once: review has one history line per
  submission event and an image record per upload; materials applied every review
  decision; notify holds one message per notifying event, and each was sent once.
- Every notification was sent once: one SMS at the provider (the stand-in) per sent
  notification, matched by SessionContext (= the message id), and none without one.
- Every image record has its object and every object its record (bucket listing vs the
  packages' items), each object matching its recorded SHA-256; nothing is left pending.
- The dead-letter queues hold only what a test injected on purpose.

Delivery is at least once, so the tap may see an event twice; what counts is that the
state and every consumer reflect it once. The checks are repeated until they hold or a
deadline passes (a consumer may still be working when the test ends).
"""
import hashlib
import json
import time
from collections import Counter

import requests
from kombu import Connection, Queue, binding
from nameko.standalone.events import get_event_exchange

TAP_QUEUE = "faults.tap"
ORPHAN_AGE_S = 600  # services/materials/packages.py: pending uploads older than this are orphans
SOURCES = ("auth", "materials", "review")
NOTIFYING = {"PackageSubmitted", "MaterialReturned", "PackageApproved", "PackageRejected",
             "PackageReopened"}
LIFECYCLE = {"PackageSubmitted", "SubmissionWithdrawn", "PackageReopened"}
REVIEW_EVENTS = {"ReviewStarted", "MaterialReturned", "PackageApproved", "PackageRejected"}
# Not events of DESIGN §6: materials' best-effort signal to its own instances that a
# package changed (open pages' streams, services/materials/live.py); no outbox, no id.
SIGNALS = {"PackageChanged"}


class EventTap:
    """A durable queue bound (`#`) to every event exchange of the system's broker."""

    def __init__(self, amqp_uri):
        self.amqp_uri = amqp_uri
        self.seen = []  # (source service, event type, payload)
        self.queue = Queue(TAP_QUEUE, durable=True, bindings=[
            binding(get_event_exchange(source, {}), routing_key="#") for source in SOURCES])

    def declare(self):
        with Connection(self.amqp_uri, connect_timeout=5) as conn:
            channel = conn.channel()
            for source in SOURCES:
                get_event_exchange(source, {})(channel).declare()
            self.queue(channel).declare()
            channel.close()
        return self

    def drain(self):
        """Take everything the tap holds now; returns how many arrived."""
        got = 0
        with Connection(self.amqp_uri, connect_timeout=5) as conn:
            channel = conn.channel()
            bound = self.queue(channel)
            while True:
                message = bound.get(no_ack=True)
                if message is None:
                    break
                source = message.delivery_info["exchange"].removesuffix(".events")
                payload = message.body if isinstance(message.body, dict) else json.loads(message.body)
                if message.delivery_info["routing_key"] in SIGNALS:
                    continue
                self.seen.append((source, message.delivery_info["routing_key"], payload))
                got += 1
            channel.close()
        return got

    def by_id(self, exclude=()):
        """event_id -> (source, type, payload, copies seen) for events not excluded."""
        events, copies = {}, Counter()
        for source, event_type, payload in self.seen:
            event_id = payload.get("event_id")
            if event_id in exclude:
                continue
            copies[event_id] += 1
            events[event_id] = (source, event_type, payload)
        return {k: v + (copies[k],) for k, v in events.items()}


class Checker:
    def __init__(self, system, layout, mongo, s3_client, tap):
        self.system = system
        self.layout = layout
        self.mongo = mongo
        self.s3 = s3_client
        self.tap = tap
        self.injected = set()
        self.last = []

    def db(self, service):
        return self.system.db(self.mongo, service)

    def inject(self, event_id):
        """An event a test published on purpose: not a state change, not expected to work."""
        self.injected.add(event_id)

    # -- running ---------------------------------------------------------------------------------
    def verify(self, timeout=60):
        """Wait for the system to settle and every invariant to hold; fail with what does not.

        An upload cut off by a fault may leave an object that only its `pending` note
        points to (DESIGN: "a crash leaves a findable orphan"). Such leftovers are allowed
        while the system settles; then the orphan sweeper runs as its timer would once the
        orphan age has passed, and the strict check (no pending note, objects == records)
        must hold after it."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.tap.drain()
                self.last = self.problems(strict=False)
            except Exception as exc:  # a server still coming back: not a verdict yet
                self.last = [f"could not check yet: {type(exc).__name__}: {exc}"]
            if not self.last or time.monotonic() > deadline:
                break
            time.sleep(1.0)
        assert not self.last, "fault checker:\n" + "\n".join(self.last[:40])
        swept = sweeper(self.system, self.mongo, self.s3).sweep_orphans(now=time.time() + ORPHAN_AGE_S + 1)
        self.last = self.problems(strict=True)
        assert not self.last, "fault checker, after the orphan sweep:\n" + "\n".join(self.last[:40])
        return self.summary(swept=swept)

    def summary(self, **extra):
        events = self.tap.by_id(self.injected)
        return dict(extra, events=len(events), duplicates=sum(1 for e in events.values() if e[3] > 1),
                    objects=len(self.bucket_keys()), sms=len(self.system.sms.messages))

    def problems(self, strict=True):
        events = self.tap.by_id(self.injected)
        if not strict:
            waiting = self.unsettled()
            if waiting:  # nothing else is worth judging before the system has settled
                return waiting
        snap = Snapshot(self)
        found = []
        found += self.state_changes_vs_events(snap, events)
        found += self.review_consumed(snap, events)
        found += self.materials_consumed(snap, events)
        found += self.notify_consumed(snap, events)
        found += self.sms_sent_once(snap)
        found += self.objects_vs_records(snap, strict)
        found += self.dead_letters_are_injected()
        return found

    # -- the invariants ----------------------------------------------------------------------------
    def unsettled(self):
        found = []
        for service, collection in (("materials", "packages"), ("review", "cases"), ("auth", "candidates")):
            waiting = self.db(service)[collection].count_documents({"outbox_n": {"$gt": 0}})
            if waiting:
                found.append(f"{service}: {waiting} {collection} with unpublished outbox events")
        sms = self.db("notify").messages.count_documents({"sms.status": {"$in": ["pending", "sending"]}})
        if sms:
            found.append(f"notify: {sms} SMS not yet delivered")
        return found

    @staticmethod
    def state_changes_vs_events(snap, events):
        found = []
        announced = {k: v for k, v in events.items() if v[0] == "materials"}
        recorded = {}
        for package in snap.packages.values():
            for entry in package.get("history") or []:
                if entry.get("event_type"):
                    recorded[entry["event_id"]] = (entry["event_type"], package["_id"])
        for event_id, (event_type, package_id) in recorded.items():
            if event_id not in announced:
                found.append(f"materials: {event_type} {event_id} of {package_id} recorded but never announced")
            elif announced[event_id][1] != event_type:
                found.append(f"materials: {event_id} recorded as {event_type}, announced as {announced[event_id][1]}")
        for event_id, (_, event_type, payload, _) in announced.items():
            if event_id not in recorded:
                found.append(f"materials: {event_type} {event_id} announced without a state change "
                             f"({payload.get('package_id')})")
        # review's decisions and their events (the audit log names each decision's event)
        for event_id, action in snap.decisions.items():
            if event_id not in events:
                found.append(f"review: decision {action} {event_id} never announced")
        return found

    @staticmethod
    def review_consumed(snap, events):
        found = []
        for event_id, (source, event_type, payload, _) in events.items():
            if source != "materials":
                continue
            if event_type in LIFECYCLE:
                case = snap.cases.get(payload["package_id"]) or {}
                lines = [h for h in case.get("history") or [] if h.get("event_id") == event_id]
                if len(lines) != 1:
                    found.append(f"review: {event_type} {event_id} applied {len(lines)} times")
            elif event_type == "MaterialUploaded":
                if payload["image_id"] not in snap.review_images:
                    found.append(f"review: no image record for upload {payload['image_id']}")
            elif event_type == "MaterialDeleted":
                if not (snap.review_images.get(payload["image_id"]) or {}).get("deleted"):
                    found.append(f"review: deletion of {payload['image_id']} not applied")
        return found

    @staticmethod
    def materials_consumed(snap, events):
        found = []
        for event_id, (source, event_type, payload, _) in events.items():
            if source == "review" and event_type in REVIEW_EVENTS:
                package = snap.packages.get(payload["package_id"]) or {}
                if (package.get("applied_events") or []).count(event_id) != 1:
                    found.append(f"materials: {event_type} {event_id} not applied once to {payload['package_id']}")
        return found

    @staticmethod
    def notify_consumed(snap, events):
        found = []
        expected = {k for k, v in events.items() if v[1] in NOTIFYING}
        by_event = Counter(doc["event_id"] for doc in snap.messages.values())
        for event_id in expected:
            if by_event[event_id] != 1:
                found.append(f"notify: {by_event[event_id]} messages for {events[event_id][1]} {event_id}")
        for doc in snap.messages.values():
            if doc["event_id"] not in expected:
                found.append(f"notify: message {doc['_id']} ({doc['kind']}) for an event never announced")
            elif doc["sms"]["status"] != "sent":
                found.append(f"notify: SMS of {doc['event_id']} is {doc['sms']['status']}")
        return found

    @staticmethod
    def sms_sent_once(snap):
        found = []
        sent = Counter(m["session_context"] for m in snap.sms)
        for message_id, count in sent.items():
            if count != 1:
                found.append(f"sms: message {message_id} sent {count} times")
            if message_id not in snap.messages:
                found.append(f"sms: {message_id} sent for no notification")
        for message_id, doc in snap.messages.items():
            if doc["sms"]["status"] == "sent" and message_id not in sent:
                found.append(f"sms: {message_id} marked sent but the provider never got it")
        return found

    def bucket_keys(self):
        return {obj.object_name: obj.size for obj in self.s3.list_objects(self.system.bucket, recursive=True)
                if not obj.object_name.startswith("_probe/")}

    def objects_vs_records(self, snap, strict=True):
        found = []
        records, pending, kept = {}, set(), set()
        for package in snap.packages.values():
            for item in package["items"].values():
                for image in item["images"].values():
                    records[image["key"]] = image
            pending |= {entry["key"] for entry in (package.get("pending") or {}).values()}
            # returned images the candidate deleted, kept for the reviewer until the package is final
            kept |= {entry["key"] for entry in (package.get("retained") or {}).values()}
            if strict and (package.get("pending_n") or package.get("pending")):
                found.append(f"materials: {package['_id']} still has pending uploads {sorted(package.get('pending') or {})}")
        objects = snap.objects
        for key in sorted(set(records) - set(objects)):
            found.append(f"s3: record without object {key}")
        for key in sorted(set(objects) - set(records) - kept):
            if strict or key not in pending:
                found.append(f"s3: object without record {key}")
        for key in set(records) & set(objects):
            if objects[key] != records[key]["bytes"]:
                found.append(f"s3: {key} is {objects[key]} bytes, recorded {records[key]['bytes']}")
        if strict and not found:  # contents once, when the listing agrees
            for key, image in records.items():
                response = self.s3.get_object(self.system.bucket, key)
                try:
                    digest = hashlib.sha256(response.read()).hexdigest()
                finally:
                    response.close()
                    response.release_conn()
                if digest != image["sha256"]:
                    found.append(f"s3: {key} does not match its SHA-256")
        return found

    def dead_letters_are_injected(self):
        from common.messaging import DeadLetters
        api = f"{self.layout.rabbit_api}/api/queues"
        names = [q["name"][:-5] for q in requests.get(api, auth=("guest", "guest"), timeout=10).json()
                 if q["name"].endswith(".dead")]
        found = []
        for letter in DeadLetters(self.layout.amqp_uri, names).list(limit=1000):
            if letter["event_id"] not in self.injected:
                found.append(f"dead letter of a real event: {letter}")
        return found


class Snapshot:
    """One read of everything the invariants look at, instead of a query per event."""

    def __init__(self, checker):
        db = checker.db
        self.packages = {d["_id"]: d for d in db("materials").packages.find(
            {}, {"history": 1, "applied_events": 1, "items": 1, "pending": 1, "pending_n": 1})}
        self.cases = {d["_id"]: d for d in db("review").cases.find({}, {"history": 1})}
        self.review_images = {d["_id"]: d for d in db("review").images.find({}, {"deleted": 1})}
        self.decisions = {e["details"]["event_id"]: e["action"] for e in db("review").audit.find(
            {"outcome": "ok", "details.event_id": {"$exists": True}}, {"details": 1, "action": 1})}
        self.messages = {d["_id"]: d for d in db("notify").messages.find(
            {}, {"event_id": 1, "kind": 1, "sms.status": 1})}
        self.sms = checker.system.sms.messages
        self.objects = checker.bucket_keys()


def handler_queue(source, event_type, service, method):
    """nameko's queue name for a service-pool event handler."""
    return f"evt-{source}-{event_type}--{service}.{method}"


def ready_messages(amqp_uri, queue_name):
    with Connection(amqp_uri, connect_timeout=5) as conn:
        channel = conn.channel()
        _, count, _ = channel.queue_declare(queue=queue_name, passive=True)
        channel.close()
    return count



def sweeper(system, mongo, s3_client):
    """materials' orphan sweeper (`Packages.sweep_orphans`, a 120 s timer in the service),
    on the system's own database and bucket."""
    from services.materials.domain import Catalogue
    from services.materials.packages import Packages, RegionCache
    from services.materials.repository import PackageRepository
    from services.materials.storage import ImageStore
    return Packages(PackageRepository(system.db(mongo, "materials")),
                    ImageStore(s3_client, system.bucket), Catalogue.load(), RegionCache())
