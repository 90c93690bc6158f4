"""Decision safety in review (issue 28, defects 1 and 2) against the real servers: an approval
or a confirmed rejection may be held for a few seconds (its event stays in the case's
outbox, the relay's lease on it set to the release time), undone within them so that
nothing ever reaches materials or the candidate, and released by itself after them, also
when the review process died in between. What the reviewer acknowledged before deciding
is kept with the decision and in the audit log. A returned image the candidate deletes
stays visible to the reviewer of the next attempt until the package is decided."""
import time

import requests

from review_helpers import (ADMIN, ANNA, BEN, OTHER_3204, SITE_3204, ReviewEvents,
                            refused, sha256)
from services.review.service import ReviewService
from support import wait_for
from unit.imagefactory import document_jpeg

HOLD_S = 3


def audit_of(exam, package_id, action):
    return [e for e in exam.audit(package_id) if e["action"] == action and e["outcome"] == "ok"]


def test_a_held_approval_stays_in_review_and_once_undone_never_reaches_the_candidate(make_exam):
    exam = make_exam(hold_s=HOLD_S)
    package_id = exam.submit_package(ANNA)
    exam.queued(package_id)
    reviewer = exam.review(SITE_3204)
    reviewer.claim(package_id)
    wait_for(lambda: exam.package(ANNA)["status"] == "in_review", timeout=10, message="in_review")

    held = reviewer.approve(package_id, hold=True, acknowledged=["疑似重复图片"])
    assert held["status"] == "approved"
    assert held["decision"]["release_at"] > held["decision"]["at"]
    assert held["decision"]["acknowledged"] == ["疑似重复图片"]
    time.sleep(1)
    assert exam.package(ANNA)["status"] == "in_review"
    assert ReviewEvents.of("PackageApproved", package_id) == []

    undone = reviewer.undo_decision(package_id)
    assert undone["status"] == "claimed" and undone["decision"] is None
    assert undone["claim"]["reviewer_id"] == f"staff:{SITE_3204}"
    time.sleep(HOLD_S + 6)  # past the release time and the relay's idle poll
    assert exam.package(ANNA)["status"] == "in_review"
    assert ReviewEvents.of("PackageApproved", package_id) == []
    approve = audit_of(exam, package_id, "approve")[0]
    assert approve["details"]["acknowledged"] == ["疑似重复图片"]
    assert approve["details"]["held_until"]
    assert audit_of(exam, package_id, "undo")[0]["details"]["undone"] == "approve"

    # Decided again, without the hold: it leaves at once, once.
    assert reviewer.approve(package_id)["status"] == "approved"
    wait_for(lambda: exam.package(ANNA)["status"] == "approved", timeout=5, message="approved")
    wait_for(lambda: len(ReviewEvents.of("PackageApproved", package_id)) == 1, timeout=5, message="event")


def test_a_held_approval_leaves_by_itself_and_can_no_longer_be_undone(make_exam):
    exam = make_exam(hold_s=HOLD_S)
    package_id = exam.submit_package(ANNA)
    exam.queued(package_id)
    reviewer = exam.review(SITE_3204)
    reviewer.claim(package_id)
    decided_at = time.monotonic()
    reviewer.approve(package_id, hold=True)
    wait_for(lambda: exam.package(ANNA)["status"] == "approved", timeout=HOLD_S + 10, message="approved")
    assert time.monotonic() - decided_at >= HOLD_S - 0.5
    # The relay is woken at the release time, not left to its idle poll.
    assert time.monotonic() - decided_at < HOLD_S + 3
    error = refused("InvalidTransition", reviewer.undo_decision, package_id)
    assert "不能撤销" in str(error)
    assert len(ReviewEvents.of("PackageApproved", package_id)) == 1
    refused("Forbidden", exam.review(OTHER_3204).undo_decision, package_id)


def test_a_held_decision_survives_a_crash_of_review_and_leaves_after_the_restart(make_exam, start_service):
    exam = make_exam(hold_s=HOLD_S)
    package_id = exam.submit_package(ANNA)
    exam.queued(package_id)
    reviewer = exam.review(SITE_3204)
    reviewer.claim(package_id)
    wait_for(lambda: exam.package(ANNA)["status"] == "in_review", timeout=10, message="in_review")
    reviewer.approve(package_id, hold=True)
    start_service.containers["review"].kill()  # no timer of its survives
    time.sleep(HOLD_S + 1)
    assert exam.package(ANNA)["status"] == "in_review"
    start_service(ReviewService)
    wait_for(lambda: exam.package(ANNA)["status"] == "approved", timeout=15, message="approved after restart")
    assert len(ReviewEvents.of("PackageApproved", package_id)) == 1


