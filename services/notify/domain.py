"""What the candidate is told about each event, free of I/O.

One `Notice` per event: the in-app message (title, body, the returned types with their
reasons, the deadline) and the SMS kind with its template parameters. SMS parameters
are short facts (a count, a date, an attempt number): the pre-approved templates say
the rest, and reviewers' reasons stay in the app (sms.py refuses anything that looks
like a phone or ID number anyway). Free text from reviewers is masked before it is
stored, so a reason that quotes a phone or ID number never reaches the inbox.
"""
import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from common.clock import BEIJING, parse_beijing
from common.privacy import mask_text

log = logging.getLogger(__name__)

REASON_MAX_LEN = 500
NO_DEADLINE_SMS = "规定期限"  # reads "请于规定期限前登录系统…" in the returned template

@dataclass(frozen=True)
class Notice:
    kind: str
    candidate_id: str
    title: str
    body: str
    sms_params: dict
    items: list = field(default_factory=list)   # [{material_type, name, reason}]
    respond_by: str | None = None
    reason: str | None = None
    sms: bool = True  # False: in-app only


def sms_key(notice, event):
    """What makes two SMS the same text to the same candidate about the same thing: the
    package, its attempt, the template (kind) and its parameters. A withdrawal and
    resubmission of one attempt would otherwise repeat "已提交审核（第1次提交）" word for
    word; the inbox still records both submissions and the withdrawal between them."""
    params = ",".join(f"{k}={notice.sms_params[k]}" for k in sorted(notice.sms_params))
    return f"{event.get('package_id')}|{event.get('attempt')}|{notice.kind}|{params}"


def clean(text, limit=REASON_MAX_LEN):
    """Reviewer free text as stored: one tidy string, personal numbers masked, bounded."""
    text = " ".join(str(text or "").split())
    text = mask_text(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_deadline(value):
    """`respond_by` as review sends it (YYYY-MM-DD, Beijing) or a full timestamp."""
    if not value:
        return None
    text = str(value).strip()
    try:
        return date.fromisoformat(text) if len(text) == 10 else parse_beijing(text).astimezone(BEIJING)
    except ValueError:
        return None


def deadline_text(deadline):
    """For the app: `2026年5月20日` or `2026年5月20日 18:00`."""
    text = f"{deadline.year}年{deadline.month}月{deadline.day}日"
    if isinstance(deadline, datetime):
        text += f" {deadline:%H:%M}"
    return text


def deadline_sms(deadline):
    """For the SMS parameter (12 characters at most): `5月20日`."""
    return f"{deadline.month}月{deadline.day}日" if deadline else NO_DEADLINE_SMS


def type_name(names, code):
    return names.get(code) or str(code)


def compose(kind, event):
    """The Notice for a validated event payload of `kind`. Type names come in the event
    (`type_names`, from materials' catalogue); a type without one shows its code."""
    return _COMPOSERS[kind](event, event.get("type_names") or {})


def _submitted(event, names):
    attempt = int(event["attempt"])
    body = (f"您的报名材料已提交审核，内容已锁定（第{attempt}次提交）。审核期间不能修改或删除"
            "已上传的材料；审核结果将通过短信和站内消息通知您。")
    return Notice("submitted", event["candidate_id"], "材料已提交审核", body,
                  {"attempt": attempt})


def _withdrawn(event, names):
    attempt = int(event["attempt"])
    body = (f"已撤回提交（第{attempt}次提交）：您的报名材料已解锁，可以修改后重新提交。"
            "撤回后考点不会审核您的材料，请在上传截止前重新提交审核。")
    # No SMS: the candidate withdrew on the page just now and saw it happen.
    return Notice("withdrawn", event["candidate_id"], "已撤回提交", body, {}, sms=False)


def _returned(event, names):
    items = [{"material_type": i["material_type"], "name": type_name(names, i["material_type"]),
              "reason": clean(i.get("reason"))} for i in event["items"]]
    deadline = parse_deadline(event.get("respond_by"))
    when = f"请于{deadline_text(deadline)}前" if deadline else "请尽快"
    lines = [f"{n}. {i['name']}：{i['reason'] or '请按要求重新上传'}" for n, i in enumerate(items, 1)]
    body = (f"您的报名材料有{len(items)}项被退回，{when}登录系统，按以下意见重新上传后再次提交：\n"
            + "\n".join(lines) + "\n其余材料已锁定，无需重新上传。")
    return Notice("returned", event["candidate_id"], "报名材料被退回，请修改后重新提交", body,
                  {"count": len(items), "deadline": deadline_sms(deadline)}, items=items,
                  respond_by=event.get("respond_by"))


def _approved(event, names):
    return Notice("approved", event["candidate_id"], "报名材料审核通过",
                  "您的报名材料已审核通过，无需再做任何操作。请留意考点后续通知。", {})


def _rejected(event, names):
    reason = clean(event.get("reason"))
    body = f"您的报名材料审核未通过。\n原因：{reason or '见考点说明'}\n如有疑问，请联系您报考的考点。"
    return Notice("rejected", event["candidate_id"], "报名材料审核未通过", body, {},
                  reason=reason)


def _reopened(event, names):
    codes = [i["material_type"] if isinstance(i, dict) else i for i in event.get("items") or []]
    items = [{"material_type": c, "name": type_name(names, c), "reason": clean(event.get("reason"))}
             for c in codes]
    listed = "、".join(i["name"] for i in items) or "相关材料"
    body = (f"因报名系统中您的报考信息（考试类别或考点）发生变更，需补充以下材料：{listed}。"
            "请登录系统上传后重新提交审核。")
    return Notice("reopened", event["candidate_id"], "报考信息变更，请补充材料", body,
                  {"count": max(len(items), 1)}, items=items, reason=clean(event.get("reason")))


_COMPOSERS = {"submitted": _submitted, "withdrawn": _withdrawn, "returned": _returned,
              "approved": _approved, "rejected": _rejected, "reopened": _reopened}
