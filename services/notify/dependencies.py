"""Adapters of the notify service: the desk over its database and the SMS provider, and
the timer entrypoint that runs delivery rounds."""
import time
import uuid

import eventlet
from eventlet.event import Event
from eventlet.queue import Empty, LightQueue
from nameko.timer import Timer

from common.errors import Unavailable
from common.mongo import MongoDependency
from services.notify import hooks, outcomes
from services.notify.courier import Courier, contact_lookup
from services.notify.dispatcher import Dispatcher
from services.notify.feed import Feed, Sequencer
from services.notify.feed_repository import FeedRepository
from services.notify.hooks_repository import HooksRepository
from services.notify.inbox import Inbox
from services.notify.policy import Settings
from services.notify.repository import NotifyRepository
from services.notify.sms import SmsClient
from services.notify.subscribers import Subscribers


class DeliveryTimer(Timer):
    """A timer whose interval comes from config (NOTIFY.POLL_S) and that can be woken:
    a newly recorded notification starts a round at once instead of at the next tick.
    The first round runs at start, picking up what a previous process left."""

    def setup(self):
        self.interval = Settings.from_config(self.container.config).poll_s
        self._wake = LightQueue(maxsize=1)

    def poke(self):
        if self._wake.empty():
            self._wake.put_nowait(True)

    def stop(self):
        self.should_stop.send(True)
        self.poke()
        self.gt.wait()

    def _run(self):
        while not self.should_stop.ready():
            self.handle_timer_tick()
            self.worker_complete.wait()
            self.worker_complete.reset()
            try:
                self._wake.get(timeout=self.interval)
            except Empty:
                pass

    def stopping(self):
        return self.should_stop.ready()


delivery_timer = DeliveryTimer.decorator


class NotifyDesk(MongoDependency):
    service = "notify"
    repository_class = NotifyRepository

    def setup(self):
        super().setup()
        config = self.container.config
        self.settings = Settings.from_config(config)
        self.sms = SmsClient.from_config(config["SMS"])  # bad SMS config fails the start
        self.limit_secret = (config.get("PII") or {}).get("HASH_KEY")
        self.cursor_keys = outcomes.cursor_keys(config)  # none configured fails the start
        self.hooks = hooks.Settings.from_config(config)
        self.holder = uuid.uuid4().hex  # this instance, as the outcome sequencer's lease names it
        self.next_purge = 0.0
        self.next_outcome_purge = 0.0
        self.indexed = Event()

    def _ensure_indexes(self):
        super()._ensure_indexes()  # returns once they exist (it retries while the server is down)
        self.indexed.send(True)

    def require_indexes(self, wait_s=5.0):
        """Idempotency rests on the unique event_id index: record nothing before it exists
        (an outage to the reliable handler, which retries the event later)."""
        if not self.indexed.ready():
            with eventlet.Timeout(wait_s, False):
                self.indexed.wait()
        if not self.indexed.ready():
            raise Unavailable("通知数据库尚未就绪")

    def poke(self):
        for entrypoint in self.container.entrypoints:
            if isinstance(entrypoint, DeliveryTimer):
                entrypoint.poke()

    def get_dependency(self, worker_ctx):
        return Desk(self, worker_ctx)


class Desk:
    """What a worker gets: the inbox, and a courier for delivery rounds."""

    def __init__(self, provider, worker_ctx):
        self._provider = provider
        self._worker_ctx = worker_ctx

    @property
    def inbox(self):
        p = self._provider
        return Inbox(NotifyRepository(p.db), on_new=p.poke, ready=p.require_indexes)

    @property
    def feed(self):
        p = self._provider
        return Feed(FeedRepository(p.db), HooksRepository(p.db), p.cursor_keys)

    @property
    def subscribers(self):
        p = self._provider
        return Subscribers(HooksRepository(p.db), p.hooks, on_change=p.poke)

    def sequencer(self):
        """A numbering round, once the indexes exist (the unique `seq` index is what
        keeps two sequencers from sharing a number: feed.py)."""
        p = self._provider
        if not p.indexed.ready():
            return None
        return Sequencer(FeedRepository(p.db), HooksRepository(p.db), p.hooks.horizon_s, holder=p.holder)

    def dispatcher(self):
        p = self._provider
        entrypoint = self._worker_ctx.entrypoint
        return Dispatcher(HooksRepository(p.db), p.hooks, stopping=getattr(entrypoint, "stopping", lambda: False),
                          poll_s=min(p.settings.poll_s, 0.5))

    def outcome_housekeeping(self, every_s=3600.0):
        """Outcomes and deliveries past the exam year and the one after (DESIGN §4a)."""
        p, now = self._provider, time.time()
        if now >= p.next_outcome_purge:
            p.next_outcome_purge = now + every_s
            self.feed.purge()

    def wake(self):
        self._provider.poke()

    def courier(self, get_contact):
        p = self._provider
        entrypoint = self._worker_ctx.entrypoint
        stopping = getattr(entrypoint, "stopping", lambda: False)
        return Courier(NotifyRepository(p.db), p.sms, contact_lookup(get_contact), p.settings,
                       p.limit_secret, stopping=stopping)

    def housekeeping(self, every_s=300.0):
        """Drop hourly-limit records nobody can hit any more (no TTL indexes: common/mongo.py)."""
        p, now = self._provider, time.time()
        if now >= p.next_purge:
            p.next_purge = now + every_s
            NotifyRepository(p.db).purge_slots(now)
