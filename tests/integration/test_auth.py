"""Auth against the real servers: the code flow with PKCE (candidates signing in at the
registration system's stand-in), tokens every service trusts and refuses, the candidate
feed, data at rest, throttling shared by instances. The relying party's own refusals:
test_federation.py."""
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
import requests
from nameko.events import event_handler as nameko_event_handler

from services.auth import domain
from services.auth.keys import KeyRing
from services.auth.service import AuthService
from services.materials.service import MaterialsService
from support import (REDIRECT, authorize, bearer, candidate, code_from, create_candidates, login, make_admin,
                     make_reviewer, pkce, rpc, staff_token, wait_for)

NUMBER = "2026320400801"


@pytest.fixture
def auth_url(start_service, config, registration_standin):
    url = start_service(AuthService)
    make_admin(config)
    assert create_candidates(registration_standin, [candidate(NUMBER, serial=801)])["created"] == 1
    return url


@pytest.fixture
def materials_url(start_service, auth_url):
    return start_service(MaterialsService)


def exchange(url, session, code, verifier, redirect=REDIRECT, client_id="upload-web"):
    return session.post(f"{url}/auth/token", timeout=10, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
        "client_id": client_id, "code_verifier": verifier})


# -- the code flow ---------------------------------------------------------------------------
def test_a_scripted_client_completes_the_code_flow_and_calls_materials(auth_url, materials_url):
    tokens = login(auth_url, NUMBER)
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] <= 900
    response = requests.get(f"{materials_url}/api/v1/package", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    assert response.json()["package_id"] == f"{NUMBER}-2026"


def test_signing_in_with_the_id_number_works_too(auth_url):
    tokens = login(auth_url, candidate(NUMBER, serial=801)["id_number"])
    assert jwt.decode(tokens["access_token"], options={"verify_signature": False})["sub"] == NUMBER


def test_state_is_echoed_and_codes_expire_within_a_minute(auth_url, config, mongo_client):
    verifier, challenge = pkce()
    session, response, params = authorize(auth_url, NUMBER, challenge=challenge)
    query = code_from(response)
    assert query["state"] == [params["state"]]
    db = mongo_client[config["MONGO"]["DB_PREFIX"] + "auth"]
    grant = db.auth_codes.find_one({"_id": domain.secret_hash(query["code"][0])})
    assert grant["expires_at"] - grant["created_at"] <= 60


def test_a_wrong_verifier_fails(auth_url):
    verifier, challenge = pkce()
    session, response, _ = authorize(auth_url, NUMBER, challenge=challenge)
    refused = exchange(auth_url, session, code_from(response)["code"][0], pkce()[0])
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid_grant"


def test_a_reused_code_fails_and_ends_the_session_it_started(auth_url, materials_url):
    verifier, challenge = pkce()
    session, response, _ = authorize(auth_url, NUMBER, challenge=challenge)
    code = code_from(response)["code"][0]
    first = exchange(auth_url, session, code, verifier)
    assert first.status_code == 200
    second = exchange(auth_url, session, code, verifier)
    assert second.status_code == 400 and second.json()["error"]["code"] == "invalid_grant"
    stolen = first.json()["access_token"]
    wait_for(lambda: requests.get(f"{materials_url}/api/v1/package", headers=bearer(stolen))
             .status_code == 401, timeout=6, message="tokens of a replayed code revoked")


def test_an_expired_code_fails(auth_url, config, mongo_client):
    verifier, challenge = pkce()
    session, response, _ = authorize(auth_url, NUMBER, challenge=challenge)
    code = code_from(response)["code"][0]
    db = mongo_client[config["MONGO"]["DB_PREFIX"] + "auth"]
    db.auth_codes.update_one({"_id": domain.secret_hash(code)},
                             {"$set": {"expires_at": time.time() - 1}})
    refused = exchange(auth_url, session, code, verifier)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_grant"


def test_a_foreign_redirect_uri_gets_an_error_page_not_a_redirect(auth_url):
    verifier, challenge = pkce()
    response = requests.get(f"{auth_url}/auth/authorize", allow_redirects=False, params={
        "response_type": "code", "client_id": "upload-web", "redirect_uri": "https://evil.example/cb",
        "state": "s", "code_challenge": challenge, "code_challenge_method": "S256"})
    assert response.status_code == 400 and "Location" not in response.headers
    # …and a code issued for the real redirect cannot be exchanged for another one.
    session, response, _ = authorize(auth_url, NUMBER, challenge=challenge)
    refused = exchange(auth_url, session, code_from(response)["code"][0], verifier,
                       redirect="https://evil.example/cb")
    assert refused.status_code == 400


def test_plain_pkce_and_missing_challenges_are_refused(auth_url):
    params = {"response_type": "code", "client_id": "upload-web", "redirect_uri": REDIRECT,
              "state": "s", "code_challenge": "a" * 43, "code_challenge_method": "plain"}
    response = requests.get(f"{auth_url}/auth/authorize", params=params, allow_redirects=False)
    assert response.status_code == 302 and "error=invalid_request" in response.headers["Location"]


def test_a_candidates_password_posted_to_the_authorization_endpoint_is_refused(auth_url, mongo_client, config):
    verifier, challenge = pkce()
    response = requests.post(f"{auth_url}/auth/authorize", allow_redirects=False, data={
        "response_type": "code", "client_id": "upload-web", "redirect_uri": REDIRECT, "state": "s",
        "code_challenge": challenge, "code_challenge_method": "S256", "username": NUMBER,
        "password": "Demo@2026"})
    assert response.status_code == 400 and "Location" not in response.headers
    assert "报名系统账号授权登录" in response.text
    db = mongo_client[config["MONGO"]["DB_PREFIX"] + "auth"]
    assert db.auth_codes.count_documents({}) == 0


def test_refresh_tokens_rotate_and_a_replayed_one_kills_the_family(auth_url):
    tokens = login(auth_url, NUMBER)

    def refresh(token):
        return requests.post(f"{auth_url}/auth/token", data={
            "grant_type": "refresh_token", "refresh_token": token, "client_id": "upload-web"})

    rotated = refresh(tokens["refresh_token"])
    assert rotated.status_code == 200
    assert rotated.json()["refresh_token"] != tokens["refresh_token"]
    assert refresh(tokens["refresh_token"]).status_code == 400  # replay of the old one
    assert refresh(rotated.json()["refresh_token"]).status_code == 400  # family ended


# -- tokens every service verifies ----------------------------------------------------------------
def forge(config, keys_dir, **changes):
    ring = KeyRing(keys_dir, "test-1")
    claims = domain.claims(sub=NUMBER, role="candidate", issuer=config["TOKENS"]["ISSUER"],
                           audience=config["TOKENS"]["AUDIENCE"], now=time.time(), ttl=600,
                           region="32", sites=["3204"], category="integrated_practitioner",
                           exam_year=2026)
    claims.update(changes)
    return ring.sign(claims)


def test_a_token_forged_with_the_right_key_is_accepted(config, keys_dir, materials_url):
    # The control for the refusals below: they fail for their flaw, not for the setup.
    response = requests.get(f"{materials_url}/api/v1/package", headers=bearer(forge(config, keys_dir)))
    assert response.status_code == 200


@pytest.mark.parametrize("flaw", ["tampered", "expired", "alg_none", "hs256_with_public_key",
                                  "wrong_audience", "wrong_issuer", "unknown_kid", "jku_header"])
def test_bad_tokens_are_unauthenticated_at_another_service(flaw, config, keys_dir, materials_url):
    good = forge(config, keys_dir)
    header, payload, signature = good.split(".")
    ring = KeyRing(keys_dir, "test-1")
    public_pem = ring.private["test-1"].public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    claims = jwt.decode(good, options={"verify_signature": False})
    token = {
        "tampered": lambda: ".".join([header, jwt.utils.base64url_encode(json.dumps(
            dict(claims, sub="2026320400802")).encode()).decode(), signature]),
        "expired": lambda: forge(config, keys_dir, exp=int(time.time()) - 60, iat=int(time.time()) - 700),
        "alg_none": lambda: jwt.encode(claims, None, algorithm="none"),
        "hs256_with_public_key": lambda: _hs256(claims, public_pem),
        "wrong_audience": lambda: forge(config, keys_dir, aud="another-system"),
        "wrong_issuer": lambda: forge(config, keys_dir, iss="https://evil.example"),
        "unknown_kid": lambda: jwt.encode(claims, ring.private["test-1"], algorithm="ES256",
                                          headers={"kid": "not-ours"}),
        "jku_header": lambda: jwt.encode(claims, ring.private["test-1"], algorithm="ES256",
                                         headers={"kid": "x", "jku": "http://127.0.0.1:9/jwks"}),
    }[flaw]()
    response = requests.get(f"{materials_url}/api/v1/package", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def _hs256(claims, secret):
    import base64
    import hashlib
    import hmac
    head = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "kid": "test-1"}).encode())
    body = jwt.utils.base64url_encode(json.dumps(claims).encode())
    signature = hmac.new(secret, head + b"." + body, hashlib.sha256).digest()
    return (head + b"." + body + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()


def test_logout_revokes_the_access_token_everywhere_within_five_seconds(auth_url, materials_url):
    tokens = login(auth_url, NUMBER)
    headers = bearer(tokens["access_token"])
    assert requests.get(f"{materials_url}/api/v1/package", headers=headers).status_code == 200
    out = requests.post(f"{auth_url}/auth/logout", headers=headers,
                        data={"refresh_token": tokens["refresh_token"]})
    assert out.status_code == 204
    started = time.monotonic()
    wait_for(lambda: requests.get(f"{materials_url}/api/v1/package", headers=headers)
             .status_code == 401, timeout=5, message="revocation to reach materials")
    assert time.monotonic() - started < 5
    refused = requests.post(f"{auth_url}/auth/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
        "client_id": "upload-web"})
    assert refused.status_code == 400


