"""What other services tell review: withdrawals, resubmissions, profile changes and
reopened packages, and events that arrive twice or late."""
import requests
from nameko.standalone.events import event_dispatcher

from common import events
from review_helpers import (ADMIN, ANNA, BEN, SITE_3201, SITE_3204,
                            refused)
from support import candidate, rpc, staff_token, wait_for


def case_status(exam, package_id, status):
    items = exam.review(ADMIN).list_queue(status=status, limit=200)["items"]
    return next((i for i in items if i["package_id"] == package_id), None)


def test_a_withdrawn_submission_leaves_the_queue_and_returns_when_submitted_again(make_exam):
    exam = make_exam()
    package_id = exam.submit_package(ANNA)
    exam.queued(package_id)
    assert exam.call("POST", ANNA, "/withdraw").json()["status"] == "draft"
    wait_for(lambda: case_status(exam, package_id, "withdrawn"), timeout=5, message="withdrawn")
    assert exam.review(SITE_3204).list_queue()["items"] == []
    refused("InvalidTransition", exam.review(SITE_3204).claim, package_id)
    assert exam.review(SITE_3204).stats()["withdrawn"] == 1

    assert exam.call("POST", ANNA, "/submit").json()["status"] == "submitted"
    assert exam.queued(package_id, attempt=1)["status"] == "pending"


def test_a_withdrawal_that_crosses_a_claim_voids_the_claim(make_exam):
    exam = make_exam()
    package_id = exam.submit_package(ANNA)
    exam.queued(package_id)
    exam.review(SITE_3204).claim(package_id)
    # The candidate withdrew just before the claim reached materials (the two raced).
    event_dispatcher(exam.config)("materials", "SubmissionWithdrawn", events.SubmissionWithdrawn(
        package_id=package_id, candidate_id=ANNA, region="32", site="3204", attempt=1).to_payload())
    wait_for(lambda: case_status(exam, package_id, "withdrawn"), timeout=5, message="withdrawn")
    refused("InvalidTransition", exam.review(SITE_3204).approve, package_id)


def test_an_event_delivered_twice_or_overtaken_by_a_newer_one_changes_nothing(make_exam, mongo_client):
    exam = make_exam()
    dispatch = event_dispatcher(exam.config)
    package_id = f"{BEN}-2026"
    image_ids = ["a" * 32, "b" * 32]
    older = events.SubmissionWithdrawn(package_id=package_id, candidate_id=BEN, region="32",
                                       site="3204", attempt=1).to_payload()
    submitted = events.PackageSubmitted(
        package_id=package_id, candidate_id=BEN, region="32", site="3204",
        category="integrated_practitioner", attempt=1,
        items=[{"material_type": "id_card", "image_ids": image_ids}]).to_payload()
    dispatch("materials", "PackageSubmitted", submitted)
    exam.queued(package_id)
    dispatch("materials", "PackageSubmitted", submitted)  # redelivered
    dispatch("materials", "SubmissionWithdrawn", older)   # late: happened before the submission
    # Image metadata arriving deleted-first stays deleted.
    dispatch("materials", "MaterialDeleted", events.MaterialDeleted(
        package_id=package_id, candidate_id=BEN, material_type="id_card",
        image_id=image_ids[1]).to_payload())
    for image_id in image_ids:
        dispatch("materials", "MaterialUploaded", events.MaterialUploaded(
            package_id=package_id, candidate_id=BEN, region="32", site="3204",
            material_type="id_card", image_id=image_id, sha256="0" * 64, bytes=1000,
            width=1000, height=700, sharpness=33.3, phash="0123456789abcdef").to_payload())
    wait_for(lambda: exam.queued(package_id)["quality"] == 33.3, timeout=5, message="metadata")

    case = exam.review(SITE_3204).get_case(package_id)
    assert case["status"] == "pending" and case["attempt"] == 1
    assert [h["action"] for h in case["history"]] == ["submitted"]
    assert case["candidate"]["name"] == "考生2"  # snapshot fetched from auth at intake
    [item] = case["items"]
    assert [i["image_id"] for i in item["images"]] == image_ids
    assert all(i["url"].startswith("http://") for i in item["images"])
    images = mongo_client[exam.config["MONGO"]["DB_PREFIX"] + "review"].images
    assert [d["deleted"] for d in images.find({}, sort=[("_id", 1)])] == [False, True]


def test_a_site_change_moves_the_case_and_a_category_change_closes_it(make_exam):
    exam = make_exam()
    moved_id = exam.submit_package(ANNA)
    reopened_id = exam.submit_package(BEN, seed=1)
    exam.queued(moved_id)
    exam.queued(reopened_id)
    exam.review(SITE_3204).claim(moved_id)

    admin = staff_token(exam.config, ADMIN, "Admin@2026")
    with rpc(exam.config, admin) as proxy:
        proxy.auth.import_candidates([dict(candidate(ANNA, serial=1), site="3201"),
                                      dict(candidate(BEN, serial=2), category="clinical_practitioner")])

    moved = wait_for(lambda: next(iter(exam.review(SITE_3201).list_queue()["items"]), None),
                     timeout=5, message="case at the new site")
    assert moved["package_id"] == moved_id and moved["claim"] is None  # the old site's claim is void
    refused("Forbidden", exam.review(SITE_3204).get_case, moved_id)
    case = exam.review(SITE_3201).get_case(moved_id)
    assert case["site"] == "3201" and case["candidate"]["site"] == "3201"
    image = case["items"][0]["images"][0]
    assert requests.get(image["url"], timeout=10).status_code == 200  # stored under the old site

    closed = wait_for(lambda: case_status(exam, reopened_id, "closed"), timeout=5, message="closed")
    assert closed["category"] == "clinical_practitioner"
    refused("InvalidTransition", exam.review(SITE_3204).claim, reopened_id)
