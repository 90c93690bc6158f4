"""Finding work in review (issue 28, defect 3) on the real servers: a reviewer searches
their scope by 报名号, by name or by the full ID number (matched by auth's keyed hash;
the number is never in a log line, the audit log or an answer), and lists their own
live claims."""
import logging
import time

from review_helpers import (ANNA, BEN, CAI, DING, OTHER_3204, SITE_3201, SITE_3204,
                            refused)
from support import id_number, wait_for


def numbers_of(found):
    return [item["candidate_id"] for item in found["items"]]


def test_a_reviewer_finds_a_package_by_registration_number_name_or_full_id_number_within_their_scope(
        make_exam, caplog):
    caplog.set_level(logging.DEBUG)
    exam = make_exam()
    anna, ding = exam.submit_package(ANNA), exam.submit_package(DING, seed=4)
    exam.queued(anna)
    exam.queued(ding)
    reviewer = exam.review(SITE_3204)

    by_number = reviewer.search_cases(query=ANNA)
    assert by_number["by"] == "registration_number" and numbers_of(by_number) == [ANNA]
    assert by_number["items"][0]["package_id"] == anna and by_number["items"][0]["status"] == "pending"
    by_name = reviewer.search_cases(query="考生1")
    assert by_name["by"] == "name" and numbers_of(by_name) == [ANNA]
    anna_id = id_number("320400", 1)  # support.candidate(ANNA, serial=1)'s number
    by_id = reviewer.search_cases(query=anna_id.lower())  # a lower-case x is the same number
    assert by_id["by"] == "id_number" and numbers_of(by_id) == [ANNA]
    assert anna_id not in str(by_id)

    # Out of scope: a 3204 reviewer never finds a 3201 package, whichever way asked.
    ding_id = id_number("320100", 4)
    for query in (DING, "考生4", ding_id):
        assert reviewer.search_cases(query=query)["items"] == []
    assert numbers_of(exam.review(SITE_3201).search_cases(query=ding_id)) == [DING]
    assert reviewer.search_cases(query="没有这个人")["items"] == []

    refused("ValidationError", reviewer.search_cases, query="")
    refused("ValidationError", reviewer.search_cases, query="x" * 60)
    refused("ValidationError", reviewer.search_cases, query=123)
    searches = [e for e in exam.audit(anna) if e["action"] == "search"]
    assert searches == []  # a search is audited by itself, not on a package
    for number in (anna_id, ding_id):
        assert number not in caplog.text


def test_every_search_is_in_the_audit_log_by_kind_and_what_it_found_never_the_number(make_exam, mongo_client, config):
    exam = make_exam()
    anna = exam.submit_package(ANNA)
    exam.queued(anna)
    exam.review(SITE_3204).search_cases(query=id_number("320400", 1))
    db = mongo_client[config["MONGO"]["DB_PREFIX"] + "review"]
    [entry] = list(db.audit.find({"action": "search"}))
    assert entry["actor"] == f"staff:{SITE_3204}" and entry["details"] == {"by": "id_number", "found": [anna]}
    assert id_number("320400", 1) not in str(entry)


def test_my_claims_lists_the_reviewers_live_claims_soonest_to_expire_first(make_exam):
    exam = make_exam(lease_s=30)
    anna, ben, cai = exam.submit_package(ANNA), exam.submit_package(BEN, seed=2), exam.submit_package(CAI, seed=3)
    for package_id in (anna, ben, cai):
        exam.queued(package_id)
    mine, other = exam.review(SITE_3204), exam.review(OTHER_3204)
    mine.claim(ben)
    time.sleep(0.05)
    mine.claim(anna)
    other.claim(cai)
    claims = mine.my_claims()
    assert [i["package_id"] for i in claims["items"]] == [ben, anna]
    assert all(i["claim"]["reviewer_id"] == f"staff:{SITE_3204}" for i in claims["items"])
    assert [i["package_id"] for i in other.my_claims()["items"]] == [cai]
    mine.release(ben)
    mine.approve(anna)
    assert mine.my_claims()["items"] == []
    wait_for(lambda: exam.package(ANNA)["status"] == "approved", timeout=10, message="approved")
