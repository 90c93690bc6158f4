"""The administrators' overview, from per-site daily tallies (pure).

Each review outcome and each submission is counted once into the document of its site
and Beijing day (`<site>|<YYYY-MM-DD>`), so an overview reads a few dozen small
documents however many packages there are. A decision is kept as a small fact: its kind,
its reviewer, the return reasons and, for a first decision, the seconds since the
package was first submitted (medians need the values, not a sum).
"""
from datetime import date, timedelta
from statistics import median

from common import errors
from common.clock import beijing_date, parse_iso
from services.review import domain

DECISION_KINDS = {"PackageApproved": "approved", "MaterialReturned": "returned",
                  "PackageRejected": "rejected"}
MAX_DAYS = 92
MIN_DECISIONS = 5  # fewer first decisions than this, and an average says more about luck


def day_of(occurred_at):
    """The Beijing calendar day of an ISO 8601 moment."""
    return beijing_date(parse_iso(occurred_at)).isoformat()


def tally_id(site, day):
    return f"{site}|{day}"


def days_back(today, days):
    """The `days` calendar days ending with `today` (ISO dates), oldest first."""
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        raise errors.ValidationError(f"days 须为 1–{MAX_DAYS} 之间的整数")
    end = date.fromisoformat(today)
    return [(end - timedelta(days=n)).isoformat() for n in range(days - 1, -1, -1)]


def first_submitted_at(history, attempt, before):
    """When the package was (last) submitted as `attempt`, no later than `before`."""
    times = [h["at"] for h in history or () if h.get("action") == "submitted"
             and h.get("attempt") == attempt and h.get("at") and h["at"] <= before]
    return max(times) if times else None


def decision_fact(event_type, payload, case):
    """What the overview keeps of one decision event. `case` (may be None) supplies the
    return reasons' codes and when the package was first submitted."""
    kind = DECISION_KINDS[event_type]
    fact = {"k": kind, "r": payload.get("reviewer_id"), "w": None, "rs": []}
    if kind == "returned":
        fact["rs"] = _reason_codes(payload, case)
    if kind == "rejected":
        # The event names the proposer; the second reviewer who confirmed it did work too.
        decision = (case or {}).get("decision") or {}
        if decision.get("attempt") == payload.get("attempt") and decision.get("confirmed_by"):
            fact["c"] = decision["confirmed_by"]
    if payload.get("attempt") == 1 and case is not None:
        submitted = first_submitted_at(case.get("history"), 1, payload["occurred_at"])
        if submitted:
            fact["w"] = round(_seconds_between(submitted, payload["occurred_at"]))
    return fact


def _reason_codes(payload, case):
    decision = (case or {}).get("decision") or {}
    if decision.get("action") == "return" and decision.get("attempt") == payload.get("attempt"):
        return [code for item in decision.get("items", [])
                for code in item.get("reason_codes") or [item.get("reason_code") or "other"]]
    # The case has moved on: recognise the catalogue's texts, anything else is "other".
    by_text = {text: code for code, (_, text) in domain.REASONS.items() if text}
    return [by_text.get(item.get("reason"), "other") for item in payload.get("items", [])]


def _seconds_between(start, end):
    return max((parse_iso(end) - parse_iso(start)).total_seconds(), 0.0)


def summarise(tallies, counts_by_site, days):
    """The overview: `tallies` are daily documents, `counts_by_site` {site: {status: n}},
    `days` the ISO dates shown."""
    per_day = {d: {"submitted": 0, "approved": 0, "returned": 0, "rejected": 0} for d in days}
    reasons, reviewers, confirmations, waits = {}, {}, {}, []
    for doc in tallies:
        if doc["day"] not in per_day:
            continue
        row = per_day[doc["day"]]
        row["submitted"] += doc.get("submitted", 0)
        for fact in doc.get("decisions", []):
            row[fact["k"]] += 1
            reviewers[fact["r"]] = reviewers.get(fact["r"], 0) + 1
            if fact.get("c"):
                confirmations[fact["c"]] = confirmations.get(fact["c"], 0) + 1
            for code in fact.get("rs", []):
                reasons[code] = reasons.get(code, 0) + 1
            if fact.get("w") is not None:
                waits.append(fact["w"])
    decided = {k: sum(per_day[d][k] for d in days) for k in ("approved", "returned", "rejected")}
    return {
        "days": days,
        "per_day": {k: [per_day[d][k] for d in days] for k in ("submitted", "approved", "returned", "rejected")},
        "totals": dict(decided, submitted=sum(per_day[d]["submitted"] for d in days),
                       decided=sum(decided.values())),
        "median_first_decision_s": round(median(waits)) if waits else None,
        "median_first_decision_hours": round(median(waits) / 3600, 2) if waits else None,
        "first_decisions": len(waits),
        "returns_by_reason": [{"code": code, "label": domain.REASONS.get(code, ("其他",))[0], "count": n}
                              for code, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))],
        # decisions (as the events name them) and confirmations of others' rejections
        "reviewers": [{"reviewer_id": r, "decisions": reviewers.get(r, 0), "confirmations": confirmations.get(r, 0)}
                      for r in sorted(set(reviewers) | set(confirmations),
                                      key=lambda r: (-(reviewers.get(r, 0) + confirmations.get(r, 0)), str(r)))],
        "sites": [{"site": site, "counts": counts, "total": sum(counts.values())}
                  for site, counts in sorted(counts_by_site.items())],
        "status_names": domain.STATUS_NAMES,
    }


def review_times(tallies, sites, days):
    """Each site's typical review time for candidates: the mean wait from first submission
    to first decision of the first decisions made on `days` (ISO dates), in hours, or None
    below MIN_DECISIONS. {site: {"days", "decisions", "average_hours"}}."""
    shown = set(days)
    waits = {site: [] for site in sites}
    for doc in tallies:
        if doc["day"] in shown and doc.get("site") in waits:
            waits[doc["site"]].extend(f["w"] for f in doc.get("decisions", []) if f.get("w") is not None)
    return {site: {"days": len(days), "decisions": len(found),
                   "average_hours": round(sum(found) / len(found) / 3600, 2)
                   if len(found) >= MIN_DECISIONS else None}
            for site, found in waits.items()}
