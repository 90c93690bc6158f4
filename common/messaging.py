"""Event handlers that never lose a message (DESIGN §6), and the dead-letter office.

nameko acknowledges and drops a message whose handler raised. `event_handler` here
instead republishes the failed message to a delay queue (`<queue>.retry.<n>`, a TTL
queue that dead-letters back into the handler's queue), acknowledging the original only
once the copy is confirmed. After `max_attempts` failures the message is parked in
`<queue>.dead`, where `DeadLetterOffice` lets operators list and replay it. Outages
(database or broker down) are retried at the longest delay without using up attempts;
a payload that fails its schema is parked at once.

A handler whose work is slow and bounded by a resource of its own (the ID card reader)
takes `prefetch=`: it then consumes on a channel of its own with at most that many
messages unacknowledged, so the broker keeps the backlog instead of the handler
refusing and republishing it every few seconds (which cost the upload path's broker,
database and S3 work for nothing during a burst).

Only the source service publishes its events (DESIGN §6): every publish carries the
publisher's broker user as `user_id`, which RabbitMQ refuses unless it is the connection's
own, and a handler takes an event only from its source's broker user (`BROKER_USER_PREFIX`
+ source) or from its own (its retries and replays). Anything else is a forgery: logged
and dropped, never applied, never parked (an operator's replay would make it look like
our own).
"""
import logging

from kombu import Connection, Queue
from nameko.amqp.publish import Publisher
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.events import BROADCAST, SERVICE_POOL, EventHandler
from nameko.extensions import DependencyProvider
from nameko.messaging import QueueConsumer

from common import events
from common.privacy import mask_text
from common.metrics import EVENTS_HANDLED
from common.outages import is_outage

log = logging.getLogger(__name__)

DEFAULT_DELAYS_S = (1, 5, 30, 120)
DEFAULT_MAX_ATTEMPTS = 5
ATTEMPTS = "x-attempts"
ORIGIN = "x-original-queue"
LAST_ERROR = "x-last-error"
PEEK_LIMIT = 10_000  # parked messages looked through per queue


def broker_user(config):
    """The broker user this process connects as: the validated `user_id` of its messages."""
    return Connection(config[AMQP_URI_CONFIG_KEY]).userid


def confirmed_publisher(config):
    """A publisher of this service's messages: JSON, with publisher confirms, as its own
    broker user (consumers check `user_id`)."""
    return Publisher(config[AMQP_URI_CONFIG_KEY], serializer="json", use_confirms=True,
                     user_id=broker_user(config))


def accepted_publishers(config, source):
    """Broker users whose events from `source` a handler takes, or None when the services
    do not have accounts of their own (BROKER_USER_PREFIX unset: one shared test user)."""
    prefix = config.get("BROKER_USER_PREFIX")
    if not prefix:
        return None
    return {f"{prefix}{source}", broker_user(config)}


