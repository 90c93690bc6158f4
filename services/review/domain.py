"""Review rules, free of I/O: the case state machine, leases, the reason catalogue,
what a decision must carry, and the events that announce it.

Case states (one case per package; `attempt` follows the package's):

    pending --claim--> claimed --approve | return--> approved | returned
    claimed --reject (a proposal)--> confirming --confirm_reject by another reviewer--> rejected
    confirming --decline_reject--> pending               (four eyes: never the proposer's own)
    claimed --release | lease runs out--> pending        (an expired lease is just pending)
    any --PackageSubmitted of a later attempt--> pending (attempt from the event)
    any --SubmissionWithdrawn--> withdrawn         any --PackageReopened--> closed

The repository enforces each transition with one guarded `find_one_and_update`; this
module says what the guard and the change are, and, when a guard matched nothing,
`claim_refusal()` / `decision_refusal()` name the reason from the case as it now is.
"""
import re
from datetime import date, datetime, timedelta, timezone

from common import errors
from common.clock import beijing_date, iso_from_epoch
from common.privacy import mask_text
from common.events import MaterialReturned, PackageApproved, PackageRejected, ReviewStarted

PENDING, CLAIMED = "pending", "claimed"
APPROVED, REJECTED, RETURNED = "approved", "rejected", "returned"
WITHDRAWN, CLOSED = "withdrawn", "closed"
CONFIRMING = "confirming"  # a rejection proposed, waiting for a second reviewer
STATUSES = (PENDING, CLAIMED, CONFIRMING, APPROVED, REJECTED, RETURNED, WITHDRAWN, CLOSED)
IN_QUEUE = (PENDING, CLAIMED)
MAX_TEXT = 500
DEFAULT_RESPOND_DAYS = 7  # when a region has no `respond_days` (materials' default too)
MAX_RESPOND_DAYS = 180
SITE = re.compile(r"^\d{4}$")


# -- time -----------------------------------------------------------------------------------
iso = iso_from_epoch  # review keeps its times as epoch seconds


# -- the reason catalogue -------------------------------------------------------------------
# Candidates read these on the upload page: each says what is wrong and how to fix it.
REASONS = {
    "unclear": ("图片不清晰",
                "图片模糊、反光或有阴影，文字无法辨认。请将材料平放在光线充足处，正对拍摄或扫描，"
                "确保四角完整、文字清晰后重新上传。"),
    "incomplete": ("材料不完整",
                   "材料不完整（缺页、缺少正面或反面，或边角被裁切）。请上传完整的材料，"
                   "多页材料请逐页上传。"),
    "wrong_document": ("材料不符",
                       "上传的不是该项要求的材料。请对照该项的材料要求和示例图，上传正确的材料。"),
    "expired": ("材料已过期",
                "材料已超过有效期。请上传在有效期内的材料（如有效期内的身份证件、近期开具的证明）。"),
    "mismatch": ("信息不一致",
                 "材料上的信息（姓名、证件号码、学历或单位等）与报名信息不一致。请核对后上传一致的材料；"
                 "如报名信息有误，请联系所在考点。"),
    "other": ("其他", None),  # the reviewer writes the explanation
}


def explain(reason):
    """(code, candidate-facing text) for a reason given as a code or {"code", "text"}.

    A catalogue code may carry the reviewer's own words after the standard text;
    `other` must, since it has no standard text."""
    code, text = (reason, None) if isinstance(reason, str) else _reason_parts(reason)
    if code not in REASONS:
        raise errors.ValidationError(f"未知的退回原因: {code}（可选: {', '.join(REASONS)}）")
    text = clean_text(text, "退回说明") if text is not None else None
    standard = REASONS[code][1]
    if standard is None:
        if not text:
            raise errors.ValidationError("原因为“其他”时须填写说明（text）")
        return code, text
    return code, f"{standard}审核员说明：{text}" if text else standard


MAX_REASONS = 4


