"""Webhooks to the registration system (DESIGN §4a), the rules free of I/O: what a
subscriber may be, the message and its Standard Webhooks headers, and what happens after
an attempt (its numbers: settings.Webhooks).

A delivery is one outcome owed to one subscriber, with ONE `webhook-id` for its whole
life (every retry and an operator's replay send the same id, so a receiver that
deduplicates by it applies the outcome once). It is `pending` (due at `due_at`),
`sending` (claimed by one instance until its lease runs out; a sender that died is
picked up again after it), then `delivered` (the receiver answered 2xx), `failed` (no
2xx before the retry horizon, 72 h by default; listed for administrators, who replay
it) or `cancelled` (its subscriber was removed). Any answer but 2xx, a redirect
included (never followed), no answer within the deadline, and a target address that
is refused at send time (targets.py's SSRF rules: DNS may have changed since
registration) are failed attempts, retried with backoff.
"""
import base64
import hashlib
import json
import random
import re
import secrets
from datetime import datetime, timezone

from standardwebhooks import Webhook

from common import errors

PENDING, SENDING, DELIVERED, FAILED, CANCELLED = "pending", "sending", "delivered", "failed", "cancelled"
STATUS_NAMES = {PENDING: "待发送", SENDING: "发送中", DELIVERED: "已送达", FAILED: "发送失败",
                CANCELLED: "已取消（订阅已删除）"}
REGION = re.compile(r"^[0-9]{2}$")
DESCRIPTION_MAX = 100


# -- subscribers ----------------------------------------------------------------------------------
def new_secret():
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def new_subscriber_id():
    return "sub_" + secrets.token_hex(12)


def delivery_id(subscriber_id, event_id):
    """The delivery's id and `webhook-id`: derived from what it delivers, so fanning an
    outcome out again (after a crash) finds the same delivery instead of a second one."""
    return "msg_" + hashlib.sha256(f"{subscriber_id}|{event_id}".encode()).hexdigest()[:32]


def regions_filter(value):
    """None (every region) or a sorted list of two-digit region codes."""
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or len(value) > 40 or not all(
            isinstance(r, str) and REGION.match(r) for r in value):
        raise errors.ValidationError("regions 须为考区代码（两位数字）的列表，或不填表示全部考区")
    return sorted(set(value))


def description_text(value):
    if value is None:
        return ""
    if not isinstance(value, str) or len(value.strip()) > DESCRIPTION_MAX:
        raise errors.ValidationError(f"description 须为不超过{DESCRIPTION_MAX}字的文字")
    return " ".join(value.split())


def wants(subscriber, region):
    regions = subscriber.get("regions")
    return regions is None or region in regions


# -- the message -----------------------------------------------------------------------------------
def body(record):
    """The request body: the Standard Webhooks payload shape, `type`, `timestamp` (when
    the outcome happened) and `data` (the §4a record, as in the pull feed). Serialised
    once, when the delivery is made, so every retry sends the same bytes."""
    return json.dumps({"type": f"outcome.{record['status']}", "timestamp": record["occurred_at"],
                       "data": record}, ensure_ascii=False, separators=(",", ":"))


def signed_headers(secret, webhook_id, payload, now):
    """The Standard Webhooks headers for one attempt, signed by the `standardwebhooks`
    package (`v1,` HMAC-SHA256 over `id.timestamp.body`). The timestamp is the
    attempt's own: receivers refuse one more than 5 minutes away from their clock."""
    moment = datetime.fromtimestamp(int(now), timezone.utc)
    return {"webhook-id": webhook_id, "webhook-timestamp": str(int(now)),
            "webhook-signature": Webhook(secret).sign(webhook_id, moment, payload),
            "Content-Type": "application/json", "User-Agent": "exam-notify-webhooks/1"}


# -- after an attempt --------------------------------------------------------------------------
def backoff(failures, settings, rand=random.random):
    """Wait after the `failures`-th failed attempt: doubling from the base, capped,
    "equal jitter" (half fixed, half random) so many retries spread out."""
    full = min(settings.retry_max_s, settings.retry_base_s * (2 ** max(failures - 1, 0)))
    return full / 2 + rand() * full / 2


def after_failure(attempts, now, expires_at, settings, rand=random.random):
    """(status, due_at) after failed attempt number `attempts`: again after the backoff
    while that is before the horizon (`expires_at`), else failed."""
    due = now + backoff(attempts, settings, rand)
    if due >= expires_at:
        return FAILED, None
    return PENDING, due
