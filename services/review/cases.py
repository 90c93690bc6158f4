"""The reviewer's work, use case by use case.

service.py turns RPC calls into calls here; this module combines the rules of
domain.py and scope.py with the repository (guarded updates), presigned image URLs and
the audit log. Every method takes the verified principal first; every case it touches
is scope-checked on the case itself, and refusals of scope are audited too."""
import time
import uuid

from common import errors
from services.review import domain, safeguards, scope, similarity, views
from services.review.idcheck import idcard
from services.review.idcheck.checks import ID_CARD, id_check_of


class Reviews:
    def __init__(self, repo, bucket, profiles, settings, caller, regions=None, clock=time.time):
        self.repo = repo
        self.regions = regions  # regions.RegionSettings from materials (respond-by days, checklists)
        self.bucket = bucket  # dependencies.ReadOnlyImages: presigned image URLs
        self.profiles = profiles  # dependencies.Profiles: candidate snapshots and search from auth
        self.settings = settings  # settings.ReviewSettings: the lease, URL lifetime, hold
        self.caller = caller  # {"client", "via"}: where the call came from, for the audit log
        self.clock = clock

    # -- reading ---------------------------------------------------------------------------------
    def list_queue(self, principal, site=None, status=domain.PENDING, limit=50, after=None,
                   sort=None, attempt=None, flag=None):
        now = self.clock()
        field, limit, page = scope.page(sort, limit, after)
        query = dict(scope.area(principal, site=site), **scope.by_status(status, now),
                     **domain.queue_filter(attempt, flag), **page)
        found = self.repo.queue(query, field, limit + 1)
        more = len(found) > limit
        checks = self._id_checks(found[:limit])
        return {"items": [views.queue_item(case, now, id_check_of(case, checks))
                          for case in found[:limit]],
                "next": scope.cursor(field, found[limit - 1][field]) if more else None}

    def search(self, principal, query, limit=20):
        """Cases of the caller's scope by 报名号, full ID number or the start of a name,
        newest submission first. The ID number goes to auth (its keyed hash finds the
        candidate) and nowhere else: not into the audit entry, a log line or the answer."""
        kind, value = scope.search_terms(query)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 50:
            raise errors.ValidationError("limit 须为 1–50 之间的整数")
        now = self.clock()
        if kind == "name":
            # The scope's equalities, then a range on the name: (region[, site], candidate.name).
            cases = self.repo.find_cases(dict(scope.area(principal), **{"candidate.name": scope.name_prefix(value)}),
                                         limit, sort="candidate.name")
        else:
            if kind == "id_number":
                # The number itself never reaches a query here (nor the database's own logs).
                found = self.profiles.candidate_by_id_number(value)
                value = found["candidate_id"] if found else None
            # A candidate has a case per exam year at most: found by the candidate_id index
            # alone (a scope filter would steer the planner to the site's queue index),
            # and judged against the scope here.
            cases = [c for c in (self.repo.find_cases({"candidate_id": value}, limit) if value else [])
                     if principal.covers(c["region"], c["site"])]
        cases.sort(key=lambda c: c.get("queue_key") or "", reverse=True)
        self.repo.audit.append({
            "at": domain.iso(now), "actor": principal.sub, "role": principal.role,
            "action": "search", "outcome": "ok", "package_id": None, "attempt": None,
            "region": principal.region, "site": None, "client": self.caller.get("client"),
            "via": self.caller.get("via"), "details": {"by": kind, "found": [c["_id"] for c in cases]}})
        checks = self._id_checks(cases)
        return {"by": kind, "items": [views.queue_item(c, now, id_check_of(c, checks)) for c in cases]}

    def my_claims(self, principal):
        """The caller's live claims, the soonest to run out first."""
        now = self.clock()
        # On the (claimed_by, status, lease_until) index alone: a scope filter would steer
        # the planner to the site's (region, site, status, lease_until) index and every
        # claim there. A claim outside the caller's scope (moved since) is left out here.
        query = {"claimed_by": principal.sub, "status": domain.CLAIMED, "lease_until": {"$gt": now}}
        cases = [c for c in self.repo.find_cases(query, 50, sort="lease_until")
                 if principal.covers(c["region"], c["site"])]
        checks = self._id_checks(cases)
        return {"items": [views.queue_item(c, now, id_check_of(c, checks)) for c in cases]}

    def get_case(self, principal, package_id):
        case = self._with_snapshot(self._in_scope(principal, package_id, "read"))
        images = self._images(principal, case)
        previous = self._previous(case)
        issued = sorted(i for i, image in images.items() if image["url"])
        issued += sorted(image["image_id"] for entry in (previous or {}).get("items", [])
                         for image in entry["images"] if image["url"])
        # Written before the URLs leave: no URL is ever handed out unrecorded.
        self._audit(principal, "read", case,
                    details={"images": issued, "url_ttl_s": self.settings.url_ttl_s})
        checklists = {code: items for code, items in self.regions.checklists(case["region"]).items()
                      if code in (case.get("items") or {})} if self.regions else {}
        return views.case(case, self.clock(), images, previous, id_check_of(case, self._id_checks([case])),
                          checklists)

    def _id_checks(self, cases):
        """{image_id: check} of the cases' ID card images, in one query."""
        return self.repo.id_checks.get_many(
            i for case in cases for i in (case.get("items") or {}).get(ID_CARD) or [])

    def stats(self, principal, region=None, site=None):
        """The queue screen's counts per status: the overview's cheap path (one count per
        site and status on the queue index's prefix), summed, but always fresh: a reviewer
        who just claimed or decided must see it counted."""
        by_site = self.repo.tallies.counts_by_site(scope.area(principal, region=region, site=site), self.clock())
        return domain.total_by_status(by_site.values())

    def audit_trail(self, principal, package_id):
        case = self.repo.get(package_id)
        if case is None:
            raise errors.NotFound("没有该材料包")
        if not principal.covers(case["region"], case["site"]):
            raise errors.Forbidden("无权查看该考区的审核记录")
        return [views.audit_entry(entry) for entry in self.repo.audit.for_package(package_id)]

    # -- internal notes ----------------------------------------------------------------------------
    def add_note(self, principal, package_id, text):
        """A note for the other reviewers of the package (no claim needed); never in an
        event, so never shown to the candidate. Audited; answers the case's notes."""
        case = self._in_scope(principal, package_id, "note")
        now = self.clock()
        entry = safeguards.note(text, principal.sub, case["attempt"], now, uuid.uuid4().hex)
        if not self.repo.add_note(case["_id"], entry, safeguards.MAX_NOTES):
            raise errors.Conflict(f"该材料包的内部备注已达 {safeguards.MAX_NOTES} 条")
        self._audit(principal, "note", case, details={"note_id": entry["id"]})
        return (self._reread(package_id).get("notes") or [])

    # -- claims ----------------------------------------------------------------------------------
    def claim(self, principal, package_id):
        case = self._in_scope(principal, package_id, "claim")
        for _ in range(3):
            now = self.clock()
            refusal = domain.claim_refusal(case, principal.sub, now)
            if refusal is not None:
                raise refusal
            events = [domain.started_event(case, principal.sub)] if domain.needs_review_started(case) else []
            lease_until = now + self.settings.lease_s
            updated = self.repo.claim(case, principal.sub, now, lease_until, events,
                                      self._history(now, "claim", principal, case))
            if updated is not None:
                self._audit(principal, "claim", updated, details={"lease_until": domain.iso(lease_until)})
                return views.case(updated, now)
            case = self._reread(package_id)  # someone else moved first: judge again
        raise errors.Conflict()

    def release(self, principal, package_id):
        case = self._in_scope(principal, package_id, "release")
        now = self.clock()
        updated = self.repo.release(case, principal.sub, self._history(now, "release", principal, case))
        if updated is None:
            case = self._reread(package_id)
            if domain.lease_live(case, now) and case.get("claimed_by") != principal.sub:
                raise domain.held_by_other(case)
            return views.case(case, now)  # nothing of ours to release: already done
        self._audit(principal, "release", updated)
        return views.case(updated, now)

    # -- decisions -------------------------------------------------------------------------------
    def approve(self, principal, package_id, note=None, acknowledged=None, hold=False, checklist=None):
        """`acknowledged`: the flags the reviewer ticked in the confirmation step; `hold`:
        keep the event back for ReviewSettings.hold_s, cancellable with undo_decision;
        `checklist`: the region's per-type checks as ticked, kept with the decision."""
        seen = safeguards.acknowledged(acknowledged)

        def plan(case):
            return (_with_checklist({"note": domain.clean_text(note, "备注"), "acknowledged": seen},
                                    safeguards.checklist(checklist, case)),
                    domain.approved_event(case, principal.sub), {})
        return self._decide(principal, package_id, "approve", domain.APPROVED, plan, hold)

    def reject(self, principal, package_id, reason, checklist=None):
        """Propose the rejection: it takes effect (and the candidate hears of it) only when
        a second reviewer confirms it (confirm_reject)."""
        def plan(case):
            return (_with_checklist({"reason": domain.clean_text(reason, "不通过的原因", required=True)},
                                    safeguards.checklist(checklist, case)), None, {})
        return self._decide(principal, package_id, "reject", domain.CONFIRMING, plan)

    def confirm_reject(self, principal, package_id, acknowledged=None, hold=False):
        seen = safeguards.acknowledged(acknowledged)
        until = safeguards.hold_until(hold, 0, 0)  # validated here, timed in settle

        def settle(case, now):
            decision = case["decision"]
            event = domain.rejected_event(case, decision["by"], decision["reason"])
            confirmation = safeguards.held({"confirmed_by": principal.sub, "confirmed_at": domain.iso(now),
                                        "confirm_acknowledged": seen},
                                       None if until is None else now + self.settings.hold_s, event)
            sets = {f"decision.{k}": v for k, v in confirmation.items()}
            sets["status"] = domain.REJECTED
            return sets, event
        return self._settle(principal, package_id, "confirm_reject", settle, acknowledged=seen)

    def undo_decision(self, principal, package_id):
        """Take back one's own held approval or confirmed rejection before it leaves."""
        case = self._in_scope(principal, package_id, "undo")
        now = self.clock()
        refusal = safeguards.undo_refusal(case, principal.sub, now)
        if refusal is not None:
            raise refusal
        undone = "approve" if case["status"] == domain.APPROVED else "confirm_reject"
        history = self._history(now, "undo", principal, case, undone=undone)
        updated = self.repo.undo(case, safeguards.undone(case, principal.sub, now, self.settings.lease_s), history)
        if updated is None:  # the relay took it (the hold ran out) or another call moved first
            raise errors.InvalidTransition("审核结论已通知考生，不能撤销")
        self._audit(principal, "undo", updated,
                    details={"undone": undone, "event_id": case["decision"]["event_id"]})
        return views.case(updated, now)

    def decline_reject(self, principal, package_id, note=None):
        """The second reviewer does not agree: the package goes back to the queue."""
        def settle(case, now):
            return {"status": domain.PENDING, "decision": None, "claimed_by": None,
                    "lease_until": 0}, None
        text = domain.clean_text(note, "复核意见")
        return self._settle(principal, package_id, "decline_reject", settle, note=text)

    def _settle(self, principal, package_id, action, settle, **details):
        case = self._in_scope(principal, package_id, action)
        for _ in range(3):
            now = self.clock()
            if action == "confirm_reject" and domain.repeated_confirmation(case, principal.sub):
                return views.case(case, now)
            refusal = domain.confirm_refusal(case, principal.sub)
            if refusal is not None:
                raise refusal
            sets, event = settle(case, now)
            history = self._history(now, action, principal, case, **details)
            until = sets.get("decision.hold_until")
            updated = self.repo.settle_proposal(case, principal.sub, sets, event, history, hold_until=until)
            if updated is not None:
                audit = dict(details, event_id=event.event_id) if event else dict(details)
                if event is not None:
                    audit["flags"] = self._open_flags(case)
                if until is not None:
                    audit["held_until"] = domain.iso(until)
                self._audit(principal, action, updated, details=audit)
                return views.case(updated, now)
            case = self._reread(package_id)
        raise errors.Conflict()

    def return_materials(self, principal, package_id, items, respond_by=None, checklist=None):
        def plan(case):
            returned = domain.return_items(case, items, self._shown_order(case))
            today = domain.beijing_date_of(self.clock())
            deadline = domain.respond_by_date(respond_by, today) or domain.respond_by_date(
                None, today, self.regions.respond_days(case["region"]))
            # Remembered so a replacement that looks the same can be flagged later.
            marks = {f"returned_images.{image_id}": case["attempt"] for entry in returned
                     for image_id in entry.get("image_ids") or case["items"][entry["material_type"]]}
            marks["returned_before"] = True
            return (_with_checklist({"items": returned, "respond_by": deadline}, safeguards.checklist(checklist, case)),
                    domain.returned_event(case, principal.sub, returned, deadline), marks)
        return self._decide(principal, package_id, "return", domain.RETURNED, plan)

    def _decide(self, principal, package_id, action, status, plan, hold=False):
        safeguards.hold_until(hold, 0, 0)  # refuse a malformed hold before anything else
        case = self._in_scope(principal, package_id, action)
        for _ in range(3):
            now = self.clock()
            if domain.repeated_decision(case, status, principal.sub):
                return views.case(case, now)  # a retried call: decided once, answered again
            fields, event, extra = plan(case)  # validates the input against this case
            refusal = domain.decision_refusal(case, principal.sub, now)
            if refusal is not None:
                raise refusal
            until = safeguards.hold_until(hold, now, self.settings.hold_s)
            decision = safeguards.held(dict(fields, action=action, by=principal.sub, at=domain.iso(now),
                                        attempt=case["attempt"]), until, event)
            updated = self.repo.decide(case, principal.sub, now,
                                       dict(extra, status=status, decision=decision), event,
                                       self._history(now, action, principal, case, **fields),
                                       hold_until=until)
            if updated is not None:
                details = dict(fields, event_id=event.event_id) if event else dict(fields)
                details["flags"] = self._open_flags(case)  # what the case showed when decided
                if until is not None:
                    details["held_until"] = domain.iso(until)
                self._audit(principal, action, updated, details=details)
                return views.case(updated, now)
            case = self._reread(package_id)
        raise errors.Conflict()

    def _shown_order(self, case):
        """{material_type: [image_id]} by upload time, as the case screen and the
        candidate's page list them (the event's order need not be that)."""
        docs = self.repo.images.get_many(i for ids in (case.get("items") or {}).values() for i in ids)
        return {code: sorted(ids, key=lambda i: ((docs.get(i) or {}).get("uploaded_at") or "", i))
                for code, ids in (case.get("items") or {}).items()}

    def _open_flags(self, case):
        """The queue's flags and the ID card check's flags the case carries now."""
        return ([domain.FLAG_NAMES[f] for f in domain.queue_flags(case)]
                + idcard.flags(id_check_of(case, self._id_checks([case]))))

    # -- helpers ---------------------------------------------------------------------------------
    def _in_scope(self, principal, package_id, action):
        case = self.repo.get(package_id)
        if case is None:
            raise errors.NotFound("没有该材料包")
        if not principal.covers(case["region"], case["site"]):
            self._audit(principal, action, case, outcome="denied")
            raise errors.Forbidden("无权审核该考点的材料")
        return case

    def _reread(self, package_id):
        case = self.repo.get(package_id)
        if case is None:
            raise errors.NotFound("没有该材料包")
        return case

    def _with_snapshot(self, case):
        """A case built while auth was unreachable gets its candidate snapshot now."""
        if case.get("candidate") is not None:
            return case
        snapshot = views.snapshot(self.profiles.fetch(case["candidate_id"]))
        if snapshot is not None:
            self.repo.set_snapshot(case["_id"], snapshot)
        return dict(case, candidate=snapshot)

    def _images(self, principal, case):
        """Image views with presigned URLs and duplicate hints, by image id."""
        ids = [image_id for image_ids in (case.get("items") or {}).values() for image_id in image_ids]
        docs = self.repo.images.get_many(ids)
        returned = list(self.repo.images.get_many(case.get("returned_images") or {}).values())
        expires_at = domain.iso(self.clock() + self.settings.url_ttl_s)
        shown = {}
        for image_id in ids:
            doc = docs.get(image_id)
            if doc is None:
                shown[image_id] = views.missing_image(image_id)
                continue
            others = self.repo.images.sharing_a_band(doc) if similarity.valid(doc.get("phash")) else []
            flags = similarity.flags(doc, others, returned, principal.covers)
            shown[image_id] = views.image(doc, self.bucket.url(doc["key"]), expires_at, flags)
        return shown

    def _previous(self, case):
        """The last return before this attempt, each returned type with the reason given
        then and the images it was returned with (presigned like the current ones)."""
        before = domain.previous_return(case)
        if before is None:
            return None
        old_ids = [i for i, attempt in (case.get("returned_images") or {}).items()
                   if attempt == before["attempt"]]
        docs = self.repo.images.get_many(old_ids)
        expires_at = domain.iso(self.clock() + self.settings.url_ttl_s)
        # materials keeps a returned image the candidate deleted until the package is final,
        # then its sweeper removes it: from then on the image is shown by its facts only.
        gone = case["status"] in (domain.APPROVED, domain.REJECTED)
        items = []
        for entry in before["items"]:
            shown = [views.image(doc, None if gone and doc.get("deleted") else self.bucket.url(doc["key"]),
                                 expires_at, [])
                     for doc in docs.values() if doc.get("material_type") == entry["material_type"]]
            items.append(dict(entry, images=sorted(shown, key=lambda i: i.get("uploaded_at") or "")))
        return dict(before, items=items)

    def _history(self, now, action, principal, case, **details):
        return dict(details, at=domain.iso(now), action=action, by=principal.sub,
                    attempt=case["attempt"])

    def _audit(self, principal, action, case, outcome="ok", details=None):
        self.repo.audit.append({
            "at": domain.iso(self.clock()), "actor": principal.sub, "role": principal.role,
            "action": action, "outcome": outcome, "package_id": case["_id"],
            "attempt": case.get("attempt"), "region": case.get("region"), "site": case.get("site"),
            "client": self.caller.get("client"), "via": self.caller.get("via"),
            "details": details or {}})


def _with_checklist(fields, ticked):
    """A decision's fields with the checklist as ticked, when one was sent."""
    return fields if ticked is None else dict(fields, checklist=ticked)
