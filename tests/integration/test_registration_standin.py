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
    assert summary["created"] == 1 and summary["errors"] == [{"index": 0, "message": "手机号格式错误"}]


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
