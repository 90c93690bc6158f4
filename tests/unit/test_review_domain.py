"""The review rules, without servers: leases, who may decide, reasons, scope, duplicates."""
from datetime import date

import pytest

from common import errors
from common.events import validate
from common.tokens import Principal
from services.review import domain, safeguards, scope, similarity, views

NOW = 1_780_000_000.0
PKG = "2026320400001-2026"


def case(**overrides):
    doc = {"_id": PKG, "candidate_id": "2026320400001", "region": "32", "site": "3204",
           "category": "integrated_practitioner", "attempt": 1, "status": domain.PENDING,
           "items": {"id_card": ["a1", "a2"], "degree_certificate": ["b1"]},
           "submitted_at": "2026-03-01T08:00:00.000Z", "claimed_by": None, "lease_until": 0,
           "started_attempt": 0, "decision": None}
    doc.update(overrides)
    return doc


def claimed(by="staff:alice", lease_left=60, **overrides):
    return case(status=domain.CLAIMED, claimed_by=by, lease_until=NOW + lease_left, **overrides)


def staff(role="reviewer", region="32", sites=("3204",), sub="staff:alice"):
    return Principal(sub=sub, role=role, jti="j", exp=0, iat=0, region=region, sites=tuple(sites))


# -- leases ------------------------------------------------------------------------------------
def test_a_pending_case_can_be_claimed_by_anyone():
    assert domain.claim_refusal(case(), "staff:bob", NOW) is None


def test_a_live_claim_of_another_reviewer_is_a_conflict():
    assert isinstance(domain.claim_refusal(claimed(), "staff:bob", NOW), errors.Conflict)


def test_a_reviewer_may_renew_their_own_live_claim():
    assert domain.claim_refusal(claimed(), "staff:alice", NOW) is None


def test_an_expired_claim_is_free_for_the_next_reviewer_and_shows_as_pending():
    expired = claimed(lease_left=-1)
    assert domain.claim_refusal(expired, "staff:bob", NOW) is None
    assert domain.shown_status(expired, NOW) == domain.PENDING


def test_a_decided_withdrawn_or_closed_case_cannot_be_claimed():
    for status in (domain.APPROVED, domain.REJECTED, domain.RETURNED, domain.WITHDRAWN, domain.CLOSED):
        assert isinstance(domain.claim_refusal(case(status=status), "staff:a", NOW),
                          errors.InvalidTransition)


def test_a_new_submission_needs_review_started_announced_again():
    resubmitted = domain.submission({"package_id": PKG, "candidate_id": "c", "region": "32",
                                     "site": "3204", "category": "x", "attempt": 1, "items": [],
                                     "occurred_at": "2026-03-02T08:00:00.000Z"}, None)
    assert domain.needs_review_started(dict(case(started_attempt=1), **resubmitted))


def test_review_started_is_announced_once_per_attempt():
    assert domain.needs_review_started(case(attempt=1, started_attempt=0))
    assert not domain.needs_review_started(case(attempt=1, started_attempt=1))
    assert domain.needs_review_started(case(attempt=2, started_attempt=1))


# -- who may decide ------------------------------------------------------------------------------
def test_only_the_holder_of_a_live_claim_may_decide():
    assert domain.decision_refusal(claimed(), "staff:alice", NOW) is None
    assert isinstance(domain.decision_refusal(claimed(), "staff:bob", NOW), errors.Conflict)


def test_deciding_an_unclaimed_or_expired_case_asks_for_a_claim_first():
    for unheld in (case(), claimed(lease_left=-1)):
        refusal = domain.decision_refusal(unheld, "staff:alice", NOW)
        assert isinstance(refusal, errors.InvalidTransition) and "领取" in refusal.message


def test_a_decided_case_cannot_be_decided_again():
    refusal = domain.decision_refusal(case(status=domain.APPROVED), "staff:alice", NOW)
    assert isinstance(refusal, errors.InvalidTransition)


