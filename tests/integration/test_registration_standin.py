"""The registration system's stand-in (dev/registration_standin) as tests and scripts use
it: POST /_standin/candidates keeps the accounts and feeds auth through import_candidates
over HTTPS with its own client credentials, answering 201 with the import's result."""
import json

import requests

from services.auth.service import AuthService
from support import candidate, create_candidates, login

NUMBER = "2026320400831"


def test_a_candidate_posted_to_the_stand_in_is_kept_there_and_fed_to_auth_without_the_password(
        start_service, registration_standin, config, mongo_client):
    url = start_service(AuthService)
    record = candidate(NUMBER, serial=831)
    response = requests.post(f"{registration_standin.url}/_standin/candidates", timeout=30,
                             json=dict(record, password="Secret@2026"))
    assert response.status_code == 201, response.text
    assert response.json() == {"created": 1, "updated": 0, "unchanged": 0, "errors": []}
    auth = mongo_client[config["MONGO"]["DB_PREFIX"] + "auth"]
    stored = auth.candidates.find_one({"_id": NUMBER})
    assert stored["name"] == record["name"] and "password_hash" not in stored
    assert "Secret@2026" not in json.dumps(list(auth.candidates.find()), default=str)
    account = mongo_client[config["MONGO"]["DB_PREFIX"] + "standin"].accounts.find_one({"_id": NUMBER})
    assert account["password_hash"] != "Secret@2026" and record["id_number"] not in str(account)
    # the same record again is the import's idempotent answer; the password signs in there
    assert create_candidates(registration_standin, [record], password="Secret@2026")["unchanged"] == 1
    assert login(url, NUMBER, password="Secret@2026")["access_token"]


def test_the_import_refusing_a_record_is_passed_on_per_record(start_service, registration_standin):
    start_service(AuthService)
    summary = create_candidates(registration_standin, [candidate("2026320400832", serial=832, phone="12345"),
                                                       candidate("2026320400833", serial=833)])
    assert summary["created"] == 1 and summary["errors"] == [
        {"index": 0, "message": "手机号格式错误", "messages": ["手机号格式错误"]}]


def test_four_hundred_records_in_one_post_reach_auth_in_batches_under_the_rpc_body_cap(
        start_service, registration_standin, config, mongo_client):
    """`make bench` made 500 load candidates in one post; fed in one call the 120 KB body
    was refused (413 behind nginx, 400 at the service's own 64 KB cap)."""
    start_service(AuthService)
    records = [candidate(f"20263204{60001 + i:05d}", serial=100 + i) for i in range(400)]
    records[250]["phone"] = "12345"
    assert len(json.dumps(records)) > 64 * 1024
    summary = create_candidates(registration_standin, records)
    assert summary["created"] == 399
    assert summary["errors"] == [{"index": 250, "message": "手机号格式错误", "messages": ["手机号格式错误"]}]
    auth = mongo_client[config["MONGO"]["DB_PREFIX"] + "auth"]
    assert auth.candidates.count_documents({"_id": {"$in": [r["registration_number"] for r in records]}}) == 399


def test_a_post_without_a_password_is_refused_and_keeps_nothing(registration_standin, mongo_client, config):
    for body in (candidate(NUMBER, serial=831), [dict(candidate(NUMBER, serial=831), password="")], "x", []):
        response = requests.post(f"{registration_standin.url}/_standin/candidates", json=body, timeout=10)
        assert response.status_code == 400 and "password" in response.json()["error"]["message"]
    assert mongo_client[config["MONGO"]["DB_PREFIX"] + "standin"].accounts.count_documents({}) == 0


def test_with_our_system_unreachable_the_account_is_kept_and_the_answer_says_so(registration_standin, mongo_client,
                                                                                config):
    registration_standin.connect("http://127.0.0.1:9")  # nothing listens there
    response = requests.post(f"{registration_standin.url}/_standin/candidates", timeout=30,
                             json=dict(candidate(NUMBER, serial=831), password="Demo@2026"))
    assert response.status_code == 502 and response.json()["error"]["code"] == "unavailable"
    assert "暂时无法访问" in response.json()["error"]["message"]
    assert mongo_client[config["MONGO"]["DB_PREFIX"] + "standin"].accounts.find_one({"_id": NUMBER})


def test_a_signed_webhook_is_kept_once_and_a_forged_or_unexpected_one_is_refused(registration_standin,
                                                                                 mongo_client, config):
    from datetime import datetime, timezone
    from standardwebhooks import Webhook
    hook = f"{registration_standin.url}/_standin/webhooks"
    record = {"event_id": "evt-1", "sequence": 7, "candidate_id": NUMBER, "package_id": "p1", "region": "32",
              "site": "3204", "attempt": 1, "status": "approved", "occurred_at": "2026-05-02T02:00:00.000Z"}
    body = json.dumps({"type": "outcome.approved", "timestamp": record["occurred_at"], "data": record})

    def deliver(secret, payload=body, webhook_id="msg_1"):
        now = datetime.now(timezone.utc)
        headers = {"webhook-id": webhook_id, "webhook-timestamp": str(int(now.timestamp())),
                   "webhook-signature": Webhook(secret).sign(webhook_id, now, payload),
                   "Content-Type": "application/json"}
        return requests.post(hook, data=payload.encode(), headers=headers, timeout=10)

    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    assert requests.get(f"{registration_standin.url}/_standin/webhook-secret", timeout=10).json() == {
        "configured": False, "url": hook}
    assert deliver(secret).status_code == 503  # no secret given yet: nothing kept, notify retries
    assert requests.post(f"{registration_standin.url}/_standin/webhook-secret", json={"secret": "plain"},
                         timeout=10).status_code == 400
    assert requests.post(f"{registration_standin.url}/_standin/webhook-secret", json={"secret": secret},
                         timeout=10).json()["configured"] is True

    assert deliver(secret).status_code == 204
    assert deliver(secret).status_code == 204  # a retry under the same webhook-id
    assert deliver(secret, webhook_id="msg_2").status_code == 204  # the same outcome by another way
    other = "whsec_" + "ZmFrZS1zZWNyZXQtZm9yLXRoZS10ZXN0cw=="
    assert deliver(other).status_code == 400
    forged = deliver(secret)
    tampered = requests.post(hook, data=body.replace("approved", "rejected").encode(), timeout=10,
                             headers={k: v for k, v in forged.request.headers.items() if k.startswith("webhook-")})
    assert tampered.status_code == 400
    outcomes = list(mongo_client[config["MONGO"]["DB_PREFIX"] + "standin"].outcomes.find())
    assert [(o["_id"], o["status"]) for o in outcomes] == [("evt-1", "approved")]
