"""auth as the registration system's relying party (DESIGN §4 Auth), against the stand-in
provider (dev/registration_standin, Authlib) on real servers: the whole flow, and every
answer of the provider that must not sign anyone in."""
import time
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
import requests

from services.auth import domain
from services.auth.service import AuthService
from support import (REDIRECT, candidate, code_from, create_candidates, pkce, provider_sign_in)

NUMBER = "2026320400811"


@pytest.fixture
def auth_url(start_service, registration_standin):
    url = start_service(AuthService)
    assert create_candidates(registration_standin, [candidate(NUMBER, serial=811)])["created"] == 1
    return url


@pytest.fixture
def auth_db(mongo_client, config):
    return mongo_client[config["MONGO"]["DB_PREFIX"] + "auth"]


def page_request(challenge):
    return {"response_type": "code", "client_id": "upload-web", "redirect_uri": REDIRECT,
            "state": "page-state-1", "code_challenge": challenge, "code_challenge_method": "S256"}


def to_callback(auth_url, number=NUMBER, session=None, challenge=None, consent=True):
    """Up to the provider's answer: (session, the callback URL it sends the browser to)."""
    session = session or requests.Session()
    start = session.get(f"{auth_url}/auth/authorize", params=page_request(challenge or pkce()[1]),
                        allow_redirects=False, timeout=10)
    assert start.status_code == 302, start.text
    answer = provider_sign_in(session, start.headers["Location"], number, consent=consent)
    assert answer.status_code == 302, answer.text
    return session, answer.headers["Location"]


def assert_refused(response, auth_db, words="无效"):
    """A Chinese error page, no redirect, and no code of ours issued."""
    assert response.status_code == 400, response.text
    assert "Location" not in response.headers and words in response.text
    assert response.headers["Content-Type"].startswith("text/html")
    assert auth_db.auth_codes.count_documents({}) == 0


def mischief(registration_standin, kind):
    assert requests.post(f"{registration_standin.url}/_standin/mode", json={"id_token": kind}, timeout=5).status_code == 200