def explain_all(reason):
    """(codes, candidate-facing text) for a reason given as a code, {"code", "text"} or
    several codes {"codes": [...], "text"}: each standard text in the order given, then
    the reviewer's own words (which `other` needs, having no standard text)."""
    if not (isinstance(reason, dict) and "codes" in reason):
        code, text = explain(reason)
        return [code], text
    codes = reason["codes"]
    if (not isinstance(codes, list) or not 1 <= len(codes) <= MAX_REASONS
            or not all(isinstance(c, str) for c in codes) or len(set(codes)) != len(codes)):
        raise errors.ValidationError(f"codes 须为 1–{MAX_REASONS} 个不重复的退回原因代码")
    unknown = [c for c in codes if c not in REASONS]
    if unknown:
        raise errors.ValidationError(f"未知的退回原因: {unknown[0][:20]}（可选: {', '.join(REASONS)}）")
    note = clean_text(reason.get("text"), "退回说明")
    if "other" in codes and not note:
        raise errors.ValidationError("原因含“其他”时须填写说明（text）")
    standard = "".join(REASONS[c][1] for c in codes if REASONS[c][1])
    if not standard:
        return codes, note
    return codes, f"{standard}审核员说明：{note}" if note else standard


def _reason_parts(reason):
    if not isinstance(reason, dict) or not isinstance(reason.get("code"), str):
        raise errors.ValidationError("退回原因须为原因代码，或 {\"code\": ..., \"text\": ...}")
    return reason["code"], reason.get("text")


def clean_text(value, what, required=False):
    """Free text from a reviewer: a string, trimmed, at most MAX_TEXT characters."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise errors.ValidationError(f"须填写{what}")
        return None
    if not isinstance(value, str) or len(value.strip()) > MAX_TEXT:
        raise errors.ValidationError(f"{what}须为不超过{MAX_TEXT}字的文字")
    # A reviewer may quote the number that does not match; it must not travel in events
    # or rest in any database (DESIGN §8), so it is masked before anything keeps it.
    return mask_text(value.strip())


# -- what a decision carries ------------------------------------------------------------------
def return_items(case, items, shown=None):
    """Validated [{"material_type", "reason_code", "reason"}] for a return. `shown`:
    {material_type: [image_id]} in the order reviewers and candidates see them (by upload
    time), for naming single images ("第2张"); the case's own order otherwise.

    Only types the candidate submitted can be returned: materials unlocks exactly the
    types named, and a type it does not hold would leave the candidate nothing to fix."""
    if not isinstance(items, list) or not items:
        raise errors.ValidationError("须至少指明一类退回的材料")
    submitted = case.get("items") or {}
    seen, plan = set(), []
    for entry in items:
        if not isinstance(entry, dict) or not isinstance(entry.get("material_type"), str):
            raise errors.ValidationError("每项须包含 material_type 和 reason")
        material_type = entry["material_type"]
        if material_type not in submitted:
            raise errors.ValidationError(f"该材料包中没有这类材料: {material_type[:40]}")
        if material_type in seen:
            raise errors.ValidationError(f"同一类材料只能退回一次: {material_type}")
        seen.add(material_type)
        codes, text = explain_all(entry.get("reason"))
        item = {"material_type": material_type, "reason_code": codes[0], "reason": text}
        if len(codes) > 1:
            item["reason_codes"] = codes
        held = (shown or {}).get(material_type) or submitted[material_type]
        chosen = _returned_images(entry.get("image_ids"), held)
        if chosen is not None:  # only these images, the type's others stay as they are
            item["image_ids"] = chosen
            which = "、".join(f"第{held.index(i) + 1}张" for i in chosen)
            stop = "" if text.endswith(("。", "；", "！", "？", ".")) else "。"
            item["reason"] = f"{text}{stop}需重新上传：{which}（共{len(held)}张）"
        plan.append(item)
    return plan


def _returned_images(image_ids, held):
    """The named images of a type in the type's order, or None for the whole type."""
    if image_ids is None:
        return None
    if (not isinstance(image_ids, list) or not image_ids or not all(isinstance(i, str) for i in image_ids)
            or len(set(image_ids)) != len(image_ids) or not all(i in held for i in image_ids)):
        raise errors.ValidationError("image_ids 须为该类材料中不重复的图片编号")
    if len(image_ids) == len(held):
        return None
    return [i for i in held if i in image_ids]


