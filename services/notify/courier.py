"""SMS delivery, off the event handlers' path.

Event handlers only record a notification (message + pending SMS, one insert). A
delivery round (the `deliver_sms` timer worker) leases due deliveries one by one and
sends each in a green thread of a bounded pool, so a provider that hangs holds one
sender for at most the hard time limit while other deliveries, and every event
handler, go on. Each attempt: look up the phone (`auth.get_contact`, at send time,
never stored), take a slot of the hourly per-phone limit (once per delivery), call the
provider under `eventlet.Timeout`, record the provider's answer, then settle the
delivery (sent / retry later / failed) under the claim, so a sender whose lease lapsed
cannot overwrite another's result.

A send that got no answer may still have gone out, and SendSms has no idempotency key.
So the attempt after one first asks the provider's status reports for an SMS carrying
this message's id as `SessionContext`; only when none says delivered is it sent again.
The same holds for a send whose answer came but was never recorded (the process died,
or the database went away, in between): each attempt notes `in_flight_at` before the
provider call, the settlement clears it, and a delivery claimed with the note still on
it is treated as unanswered (the fault suite found such an SMS sent twice).
"""
import logging
import random
import time
import uuid

import eventlet
from eventlet.greenpool import GreenPool
from nameko.exceptions import RemoteError

from common.errors import NotFound
from common.outages import is_outage
from common.privacy import mask_phone
from services.notify import policy
from services.notify.metrics import SMS_ATTEMPTS, SMS_DELIVERIES, SMS_RETRIES
from services.notify.repository import utcnow
from services.notify.sms import SmsResult, SmsTemplateError

log = logging.getLogger(__name__)


class ContactMissing(Exception):
    """auth has no such candidate (or no phone): there is nobody to text."""


def contact_lookup(get_contact):
    """Wrap the RPC `auth.get_contact` so callers see ContactMissing or an outage."""
    def lookup(candidate_id):
        try:
            contact = get_contact(candidate_id)
        except RemoteError as exc:
            if exc.exc_type == "NotFound":
                raise ContactMissing() from None
            raise
        except NotFound:
            raise ContactMissing() from None
        if not (contact or {}).get("phone"):
            raise ContactMissing()
        return contact
    return lookup


