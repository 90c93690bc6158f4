"""SMS delivery rules, free of I/O: the retry schedule, how a delivery is settled, the
hourly limit's key. Their numbers are settings.SmsDelivery.

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
from dataclasses import dataclass, field

PENDING, SENDING, SENT, FAILED, SUPPRESSED = "pending", "sending", "sent", "failed", "suppressed"
SKIPPED = "skipped"
RETRYABLE_BY_OPERATOR = (FAILED, SUPPRESSED)
# auth unreachable: ask again after this long (not an attempt; the provider is fine)
CONTACT_RETRY_S = 30.0
# status reports are searched from this long before the unanswered send (clock skew)
REPORT_SLACK_S = 60.0


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


# -- how a delivery is settled (the courier writes these under its claim) ----------------
@dataclass(frozen=True)
class Settlement:
    """A delivery's next state: `status`, when it is due again (epoch seconds), the note
    operators see, fields to set, a log entry; `attempted` counts an attempt used up."""
    status: str
    due_at: float | None = None
    note: str | None = None
    sets: dict = field(default_factory=dict)
    entry: dict | None = None
    attempted: bool = True


def after_send(result, sms, started, now, at, masked, settings, rand=random.random):
    """After the provider call that began at `started` came to `result` (`now`: epoch
    seconds, `at`: the same moment as a datetime for the log)."""
    attempt = sms.get("attempts", 0) + 1
    status, delay, note = after_attempt(result, attempt, settings, rand)
    entry = {"n": attempt, "at": at, "status": result.status,
             "provider_code": result.provider_code, "provider_message": result.provider_message,
             "request_id": result.request_id, "serial_no": result.serial_no,
             "retry_after_s": result.retry_after_s,
             "duration_ms": int((now - started) * 1000), "phone_masked": masked}
    sets = {"sms.phone_masked": masked, "sms.slot_taken": True,
            "sms.last_code": result.provider_code or result.status}
    if status == SENT:
        sets["sms.sent_at"] = at
    if result.status == "timeout" or sms.get("unanswered_at"):
        # the first send whose answer we never had is where reports are looked for, for good
        sets["sms.unanswered_at"] = sms.get("unanswered_at") or started
    return Settlement(status, now + delay if delay is not None else None, note, sets, entry)


def no_contact():
    return Settlement(FAILED, note="no contact for this candidate", attempted=False)


def contact_unavailable(reason, now, settings):
    """auth is down or refusing: not the provider's fault, so no attempt is used up."""
    return Settlement(PENDING, due_at=now + min(CONTACT_RETRY_S, settings.retry_max_s),
                      note=f"contact lookup failed: {reason}", attempted=False)


def slot_contended(now, settings):
    """Every race for an hourly-limit slot lost: try again shortly."""
    return Settlement(PENDING, due_at=now + settings.retry_base_s, attempted=False)


def over_hourly_limit(masked, at, settings):
    note = f"hourly limit: at most {settings.hourly_limit} SMS per phone per hour; in-app only"
    return Settlement(SUPPRESSED, note=note, attempted=False, sets={"sms.phone_masked": masked},
                      entry={"at": at, "event": "suppressed", "note": note, "phone_masked": masked})


def reports_since(unanswered_at):
    """Where to start searching status reports for an unanswered send."""
    return unanswered_at - REPORT_SLACK_S


def confirmed_by_report(serial, masked, at):
    """A status report shows an unanswered send arrived: sent, and not sent again."""
    return Settlement(SENT, sets={"sms.sent_at": at, "sms.last_code": "StatusReport"},
                      entry={"at": at, "status": "sent", "provider_code": "StatusReport",
                             "provider_message": "an unanswered send was delivered",
                             "serial_no": serial, "phone_masked": masked},
                      attempted=False)


def limit_key(phone, secret, candidate_id):
    """What the hourly limit counts by: a keyed hash of the phone (the limit is per
    phone; the hash cannot be turned back into the number without the key), or the
    candidate when no key is configured."""
    if not secret:
        return f"candidate:{candidate_id}"
    digest = hmac.new(str(secret).encode(), b"notify/sms-limit\x00" + str(phone).encode(),
                      hashlib.sha256).hexdigest()
    return f"phone:{digest}"
