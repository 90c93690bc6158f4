"""Decisions on an open page within seconds (DESIGN §4): Server-Sent Events.

materials knows first that a candidate's package changed: it applies review's outcomes
to the package. The instance that applied one announces `PackageChanged` (package id,
version, status; nothing personal) on its own exchange; every materials instance hears
it on a broadcast queue of its own and wakes the streams it holds for that package, so
a page's stream may be open on any instance.

An open stream costs one green thread, one socket and a small queue; no worker slot
(nameko's worker only checks the ticket and hands back the streaming response).
EventSource cannot send the Bearer token, so the page first asks for a ticket with it
(POST /api/v1/package/events/ticket): a random value, stored hashed, good for TICKET_S
to open streams of this one package, set as an HttpOnly cookie on the stream's path
only, so it is in no URL and no access log. A stream ends when the access token it was
ticketed with expires; reconnecting then needs a fresh ticket, i.e. a live sign-in.

Event ids are the package's `version` (it goes up with every change of the package):
a reconnect with Last-Event-ID (EventSource sends it itself; a re-ticketed stream
passes `last_event_id`) gets `changed` at once if the package moved on meanwhile. The
signal is best effort; the page's 60 s poll is the slower path to the same state.
"""
import hashlib
import json
import logging
import secrets
import time

from eventlet.queue import Empty, Full, LightQueue
from nameko.extensions import DependencyProvider
from nameko.standalone.events import get_event_exchange
from prometheus_client import Gauge

from common import errors
from common.messaging import confirmed_publisher
from common.settings import load
from services.materials.settings import MaterialsSettings

log = logging.getLogger(__name__)

SIGNAL = "PackageChanged"
STREAM_PATH = "/api/v1/package/events"
TICKET_COOKIE = "live_ticket"
TICKET_S = 120          # to open (and reopen) streams; the stream itself lives on
RETRY_MS = 3000         # EventSource's wait before reconnecting by itself
QUEUE_SIZE = 4          # signals only say "look again": a full queue loses nothing

OPEN_STREAMS = Gauge("live_streams_open", "Server-Sent Event streams open on this instance")


def frame(event, data, event_id=None):
    """One SSE message; `data` is JSON on one line (no newline can end it early)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def hashed(ticket):
    return hashlib.sha256(f"live-ticket\x00{ticket}".encode()).hexdigest()


def parse_event_id(value):
    """Last-Event-ID as we issue them (a package version), or None for anything else."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


class LiveHub(DependencyProvider):
    """The `PackageChanged` signal on this service's exchange, and this instance's open
    streams by package id; workers reach it through LiveStreams (bootstrap.py)."""

    def setup(self):
        config = self.container.config
        self.publisher = confirmed_publisher(config)
        self.exchange = get_event_exchange(self.container.service_name, config)
        self.streams = {}  # package_id -> {LightQueue}
        self.heartbeat_s = load(MaterialsSettings, config).live_heartbeat_s

    def get_dependency(self, worker_ctx):
        return self

    def publish(self, signal):
        self.publisher.publish(signal, exchange=self.exchange, routing_key=SIGNAL,
                               declare=[self.exchange])

    # -- fan-out on this instance --------------------------------------------------------------
    def deliver(self, signal):
        for queue in list(self.streams.get(signal.get("package_id"), ())):
            try:
                queue.put_nowait(signal)
            except Full:
                pass  # it has unread signals already; one look will see this change too

    def stream(self, package_id, last_seen, until, current_version):
        """The body of one stream: `ready` (or `changed` if the page is behind), then a
        `changed` per signal and a heartbeat when quiet, until `until`."""
        queue = LightQueue(maxsize=QUEUE_SIZE)
        # Subscribed before the current version is read, so no change falls in between.
        self.streams.setdefault(package_id, set()).add(queue)
        OPEN_STREAMS.inc()
        try:
            version, status = current_version()
            yield f"retry: {RETRY_MS}\n\n"
            behind = last_seen is not None and version is not None and version != last_seen
            yield frame("changed" if behind else "ready", {"version": version, "status": status},
                        version)
            while True:
                remaining = until - time.time()
                if remaining <= 0:
                    return  # the token it was opened with has expired: reconnect anew
                try:
                    signal = queue.get(timeout=min(self.heartbeat_s, remaining))
                except Empty:
                    yield ": keepalive\n\n"
                    continue
                yield frame("changed", {"version": signal.get("version"),
                                        "status": signal.get("status")}, signal.get("version"))
        finally:
            OPEN_STREAMS.dec()
            held = self.streams.get(package_id)
            if held is not None:
                held.discard(queue)
                if not held:
                    self.streams.pop(package_id, None)


class LiveStreams:
    """Decisions on an open page, use case by use case: tickets, streams, announcements."""

    def __init__(self, hub, db):
        self.hub = hub
        self.db = db

    def issue_ticket(self, principal, package_id, now=None):
        """(ticket, seconds it is good for) to open streams of `package_id`."""
        now = time.time() if now is None else now
        lifetime = int(min(TICKET_S, max(principal.exp - now, 0)))
        if lifetime <= 0:
            raise errors.Unauthenticated()
        ticket = secrets.token_urlsafe(32)
        self.db.live_tickets.insert_one({
            "_id": hashed(ticket), "candidate_id": principal.sub, "package_id": package_id,
            "expires_at": now + lifetime, "until": float(principal.exp)})
        return ticket, lifetime

    def open(self, ticket, last_event_id, now=None):
        """The stream for a valid ticket; Unauthenticated for anything else."""
        now = time.time() if now is None else now
        doc = self.db.live_tickets.find_one({"_id": hashed(ticket)}) if ticket else None
        if doc is None or doc["expires_at"] <= now or doc["until"] <= now:
            raise errors.Unauthenticated("实时通知已过期，请刷新页面")
        package_id = doc["package_id"]
        return self.hub.stream(package_id, parse_event_id(last_event_id), doc["until"],
                               lambda: self._version(package_id))

    def _version(self, package_id):
        try:
            doc = self.db.packages.find_one({"_id": package_id}, {"version": 1, "status": 1})
        except Exception as exc:  # the stream still opens; its next signal carries one
            log.warning("package version unavailable for a stream: %s", type(exc).__name__)
            return None, None
        return (doc.get("version"), doc.get("status")) if doc else (None, None)

    def deliver(self, signal):
        self.hub.deliver(signal)

    def announce(self, package_id):
        """Tell every instance's streams that the package changed. Best effort: a lost
        signal costs the page its poll interval, so a failure here is logged, never
        raised into the handler that already applied the change."""
        try:
            version, status = self._version(package_id)
            self.hub.publish({"package_id": package_id, "version": version, "status": status})
        except Exception as exc:
            log.warning("package change not announced: %s", type(exc).__name__)

    def purge_tickets(self, now=None):
        now = time.time() if now is None else now
        return self.db.live_tickets.delete_many({"expires_at": {"$lt": now}}).deleted_count
