"""What a reviewer's decision carries beyond its outcome, and how it is taken back (pure):
the flags acknowledged in the confirmation step, the region's checklist as ticked, the
undo window of a held decision; and the notes reviewers leave each other, which never
travel in an event (issue 28). The repository applies them with guarded updates;
cases.py combines them with domain.py's decisions."""
from common import errors
from common.privacy import mask_text
from services.review.domain import (APPROVED, CLAIMED, CONFIRMING, REJECTED, clean_text, iso)

# -- what was acknowledged, the undo window ------------------------------------------------------
MAX_ACKNOWLEDGED = 40
# Fields a held confirmation adds to the proposal's decision; an undo takes them off again.
CONFIRMATION_FIELDS = ("confirmed_by", "confirmed_at", "confirm_acknowledged", "hold_until",
                       "release_at", "event_id")


def acknowledged(value):
    """The flags and notes the reviewer ticked in the confirmation step, as shown there
    (kept with the decision and in the audit log, so the log says which were seen)."""
    if value is None:
        return []
    if (not isinstance(value, list) or len(value) > MAX_ACKNOWLEDGED
            or not all(isinstance(v, str) and 0 < len(v.strip()) <= 200 for v in value)):
        raise errors.ValidationError(
            f"acknowledged 须为已逐项确认的提示列表（至多{MAX_ACKNOWLEDGED}项，每项不超过200字）")
    return [mask_text(v.strip()) for v in value]


def hold_until(hold, now, hold_s):
    """When a held decision's event may leave (epoch seconds), or None for no hold."""
    if hold is None or hold is False:
        return None
    if hold is not True:
        raise errors.ValidationError("hold 须为 true 或 false")
    return now + hold_s


def held(fields, until, event):
    """The decision fields that say it is held, and until when (what an undo checks)."""
    if until is None:
        return fields
    return dict(fields, hold_until=until, release_at=iso(until), event_id=event.event_id)


def undo_refusal(case, reviewer, now):
    """Why `reviewer` cannot take the case's decision back now, or None if they can."""
    decision = case.get("decision") or {}
    if case["status"] not in (APPROVED, REJECTED) or not decision.get("hold_until"):
        return errors.InvalidTransition("该材料没有可撤销的审核结论")
    decider = decision.get("confirmed_by") if case["status"] == REJECTED else decision.get("by")
    if decider != reviewer:
        return errors.Forbidden("只能撤销自己作出的审核结论")
    if decision["hold_until"] <= now:
        return errors.InvalidTransition("审核结论已通知考生，不能撤销")
    return None


def undone(case, reviewer, now, lease_s):
    """The case as it was before the held decision: an approval goes back to the
    reviewer's claim (a fresh lease), a confirmation back to the proposal."""
    if case["status"] == APPROVED:
        return {"status": CLAIMED, "claimed_by": reviewer, "claimed_at": iso(now),
                "lease_until": now + lease_s, "decision": None}
    proposal = {k: v for k, v in case["decision"].items() if k not in CONFIRMATION_FIELDS}
    return {"status": CONFIRMING, "decision": proposal}


# -- the region's per-type checklist, ticked while reviewing -----------------------------------
MAX_CHECK_ITEMS, MAX_CHECK_TEXT = 8, 40


def checklist(value, case):
    """What the reviewer ticked, {material_type: {item: true/false}} as the page sends it,
    kept as {material_type: [{"item", "checked"}]} (an item's text may hold a "." and so
    cannot be a stored key). None when nothing was sent."""
    if value is None:
        return None
    held = case.get("items") or {}
    if not isinstance(value, dict) or len(value) > len(held):
        raise errors.ValidationError("checklist 须为 {材料类型: {核对项: true/false}}")
    out = {}
    for code, ticks in value.items():
        if code not in held:
            raise errors.ValidationError(f"该材料包中没有这类材料: {str(code)[:40]}")
        if (not isinstance(ticks, dict) or len(ticks) > MAX_CHECK_ITEMS
                or not all(isinstance(k, str) and 0 < len(k) <= MAX_CHECK_TEXT and isinstance(v, bool)
                           for k, v in ticks.items())):
            raise errors.ValidationError(
                f"每类材料的核对项至多 {MAX_CHECK_ITEMS} 项，每项不超过 {MAX_CHECK_TEXT} 字，取值为 true/false")
        out[code] = [{"item": k, "checked": v} for k, v in ticks.items()]
    return out


# -- internal notes between reviewers (never in an event: the candidate never sees them) -------
MAX_NOTES = 200


def note(text, reviewer, attempt, now, note_id):
    return {"id": note_id, "at": iso(now), "by": reviewer, "attempt": attempt,
            "text": clean_text(text, "内部备注", required=True)}
