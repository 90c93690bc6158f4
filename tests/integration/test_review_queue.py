"""The reviewer's queue and desk on the real servers: paging, the quality order, copy
hints, counts, and decisions refused without changing anything."""
from datetime import timedelta

from common import clock
from review_helpers import (ADMIN, ANNA, BEN, CAI, OTHER_3204, SITE_3204, ReviewEvents,
                            refused, region_32)
from unit.imagefactory import document_jpeg, phone_photo_jpeg
from support import rpc, staff_token, wait_for



def test_the_queue_pages_oldest_first_and_can_put_the_blurriest_package_first(make_exam):
    exam = make_exam()
    soft = phone_photo_jpeg(seed=1, quality=50, blur=1.5)  # legible, but the softest here
    ids = [exam.submit_package(ANNA), exam.submit_package(BEN, images={"registration_form": soft}, seed=1),
           exam.submit_package(CAI, seed=2)]
    for package_id in ids:
        exam.queued(package_id)
    reviewer = exam.review(SITE_3204)
    wait_for(lambda: all(i["quality"] for i in reviewer.list_queue()["items"]), message="quality")

    first = reviewer.list_queue(limit=2)
    second = reviewer.list_queue(limit=2, after=first["next"])
    assert [i["package_id"] for i in first["items"] + second["items"]] == ids
    assert second["next"] is None
    assert first["items"][0]["name"] == "考生1" and first["items"][0]["images"] == 5

    by_quality = reviewer.list_queue(sort="quality")["items"]
    assert by_quality[0]["package_id"] == ids[1]
    assert by_quality[0]["quality"] < min(i["quality"] for i in by_quality[1:])
    refused("ValidationError", reviewer.list_queue, sort="quality", after=first["next"])
    refused("ValidationError", reviewer.list_queue, status="open")


def test_an_image_copied_from_another_candidates_package_is_flagged_for_the_reviewer(make_exam):
    exam = make_exam()
    shared = document_jpeg(seed=77)
    original = exam.submit_package(ANNA, images={"id_card": shared})
    copy = exam.submit_package(BEN, images={"id_card": shared}, seed=3)
    exam.queued(copy)
    case = exam.review(SITE_3204).get_case(copy)
    id_card = next(i for i in case["items"] if i["material_type"] == "id_card")
    for image in id_card["images"]:
        assert image["duplicate"]
        assert image["duplicates"][0] == {"kind": "other_candidate", "distance": 0,
                                          "identical": True, "package_id": original}
    # Both packages carry the flag in the queue, and the flag filters the queue.
    reviewer = exam.review(SITE_3204)
    wait_for(lambda: {i["package_id"] for i in reviewer.list_queue(flag="duplicate")["items"]}
             == {original, copy}, message="both flagged")
    assert all("duplicate" in i["flags"] for i in reviewer.list_queue(flag="duplicate")["items"])


def test_a_rejection_takes_a_second_reviewer_who_may_confirm_or_decline_it(make_exam):
    exam = make_exam()
    package_id = exam.submit_package(ANNA)
    exam.queued(package_id)
    first, second = exam.review(SITE_3204), exam.review(OTHER_3204)
    first.claim(package_id)
    assert first.reject(package_id, "不符合报考条件")["status"] == "confirming"
    assert [i["package_id"] for i in second.list_queue(status="confirming")["items"]] == [package_id]
    assert first.stats()["confirming"] == 1
    refused("Forbidden", first.confirm_reject, package_id)
    assert ReviewEvents.of("PackageRejected", package_id) == []

    # Declined: back in the queue, nothing told to the candidate.
    assert second.decline_reject(package_id, note="材料可补正，建议退回")["status"] == "pending"
    refused("InvalidTransition", second.confirm_reject, package_id)
    assert exam.package(ANNA)["status"] == "in_review"

    # Proposed again by the second reviewer and confirmed by the first: rejected, once.
    second.claim(package_id)
    second.reject(package_id, "学历不符合报考条件")
    assert first.confirm_reject(package_id)["status"] == "rejected"
    assert first.confirm_reject(package_id)["status"] == "rejected"  # retried, answered again
    wait_for(lambda: exam.package(ANNA)["status"] == "rejected", timeout=5, message="rejected")
    (event,) = ReviewEvents.of("PackageRejected", package_id)
    assert event["reason"] == "学历不符合报考条件" and event["reviewer_id"] == f"staff:{OTHER_3204}"
    history = [h["action"] for h in first.get_case(package_id)["history"]]
    assert history[-3:] == ["claim", "reject", "confirm_reject"] and "decline_reject" in history