class Courier:
    def __init__(self, repo, sms, contacts, settings, limit_secret=None, clock=time.time,
                 rand=random.random, stopping=lambda: False):
        self.repo = repo
        self.sms = sms
        self.contacts = contacts
        self.settings = settings
        self.limit_secret = limit_secret
        self.clock = clock
        self.rand = rand
        self.stopping = stopping

    def run(self):
        """One delivery round: keep claiming due work while anything is in flight; end
        when idle, after `tick_s`, or when the service stops. Returns deliveries claimed."""
        pool = GreenPool(self.settings.senders)
        try:
            handled = self._claim_loop(pool)
            pool.waitall()
            return handled
        except Exception as exc:
            if not is_outage(exc):
                self._abandon(pool)
                raise
            # database down: what is claimed finishes, the rest waits for the next round
            log.warning("sms delivery round paused: %s", type(exc).__name__)
            pool.waitall()
            return 0
        except BaseException:
            self._abandon(pool)  # killed with the container
            raise

    def _claim_loop(self, pool):
        s = self.settings
        ends = time.monotonic() + s.tick_s
        handled = 0
        while not self.stopping() and time.monotonic() < ends:
            claimed = 0
            while pool.free() and not self.stopping():
                doc = self.repo.claim_due(self.clock(), s.lease_s, uuid.uuid4().hex)
                if doc is None:
                    break
                pool.spawn(self.deliver, doc)
                claimed += 1
            handled += claimed
            if not claimed:
                if not pool.running():
                    break
                eventlet.sleep(s.poll_s)
        return handled

    @staticmethod
    def _abandon(pool):
        """Senders die with the round; their leases lapse and the SMS is tried again."""
        for thread in list(pool.coroutines_running):
            thread.kill()

    def deliver(self, doc):
        try:
            self._deliver(doc)
        except Exception:  # its lease lapses and another round picks it up again
            log.exception("sms delivery crashed message_id=%s", doc["_id"])

    def _deliver(self, doc):
        message_id, sms = doc["_id"], doc["sms"]
        attempt = sms.get("attempts", 0) + 1
        phone = self._phone(doc)
        if phone is None:
            return
        masked = mask_phone(phone)
        if not sms.get("slot_taken") and not self._take_slot(doc, phone, masked):
            return
        if sms.get("in_flight_at") and not sms.get("unanswered_at"):
            # the last sender called the provider and never recorded the answer
            sms = dict(sms, unanswered_at=sms["in_flight_at"])
            doc = dict(doc, sms=sms)
        if sms.get("unanswered_at") and self._delivered_after_all(doc, phone, masked):
            return
        started = self.clock()
        if not self.repo.mark_in_flight(message_id, sms["claim"], started):
            log.warning("sms claim lapsed before sending message_id=%s", message_id)
            return
        result = self.send(phone, sms["kind"], sms.get("params") or {}, message_id)
        SMS_ATTEMPTS.labels(outcome=result.status).inc()
        now = self.clock()
        settlement = policy.after_send(result, sms, started, now, utcnow(), masked,
                                       self.settings, self.rand)
        if settlement.status == policy.PENDING:
            SMS_RETRIES.labels(reason=result.status).inc()
            log.info("sms attempt %d %s; retry in %.2fs message_id=%s", attempt, result.status,
                     settlement.due_at - now, message_id)
        self._settle(doc, settlement)

    def _phone(self, doc):
        """The candidate's phone from auth, or None once the delivery is settled otherwise."""
        try:
            return self.contacts(doc["candidate_id"])["phone"]
        except ContactMissing:
            self._settle(doc, policy.no_contact())
        except Exception as exc:
            if not is_outage(exc) and not isinstance(exc, RemoteError):
                raise
            reason = getattr(exc, "exc_type", None) or type(exc).__name__
            log.warning("contact lookup failed (%s); sms retried later message_id=%s",
                        reason, doc["_id"])
            SMS_RETRIES.labels(reason="contact_unavailable").inc()
            self._settle(doc, policy.contact_unavailable(reason, self.clock(), self.settings))
        return None

    def _delivered_after_all(self, doc, phone, masked):
        """True (and the delivery settled as sent) when a status report shows that an
        unanswered send of this message reached the phone."""
        serial, since = None, policy.reports_since(doc["sms"]["unanswered_at"])
        with eventlet.Timeout(self.settings.send_timeout_s, False):
            serial = self.sms.delivered(phone, doc["_id"], since)
        if serial is None:
            return False
        log.info("sms to %s confirmed by status report; not sent again message_id=%s",
                 masked, doc["_id"])
        self._settle(doc, policy.confirmed_by_report(serial, masked, utcnow()))
        return True

    def send(self, phone, kind, params, message_id):
        """One provider call with a hard time limit: the SDK's socket timeout covers a
        silent server, not one that trickles bytes or stalls in DNS or TLS."""
        limit = self.settings.send_timeout_s
        timeout = eventlet.Timeout(limit)
        try:
            return self.sms.send(phone, kind, params, session_context=message_id)
        except eventlet.Timeout as fired:
            if fired is not timeout:
                raise
            log.warning("sms to %s timed out after %ss (hard limit) message_id=%s",
                        mask_phone(phone), limit, message_id)
            return SmsResult("timeout", "HardTimeout", f"no answer within {limit:g}s",
                             retryable=True)
        except SmsTemplateError as exc:  # a bug or bad config: retrying cannot help
            log.error("sms template refused message_id=%s: %s", message_id, exc)
            return SmsResult("failed", "TemplateError", str(exc)[:200], retryable=False)
        except Exception as exc:  # counted as an attempt, so even a bug here stays bounded
            log.exception("sms client error message_id=%s", message_id)
            return SmsResult("failed", "ClientError", type(exc).__name__, retryable=True)
        finally:
            timeout.cancel()

    def _take_slot(self, doc, phone, masked):
        """Count this SMS against the phone's hourly limit; False when it must not go."""
        s = self.settings
        key = policy.limit_key(phone, self.limit_secret, doc["candidate_id"])
        taken = self.repo.take_slot(key, self.clock(), s.hourly_limit, s.limit_window_s)
        if taken:
            return True
        if taken is None:
            self._settle(doc, policy.slot_contended(self.clock(), s))
            return False
        log.info("sms suppressed (hourly limit) to %s message_id=%s", masked, doc["_id"])
        self._settle(doc, policy.over_hourly_limit(masked, utcnow(), s))
        return False

    def purge_limits(self):
        """Drop hourly-limit records nobody can hit any more (no TTL indexes: common/mongo.py)."""
        self.repo.purge_slots(self.clock())

    def _settle(self, doc, settlement):
        values = dict(settlement.sets, **{"sms.status": settlement.status,
                                          "sms.note": settlement.note})
        if settlement.due_at is not None:
            values["sms.due_at"] = settlement.due_at
        if not self.repo.settle(doc["_id"], doc["sms"]["claim"], values, settlement.entry,
                                attempted=settlement.attempted):
            log.warning("sms claim lapsed before settling message_id=%s", doc["_id"])
        elif settlement.status in (policy.SENT, policy.FAILED, policy.SUPPRESSED):
            SMS_DELIVERIES.labels(outcome=settlement.status).inc()
