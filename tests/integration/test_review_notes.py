"""What reviewers keep among themselves and with a decision (issue 28, beyond the
defects) on the real servers: internal notes on a package that the candidate never sees,
several coded reasons for one returned type, and the region's per-type checklist ticked
while reviewing and kept with the decision."""
import json

from review_helpers import (ADMIN, ANNA, OTHER_3204, SITE_3201, SITE_3204, ReviewEvents,
                            refused, region_32)
from support import rpc, staff_token, wait_for

NOTE = "学历证书编号与学信网记录不一致，已电话联系考点核实，请复核时留意"


def test_an_internal_note_is_shared_by_reviewers_audited_and_never_reaches_the_candidate(make_exam):
    exam = make_exam()
    package_id = exam.submit_package(ANNA)
    exam.queued(package_id)
    first, second = exam.review(SITE_3204), exam.review(OTHER_3204)
    first.claim(package_id)
    notes = first.add_note(package_id, text=f"  {NOTE}  ")
    assert [n["text"] for n in notes] == [NOTE] and notes[0]["by"] == f"staff:{SITE_3204}"
    second.add_note(package_id, text="已核实，无问题")  # no claim needed to leave a note
    shown = second.get_case(package_id)["notes"]
    assert [(n["by"], n["text"]) for n in shown] == [(f"staff:{SITE_3204}", NOTE), (f"staff:{OTHER_3204}", "已核实，无问题")]
    refused("Forbidden", exam.review(SITE_3201).add_note, package_id, text="越权")
    refused("ValidationError", first.add_note, package_id, text="  ")
    refused("ValidationError", first.add_note, package_id, text="x" * 501)
    first.return_materials(package_id, [{"material_type": "degree_certificate", "reason": "unclear"}])
    wait_for(lambda: exam.package(ANNA)["status"] == "returned", timeout=10, message="returned")
    assert NOTE not in json.dumps(exam.package(ANNA), ensure_ascii=False)
    assert NOTE not in json.dumps(ReviewEvents.seen, ensure_ascii=False)
    notes_audited = [e for e in exam.audit(package_id) if e["action"] == "note"]
    assert [e["actor"] for e in notes_audited] == [f"staff:{SITE_3204}", f"staff:{OTHER_3204}", f"staff:{SITE_3201}"]
    assert [e["outcome"] for e in notes_audited] == ["ok", "ok", "denied"]
    assert "notes" not in exam.review(ADMIN).list_queue(status="returned")["items"][0]


def test_a_return_may_name_one_image_with_several_reasons_and_only_that_image_is_unlocked(make_exam):
    exam = make_exam()
    package_id = exam.submit_package(ANNA)
    exam.queued(package_id)
    reviewer = exam.review(SITE_3204)
    reviewer.claim(package_id)
    shown = reviewer.get_case(package_id)["items"]  # as the case screen lists them: by upload time
    front, back = [i["image_id"] for i in next(t for t in shown if t["material_type"] == "id_card")["images"]]
    reviewer.return_materials(package_id, [{"material_type": "id_card", "image_ids": [back],
                                            "reason": {"codes": ["unclear", "incomplete"], "text": "背面右下角缺失"}}])
    wait_for(lambda: exam.package(ANNA)["status"] == "returned", timeout=10, message="returned")
    item = exam.item(ANNA, "id_card")
    assert not item["locked"] and {i["image_id"]: i["locked"] for i in item["images"]} == {front: True, back: False}
    assert "图片模糊" in item["reason"] and "材料不完整" in item["reason"] and "背面右下角缺失" in item["reason"]
    assert item["reason"].endswith("需重新上传：第2张（共2张）")
    assert exam.call("DELETE", ANNA, f"/items/id_card/images/{front}").status_code == 409  # kept
    unchanged = exam.call("POST", ANNA, "/submit")
    assert unchanged.status_code == 422 and unchanged.json()["error"]["code"] == "returned_unchanged"
    assert exam.call("DELETE", ANNA, f"/items/id_card/images/{back}").status_code == 204
    from unit.imagefactory import document_jpeg
    assert exam.upload(ANNA, "id_card", document_jpeg(seed=88)).status_code == 201
    assert exam.call("POST", ANNA, "/submit").status_code == 200
    exam.queued(package_id, attempt=2)
    reviewer.claim(package_id)
    [before] = reviewer.get_case(package_id)["previous"]["items"]
    assert [i["image_id"] for i in before["images"]] == [back]  # the one returned, not the kept front
    counted = wait_for(lambda: {r["code"]: r["count"] for r in exam.review(ADMIN).overview(region="32")["returns_by_reason"]}
                       or None, timeout=10, message="reasons counted")
    assert counted == {"unclear": 1, "incomplete": 1}


def test_the_regions_checklist_is_shown_per_type_and_kept_with_the_decision_as_ticked(make_exam):
    exam = make_exam()
    with rpc(exam.config, staff_token(exam.config, ADMIN, "Admin@2026")) as proxy:
        proxy.materials.configure_region("32", dict(region_32(), checklists={
            "id_card": ["姓名与报名信息一致", "证件在有效期内"], "degree_certificate": ["印章清晰", "编号可辨"],
            "work_certificate": ["单位盖章"]}))
        for bad in ({"nothing": ["x"]}, {"id_card": ["x"] * 9}, {"id_card": "姓名"}):
            refused("ValidationError", proxy.materials.configure_region, "32", dict(region_32(), checklists=bad))
    package_id = exam.submit_package(ANNA)
    exam.queued(package_id)
    reviewer = exam.review(SITE_3204)
    reviewer.claim(package_id)
    case = reviewer.get_case(package_id)
    assert case["checklists"] == {"id_card": ["姓名与报名信息一致", "证件在有效期内"],
                                  "degree_certificate": ["印章清晰", "编号可辨"]}  # the package's types only
    refused("ValidationError", reviewer.approve, package_id, checklist={"work_certificate": {"单位盖章": True}})
    refused("ValidationError", reviewer.approve, package_id, checklist={"id_card": {"姓名与报名信息一致": "yes"}})
    ticked = {"id_card": {"姓名与报名信息一致": True, "证件在有效期内": True}, "degree_certificate": {"印章清晰": True, "编号可辨": False}}
    decided = reviewer.approve(package_id, checklist=ticked)
    kept = decided["decision"]["checklist"]
    assert kept["degree_certificate"] == [{"item": "印章清晰", "checked": True}, {"item": "编号可辨", "checked": False}]
    [entry] = [e for e in exam.audit(package_id) if e["action"] == "approve"]
    assert entry["details"]["checklist"] == kept