def test_the_same_decision_retried_by_the_same_reviewer_is_recognised():
    done = case(status=domain.APPROVED, decision={"by": "staff:alice", "attempt": 1})
    assert domain.repeated_decision(done, domain.APPROVED, "staff:alice")
    assert not domain.repeated_decision(done, domain.APPROVED, "staff:bob")
    assert not domain.repeated_decision(done, domain.REJECTED, "staff:alice")


# -- reasons ---------------------------------------------------------------------------------------
def test_every_catalogue_reason_but_other_tells_the_candidate_how_to_fix_it_in_chinese():
    for code, (label, text) in domain.REASONS.items():
        assert label
        if code != "other":
            assert "请" in text


def test_a_reason_code_becomes_its_explanation():
    assert domain.explain("unclear") == ("unclear", domain.REASONS["unclear"][1])


def test_a_catalogue_reason_may_carry_the_reviewers_own_words():
    code, text = domain.explain({"code": "expired", "text": "身份证已于2025年过期"})
    assert code == "expired" and text.endswith("审核员说明：身份证已于2025年过期")


def test_other_needs_free_text_and_uses_it_as_the_explanation():
    assert domain.explain({"code": "other", "text": " 请补充盖章页 "}) == ("other", "请补充盖章页")
    with pytest.raises(errors.ValidationError):
        domain.explain("other")
    with pytest.raises(errors.ValidationError):
        domain.explain({"code": "other", "text": "x" * 501})


def test_an_unknown_reason_is_refused():
    with pytest.raises(errors.ValidationError):
        domain.explain("blurry")


def test_a_return_names_submitted_types_each_once_with_a_reason():
    plan = domain.return_items(case(), [{"material_type": "degree_certificate", "reason": "unclear"}])
    assert plan == [{"material_type": "degree_certificate", "reason_code": "unclear",
                     "reason": domain.REASONS["unclear"][1]}]
    for bad in ([], None, [{"material_type": "work_certificate", "reason": "unclear"}],
                [{"material_type": "id_card", "reason": "unclear"}] * 2,
                [{"material_type": "id_card"}], ["id_card"]):
        with pytest.raises(errors.ValidationError):
            domain.return_items(case(), bad)


def test_respond_by_is_an_optional_date_from_today_on():
    today = date(2026, 3, 1)
    assert domain.respond_by_date(None, today) is None
    assert domain.respond_by_date("2026-03-10", today) == "2026-03-10"
    for bad in ("2026-02-28", "next week", "2027-03-01"):
        with pytest.raises(errors.ValidationError):
            domain.respond_by_date(bad, today)


def test_a_return_without_a_date_gets_the_regions_default_days_from_today():
    today = date(2026, 12, 28)
    assert domain.respond_by_date(None, today, 7) == "2027-01-04"
    assert domain.respond_by_date("2026-12-30", today, 7) == "2026-12-30"  # the reviewer's wins


def test_a_region_without_a_usable_respond_days_setting_gives_seven_days():
    assert domain.respond_days_of({"respond_days": 10}) == 10
    for settings in (None, {}, {"respond_days": 0}, {"respond_days": "10"},
                     {"respond_days": True}, {"respond_days": 181}):
        assert domain.respond_days_of(settings) == 7


def test_today_is_the_beijing_calendar_date():
    # 2026-03-01 17:00 UTC is already 2 March in Beijing.
    assert domain.beijing_date_of(1772384400) == date(2026, 3, 2)


def test_a_reject_reason_is_required_and_bounded():
    with pytest.raises(errors.ValidationError):
        domain.clean_text("  ", "原因", required=True)
    with pytest.raises(errors.ValidationError):
        domain.clean_text(42, "原因")
    assert domain.clean_text(" 不符合报考条件 ", "原因", required=True) == "不符合报考条件"