def test_decisions_need_a_live_claim_and_valid_reasons_and_refusals_change_nothing(make_exam):
    exam = make_exam()
    package_id = exam.submit_package(ANNA)
    exam.queued(package_id)
    reviewer = exam.review(SITE_3204)
    refused("InvalidTransition", reviewer.approve, package_id)
    refused("NotFound", reviewer.get_case, "2026320400999-2026")
    reviewer.claim(package_id)
    for items in ([{"material_type": "id_card", "reason": "blurry"}],
                  [{"material_type": "work_certificate", "reason": "unclear"}],
                  [{"material_type": "id_card", "reason": {"code": "other"}}], []):
        refused("ValidationError", reviewer.return_materials, package_id, items)
    refused("ValidationError", reviewer.return_materials, package_id,
            [{"material_type": "id_card", "reason": "unclear"}], respond_by="2020-01-01")
    refused("ValidationError", reviewer.reject, package_id, " ")
    assert reviewer.stats()["claimed"] == 1

    assert reviewer.approve(package_id)["status"] == "approved"
    assert reviewer.approve(package_id)["status"] == "approved"  # a retried call, answered again
    refused("InvalidTransition", reviewer.reject, package_id, "不符合报考条件")
    assert reviewer.stats() == {"pending": 0, "claimed": 0, "confirming": 0, "approved": 1, "rejected": 0,
                                "returned": 0, "withdrawn": 0, "closed": 0}
    wait_for(lambda: exam.package(ANNA)["status"] == "approved", timeout=5, message="approved")
    assert len(ReviewEvents.of("PackageApproved", package_id)) == 1
    assert [e["action"] for e in exam.audit(package_id)] == ["claim", "approve"]


def test_a_return_may_combine_catalogue_reasons_and_the_reviewers_own_words(make_exam):
    exam = make_exam()
    package_id = exam.submit_package(ANNA)
    exam.queued(package_id)
    reviewer = exam.review(SITE_3204)
    reviewer.claim(package_id)
    reviewer.return_materials(package_id, [
        {"material_type": "id_card", "reason": {"code": "expired", "text": "身份证有效期至2025年"}},
        {"material_type": "registration_form", "reason": {"code": "other", "text": "请补充单位盖章"}}])
    wait_for(lambda: exam.package(ANNA)["status"] == "returned", timeout=5, message="returned")
    unlocked = [i for i in exam.package(ANNA)["items"] if not i["locked"]]
    reasons = {i["material_type"]: i["reason"] for i in unlocked}
    assert reasons["id_card"].startswith("材料已超过有效期") and reasons["id_card"].endswith("身份证有效期至2025年")
    assert reasons["registration_form"] == "请补充单位盖章"
    codes = {i["material_type"]: i["reason_code"] for i in unlocked}
    assert codes == {"id_card": "expired", "registration_form": "other"}  # the page guides by them
    [event] = ReviewEvents.of("MaterialReturned", package_id)
    assert event["items"] == [{"material_type": t, "reason_code": codes[t], "reason": reasons[t]}
                              for t in ("id_card", "registration_form")]
    assert [r["code"] for r in reviewer.reasons()] == ["unclear", "incomplete", "wrong_document",
                                                      "expired", "mismatch", "other"]


def test_a_return_without_a_date_carries_the_regions_default_days_as_a_beijing_date(make_exam):
    exam = make_exam()
    with rpc(exam.config, staff_token(exam.config, ADMIN, "Admin@2026")) as admin:
        assert admin.materials.get_region("32")["respond_days"] == 7  # nothing set: a week
        refused("ValidationError", admin.materials.configure_region, "32",
                dict(region_32(), respond_days=0))
        admin.materials.configure_region("32", dict(region_32(), respond_days=10))
        assert admin.materials.get_region("32")["respond_days"] == 10
    package_id = exam.submit_package(ANNA)
    exam.queued(package_id)
    reviewer = exam.review(SITE_3204)
    reviewer.claim(package_id)
    expected = (clock.beijing_today() + timedelta(days=10)).isoformat()

    case = reviewer.return_materials(package_id, [{"material_type": "id_card", "reason": "unclear"}])

    assert case["decision"]["respond_by"] == expected
    wait_for(lambda: exam.package(ANNA)["status"] == "returned", timeout=5, message="returned")
    assert exam.package(ANNA)["feedback"]["respond_by"] == expected
    [event] = ReviewEvents.of("MaterialReturned", package_id)
    assert event["respond_by"] == expected