# -- the whole flow ----------------------------------------------------------------------------
def test_a_candidate_signs_in_at_the_registration_system_and_the_pages_code_flow_continues(
        auth_url, registration_standin, auth_db):
    verifier, challenge = pkce()
    session = requests.Session()
    start = session.get(f"{auth_url}/auth/authorize", params=page_request(challenge),
                        allow_redirects=False, timeout=10)
    assert start.status_code == 302
    sent = urlparse(start.headers["Location"])
    asked = {k: v[0] for k, v in parse_qs(sent.query).items()}
    assert f"{sent.scheme}://{sent.netloc}" == registration_standin.url and sent.path == "/authorize"
    assert asked["scope"] == "openid" and asked["response_type"] == "code"
    assert asked["client_id"] == "exam-upload" and asked["code_challenge_method"] == "S256"
    assert asked["redirect_uri"] == f"{auth_url}/auth/federation/callback"
    assert len(asked["state"]) >= 32 and len(asked["nonce"]) >= 32 and asked["state"] != "page-state-1"
    answer = provider_sign_in(session, start.headers["Location"], NUMBER)
    callback = session.get(answer.headers["Location"], allow_redirects=False, timeout=20)
    assert callback.status_code == 302
    back = urlparse(callback.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == REDIRECT
    query = code_from(callback)
    assert query["state"] == ["page-state-1"]
    tokens = session.post(f"{auth_url}/auth/token", timeout=10, data={
        "grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": REDIRECT,
        "client_id": "upload-web", "code_verifier": verifier})
    assert tokens.status_code == 200, tokens.text
    claims = jwt.decode(tokens.json()["access_token"], options={"verify_signature": False})
    assert claims["sub"] == NUMBER and claims["role"] == "candidate"
    # what auth kept of the flow: hashes and the provider's nonce, spent; no ID token
    flow = auth_db.federation_flows.find_one()
    assert flow["used"] is True and flow["_id"] == domain.secret_hash(asked["state"])


def test_a_candidate_who_refuses_consent_returns_to_the_page_with_access_denied(auth_url, auth_db):
    session, callback_url = to_callback(auth_url, consent=False)
    answer = session.get(callback_url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    assert code_from(answer) == {"error": ["access_denied"], "state": ["page-state-1"]}
    assert auth_db.auth_codes.count_documents({}) == 0


# -- what the provider's answer must not get away with ---------------------------------------------------
@pytest.mark.parametrize("kind", ["forged", "expired", "wrong_audience", "alg_none"])
def test_an_id_token_that_is_forged_expired_misaddressed_or_unsigned_signs_no_one_in(
        auth_url, registration_standin, auth_db, kind):
    mischief(registration_standin, kind)
    session, callback_url = to_callback(auth_url)
    assert_refused(session.get(callback_url, allow_redirects=False, timeout=20), auth_db)
    assert registration_standin.mischief.describe()["id_token"] == "ok"  # the bent token was the one checked


def test_a_replayed_state_is_refused(auth_url, auth_db):
    session, callback_url = to_callback(auth_url)
    first = session.get(callback_url, allow_redirects=False, timeout=20)
    assert first.status_code == 302 and "code" in code_from(first)
    auth_db.auth_codes.delete_many({})
    assert_refused(session.get(callback_url, allow_redirects=False, timeout=20), auth_db, "已使用")


def test_a_replayed_nonce_is_refused(auth_url, registration_standin, auth_db):
    session, callback_url = to_callback(auth_url)
    assert session.get(callback_url, allow_redirects=False, timeout=20).status_code == 302
    auth_db.auth_codes.delete_many({})
    mischief(registration_standin, "stale_nonce")  # the next ID token carries the last one's nonce
    session, callback_url = to_callback(auth_url, session=session)
    assert_refused(session.get(callback_url, allow_redirects=False, timeout=20), auth_db)


def test_a_replayed_code_is_refused(auth_url, auth_db):
    session, used = to_callback(auth_url)
    assert session.get(used, allow_redirects=False, timeout=20).status_code == 302
    auth_db.auth_codes.delete_many({})
    session, fresh = to_callback(auth_url, session=session)
    old_code = parse_qs(urlparse(used).query)["code"][0]
    replay = fresh.replace(f"code={parse_qs(urlparse(fresh).query)['code'][0]}", f"code={old_code}")
    assert replay != fresh
    assert_refused(session.get(replay, allow_redirects=False, timeout=20), auth_db, "授权码")


def test_an_answer_brought_by_another_browser_is_refused(auth_url, auth_db):
    _, callback_url = to_callback(auth_url)
    assert_refused(requests.get(callback_url, allow_redirects=False, timeout=20), auth_db, "浏览器")


def test_a_registration_number_not_in_the_directory_gets_the_not_arrived_page(auth_url, registration_standin, auth_db):
    create_candidates(registration_standin, [candidate("2026320400812", serial=812)], feed=False)
    session, callback_url = to_callback(auth_url, number="2026320400812")
    page = session.get(callback_url, allow_redirects=False, timeout=20)
    assert page.status_code == 403 and "尚未同步" in page.text and "Location" not in page.headers
    assert auth_db.auth_codes.count_documents({}) == 0


def test_the_provider_down_at_sign_in_gets_a_503_page_offering_to_try_again(start_service, registration_standin, auth_db):
    auth_url = start_service(AuthService)  # has not read the provider's discovery yet
    registration_standin.stop()
    params = page_request(pkce()[1])
    page = requests.get(f"{auth_url}/auth/authorize", params=params, allow_redirects=False, timeout=20)
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    assert "报名系统暂时无法访问" in page.text and "重试" in page.text
    assert 'href="/auth/authorize?' in page.text and "page-state-1" in page.text
    assert auth_db.federation_flows.count_documents({}) == 0


def test_the_provider_down_at_its_answer_gets_a_503_page_that_restarts_the_pages_request(
        auth_url, registration_standin, auth_db):
    session, callback_url = to_callback(auth_url)
    registration_standin.stop()
    page = session.get(callback_url, allow_redirects=False, timeout=30)
    assert page.status_code == 503 and "重试" in page.text and "page-state-1" in page.text
    assert auth_db.auth_codes.count_documents({}) == 0


def test_an_expired_flow_is_refused(auth_url, auth_db):
    session, callback_url = to_callback(auth_url)
    auth_db.federation_flows.update_many({}, {"$set": {"expires_at": time.time() - 1}})
    assert_refused(session.get(callback_url, allow_redirects=False, timeout=20), auth_db, "过期")