# -- events ----------------------------------------------------------------------------------------
def test_decision_events_carry_exactly_the_design_fields():
    doc = claimed()
    items = domain.return_items(doc, [{"material_type": "id_card", "reason": "incomplete"}])
    for event in (domain.started_event(doc, "staff:alice"), domain.approved_event(doc, "staff:alice"),
                  domain.rejected_event(doc, "staff:alice", "不符合条件"),
                  domain.returned_event(doc, "staff:alice", items, "2026-03-10")):
        payload = event.to_payload()
        assert validate(event.event_type(), payload) is payload
        assert payload["package_id"] == PKG and payload["reviewer_id"] == "staff:alice"
    returned = domain.returned_event(doc, "staff:alice", items, None).to_payload()
    # The reason's code travels beside DESIGN §6's text: the candidate's page tells what to
    # do by it, and the outcome feed (§4a) lists it.
    assert returned["items"] == [{"material_type": "id_card", "reason_code": "incomplete",
                                  "reason": domain.REASONS["incomplete"][1]}]


def test_a_return_carries_the_code_of_each_reason_even_with_the_reviewers_own_words():
    items = domain.return_items(claimed(), [
        {"material_type": "id_card", "reason": {"code": "unclear", "text": "背面反光"}},
        {"material_type": "degree_certificate", "reason": {"code": "other", "text": "请上传毕业证书原件照片"}}])
    returned = domain.returned_event(claimed(), "staff:alice", items, None).to_payload()
    assert [(i["material_type"], i["reason_code"]) for i in returned["items"]] == [
        ("id_card", "unclear"), ("degree_certificate", "other")]
    assert returned["items"][0]["reason"].endswith("审核员说明：背面反光")


def test_a_later_attempt_or_a_later_event_of_the_same_attempt_sorts_after():
    assert domain.lifecycle_key(2, "2026-01-01T00:00:00.000Z") > domain.lifecycle_key(1, "2026-12-31T00:00:00.000Z")
    assert domain.lifecycle_key(1, "2026-01-02T00:00:00.000Z") > domain.lifecycle_key(1, "2026-01-01T00:00:00.000Z")


def test_the_quality_order_puts_the_blurriest_first_and_unknown_quality_last():
    keys = [domain.quality_key(q, "2026-03-01", "p") for q in (None, 150.0, 12.5, 1200.0)]
    assert sorted(keys) == [keys[2], keys[1], keys[3], keys[0]]


# -- scope -----------------------------------------------------------------------------------------
def test_a_site_reviewer_sees_only_their_sites():
    assert scope.area(staff()) == {"region": "32", "site": {"$in": ["3204"]}}
    assert scope.area(staff(), site="3204") == {"region": "32", "site": "3204"}
    with pytest.raises(errors.Forbidden):
        scope.area(staff(sites=("3201",)), site="3204")


def test_a_region_reviewer_sees_the_whole_region_but_no_other():
    assert scope.area(staff(sites=("*",))) == {"region": "32"}
    assert scope.area(staff(sites=("*",)), site="3201") == {"region": "32", "site": "3201"}
    with pytest.raises(errors.Forbidden):
        scope.area(staff(sites=("*",)), site="1101")
    with pytest.raises(errors.Forbidden):
        scope.area(staff(sites=("*",)), region="11")


def test_a_national_admin_sees_everything_and_a_region_admin_their_region():
    assert scope.area(staff(role="admin", region="*", sites=())) == {}
    assert scope.area(staff(role="admin", region="32", sites=())) == {"region": "32"}


def test_pending_includes_claims_whose_lease_ran_out():
    assert scope.by_status("pending", NOW) == {"status": {"$in": ["pending", "claimed"]},
                                               "lease_until": {"$lt": NOW}}
    with pytest.raises(errors.ValidationError):
        scope.by_status("open", NOW)


