"""Bad JSON (DESIGN §4): a body of any shape that is not the JSON object an endpoint
reads is 400 `bad_request` in the JSON envelope with a Chinese message, never a 500,
and changes nothing; logout ends the session its token names even when the body
beside that token cannot be read."""
import re

import pytest
import requests

from secsupport import assert_no_leak, import_candidates
from support import Candidate, bearer, wait_for

NUMBERS = [f"20263204009{n}" for n in range(81, 84)]
HAN = re.compile(r"[\u4e00-\u9fff]")

BODIES = {
    # About 10 KB each: deep enough for the parser, well inside every size limit.
    "nested arrays": b"[" * 5_000 + b"]" * 5_000,
    "nested objects": b'{"a":' * 1_500 + b"1" + b"}" * 1_500,
    "nested, never closed": b"[" * 10_000,
    "truncated": b'{"notice_version": "2026-',
    "invalid UTF-8": b'{"notice_version": "\xff\xfe"}',
    "a list": b'["2026-1"]',
    "a number with 5,000 digits": b"9" * 5_000,
    "NaN": b"NaN",
}


@pytest.fixture(scope="module")
def people(system, admin_token):
    import_candidates(system, admin_token, NUMBERS)
    return NUMBERS


def assert_bad_request(response, what):
    assert response.status_code == 400, (what, response.status_code, response.text[:300])
    assert response.headers["Content-Type"].startswith("application/json"), what
    error = response.json()["error"]
    assert error["code"] == "bad_request" and HAN.search(error["message"]), (what, error)
    assert_no_leak(response, what)


def test_consent_with_a_body_that_is_not_a_json_object_is_refused_and_records_nothing(system, people):
    person = Candidate(system, people[0], consent=False)
    for what, body in BODIES.items():
        response = requests.post(f"{system.url}/api/v1/package/consent", data=body, timeout=15,
                                 headers={**bearer(person.token), "Content-Type": "application/json"})
        assert_bad_request(response, what)
    assert person.package()["consent"] is None
    assert person.upload("registration_form").json()["error"]["code"] == "consent_required"


@pytest.mark.parametrize("what, body, content_type", [
    ("nested arrays", BODIES["nested arrays"], "application/json"),
    ("a list", BODIES["a list"], "application/json"),
    ("truncated", BODIES["truncated"], "application/json"),
    ("a form over 16 KB", b"refresh_token=" + b"x" * 20_000, "application/x-www-form-urlencoded"),
])
def test_logout_with_a_body_it_cannot_read_still_ends_the_session(system, people, what, body,
                                                                   content_type):
    person = Candidate(system, people[1])
    response = requests.post(f"{system.url}/auth/logout", data=body, timeout=15, headers={
        **bearer(person.token), "Content-Type": content_type})
    assert_bad_request(response, what)
    assert_session_ended(system, person)


def test_logout_naming_a_refresh_token_that_is_not_a_string_is_refused_and_still_ends_the_session(
        system, people):
    person = Candidate(system, people[2])
    response = requests.post(f"{system.url}/auth/logout", json={"refresh_token": ["a", "b"]},
                             headers=bearer(person.token), timeout=15)
    assert_bad_request(response, "refresh_token as a list")
    assert_session_ended(system, person)


def assert_session_ended(system, person):
    # Every service hears of a revocation within seconds (DESIGN §4 logout; tokens test).
    wait_for(lambda: person.call("GET", "/package").status_code == 401, timeout=10,
             message="the access token refused after logout")
    refreshed = requests.post(f"{system.url}/auth/token", timeout=15, data={
        "grant_type": "refresh_token", "refresh_token": person.refresh_token, "client_id": "upload-web"})
    assert refreshed.status_code in (400, 401), refreshed.text
