"""Webhook delivery rounds (the `deliver_webhooks` timer), off the event handlers' path.

A round leases due deliveries subscriber by subscriber, at most `per_subscriber` of one
subscriber in flight and `senders` in all, and sends each in a green thread of a
bounded pool. Each request has a connect and a read timeout and a hard limit around
the whole attempt (DNS and SSRF check included), so a receiver that is slow or hangs
holds at most its own share of senders for a bounded time, and every other subscriber
goes on being served. The result is written under the claim (hooks_repository.py), so
a sender whose lease lapsed cannot overwrite another's.
"""
import logging
import random
import socket
import time
import uuid
from collections import Counter

import eventlet
from eventlet.greenpool import GreenPool

from common.clock import utcnow
from common.outages import is_outage
from services.notify import hooks, targets
from services.notify.metrics import WEBHOOK_ATTEMPTS, WEBHOOK_DELIVERIES

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self, repo, settings, resolver=socket.getaddrinfo, clock=time.time,
                 rand=random.random, stopping=lambda: False, poll_s=0.2):
        self.repo = repo
        self.settings = settings
        self.resolver = resolver
        self.clock = clock
        self.rand = rand
        self.stopping = stopping
        self.poll_s = poll_s

    def run(self):
        """One round; returns the deliveries claimed. Ends when idle, after `tick_s`,
        or when the service stops; what is in flight finishes first."""
        subscribers = {s["_id"]: s for s in self.repo.active_subscribers()}
        if not subscribers:
            return 0
        pool = GreenPool(self.settings.senders)
        in_flight = Counter()
        handled = 0
        try:
            ends = time.monotonic() + self.settings.tick_s
            while not self.stopping() and time.monotonic() < ends:
                claimed = self._claim_round(subscribers, pool, in_flight)
                handled += claimed
                if not claimed:
                    if not pool.running():
                        break
                    eventlet.sleep(self.poll_s)
            pool.waitall()
            return handled
        except Exception as exc:
            if not is_outage(exc):
                raise
            log.warning("webhook round paused: %s", type(exc).__name__)
            pool.waitall()
            return handled

    def _claim_round(self, subscribers, pool, in_flight):
        """Claim what is due, one per subscriber in turn while it has room: fairness
        between subscribers, however much one of them has waiting."""
        claimed, progress = 0, True
        while progress and pool.free() and not self.stopping():
            progress = False
            for subscriber_id, subscriber in subscribers.items():
                if not pool.free() or in_flight[subscriber_id] >= self.settings.per_subscriber:
                    continue
                doc = self.repo.claim(subscriber_id, self.clock(), self.settings.lease_s,
                                      uuid.uuid4().hex)
                if doc is None:
                    continue
                in_flight[subscriber_id] += 1
                pool.spawn(self._deliver, subscriber, doc, in_flight)
                claimed += 1
                progress = True
        return claimed

    def _deliver(self, subscriber, doc, in_flight):
        try:
            self.deliver(subscriber, doc)
        except Exception:  # its lease lapses and a later round sends it again
            log.exception("webhook delivery crashed delivery_id=%s", doc["_id"])
        finally:
            in_flight[subscriber["_id"]] -= 1

    def deliver(self, subscriber, doc):
        started = self.clock()
        outcome, code, note = self.attempt(subscriber, doc)
        WEBHOOK_ATTEMPTS.labels(outcome=outcome).inc()
        now, at = self.clock(), utcnow()
        entry = {"n": doc.get("attempts", 0) + 1, "at": at, "outcome": outcome, "http_status": code,
                 "duration_ms": int((now - started) * 1000)}
        sets = {"last_status": code, "last_attempt": entry, "updated_at": at}
        if outcome == "delivered":
            sets.update(status=hooks.DELIVERED, delivered_at=at, due_at=None, note=None)
        else:
            status, due = hooks.after_failure(doc.get("attempts", 0) + 1, now, doc["expires_at"],
                                              self.settings, self.rand)
            sets.update(status=status, due_at=due, note=note)
            if status == hooks.FAILED:
                sets["note"] = f"{note}；{duration_text(self.settings.horizon_s)}内未能送达，已停止重试"
        if not self.repo.settle(doc["_id"], doc["claim"], sets):
            log.warning("webhook claim lapsed before settling delivery_id=%s", doc["_id"])
            return
        if sets["status"] in (hooks.DELIVERED, hooks.FAILED):
            WEBHOOK_DELIVERIES.labels(outcome=sets["status"]).inc()
        log.info("webhook %s delivery_id=%s subscriber=%s attempt=%d", outcome, doc["_id"],
                 subscriber["_id"], entry["n"])

    def attempt(self, subscriber, doc):
        """(outcome, HTTP status or None, note) of one request, within the hard limit."""
        limit = self.settings.send_timeout_s
        timeout = eventlet.Timeout(limit)
        try:
            target, addresses = targets.check(subscriber["url"], self.settings.local_development,
                                              self.resolver)
            headers = hooks.signed_headers(subscriber["secret"], doc["_id"], doc["payload"], self.clock())
            status, answer = targets.post(target, addresses[0], headers, doc["payload"],
                                          self.settings.connect_timeout_s,
                                          self.settings.read_timeout_s, self.settings.ca_file)
        except eventlet.Timeout as fired:
            if fired is not timeout:
                raise
            return "timeout", None, f"接收方在 {limit:g} 秒内没有应答"
        except targets.TargetRefused as exc:
            return "refused", None, exc.message
        except Exception as exc:  # connection refused or reset, timeouts, TLS: no answer
            kind = type(exc).__name__
            outcome = "timeout" if "Timeout" in kind else "unreachable"
            return outcome, None, f"无法连接接收方（{kind}）"
        finally:
            timeout.cancel()
        if 200 <= status < 300:
            return "delivered", status, None
        if 300 <= status < 400:
            return "redirect", status, f"接收方返回 HTTP {status} 重定向，推送不跟随重定向"
        said = " ".join(answer.split())[:120]
        return "http_error", status, f"接收方返回 HTTP {status}" + (f"：{said}" if said else "")


def duration_text(seconds):
    """`72 小时`, `5 分钟`, `3 秒`: the retry horizon in an operator's note."""
    for unit, name in ((3600, "小时"), (60, "分钟")):
        if seconds >= unit:
            return f"{round(seconds / unit, 1):g} {name}"
    return f"{seconds:g} 秒"