def test_a_cursor_belongs_to_the_ordering_that_issued_it():
    field, limit, page = scope.page(None, 10, scope.cursor("queue_key", "2026|p"))
    assert (field, limit, page) == ("queue_key", 10, {"queue_key": {"$gt": "2026|p"}})
    with pytest.raises(errors.ValidationError):
        scope.page("quality", 10, scope.cursor("queue_key", "2026|p"))
    for limit in (0, 201, "5", True):
        with pytest.raises(errors.ValidationError):
            scope.page(None, limit, None)


# -- duplicates ------------------------------------------------------------------------------------
def image(image_id, phash, candidate_id="c1", region="32", site="3204"):
    return {"_id": image_id, "phash": phash, "candidate_id": candidate_id, "region": region,
            "site": site, "package_id": f"{candidate_id}-2026"}


def test_the_hash_splits_into_four_sixteen_bit_bands():
    assert similarity.bands("0123456789abcdef") == {"band0": 0x0123, "band1": 0x4567,
                                                   "band2": 0x89AB, "band3": 0xCDEF}


def test_a_near_copy_in_another_candidates_package_is_flagged_with_its_distance():
    mine = image("x", "ffff0000ffff0000")
    near = image("y", "ffff0000ffff003f", candidate_id="c2")  # 6 bits apart
    far = image("z", "ffff0000ffff007f", candidate_id="c3")   # 7 bits apart
    assert similarity.flags(mine, [near, far], [], lambda r, s: True) == [
        {"kind": "other_candidate", "distance": 6, "identical": False, "package_id": "c2-2026"}]


def test_the_very_same_file_is_told_apart_from_a_look_alike_and_listed_first():
    mine = dict(image("x", "ffff0000ffff0000"), sha256="ab")
    look_alike = image("y", "ffff0000ffff0000", candidate_id="c2")
    copy = dict(image("z", "ffff0000ffff0001", candidate_id="c3"), sha256="ab")
    flags = similarity.flags(mine, [look_alike, copy], [], lambda r, s: True)
    assert [(f["package_id"], f["identical"]) for f in flags] == [("c3-2026", True), ("c2-2026", False)]


def test_where_a_match_lives_is_shown_only_inside_the_reviewers_scope():
    mine = image("x", "ffff0000ffff0000")
    other = image("y", "ffff0000ffff0000", candidate_id="c2", region="11", site="1101")
    assert similarity.flags(mine, [other], [], lambda r, s: r == "32") == [
        {"kind": "other_candidate", "distance": 0, "identical": False}]


def test_the_candidates_own_other_images_are_not_duplicates_of_another_candidate():
    mine = image("x", "ffff0000ffff0000")
    assert similarity.flags(mine, [image("y", "ffff0000ffff0000")], [], lambda r, s: True) == []


def test_a_replacement_that_looks_like_the_returned_image_is_flagged():
    new = image("new", "0f0f0f0f0f0f0f0f")
    old = image("old", "0f0f0f0f0f0f0f0e")
    assert similarity.flags(new, [], [old], lambda r, s: True) == [
        {"kind": "previously_returned", "distance": 1, "identical": False, "image_id": "old"}]


def test_an_image_without_a_hash_gets_no_flags():
    assert similarity.flags(image("x", ""), [image("y", "")], [], lambda r, s: True) == []


# -- views -----------------------------------------------------------------------------------------
def test_the_snapshot_keeps_only_masked_numbers():
    profile = {"name": "考生1", "id_number_masked": "3204**********1234", "phone_masked": "138****0001",
               "region": "32", "site": "3204", "category": "c", "exam_year": 2026,
               "id_number": "320400199501010011", "phone": "13800000001"}
    kept = views.snapshot(profile)
    assert "id_number" not in kept and "phone" not in kept
    assert kept["id_number_masked"] == "3204**********1234"


def test_a_claimed_view_names_the_holder_until_the_lease_runs_out():
    assert views.case(claimed(), NOW)["claim"]["reviewer_id"] == "staff:alice"
    assert views.case(claimed(lease_left=-1), NOW)["claim"] is None