def respond_by_date(value, today, default_days=None):
    """The candidate's deadline for a return, a Beijing calendar date (YYYY-MM-DD): the
    reviewer's, today or later, or else `default_days` from today (the region's default;
    every return carries a date, so the SMS never promises one the page cannot show)."""
    if value is None:
        return None if default_days is None else (today + timedelta(days=default_days)).isoformat()
    try:
        deadline = date.fromisoformat(str(value)[:10])
    except ValueError:
        raise errors.ValidationError("respond_by 须为 YYYY-MM-DD 格式的日期") from None
    if deadline < today or deadline > today + timedelta(days=MAX_RESPOND_DAYS):
        raise errors.ValidationError("respond_by 须在今天至180天之内")
    return deadline.isoformat()


def beijing_date_of(epoch):
    """The Beijing calendar date of an instant review keeps as epoch seconds."""
    return beijing_date(datetime.fromtimestamp(epoch, timezone.utc))


def respond_days_of(region_settings):
    """A region's default days to respond, as materials' get_region reports them."""
    days = (region_settings or {}).get("respond_days")
    if isinstance(days, int) and not isinstance(days, bool) and 1 <= days <= MAX_RESPOND_DAYS:
        return days
    return DEFAULT_RESPOND_DAYS


# -- leases and who may do what ----------------------------------------------------------------
def lease_live(case, now):
    return case["status"] == CLAIMED and case.get("lease_until", 0) > now


def shown_status(case, now):
    """What the reviewer sees: a claim whose lease ran out is simply pending again."""
    if case["status"] == CLAIMED and not lease_live(case, now):
        return PENDING
    return case["status"]


def needs_review_started(case):
    """ReviewStarted goes out once per submission, with the first claim of it."""
    return case.get("started_attempt", 0) != case["attempt"]


def claim_refusal(case, reviewer, now):
    """Why a claim cannot be taken now, or None if it can."""
    if case["status"] not in IN_QUEUE:
        return errors.InvalidTransition(f"该材料当前状态为“{STATUS_NAMES[case['status']]}”，不能领取")
    if lease_live(case, now) and case.get("claimed_by") != reviewer:
        return held_by_other(case)
    return None


def held_by_other(case):
    holder = (case.get("claimed_by") or "").removeprefix("staff:")
    return errors.Conflict(f"该材料正由其他审核员（{holder}）审核，请稍后再试")


def decision_refusal(case, reviewer, now):
    """Why `reviewer` cannot decide the case now, or None if they hold a live claim."""
    if case["status"] not in IN_QUEUE:
        return errors.InvalidTransition(f"该材料已{STATUS_NAMES[case['status']]}，不能重复审核")
    if not lease_live(case, now):
        return errors.InvalidTransition("请先领取该材料再作出审核结论")
    if case.get("claimed_by") != reviewer:
        return held_by_other(case)
    return None


def repeated_decision(case, status, reviewer):
    """True when this exact decision was already made by this reviewer (a retried call)."""
    decision = case.get("decision") or {}
    return (case["status"] == status and decision.get("by") == reviewer
            and decision.get("attempt") == case["attempt"])


STATUS_NAMES = {PENDING: "待审核", CLAIMED: "审核中", CONFIRMING: "不通过待复核",
                APPROVED: "审核通过", REJECTED: "审核不通过",
                RETURNED: "退回修改", WITHDRAWN: "考生已撤回", CLOSED: "因报考信息变更关闭"}


# What the history and the audit log call each action, for people (the staff page and the
# CLI show these names, sent with the data: views.py).
ACTION_NAMES = {
    "submitted": "考生提交", "claim": "领取审核", "release": "放回队列", "approve": "审核通过",
    "return": "退回修改", "reject": "提出不通过", "confirm_reject": "复核确认不通过",
    "decline_reject": "复核不同意不通过", "undo": "撤销审核结论", "withdrawn": "考生撤回",
    "reopened": "报考信息变更重开", "profile_changed": "报考信息变更",
    # the audit log's reads
    "read": "查看材料", "note": "添加内部备注", "search": "查找材料包", "export": "导出审核结果",
}