def test_a_held_confirmation_of_a_rejection_is_undone_back_to_the_proposal(make_exam):
    exam = make_exam(hold_s=HOLD_S)
    package_id = exam.submit_package(BEN, seed=2)
    exam.queued(package_id)
    proposer, confirmer = exam.review(SITE_3204), exam.review(OTHER_3204)
    proposer.claim(package_id)
    proposer.reject(package_id, reason="学历不符合报考条件")
    held = confirmer.confirm_reject(package_id, hold=True, acknowledged=["曾被退回"])
    assert held["status"] == "rejected" and held["decision"]["confirmed_by"] == f"staff:{OTHER_3204}"
    refused("Forbidden", proposer.undo_decision, package_id)  # not theirs to undo
    undone = confirmer.undo_decision(package_id)
    assert undone["status"] == "confirming"
    assert undone["decision"]["by"] == f"staff:{SITE_3204}" and "confirmed_by" not in undone["decision"]
    time.sleep(HOLD_S + 6)
    assert exam.package(BEN)["status"] == "in_review"
    assert ReviewEvents.of("PackageRejected", package_id) == []
    confirm = audit_of(exam, package_id, "confirm_reject")[0]
    assert confirm["details"]["acknowledged"] == ["曾被退回"]
    # The second reviewer may still decline it.
    assert confirmer.decline_reject(package_id)["status"] == "pending"


def test_acknowledgements_that_are_not_a_list_of_short_texts_are_refused_and_change_nothing(make_exam):
    exam = make_exam(hold_s=HOLD_S)
    package_id = exam.submit_package(ANNA)
    exam.queued(package_id)
    reviewer = exam.review(SITE_3204)
    reviewer.claim(package_id)
    refused("ValidationError", reviewer.approve, package_id, acknowledged="疑似重复图片")
    refused("ValidationError", reviewer.approve, package_id, acknowledged=["x" * 300])
    refused("ValidationError", reviewer.approve, package_id, hold="yes")
    assert exam.review(ADMIN).list_queue(status="claimed")["items"][0]["package_id"] == package_id
    refused("InvalidTransition", reviewer.undo_decision, package_id)  # nothing to undo


# -- defect 2: the previous attempt's image after the candidate deleted it -------------------------
def sweeper(config, mongo_client):
    """materials' orphan sweeper (a 120 s timer in the service) on this test's database."""
    from common.s3 import make_client
    from services.materials.domain import Catalogue
    from services.materials.packages import Packages, RegionCache
    from services.materials.repository import PackageRepository
    from services.materials.storage import ImageStore
    db = mongo_client[config["MONGO"]["DB_PREFIX"] + "materials"]
    return Packages(PackageRepository(db), ImageStore(make_client(config), config["S3"]["BUCKET"]),
                    Catalogue.load(), RegionCache())


def test_a_returned_image_the_candidate_deleted_stays_visible_to_review_until_the_package_is_decided(
        make_exam, config, mongo_client):
    exam = make_exam()
    package_id = exam.submit_package(ANNA)
    exam.queued(package_id)
    reviewer = exam.review(SITE_3204)
    reviewer.claim(package_id)
    reviewer.return_materials(package_id, items=[{"material_type": "degree_certificate", "reason": "unclear"}])
    wait_for(lambda: exam.package(ANNA)["status"] == "returned", timeout=10, message="returned")
    old = exam.item(ANNA, "degree_certificate")["images"][0]["image_id"]
    path = f"/items/degree_certificate/images/{old}"
    assert exam.call("DELETE", ANNA, path).status_code == 204
    # Gone for the candidate: not listed, not readable, the slot free again.
    assert exam.call("GET", ANNA, path).status_code == 404
    assert exam.item(ANNA, "degree_certificate")["images"] == []
    assert exam.upload(ANNA, "degree_certificate", document_jpeg(seed=99)).status_code == 201
    assert exam.call("POST", ANNA, "/submit").status_code == 200
    exam.queued(package_id, attempt=2)
    assert sweeper(config, mongo_client).sweep_orphans(now=time.time() + 7200) == 0  # kept while undecided

    reviewer.claim(package_id)
    case = reviewer.get_case(package_id)
    before = case["previous"]["items"][0]
    assert before["material_type"] == "degree_certificate"
    [image] = before["images"]
    shown = requests.get(image["url"], timeout=10)
    assert shown.status_code == 200 and sha256(shown.content) == image["sha256"]
    assert image["image_id"] == old and image["deleted_by_candidate"] is True

    reviewer.approve(package_id)
    wait_for(lambda: exam.package(ANNA)["status"] == "approved", timeout=10, message="approved")
    assert sweeper(config, mongo_client).sweep_orphans() == 1  # decided: the kept object goes
    assert requests.get(image["url"], timeout=10).status_code == 404
    # And the decided case shows a placeholder with the image's facts, never a broken link.
    [after] = exam.review(SITE_3204).get_case(package_id)["previous"]["items"][0]["images"]
    assert after["url"] is None and after["deleted_by_candidate"] is True and after["bytes"] == image["bytes"]