def test_logout_with_an_expired_access_token_still_ends_the_refresh_tokens_session(auth_url, config, keys_dir):
    tokens = login(auth_url, NUMBER)
    expired = forge(config, keys_dir, exp=int(time.time()) - 60, iat=int(time.time()) - 700)
    out = requests.post(f"{auth_url}/auth/logout", headers=bearer(expired),
                        data={"refresh_token": tokens["refresh_token"]})
    assert out.status_code == 204
    refused = requests.post(f"{auth_url}/auth/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": "upload-web"})
    assert refused.status_code == 400
    # Without a token that names a session there is nothing to end.
    nothing = requests.post(f"{auth_url}/auth/logout", headers=bearer(expired), data={"refresh_token": "made-up"})
    assert nothing.status_code == 401


def test_the_jwks_publishes_the_signing_key_with_its_kid(auth_url):
    keys = requests.get(f"{auth_url}/auth/jwks.json").json()["keys"]
    assert [k["kid"] for k in keys] == ["test-1"]
    assert all("d" not in k for k in keys)  # public parts only


# -- the candidate feed --------------------------------------------------------------------------
class ProfileListener:
    name = "listener"
    received = []

    @nameko_event_handler("auth", "CandidateProfileChanged")
    def on_changed(self, payload):
        ProfileListener.received.append(payload)


