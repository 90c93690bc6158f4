"""notify's providers, one per resource, each built in setup() from settings.py: the
database, the SMS provider, the timer that runs delivery rounds; and the one that
hands each worker its use cases (bootstrap.build) over the others."""
import uuid

import eventlet
from eventlet.event import Event
from eventlet.queue import Empty, LightQueue
from nameko.extensions import DependencyProvider
from nameko.timer import Timer

from common.errors import Unavailable
from common.mongo import MongoDependency
from common.rpc import ServiceRpc
from common.wiring import sibling
from services.notify import bootstrap, outcomes
from services.notify.repository import NotifyRepository
from services.notify.settings import load_settings
from services.notify.sms import SmsClient


class DeliveryTimer(Timer):
    """A timer whose interval is NOTIFY.POLL_S and that can be woken: a newly recorded
    notification starts a round at once instead of at the next tick. The first round
    runs at start, picking up what a previous process left."""

    def __init__(self, **kwargs):
        super().__init__(interval=None, **kwargs)  # set in setup(), from the settings

    def setup(self):
        self.interval = load_settings(self.container.config).delivery.poll_s
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


def wake_rounds(container):
    """Start every delivery round of this instance now (new work was recorded)."""
    for entrypoint in container.entrypoints:
        if isinstance(entrypoint, DeliveryTimer):
            entrypoint.poke()


class NotifyDatabase(MongoDependency):
    """The `notify` database: messages and SMS deliveries, outcomes, webhooks."""
    service = "notify"
    repository_class = NotifyRepository  # its create_indexes makes the feed's and webhooks' too

    def setup(self):
        super().setup()
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


class SmsGateway(DependencyProvider):
    """The SMS provider's client (sms.py); bad SMS settings stop the service at start."""

    def setup(self):
        self.client = SmsClient.from_settings(load_settings(self.container.config).sms)

    def get_dependency(self, worker_ctx):
        return self.client


class NotifyUseCases(DependencyProvider):
    """Each worker's use cases (bootstrap.UseCases), over the providers it names."""

    def __init__(self, database, sms, contacts):
        # attribute names of the service's NotifyDatabase, SmsGateway and auth ServiceRpc
        self.database, self.sms, self.contacts = database, sms, contacts

    def setup(self):
        self._database = sibling(self, self.database, NotifyDatabase)
        self._sms = sibling(self, self.sms, SmsGateway)
        self._contacts = sibling(self, self.contacts, ServiceRpc)
        self.settings = load_settings(self.container.config)
        keys = self.settings.keys
        self.cursor_keys = outcomes.cursor_keys(keys.cursor_keys, keys.hash_key)  # none: no start
        self.holder = uuid.uuid4().hex  # this instance, as the outcome sequencer's lease names it

    def get_dependency(self, worker_ctx):
        database = self._database
        return bootstrap.build(
            database.db, self._sms.client, self._contacts.get_dependency(worker_ctx).get_contact,
            self.settings, self.cursor_keys, wake=lambda: wake_rounds(self.container),
            ready=database.require_indexes, indexed=database.indexed.ready, holder=self.holder,
            stopping=getattr(worker_ctx.entrypoint, "stopping", lambda: False))
