"""Personal data at rest (DESIGN §8): a raw dump of every database of the system, the
bucket's keys and the services' logs hold no ID number and no phone number in plain
text. The test first takes one candidate through sign-in by ID number, upload,
submission, review and SMS, so every place such a number could end up has had the
chance to hold it."""
from pathlib import Path

import bson
import pytest

from dev.seed import demo_candidates
from secsupport import bucket_keys, import_candidates
from support import (Candidate, authorize, code_from, pkce, rpc, staff_token, wait_for,
                     wait_until_queued)

NUMBER = "2026320400904"
QUOTED = "2026320400905"


def needles(records):
    """Every plain form a record's ID number and phone could be stored in."""
    found = {}
    for record in records:
        id_number, phone = record["id_number"], record["phone"]
        for form in {id_number, id_number.lower(), id_number[:17]}:
            found[form] = f"ID number of {record['registration_number']}"
        for form in (phone, f"+86{phone}", f"86{phone}", f"{phone[:3]} {phone[3:7]} {phone[7:]}"):
            found[form] = f"phone of {record['registration_number']}"
    return found


@pytest.fixture(scope="module")
def journey(system, admin_token):
    """One candidate through every service; returns their record."""
    record = import_candidates(system, admin_token, [NUMBER])[0]
    # Sign in with the ID number rather than the registration number (a form field).
    verifier, challenge = pkce()
    redirect = f"{system.url}/callback"
    session, response, _ = authorize(system.url, record["id_number"], redirect=redirect,
                                     challenge=challenge)
    assert response.status_code == 302, response.text
    tokens = session.post(f"{system.url}/auth/token", timeout=10, data={
        "grant_type": "authorization_code", "code": code_from(response)["code"][0],
        "redirect_uri": redirect, "client_id": "upload-web", "code_verifier": verifier}).json()
    person = Candidate(system, NUMBER)
    person.token = tokens["access_token"]
    person.fill_required()
    package_id = person.submit()["package_id"]

    reviewer = staff_token(system.config, "reviewer.3204", "Review@2026")
    with rpc(system.config, reviewer) as proxy:
        wait_until_queued(proxy, package_id, timeout=20)
        proxy.review.claim(package_id)
        case = proxy.review.get_case(package_id)
        proxy.review.return_materials(package_id, [{"material_type": "id_card", "reason": "unclear"}])
    assert record["id_number"] not in str(case), "get_case shows the ID number unmasked"
    phone = f"+86{record['phone']}"
    wait_for(lambda: len(system.sms.messages_to(phone)) >= 2, timeout=30, interval=0.3,
             message="the submitted and returned SMS reached the provider")
    return record


def dump(mongo_client, prefix):
    """(database.collection, raw BSON bytes) of every document of the system."""
    for name in mongo_client.list_database_names():
        if not name.startswith(prefix):
            continue
        db = mongo_client[name]
        for collection in db.list_collection_names():
            for doc in db[collection].find():
                yield f"{name}.{collection}", bson.encode(doc)


def test_no_database_of_the_system_holds_an_id_number_or_phone_in_plain_text(
        journey, system, system_mongo):
    wanted = needles(demo_candidates() + [journey])
    databases, documents, findings = set(), 0, []
    for where, raw in dump(system_mongo, system.prefix):
        databases.add(where.split(".")[0])
        documents += 1
        for needle, what in wanted.items():
            if needle.encode() in raw:
                findings.append(f"{where}: {what} in plain text")
    assert {f"{system.prefix}{s}" for s in ("auth", "materials", "review", "notify")} <= databases
    assert documents > 20
    assert not findings, "\n".join(sorted(set(findings)))


def test_no_object_key_or_object_metadata_holds_an_id_number_or_phone(journey, system, s3_client):
    wanted = needles(demo_candidates() + [journey])
    keys = bucket_keys(s3_client, system.bucket)
    assert keys
    for key in keys:
        for needle, what in wanted.items():
            assert needle not in key, f"{what} in object key {key}"
    for key in [k for k in keys if f"/{NUMBER}/" in k]:
        stat = s3_client.stat_object(system.bucket, key)
        text = f"{stat.metadata} {stat.content_type}"
        for needle, what in wanted.items():
            assert needle not in text, f"{what} in metadata of {key}"


def test_no_log_of_the_system_holds_an_id_number_or_phone(journey, system):
    wanted = needles(demo_candidates() + [journey])
    logs = [path for path in Path(system.workdir).rglob("*.log") if path.is_file()]
    assert {p.stem for p in logs} >= {"auth", "materials", "review", "notify"}
    findings = []
    for path in logs:
        text = path.read_text(errors="replace")
        for needle, what in wanted.items():
            if needle in text:
                line = next(line for line in text.splitlines() if needle in line)
                findings.append(f"{path.name}: {what}: {line[:160]}")
    assert not findings, "\n".join(findings)


def test_a_reviewers_free_text_quoting_an_id_number_or_phone_is_stored_and_sent_masked(
        system, admin_token, system_mongo):
    """DESIGN §8: no ID or phone number in events or at rest, even when a reviewer types
    one into a reason (it travels in MaterialReturned and is kept by review, materials
    and notify)."""
    record = import_candidates(system, admin_token, [QUOTED])[0]
    person = Candidate(system, QUOTED)
    person.fill_required()
    package_id = person.submit()["package_id"]
    reviewer = staff_token(system.config, "reviewer.3204", "Review@2026")
    text = f"证件号 {record['id_number']} 与手机 {record['phone']} 不符"
    with rpc(system.config, reviewer) as proxy:
        wait_until_queued(proxy, package_id, timeout=20)
        proxy.review.claim(package_id)
        proxy.review.return_materials(package_id, [{"material_type": "id_card", "reason": {
            "code": "mismatch", "text": text}}])
    wait_for(lambda: person.package()["status"] == "returned", timeout=20, message="returned")
    wait_for(lambda: any(m["kind"] == "returned" for m in person.call("GET", "/messages").json()["messages"]),
             timeout=20, message="told")
    shown = next(i for i in person.package()["items"] if i["material_type"] == "id_card")["reason"]
    findings = [f"candidate's page: {what} unmasked" for needle, what in needles([record]).items()
                if needle in shown]
    for where, raw in dump(system_mongo, system.prefix):
        for needle, what in needles([record]).items():
            if needle.encode() in raw:
                findings.append(f"{where}: {what} in plain text")
    assert not findings, "\n".join(sorted(set(findings)))