def test_views_carry_the_names_people_read_beside_the_codes():
    doc = claimed(lease_left=-1, duplicate=True, returned_before=True,
                  history=[{"action": "submitted"}, {"action": "claim"}, {"action": "later_kind"}])
    for view in (views.case(doc, NOW), views.queue_item(doc, NOW)):
        # an expired claim is shown, and named, as pending
        assert (view["status"], view["status_name"]) == ("pending", "待审核")
        assert view["flags"] == ["duplicate", "returned_before"]
        assert view["flag_names"] == ["疑似重复图片", "曾被退回"]
    history = views.case(doc, NOW)["history"]
    assert [line["action_name"] for line in history] == ["考生提交", "领取审核", "later_kind"]
    assert views.audit_entry({"action": "read", "actor": "staff:alice"})["action_name"] == "查看材料"


def test_every_status_flag_and_recorded_action_has_a_name_for_the_staff_tools():
    labels = views.labels()
    assert set(labels["statuses"]) == set(domain.STATUSES) and set(labels["flags"]) == set(domain.FLAGS)
    assert set(labels["attempts"]) == set(domain.ATTEMPTS)
    recorded = {"submitted", "claim", "release", "approve", "return", "reject", "confirm_reject",
                "decline_reject", "undo", "withdrawn", "reopened", "profile_changed", "read", "note",
                "search", "export"}
    assert recorded <= set(labels["actions"]) and all(labels["actions"].values())


def test_a_reviewers_words_quoting_an_id_number_or_phone_are_kept_masked():
    code, text = domain.explain({"code": "mismatch", "text": "证件号 320402199001011234 与手机 13800000001 不符"})
    assert code == "mismatch"
    assert "320402199001011234" not in text and "13800000001" not in text
    assert "3204**********1234" in text and "138****0001" in text


def test_type_names_from_the_submission_travel_on_in_the_return():
    submitted = {"package_id": PKG, "candidate_id": "c", "region": "32", "site": "3204",
                 "category": "integrated_practitioner", "attempt": 1,
                 "occurred_at": "2026-03-01T00:00:00.000Z",
                 "items": [{"material_type": "id_card", "image_ids": ["a" * 32]},
                           {"material_type": "other", "image_ids": ["b" * 32]}],
                 "type_names": {"id_card": "身份证明", "other": "其他材料"}}
    doc = dict(claimed(), **domain.submission(submitted, quality=None))
    items = domain.return_items(doc, [{"material_type": "id_card", "reason": "incomplete"}])
    returned = domain.returned_event(doc, "staff:alice", items, None).to_payload()
    assert returned["type_names"] == {"id_card": "身份证明"}
    assert domain.returned_event(claimed(), "staff:alice", items, None).type_names == {}


# -- four eyes on a rejection, queue flags, the previous return (issue 19) -------------------------
def proposed(by="staff:a", attempt=1):
    return {"status": domain.CONFIRMING, "attempt": attempt,
            "decision": {"action": "reject", "by": by, "reason": "不符合报考条件", "attempt": attempt}}


def test_a_proposed_rejection_is_confirmed_only_by_another_reviewer():
    assert domain.confirm_refusal(proposed(), "staff:b") is None
    refusal = domain.confirm_refusal(proposed(), "staff:a")
    assert isinstance(refusal, errors.Forbidden) and "另一位审核员" in refusal.message


def test_only_a_case_awaiting_confirmation_can_be_confirmed():
    assert isinstance(domain.confirm_refusal({"status": domain.CLAIMED}, "staff:b"), errors.InvalidTransition)


def test_a_retried_confirmation_by_the_same_reviewer_is_recognised():
    case = dict(proposed(), status=domain.REJECTED)
    case["decision"]["confirmed_by"] = "staff:b"
    assert domain.repeated_confirmation(case, "staff:b")
    assert not domain.repeated_confirmation(case, "staff:c")