def test_reimporting_the_feed_changes_nothing_and_a_category_change_emits_once(
        auth_url, config, container_factory, mongo_client):
    listener = container_factory(ProfileListener, config)
    listener.start()
    ProfileListener.received.clear()
    token = staff_token(config, "admin.test", "Admin@2026")
    feed = [candidate(NUMBER, serial=801), candidate("2026320400802", serial=802)]
    db = mongo_client[config["MONGO"]["DB_PREFIX"] + "auth"]
    with rpc(config, token) as proxy:
        proxy.auth.import_candidates(feed)
        before = {d["_id"]: d for d in db.candidates.find()}
        again = proxy.auth.import_candidates(feed)
        assert again == {"created": 0, "updated": 0, "unchanged": 2, "errors": []}
        assert {d["_id"]: d for d in db.candidates.find()} == before
        feed[0] = dict(feed[0], category="clinical_practitioner")
        assert proxy.auth.import_candidates(feed)["updated"] == 1
        assert proxy.auth.import_candidates(feed)["unchanged"] == 2
    wait_for(lambda: ProfileListener.received, message="CandidateProfileChanged")
    time.sleep(1.5)  # room for a duplicate to show up, if there were one
    assert len(ProfileListener.received) == 1
    event = ProfileListener.received[0]
    assert event["candidate_id"] == NUMBER and event["changed"] == ["category"]
    assert "phone" not in event and "id_number" not in event