# -- four eyes on a rejection -----------------------------------------------------------------
def confirm_refusal(case, reviewer):
    """Why `reviewer` cannot confirm (or decline) the rejection proposed on the case."""
    if case["status"] != CONFIRMING:
        return errors.InvalidTransition(f"该材料当前状态为“{STATUS_NAMES[case['status']]}”，没有待复核的不通过意见")
    if (case.get("decision") or {}).get("by") == reviewer:
        return errors.Forbidden("不通过意见须由另一位审核员复核，提出人不能复核自己的意见")
    return None


def repeated_confirmation(case, reviewer):
    decision = case.get("decision") or {}
    return (case["status"] == REJECTED and decision.get("confirmed_by") == reviewer
            and decision.get("attempt") == case["attempt"])


# -- what the queue flags and filters on (one indexed boolean each) ------------------------------
# Intake refuses below 10 (materials/intake/quality.py, SHARPNESS_THRESHOLD); up to half
# as much again is legible but soft, the images a reviewer should look at closely first.
UNCLEAR_BELOW = 15.0
FLAGS = ("unclear", "duplicate", "returned_before")
FLAG_NAMES = {"unclear": "图片不清晰", "duplicate": "疑似重复图片", "returned_before": "曾被退回"}
ATTEMPTS = {"first": False, "resubmission": True}  # filter value -> the `resubmission` field
ATTEMPT_NAMES = {"first": "首次提交", "resubmission": "再次提交"}


def unclear(quality):
    return quality is not None and quality < UNCLEAR_BELOW


# The queue's filter fields (above), as a case made before they existed should have them.
FILTER_FIELDS = ("resubmission", *FLAGS)


def backfilled_flags(case):
    """The filter fields a case lacks, from what it has: the attempt, the lowest sharpness,
    a return in its history. `duplicate` starts False: the perceptual-hash comparison
    that sets it runs at submission, and marks older cases too when a new image matches."""
    returned = bool(case.get("returned_images")) or any(
        line.get("action") == "return" for line in case.get("history") or [])
    values = {"resubmission": int(case.get("attempt") or 1) > 1, "unclear": unclear(case.get("quality")),
              "duplicate": False, "returned_before": returned}
    return {field: value for field, value in values.items() if field not in case}


def total_by_status(counts):
    """{status: n} summed over several such dicts (per-site counts), every status present."""
    total = dict.fromkeys(STATUSES, 0)
    for one in counts:
        for status, n in one.items():
            total[status] += n
    return total


def queue_flags(case):
    return [flag for flag in FLAGS if case.get(flag)]


def queue_filter(attempt, flag):
    """The extra equality a queue filter adds (each has its index with the queue key)."""
    query = {}
    if attempt is not None:
        if attempt not in ATTEMPTS:
            raise errors.ValidationError("attempt 须为 first（首次提交）或 resubmission（再次提交）")
        query["resubmission"] = ATTEMPTS[attempt]
    if flag is not None:
        if flag not in FLAGS:
            raise errors.ValidationError(f"flag 须为以下之一: {', '.join(FLAGS)}")
        query[flag] = True
    return query


def previous_return(case):
    """The last return before this attempt: {attempt, at, respond_by, items (material_type,
    reason_code, reason)}, from the case's history; None for a first submission."""
    for line in reversed(case.get("history") or []):
        if line.get("action") == "return" and (line.get("attempt") or 0) < case["attempt"]:
            return {"attempt": line["attempt"], "at": line.get("at"),
                    "respond_by": line.get("respond_by"), "items": line.get("items") or []}
    return None


# -- ordering keys (one indexed string each, so paging needs no $or) -------------------------
def lifecycle_key(attempt, occurred_at):
    """Orders materials' events on one package: later attempt first, then later time."""
    return f"{int(attempt):05d}|{occurred_at}"


