"""The outcome record of DESIGN §4a and the feed's cursor, free of I/O.

One record per package event notify consumes, the same in the pull feed and in every
webhook: `event_id`, `sequence`, `candidate_id`, `package_id`, `region`, `site`,
`attempt`, `status`, `occurred_at`, and for a return `items` (`material_type`,
`reason_code`, `reason`) and `respond_by`, for a rejection `reason`. A reopening (the
registration system changed the candidate's category or site) carries the newly
required types as `items` with `reason_code` `profile_changed`. Nothing else of the
event travels: no ID numbers, phones, image ids or links, reviewer ids or type names.
Reviewers' free text is masked as the inbox masks it (domain.clean).

The cursor is the last `sequence` a reader was given, signed with an HMAC so that a
cursor we did not issue (forged, altered, or from another deployment) is refused
rather than read as a position. It never expires: a reader may keep it for months.
"""
import base64
import hashlib
import hmac
import re
from datetime import datetime

from common import errors
from common.clock import BEIJING, beijing_date, iso, parse_iso
from services.notify.domain import clean

STATUSES = ("submitted", "withdrawn", "returned", "approved", "rejected", "reopened")
REOPENED_CODE = "profile_changed"
DEFAULT_LIMIT, MAX_LIMIT = 100, 500
_EXAM_YEAR = re.compile(r"-(\d{4})$")  # package ids are `<candidate_id>-<exam_year>`


def record(status, event):
    """The §4a record (without `sequence`, which numbering adds) of a validated event."""
    if status not in STATUSES:
        raise ValueError(f"not an outcome: {status}")
    out = {"event_id": event["event_id"], "candidate_id": event["candidate_id"],
           "package_id": event["package_id"], "region": event["region"], "site": event["site"],
           "attempt": int(event["attempt"]), "status": status,
           "occurred_at": _instant(event["occurred_at"])}
    if status == "returned":
        out["items"] = [{"material_type": i["material_type"], "reason_code": i.get("reason_code"),
                         "reason": clean(i.get("reason"))} for i in event["items"]]
        out["respond_by"] = event.get("respond_by")
    elif status == "rejected":
        out["reason"] = clean(event.get("reason"))
    elif status == "reopened":
        codes = [i["material_type"] if isinstance(i, dict) else i for i in event.get("items") or []]
        out["items"] = [{"material_type": c, "reason_code": REOPENED_CODE,
                         "reason": clean(event.get("reason"))} for c in codes]
    return out


def _instant(value):
    """`occurred_at` in our one format (`2026-05-20T02:00:00.000Z`), or as sent when it
    is not a time at all (the schema check upstream only asks that it be present)."""
    try:
        return iso(parse_iso(value))
    except (TypeError, ValueError):
        return str(value)


def with_sequence(stored_record, sequence):
    """The record as readers get it: `sequence` after `event_id`, as DESIGN lists them."""
    out = {"event_id": stored_record["event_id"], "sequence": sequence}
    out.update((k, v) for k, v in stored_record.items() if k != "event_id")
    return out


# -- retention: the exam year and the one after (DESIGN §4a) ---------------------------------------
def exam_year(package_id, occurred_at):
    """The exam year a package belongs to: its id's suffix, else the year it happened."""
    found = _EXAM_YEAR.search(str(package_id))
    if found:
        return int(found.group(1))
    return beijing_date(occurred_at).year


def keep_until(year):
    """Outcomes of exam year Y are kept through 31 December of Y+1 (Beijing time)."""
    return datetime(year + 2, 1, 1, tzinfo=BEIJING)


# -- the cursor ------------------------------------------------------------------------------
_CURSOR = re.compile(r"^v1\.(0|[1-9][0-9]{0,17})\.([A-Za-z0-9_-]{22})$")


def _mac(key, sequence):
    digest = hmac.new(key.encode(), f"notify/outcomes-cursor/v1\x00{sequence}".encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:22]  # 132 bits


def sign_cursor(sequence, keys):
    """The cursor after `sequence`, signed with the first (active) key."""
    return f"v1.{int(sequence)}.{_mac(keys[0], int(sequence))}"


def read_cursor(value, keys):
    """The sequence a cursor stands for (0: from the start, when none is given), or
    ValidationError (400) for anything we did not issue. Every configured key is
    tried, so cursors outlive a key rotation while the old key stays listed."""
    if value is None or value == "":
        return 0
    found = _CURSOR.match(value) if isinstance(value, str) and len(value) <= 64 else None
    if found:
        sequence, mac = int(found.group(1)), found.group(2)
        if any(hmac.compare_digest(_mac(key, sequence), mac) for key in keys):
            return sequence
    raise errors.ValidationError("after 参数不是本系统签发的游标，请使用上次响应中的 next 值，或不带 after 从头读取")


def parse_limit(value):
    """`limit` of the feed: 1..500, default 100; anything else is refused (400)."""
    if value is None or value == "":
        return DEFAULT_LIMIT
    text = str(value)
    if not re.fullmatch(r"[0-9]{1,4}", text) or not 1 <= int(text) <= MAX_LIMIT:
        raise errors.ValidationError(f"limit 须为 1 到 {MAX_LIMIT} 之间的整数")
    return int(text)


def cursor_keys(configured, hash_key):
    """The configured keys (NOTIFY.CURSOR_KEYS, the first signs), or else one derived from
    PII.HASH_KEY, which every deployment sets; neither is a start-up error (an unsigned
    cursor would let any reader jump anywhere)."""
    if configured:
        return list(configured)
    if not hash_key:
        raise RuntimeError("neither NOTIFY.CURSOR_KEYS nor PII.HASH_KEY is set: "
                           "the outcome feed cannot sign its cursors")
    return [hmac.new(str(hash_key).encode(), b"notify/outcomes-cursor-key", hashlib.sha256).hexdigest()]