def test_queue_filters_become_one_indexed_equality_each():
    assert domain.queue_filter(None, None) == {}
    assert domain.queue_filter("first", "duplicate") == {"resubmission": False, "duplicate": True}
    assert domain.queue_filter("resubmission", None) == {"resubmission": True}
    with pytest.raises(errors.ValidationError):
        domain.queue_filter("second", None)
    with pytest.raises(errors.ValidationError):
        domain.queue_filter(None, "ugly")


def test_a_resubmission_with_a_soft_image_and_a_duplicate_is_flagged_so():
    event = {"package_id": "p1", "candidate_id": "c", "region": "32", "site": "3204",
             "category": "x", "attempt": 2, "occurred_at": "2026-11-30T00:00:00.000Z", "items": []}
    case = domain.submission(event, 12.0, duplicate=True)
    assert case["resubmission"] and case["unclear"] and case["duplicate"]
    assert domain.queue_flags(case) == ["unclear", "duplicate"]
    assert not domain.submission(dict(event, attempt=1), 40.0)["unclear"]
    assert not domain.submission(dict(event, attempt=1), None)["unclear"]  # not yet known


def test_the_previous_return_is_the_last_one_before_this_attempt():
    history = [{"action": "return", "attempt": 1, "at": "t1", "items": [{"material_type": "id_card"}]},
               {"action": "submitted", "attempt": 2},
               {"action": "return", "attempt": 2, "at": "t2", "items": [{"material_type": "degree"}]}]
    assert domain.previous_return({"attempt": 2, "history": history})["at"] == "t1"
    assert domain.previous_return({"attempt": 3, "history": history})["items"] == [{"material_type": "degree"}]
    assert domain.previous_return({"attempt": 1, "history": history[:1]}) is None


def test_a_case_older_than_the_queue_filters_gets_only_the_fields_it_lacks_from_what_it_has():
    old = {"attempt": 2, "quality": 11.0, "history": [{"action": "return", "attempt": 1}]}
    assert domain.backfilled_flags(old) == {"resubmission": True, "unclear": True, "duplicate": False,
                                            "returned_before": True}
    assert domain.backfilled_flags({"attempt": 1, "quality": None, "returned_images": {"a": 1}}) == {
        "resubmission": False, "unclear": False, "duplicate": False, "returned_before": True}
    assert domain.backfilled_flags(dict(old, duplicate=True, unclear=False)) == {
        "resubmission": True, "returned_before": True}


def test_counts_per_site_add_up_per_status_with_every_status_present():
    total = domain.total_by_status([{"pending": 2, "claimed": 1}, {"pending": 3, "approved": 4}])
    assert total == dict.fromkeys(domain.STATUSES, 0) | {"pending": 5, "claimed": 1, "approved": 4}
    assert domain.total_by_status([]) == dict.fromkeys(domain.STATUSES, 0)


# -- decision safety (issue 28): acknowledgements and the undo window ----------------------------
def test_acknowledgements_are_kept_as_shown_trimmed_and_with_any_id_number_masked():
    assert safeguards.acknowledged(None) == []
    assert safeguards.acknowledged([" 疑似重复图片 ", "证件号 320400199501010011 不一致"]) == [
        "疑似重复图片", "证件号 3204**********0011 不一致"]
    for bad in ("疑似重复图片", [""], [1], ["x" * 201], ["a"] * (safeguards.MAX_ACKNOWLEDGED + 1)):
        with pytest.raises(errors.ValidationError):
            safeguards.acknowledged(bad)


def test_a_hold_is_the_decision_time_plus_the_window_and_only_a_boolean_asks_for_it():
    assert safeguards.hold_until(False, NOW, 5) is None and safeguards.hold_until(None, NOW, 5) is None
    assert safeguards.hold_until(True, NOW, 5) == NOW + 5
    with pytest.raises(errors.ValidationError):
        safeguards.hold_until("yes", NOW, 5)


def held_case(status=domain.APPROVED, by="staff:alice", left=3, **decision):
    base = {"action": "approve", "by": by, "at": "t", "attempt": 1, "hold_until": NOW + left,
            "release_at": "r", "event_id": "e1"}
    return case(status=status, decision=dict(base, **decision))


