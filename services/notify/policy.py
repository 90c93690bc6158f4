"""SMS delivery rules, free of I/O: settings, the retry schedule, the hourly limit.

A delivery is `pending` (due at `due_at`), `sending` (claimed by one instance until its
lease runs out), then `sent`, `failed` (attempts used up, or a refusal that retrying
cannot fix) or `suppressed` (the phone already had its SMS quota this hour: the in-app
message alone tells the candidate). Operators may put `failed`/`suppressed` back to
`pending` with a fresh attempt budget. A message that needs no SMS is `skipped` from the
start: the candidate's own withdrawal (they did it on the page), or a text this package
already had sent for the same attempt (a withdrawal and resubmission of one attempt).
"""
import hashlib
import hmac
import random
from dataclasses import dataclass

PENDING, SENDING, SENT, FAILED, SUPPRESSED = "pending", "sending", "sent", "failed", "suppressed"
SKIPPED = "skipped"
RETRYABLE_BY_OPERATOR = (FAILED, SUPPRESSED)


@dataclass(frozen=True)
class Settings:
    retry_base_s: float = 2.0      # first retry after about this long, doubling after
    retry_max_s: float = 300.0     # longest wait between attempts, provider hints included
    max_attempts: int = 5
    send_timeout_s: float = 7.0    # hard limit on one provider call (SMS.TIMEOUT + 2)
    contact_timeout_s: float = 5.0  # auth.get_contact (the ServiceRpc timeout)
    hourly_limit: int = 5          # SMS per phone in any rolling hour
    limit_window_s: float = 3600.0
    poll_s: float = 1.0            # how often an idle instance looks for due deliveries
    senders: int = 10              # concurrent provider calls per instance
    tick_s: float = 30.0           # one delivery round claims work for at most this long
    # After a send that got no answer, wait at least this long before the next attempt,
    # so the provider's status report of that send can arrive and be asked for first.
    report_wait_s: float = 60.0

    @property
    def lease_s(self):
        """Long enough for one whole attempt; a crashed sender's claim then lapses."""
        return self.contact_timeout_s + self.send_timeout_s + 30.0

    @classmethod
    def from_config(cls, config):
        notify = config.get("NOTIFY") or {}
        sms_timeout = float((config.get("SMS") or {}).get("TIMEOUT") or 5)
        values = {"send_timeout_s": sms_timeout + 2}
        for key, name, kind in _KEYS:
            if notify.get(key) is not None:
                values[name] = kind(notify[key])
        return cls(**values)


_KEYS = (("RETRY_BASE_S", "retry_base_s", float), ("RETRY_MAX_S", "retry_max_s", float),
         ("MAX_ATTEMPTS", "max_attempts", int), ("SEND_TIMEOUT_S", "send_timeout_s", float),
         ("HOURLY_LIMIT", "hourly_limit", int), ("POLL_S", "poll_s", float),
         ("SENDERS", "senders", int), ("TICK_S", "tick_s", float),
         ("REPORT_WAIT_S", "report_wait_s", float))


def backoff(failures, base, cap, rand=random.random):
    """Wait after the `failures`-th failed attempt: exponential, capped, "equal jitter"
    (half fixed, half random) so retries of many messages spread out but never come
    back sooner than half the schedule."""
    full = min(cap, base * (2 ** max(failures - 1, 0)))
    return full / 2 + rand() * full / 2


def retry_delay(failures, retry_after_s, settings, rand=random.random):
    """Our schedule, or the provider's "try again in N s" when that is longer; never
    beyond `retry_max_s` (the attempt bound then ends a long throttle)."""
    delay = backoff(failures, settings.retry_base_s, settings.retry_max_s, rand)
    if retry_after_s:
        delay = max(delay, float(retry_after_s))
    return min(delay, settings.retry_max_s)


def after_attempt(result, attempts, settings, rand=random.random):
    """(status, delay_s, note) after attempt number `attempts` came to `result`."""
    if result.sent:
        return SENT, None, None
    if not result.retryable:
        return FAILED, None, f"provider refused: {result.provider_code or result.status}"
    if attempts >= settings.max_attempts:
        return FAILED, None, f"gave up after {attempts} attempts ({result.status})"
    delay = retry_delay(attempts, result.retry_after_s, settings, rand)
    if result.status == "timeout":  # it may have gone out: give its status report time
        delay = max(delay, settings.report_wait_s)
    return PENDING, delay, None


def free_slot(slots, now, limit, window_s):
    """The hourly limit as `limit` slots, each holding the time of one SMS: the slot a
    new SMS may take (an empty one, else the oldest that is over `window_s` old), or
    None when every slot was used within the window. Taking a slot is a guarded
    compare-and-set in the repository, so concurrent senders cannot both take it."""
    oldest = None
    for n in range(limit):
        key = f"s{n}"
        at = slots.get(key)
        if at is None:
            return key
        if at <= now - window_s and (oldest is None or at < slots[oldest]):
            oldest = key
    return oldest


def limit_key(phone, secret, candidate_id):
    """What the hourly limit counts by: a keyed hash of the phone (the limit is per
    phone; the hash cannot be turned back into the number without the key), or the
    candidate when no key is configured."""
    if not secret:
        return f"candidate:{candidate_id}"
    digest = hmac.new(str(secret).encode(), b"notify/sms-limit\x00" + str(phone).encode(),
                      hashlib.sha256).hexdigest()
    return f"phone:{digest}"