def queue_key(submitted_at, package_id):
    return f"{submitted_at}|{package_id}"


def quality_key(quality, submitted_at, package_id):
    """Lowest sharpness first; cases whose image metadata has not arrived go last."""
    score = 99_999_999.99 if quality is None else min(max(quality, 0.0), 99_999_999.99)
    return f"{score:011.2f}|{submitted_at}|{package_id}"


def lowest_sharpness(images):
    scores = [image["sharpness"] for image in images if image.get("sharpness") is not None]
    return min(scores) if scores else None


# -- events -----------------------------------------------------------------------------------
def _about(case):
    return {"package_id": case["_id"], "candidate_id": case["candidate_id"],
            "region": case["region"], "site": case["site"], "attempt": case["attempt"]}


def started_event(case, reviewer):
    return ReviewStarted(**_about(case), reviewer_id=reviewer)


def approved_event(case, reviewer):
    return PackageApproved(**_about(case), reviewer_id=reviewer)


def rejected_event(case, reviewer, reason):
    return PackageRejected(**_about(case), reason=reason, reviewer_id=reviewer)


def returned_event(case, reviewer, items, respond_by):
    names = case.get("type_names") or {}
    return MaterialReturned(
        **_about(case), reviewer_id=reviewer, respond_by=respond_by,
        # beyond DESIGN §6's item fields: reason_code (the registration system's outcome
        # record, DESIGN §4a, and the candidate's guidance), and only when not the whole
        # type, the images to replace (materials unlocks only those)
        items=[dict({"material_type": i["material_type"], "reason_code": i.get("reason_code"),
                     "reason": i["reason"]}, **({"image_ids": i["image_ids"]} if "image_ids" in i else {}))
               for i in items],
        type_names={i["material_type"]: names[i["material_type"]] for i in items
                    if i["material_type"] in names})


# -- what materials' events do to a case -------------------------------------------------------
EXTENSIONS = {"jpeg": "jpg", "png": "png"}


def image_key(event):
    """Where materials keeps an uploaded image (DESIGN §7's layout, as of the upload)."""
    extension = EXTENSIONS.get(event.get("format"), "jpg")
    return (f"{event['region']}/{event['site']}/{event['candidate_id']}/"
            f"{event['material_type']}/{event['image_id']}.{extension}")



def submission(event, quality, duplicate=False):
    """The case for a (re)submitted package: back in the queue at the event's attempt.
    `duplicate`: an image of it is close to another candidate's or to one returned before."""
    submitted_at = event["occurred_at"]
    package_id = event["package_id"]
    return {
        "candidate_id": event["candidate_id"], "region": event["region"], "site": event["site"],
        "category": event["category"], "attempt": event["attempt"], "status": PENDING,
        "items": {item["material_type"]: list(item["image_ids"]) for item in event["items"]},
        "type_names": dict(event.get("type_names") or {}),  # passed on in MaterialReturned
        "submitted_at": submitted_at, "queue_key": queue_key(submitted_at, package_id),
        "quality": quality, "quality_key": quality_key(quality, submitted_at, package_id),
        "claimed_by": None, "lease_until": 0, "decision": None, "closed_reason": None,
        "resubmission": int(event["attempt"]) > 1, "unclear": unclear(quality),
        "duplicate": bool(duplicate),
        # Each submission is announced as started afresh: a candidate who withdrew and
        # resubmitted the same attempt must again be stopped from withdrawing mid-review.
        "started_attempt": 0,
    }


def ending(event, status, reason=None):
    """A withdrawn or reopened package leaves the queue; any claim on it is void."""
    return {"candidate_id": event["candidate_id"], "region": event["region"],
            "site": event["site"], "attempt": event["attempt"], "status": status,
            "claimed_by": None, "lease_until": 0, "closed_reason": reason}


# Fields a case document needs from the start, whichever event created it.
NEW_CASE = {"started_attempt": 0, "profile_at": "", "queue_key": "", "quality_key": "",
            "items": {}, "candidate": None, "decision": None, "resubmission": False,
            "unclear": False, "duplicate": False, "returned_before": False}