def test_only_the_decider_may_undo_a_held_decision_and_only_before_its_release():
    assert safeguards.undo_refusal(held_case(), "staff:alice", NOW) is None
    assert isinstance(safeguards.undo_refusal(held_case(), "staff:bob", NOW), errors.Forbidden)
    assert isinstance(safeguards.undo_refusal(held_case(left=-1), "staff:alice", NOW), errors.InvalidTransition)
    assert isinstance(safeguards.undo_refusal(case(status=domain.APPROVED, decision={"by": "staff:alice"}),
                                          "staff:alice", NOW), errors.InvalidTransition)
    rejected = held_case(domain.REJECTED, by="staff:alice", action="reject", confirmed_by="staff:bob")
    assert safeguards.undo_refusal(rejected, "staff:bob", NOW) is None
    assert isinstance(safeguards.undo_refusal(rejected, "staff:alice", NOW), errors.Forbidden)


def test_an_undone_approval_is_the_reviewers_claim_again_and_an_undone_confirmation_the_proposal():
    back = safeguards.undone(held_case(), "staff:alice", NOW, 900)
    assert back["status"] == domain.CLAIMED and back["claimed_by"] == "staff:alice"
    assert back["lease_until"] == NOW + 900 and back["decision"] is None
    rejected = held_case(domain.REJECTED, action="reject", reason="不符", confirmed_by="staff:bob",
                         confirmed_at="t2", confirm_acknowledged=[])
    proposal = safeguards.undone(rejected, "staff:bob", NOW, 900)
    assert proposal == {"status": domain.CONFIRMING, "decision": {
        "action": "reject", "by": "staff:alice", "at": "t", "attempt": 1, "reason": "不符"}}


# -- several coded reasons for one type, returning single images (issue 28) -----------------------
def test_a_returned_type_may_carry_several_coded_reasons_each_explained_in_order():
    codes, text = domain.explain_all({"codes": ["unclear", "incomplete"], "text": "背面缺角"})
    assert codes == ["unclear", "incomplete"]
    assert text == domain.REASONS["unclear"][1] + domain.REASONS["incomplete"][1] + "审核员说明：背面缺角"
    assert domain.explain_all("expired") == (["expired"], domain.REASONS["expired"][1])
    assert domain.explain_all({"code": "other", "text": "补盖章"}) == (["other"], "补盖章")
    assert domain.explain_all({"codes": ["unclear", "other"], "text": "补盖章"})[1].endswith("审核员说明：补盖章")
    for bad in ({"codes": []}, {"codes": ["unclear", "unclear"]}, {"codes": ["blurry"]},
                {"codes": ["unclear", "other"]}, {"codes": "unclear"}, {"codes": list(domain.REASONS)}):
        with pytest.raises(errors.ValidationError):
            domain.explain_all(bad)


def test_a_return_may_name_single_images_of_a_type_and_says_which_to_the_candidate():
    doc = case(items={"id_card": ["a1", "a2"], "degree_certificate": ["b1"]})
    [item] = domain.return_items(doc, [{"material_type": "id_card", "image_ids": ["a2"],
                                        "reason": {"codes": ["unclear", "incomplete"]}}])
    assert item["image_ids"] == ["a2"] and item["reason_codes"] == ["unclear", "incomplete"]
    assert item["reason_code"] == "unclear"
    assert item["reason"].endswith("需重新上传：第2张（共2张）")
    [whole] = domain.return_items(doc, [{"material_type": "id_card", "image_ids": ["a1", "a2"], "reason": "unclear"}])
    assert "image_ids" not in whole  # every image named: the whole type
    for bad in (["zz"], [], "a1", ["a1", "a1"]):
        with pytest.raises(errors.ValidationError):
            domain.return_items(doc, [{"material_type": "id_card", "image_ids": bad, "reason": "unclear"}])