def test_bad_records_are_reported_and_change_nothing(auth_url, config, mongo_client):
    token = staff_token(config, "admin.test", "Admin@2026")
    bad = [candidate("2026320400803", serial=803, id_number="320400199501010000"),
           candidate("2026320400804", serial=804, phone="12345"), {"name": "x"}]
    with rpc(config, token) as proxy:
        summary = proxy.auth.import_candidates(bad)
    assert summary["created"] == 0 and len(summary["errors"]) == 3
    db = mongo_client[config["MONGO"]["DB_PREFIX"] + "auth"]
    assert db.candidates.count_documents({}) == 1  # only the fixture's candidate


def test_import_refuses_each_record_that_carries_a_password_or_a_password_hash(auth_url, config, mongo_client):
    token = staff_token(config, "admin.test", "Admin@2026")
    feed = [candidate("2026320400806", serial=806, password="Demo@2026"),
            candidate("2026320400807", serial=807, password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"),
            candidate("2026320400808", serial=808)]
    with rpc(config, token) as proxy:
        summary = proxy.auth.import_candidates(feed)
    assert summary["created"] == 1 and [e["index"] for e in summary["errors"]] == [0, 1]
    assert all("password / password_hash" in e["message"] and "不接收、不保存考生密码" in e["message"]
               for e in summary["errors"])
    db = mongo_client[config["MONGO"]["DB_PREFIX"] + "auth"]
    assert db.candidates.count_documents({"_id": {"$in": ["2026320400806", "2026320400807"]}}) == 0
    assert "password_hash" not in db.candidates.find_one({"_id": "2026320400808"})


def test_only_admins_may_import_candidates(auth_url, config):
    make_reviewer(config, "reviewer.t", ["3204"])
    token = staff_token(config, "reviewer.t", "Review@2026")
    with rpc(config, token) as proxy:
        with pytest.raises(Exception) as refused:
            proxy.auth.import_candidates([candidate("2026320400805", serial=805)])
    assert refused.value.exc_type == "Forbidden"


def test_a_raw_read_of_the_auth_database_shows_no_id_number_or_phone(auth_url, config, mongo_client):
    login(auth_url, NUMBER)
    record = candidate(NUMBER, serial=801)
    db = mongo_client[config["MONGO"]["DB_PREFIX"] + "auth"]
    dump = "".join(json.dumps(doc, default=str) for name in db.list_collection_names()
                   for doc in db[name].find())
    assert NUMBER in dump  # the dump is real
    assert record["id_number"] not in dump and record["phone"] not in dump
    assert record["phone"][-4:] in dump  # only as the masked form


def test_get_contact_answers_only_services(auth_url, config):
    login_token = login(auth_url, NUMBER)["access_token"]
    with rpc(config, login_token) as proxy:
        with pytest.raises(Exception) as refused:
            proxy.auth.get_contact(NUMBER)
    assert refused.value.exc_type == "Forbidden"
    secrets = config["TOKENS"]
    with rpc(config) as proxy:
        service = proxy.auth.service_token(secrets["SERVICE_CLIENT_ID"], secrets["SERVICE_CLIENT_SECRET"])
    with rpc(config, service["access_token"]) as proxy:
        assert proxy.auth.get_contact(NUMBER)["phone"] == candidate(NUMBER, serial=801)["phone"]


def test_compare_identity_answers_only_services_and_only_with_verdicts(auth_url, config):
    record = candidate(NUMBER, serial=801)
    with rpc(config, login(auth_url, NUMBER)["access_token"]) as proxy:
        with pytest.raises(Exception) as refused:
            proxy.auth.compare_identity(NUMBER, id_number=record["id_number"], name=record["name"])
    assert refused.value.exc_type == "Forbidden"
    secrets = config["TOKENS"]
    with rpc(config) as proxy:
        service = proxy.auth.service_token(secrets["SERVICE_CLIENT_ID"], secrets["SERVICE_CLIENT_SECRET"])
    other = candidate(NUMBER, serial=802)
    with rpc(config, service["access_token"]) as proxy:
        assert proxy.auth.compare_identity(
            NUMBER, id_number=record["id_number"], name=record["name"], expires="2099-01-01") == {
            "id_number": "match", "name": "match", "expired": False}
        assert proxy.auth.compare_identity(
            NUMBER, id_number=other["id_number"], name=other["name"], expires="2020-01-01") == {
            "id_number": "mismatch", "name": "mismatch", "expired": True}
        assert proxy.auth.compare_identity(NUMBER) == {
            "id_number": "unreadable", "name": "unreadable", "expired": None}


def test_no_service_token_for_the_old_fixed_secret_nor_an_empty_one(auth_url, config):
    """config.yaml once held `dev-service-secret`, good for a token that reads phones."""
    with rpc(config) as proxy:
        for secret in ("dev-service-secret", ""):
            with pytest.raises(Exception) as refused:
                proxy.auth.service_token("services", secret)
            assert refused.value.exc_type == "Unauthenticated"


def test_the_token_state_with_its_revocations_answers_only_services(auth_url, config):
    """A revocation names whom it signed out (registration numbers, staff names)."""
    with rpc(config) as proxy:
        with pytest.raises(Exception) as anonymous:
            proxy.auth.token_state(0)
    assert anonymous.value.exc_type == "Unauthenticated"
    with rpc(config, staff_token(config, "admin.test", "Admin@2026")) as proxy:
        with pytest.raises(Exception) as staff:
            proxy.auth.token_state(0)
    assert staff.value.exc_type == "Forbidden"
    secrets = config["TOKENS"]
    with rpc(config) as proxy:
        service = proxy.auth.service_token(secrets["SERVICE_CLIENT_ID"], secrets["SERVICE_CLIENT_SECRET"])
    with rpc(config, service["access_token"]) as proxy:
        assert proxy.auth.token_state(0)["jwks"]["keys"]


# -- staff -----------------------------------------------------------------------------------
def test_disabling_a_staff_account_revokes_its_tokens(auth_url, materials_url, config):
    make_reviewer(config, "reviewer.x", ["3204"])
    token = staff_token(config, "reviewer.x", "Review@2026")
    with rpc(config, token) as proxy:
        assert proxy.materials.get_region("32")["region"] == "32"
    admin = staff_token(config, "admin.test", "Admin@2026")
    with rpc(config, admin) as proxy:
        proxy.auth.disable_staff("reviewer.x")

    def refused():
        with rpc(config, token) as proxy:
            try:
                proxy.materials.get_region("32")
            except Exception as exc:
                return exc.exc_type == "Unauthenticated"
        return False

    wait_for(refused, timeout=5, interval=0.3, message="disabled reviewer refused")
    denied = requests.post(f"{auth_url}/auth/staff/login", timeout=10,
                           json={"username": "reviewer.x", "password": "Review@2026"})
    assert denied.status_code == 401 and denied.json()["error"]["code"] == "login_failed"


# -- brute force (staff: candidates have no password here; test_staff_sign_in has the limits) ----
def fail_staff_login(url, username):
    return requests.post(f"{url}/auth/staff/login", timeout=10,
                         json={"username": username, "password": "wrong-password"})


def test_the_throttle_is_shared_by_every_instance(start_service, auth_url, config):
    make_reviewer(config, "reviewer.b", ["3204"])
    second = start_service(AuthService)
    assert second != auth_url
    for url in (auth_url, second, auth_url, second, auth_url):
        assert fail_staff_login(url, "reviewer.b").status_code == 401
    locked = requests.post(f"{second}/auth/staff/login", timeout=10,
                           json={"username": "reviewer.b", "password": "Review@2026"})
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "900"
