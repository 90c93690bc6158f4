"""Reviewers' free text (DESIGN §8): an ID number or a phone typed in any common shape
(grouped 6-8-4, split by a zero-width space, a phone in 3-4-4 groups with spaces or
dashes) is masked before anything keeps or sends it. Checked everywhere such text
travels: review's case and its history, the MaterialReturned event, materials' package
(its feedback), the candidate's page and inbox, and every database of the system."""
import pytest

from secsupport import event_tap, import_candidates, numbers_shown
from support import Candidate, rpc, staff_token, wait_for, wait_until_queued

NUMBER = "2026320400907"


def shapes(id_number, phone):
    """Reasons per material type, each quoting a number the way a person might type it."""
    return {
        "id_card": f"证件号 {id_number[:6]} {id_number[6:14]} {id_number[14:]} 与报名信息不符",
        "degree_certificate": f"证件号码{id_number[:9]}\u200b{id_number[9:]}有误，第2页不清晰",
        "probation_certificate": f"请联系 {phone[:3]} {phone[3:7]} {phone[7:]} 核实",
        "registration_form": f"电话{phone[:3]}-{phone[3:7]}-{phone[7:]}无人接听，共3页",
    }


@pytest.fixture(scope="module")
def returned(system, admin_token):
    """A package returned with every shape; yields what each place then showed."""
    record = import_candidates(system, admin_token, [NUMBER])[0]
    person = Candidate(system, NUMBER)
    person.fill_required()
    package_id = person.submit()["package_id"]
    reasons = shapes(record["id_number"], record["phone"])
    reviewer = staff_token(system.config, "reviewer.3204", "Review@2026")
    with event_tap(system.amqp_uri, "review", "MaterialReturned") as events, \
            rpc(system.config, reviewer) as proxy:
        wait_until_queued(proxy, package_id, timeout=20)
        proxy.review.claim(package_id)
        proxy.review.return_materials(package_id, [
            {"material_type": code, "reason": {"code": "other", "text": text}}
            for code, text in reasons.items()])
        case = proxy.review.get_case(package_id)
        event = wait_for(lambda: [e for e in events() if e["package_id"] == package_id],
                         timeout=20, message="MaterialReturned on the broker")[0]
    wait_for(lambda: person.package()["status"] == "returned", timeout=20, message="returned")
    inbox = wait_for(lambda: [m for m in person.call("GET", "/messages").json()["messages"]
                              if m["kind"] == "returned"], timeout=20, message="told")
    numbers = {record["id_number"][:17]: "ID number", record["phone"]: "phone"}
    return {"case": case, "event": event, "page": person.package(), "inbox": inbox,
            "numbers": numbers}


@pytest.mark.parametrize("place", ["case", "event", "page", "inbox"])
def test_a_number_in_a_reviewers_reason_is_masked_in_whatever_shape_it_was_typed(returned, place):
    shown = returned[place]
    assert numbers_shown(shown, returned["numbers"], place) == []


def test_the_reasons_stay_readable_apart_from_the_number(returned):
    reasons = {item["material_type"]: item["reason"] for item in returned["page"]["items"]}
    assert "第2页不清晰" in reasons["degree_certificate"]
    assert "共3页" in reasons["registration_form"]
    assert "3204**********" in reasons["id_card"] and reasons["id_card"].endswith("与报名信息不符")
    assert "138****" in reasons["probation_certificate"]


def test_no_database_of_the_system_keeps_the_number_in_any_shape(returned, system, system_mongo):
    findings = []
    for name in system_mongo.list_database_names():
        if name.startswith(system.prefix):
            for collection in system_mongo[name].list_collection_names():
                for doc in system_mongo[name][collection].find():
                    findings += numbers_shown(doc, returned["numbers"], f"{name}.{collection}")
    assert findings == []
