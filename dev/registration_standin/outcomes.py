"""How the stand-in registration system learns review outcomes (DESIGN §4a), both ways a
real one would: it follows our pull feed with its client credentials (keeping the
cursor it was last given, in its own store) and it receives our webhooks, verified with
the `standardwebhooks` package against the secret a national administrator was shown
when registering it (`dev/seed.py` does that locally). Either way each outcome is kept
once, by its `event_id`, so a webhook repeated or an outcome met in both is one row on
the 报名信息 page."""
import logging
import threading

import requests
from standardwebhooks import Webhook, WebhookVerificationError

from dev.outcome_feed import follow
from dev.registration_standin.upstream import Unreachable

log = logging.getLogger("registration_standin.outcomes")
WEBHOOK_PATH = "/_standin/webhooks"


class BadWebhook(Exception):
    """Not signed with our secret, too old or too new, or not an outcome."""


def receive_webhook(store, body, headers):
    """Verify one delivery and keep its outcome; BadWebhook when it does not hold up, and
    LookupError while no secret has been given to the stand-in."""
    secret = store.setting("webhook_secret")
    if not secret:
        raise LookupError("no webhook secret configured")
    try:
        payload = Webhook(secret).verify(body, headers)
    except (WebhookVerificationError, ValueError) as exc:  # ValueError: a malformed signature header
        raise BadWebhook(str(exc)) from None
    record = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(record, dict) or not record.get("event_id"):
        raise BadWebhook("no outcome record")
    store.record_outcome(record)
    return record


class FeedReader:
    """Follows GET /integration/v1/outcomes every `poll_s` seconds in a thread of its own."""

    def __init__(self, store, ours, poll_s=2.0):
        self.store, self.ours, self.poll_s = store, ours, float(poll_s)
        self._stop = threading.Event()
        self._thread = None

    def read_once(self):
        """Every outcome after the kept cursor, kept; the number read."""
        items, cursor = follow(self.ours.api_url, self.ours.access_token(), self.store.setting("feed_cursor"))
        for item in items:
            self.store.record_outcome(item)
        self.store.set_setting("feed_cursor", cursor)  # after the items: a crash re-reads, never skips
        return len(items)

    def _run(self):
        while not self._stop.wait(self.poll_s):
            try:
                self.read_once()
            except (Unreachable, requests.RequestException) as exc:
                log.info("outcome feed not read this round: %s", type(exc).__name__)
            except Exception:  # noqa: BLE001 - the reader must outlive one bad round
                log.exception("outcome feed round failed")

    def start(self):
        if self.poll_s > 0 and self.ours.api_url:
            self._thread = threading.Thread(target=self._run, name="standin-feed", daemon=True)
            self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