def retry_queue(queue_name, level, delay_s):
    return Queue(f"{queue_name}.retry.{level}", durable=True, queue_arguments={
        "x-message-ttl": int(delay_s * 1000),
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": queue_name})


def dead_queue(queue_name):
    return Queue(f"{queue_name}.dead", durable=True)


class OwnQueueConsumer(QueueConsumer):
    """nameko's consumer, one per handler that asks for it instead of one per service:
    its own connection and channel, so its prefetch limits that handler's queue only
    (RabbitMQ applies a consumer's prefetch per channel, and nameko sets the service's
    `max_workers` for all its queues). `prefetch(config)` says how many; handlers
    naming the same function share the channel, each with that prefetch."""

    def __init__(self, prefetch):
        super().__init__()
        self.prefetch = prefetch

    @property
    def sharing_key(self):
        return (type(self), self.prefetch)

    @property
    def prefetch_count(self):
        # never 0: to AMQP that means no limit at all
        return max(int(self.prefetch(self.container.config)), 1)


class ReliableEventHandler(EventHandler):
    def __init__(self, source_service, event_type, delays=DEFAULT_DELAYS_S,
                 max_attempts=DEFAULT_MAX_ATTEMPTS, prefetch=None, **kwargs):
        super().__init__(source_service, event_type, handler_type=SERVICE_POOL,
                         reliable_delivery=True, requeue_on_error=False, **kwargs)
        self.delays = tuple(delays)
        self.max_attempts = max_attempts
        if prefetch is not None:
            self.queue_consumer = OwnQueueConsumer(prefetch)

    def setup(self):
        super().setup()
        config = self.container.config
        self.publisher = confirmed_publisher(config)
        self.publishers = accepted_publishers(config, self.source_service)

    def handle_message(self, body, message):
        if self.publishers is not None and message.properties.get("user_id") not in self.publishers:
            log.error("forged event refused: %s.%s not published by %s's broker account",
                      self.source_service, self.event_type, self.source_service)
            self._count("forged")
            self.queue_consumer.ack_message(message)
            return
        try:
            events.validate(self.event_type, body)
        except events.InvalidEvent as exc:
            self._settle(message, exc, park=True)
            return
        super().handle_message(body, message)

    def handle_result(self, message, worker_ctx, result=None, exc_info=None):
        if exc_info is None:
            self.queue_consumer.ack_message(message)
            self._count("ok")
        else:
            self._settle(message, exc_info[1])
        return result, exc_info

    def _settle(self, message, exc, park=False):
        attempts = int((message.headers or {}).get(ATTEMPTS, 0))
        outage = is_outage(exc)
        # Back-pressure (a handler's own resource at capacity, e.g. the ID card reader):
        # soon again at the short delay, no attempt used up. At the outage delay a burst
        # would come back all at once every two minutes and only a few would get in.
        busy = getattr(exc, "busy", False)
        if not (outage or park or busy):
            attempts += 1
        try:
            if park or attempts >= self.max_attempts:
                self._republish(message, dead_queue(self.queue.name), attempts, exc)
                log.error("event parked in dead letters after %d attempts: %s %s",
                          attempts, self.event_type, type(exc).__name__)
                self._count("dead")
            else:
                if busy:
                    level = min(1, len(self.delays) - 1)
                else:
                    level = len(self.delays) - 1 if outage else min(attempts, len(self.delays)) - 1
                self._republish(message, retry_queue(self.queue.name, level, self.delays[level]),
                                attempts, exc)
                log.warning("event handling failed, retry %d scheduled: %s %s",
                            attempts, self.event_type, type(exc).__name__)
                self._count("retry")
        except Exception:
            # Could not hand the message on: give it back to the broker, never drop it.
            log.exception("could not reroute failed event; requeueing")
            self.queue_consumer.requeue_message(message)
            return
        self.queue_consumer.ack_message(message)

    def _republish(self, message, queue, attempts, exc):
        headers = {k: v for k, v in (message.headers or {}).items() if k != "x-death"}
        headers.update({ATTEMPTS: attempts, ORIGIN: self.queue.name,
                         LAST_ERROR: mask_text(f"{type(exc).__name__}: {exc}")[:300]})
        self.publisher.publish(
            message.payload, exchange="", routing_key=queue.name, declare=[queue],
            headers=headers, message_id=message.properties.get("message_id"))

    def _count(self, outcome):
        EVENTS_HANDLED.labels(service=self.container.service_name,
                              handler=self.method_name, outcome=outcome).inc()


event_handler = ReliableEventHandler.decorator


class BroadcastHandler(EventHandler):
    """Every instance of the service gets every such event, on a queue of its own that
    goes away with it: for signals that matter only to what this instance holds (open
    connections), not for state. Best effort by design: nothing is retried or parked,
    because whoever relies on the signal has a slower path to the same state (a page's
    poll). Forgeries are refused as by `event_handler`."""

    def __init__(self, source_service, event_type, **kwargs):
        super().__init__(source_service, event_type, handler_type=BROADCAST,
                         reliable_delivery=False, requeue_on_error=False, **kwargs)

    def setup(self):
        super().setup()
        self.publishers = accepted_publishers(self.container.config, self.source_service)

    def handle_message(self, body, message):
        if self.publishers is not None and message.properties.get("user_id") not in self.publishers:
            log.error("forged signal refused: %s.%s not published by %s's broker account",
                      self.source_service, self.event_type, self.source_service)
            self.queue_consumer.ack_message(message)
            return
        super().handle_message(body, message)


broadcast_handler = BroadcastHandler.decorator


class DeadLetters:
    """Operator view of this service's dead-letter queues."""

    def __init__(self, amqp_uri, queue_names):
        self.amqp_uri = amqp_uri
        self.queue_names = queue_names

    def list(self, limit=100, visible=None):
        """Parked messages, oldest first per queue; `visible(letter)` filters what the
        caller may see (an administrator's region or sites)."""
        found = []
        with Connection(self.amqp_uri) as conn:
            channel = conn.channel()
            for name in self.queue_names:
                for message in self._peek(channel, dead_queue(name), PEEK_LIMIT):
                    letter = describe(message)
                    if visible is None or visible(letter):
                        found.append(letter)
                    if len(found) >= limit:
                        break
                if len(found) >= limit:
                    break
            channel.close()  # unacknowledged messages go back, in order
        return found

    def replay(self, message_id, visible=None):
        """Send one parked message (by message or event id) back to its handler with
        fresh attempts. A message already replayed is no longer parked, so a second
        replay finds nothing (and the handler is idempotent on event_id besides)."""
        with Connection(self.amqp_uri) as conn:
            channel = conn.channel()
            for name in self.queue_names:
                for message in self._peek(channel, dead_queue(name), PEEK_LIMIT):
                    letter = describe(message)
                    if message_id not in (letter["message_id"], letter["event_id"]):
                        continue
                    if visible is not None and not visible(letter):
                        break  # as if absent: nobody learns of letters outside their scope
                    headers = {k: v for k, v in message.headers.items()
                               if k not in ("x-death", ATTEMPTS)}
                    producer = conn.Producer(channel=conn.channel())
                    producer.publish(message.body, exchange="", routing_key=name,
                                     headers=headers, message_id=message_id,
                                     user_id=conn.userid,
                                     content_type=message.content_type,
                                     content_encoding=message.content_encoding,
                                     delivery_mode=2)
                    message.ack()
                    channel.close()
                    return True
            channel.close()
        return False

    @staticmethod
    def _peek(channel, queue, limit):
        bound = queue(channel)
        bound.declare()
        for _ in range(max(limit, 0)):
            message = bound.get(no_ack=False)
            if message is None:
                return
            yield message


def describe(message):
    payload = message.payload if isinstance(message.payload, dict) else {}
    return {
        "message_id": message.properties.get("message_id"),
        "queue": message.headers.get(ORIGIN),
        "attempts": message.headers.get(ATTEMPTS),
        "last_error": message.headers.get(LAST_ERROR),
        "event_id": payload.get("event_id"),
        "occurred_at": payload.get("occurred_at"),
        "package_id": payload.get("package_id"),
        "region": payload.get("region"),
        "site": payload.get("site"),
    }


class DeadLetterOffice(DependencyProvider):
    """Injects DeadLetters for the queues of this service's reliable handlers."""

    def get_dependency(self, worker_ctx):
        names = sorted(ep.queue.name for ep in self.container.entrypoints
                       if isinstance(ep, ReliableEventHandler))
        return DeadLetters(self.container.config[AMQP_URI_CONFIG_KEY], names)
