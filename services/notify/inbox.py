"""The in-app inbox, use case by use case: record a notification from an event, list a
candidate's messages, mark one read, and the operators' views of deliveries."""
import logging
import re
import time
import uuid
from datetime import datetime

from common import errors
from common.clock import iso as iso_utc, parse_iso
from services.notify import domain, policy
from services.notify.metrics import MESSAGES, MESSAGES_READ
from services.notify.repository import NotifyRepository, utcnow

log = logging.getLogger(__name__)

MESSAGE_ID = re.compile(r"^[0-9a-f]{32}$")
# An operator's refused retry names the delivery's state in words.
SMS_STATUS_NAMES = {policy.PENDING: "待发送", policy.SENDING: "发送中", policy.SENT: "已发送",
                    policy.FAILED: "发送失败", policy.SUPPRESSED: "超出每小时限制", policy.SKIPPED: "无需发送"}
DEFAULT_LIMIT, MAX_LIMIT = 50, 100


def iso(value):
    """Stored moments in the API's format; absent ones (`read_at` of an unread message) as they are."""
    return iso_utc(value) if isinstance(value, datetime) else value


def occurred(event):
    try:
        return parse_iso(event["occurred_at"])
    except ValueError:
        return utcnow()


def new_document(notice, event, now, epoch, send_sms=True):
    """Message and its SMS delivery in one document; ids are uuid4 (unguessable). The
    SMS is pending, or `skipped` when the notice is in-app only or repeats a sent text."""
    status = policy.PENDING if notice.sms and send_sms else policy.SKIPPED
    note = None if status == policy.PENDING else (
        "in-app only" if not notice.sms else "same text already sent for this attempt")
    return {
        "_id": uuid.uuid4().hex, "event_id": event["event_id"], "kind": notice.kind,
        "candidate_id": notice.candidate_id, "package_id": event.get("package_id"),
        "attempt": event.get("attempt"), "region": event.get("region"), "site": event.get("site"),
        "title": notice.title, "body": notice.body, "items": notice.items,
        "respond_by": notice.respond_by, "reason": notice.reason,
        "occurred_at": occurred(event), "created_at": now, "read": False, "read_at": None,
        "sms": {"status": status, "kind": notice.kind,
                "params": {k: str(v) for k, v in notice.sms_params.items()},
                "due_at": epoch, "attempts": 0, "claim": None, "slot_taken": False,
                "phone_masked": None, "note": note, "sent_at": None, "updated_at": now},
        "sms_log": [],
    }


def message_view(doc):
    """A message as its candidate sees it (DESIGN §4 `GET /api/v1/messages`)."""
    return {"message_id": doc["_id"], "kind": doc["kind"], "title": doc["title"],
            "body": doc["body"], "package_id": doc.get("package_id"),
            "attempt": doc.get("attempt"), "items": doc.get("items") or [],
            "respond_by": doc.get("respond_by"), "reason": doc.get("reason"),
            "created_at": iso(doc["occurred_at"]), "read": doc["read"],
            "read_at": iso(doc.get("read_at"))}


def delivery_view(doc):
    """A message as operators see it: who was told what, by which channel, when read
    (`title` is the in-app message's, domain.py's words for the kind)."""
    sms = doc.get("sms") or {}
    return {"message_id": doc["_id"], "event_id": doc.get("event_id"), "kind": doc["kind"],
            "title": doc.get("title"), "candidate_id": doc["candidate_id"], "package_id": doc.get("package_id"),
            "region": doc.get("region"), "site": doc.get("site"),
            "created_at": iso(doc.get("created_at")), "read": doc.get("read"),
            "read_at": iso(doc.get("read_at")),
            "sms": {"status": sms.get("status"), "attempts": sms.get("attempts", 0),
                    "due_at": sms.get("due_at"), "phone_masked": sms.get("phone_masked"),
                    "note": sms.get("note"), "sent_at": iso(sms.get("sent_at")),
                    "log": [{k: iso(v) for k, v in entry.items()}
                            for entry in doc.get("sms_log") or []]}}


def parse_limit(value):
    try:
        limit = int(value) if value not in (None, "") else DEFAULT_LIMIT
    except (TypeError, ValueError):
        raise errors.ValidationError("limit 须为整数") from None
    return min(max(limit, 1), MAX_LIMIT)


class Inbox:
    def __init__(self, repo: NotifyRepository, on_new=None, clock=time.time,
                 ready=lambda: None):
        self.repo = repo
        self.on_new = on_new
        self.clock = clock
        self.ready = ready

    # -- events -------------------------------------------------------------------------------
    def record(self, kind, event):
        """Idempotent on event_id: a redelivery finds the first document and adds nothing."""
        notice = domain.compose(kind, event)
        self.ready()
        # The SMS's text is claimed before the message is written: a crash between the two
        # leaves the claim with this event_id, so the redelivery still owns it.
        first = notice.sms and self.repo.claim_sms_text(domain.sms_key(notice, event),
                                                        event["event_id"], utcnow())
        doc, created = self.repo.insert(new_document(notice, event, utcnow(), self.clock(),
                                                     send_sms=first))
        if created:
            MESSAGES.labels(kind=kind).inc()
            log.info("notification recorded kind=%s message_id=%s event_id=%s", kind,
                     doc["_id"], event["event_id"])
            if self.on_new is not None:
                self.on_new()
        else:
            log.info("event already notified, nothing sent again: event_id=%s", event["event_id"])
        return doc

    # -- the candidate ------------------------------------------------------------------------
    def list(self, candidate_id, limit=None):
        docs = self.repo.inbox(candidate_id, parse_limit(limit))
        return {"messages": [message_view(doc) for doc in docs],
                "unread": self.repo.unread_count(candidate_id)}

    def read(self, candidate_id, message_id):
        if not isinstance(message_id, str) or not MESSAGE_ID.match(message_id):
            raise errors.NotFound("没有该消息")
        doc, first = self.repo.mark_read(candidate_id, message_id, utcnow())
        if doc is None:  # someone else's id answers exactly like an unknown one
            # Logged: a run of these from one account is somebody guessing ids (DESIGN §8).
            log.warning("message not found in candidate's own inbox",
                        extra={"candidate_id": candidate_id, "message_id": message_id})
            raise errors.NotFound("没有该消息")
        if first:
            MESSAGES_READ.inc()
        return message_view(doc)

    # -- operators ----------------------------------------------------------------------------
    def deliveries(self, principal, statuses, limit):
        docs = self.repo.deliveries(statuses, principal.area(), parse_limit(limit))
        return [delivery_view(doc) for doc in docs]

    def of_candidate(self, principal, candidate_id):
        docs = self.repo.of_candidate(str(candidate_id))
        return [delivery_view(doc) for doc in docs if self._covers(principal, doc)]

    def retry(self, principal, message_id):
        doc = self.repo.retry(str(message_id), principal.sub, self.clock(), principal.area())
        if doc is None:
            current = self.repo.get(str(message_id))
            if current is None or not self._covers(principal, current):
                raise errors.NotFound("没有该消息")
            status = current["sms"]["status"]
            raise errors.InvalidTransition(
                f"该短信当前状态为“{SMS_STATUS_NAMES.get(status, status)}”，只有发送失败或超出每小时限制的短信可以重发")
        log.info("sms retry requested message_id=%s by=%s", message_id, principal.sub)
        if self.on_new is not None:
            self.on_new()
        return delivery_view(doc)

    @staticmethod
    def _covers(principal, doc):
        return principal.covers(doc.get("region"), doc.get("site"))
