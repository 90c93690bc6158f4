"""Staff sign in over HTTPS only (DESIGN §5): the page flow of client `staff-web` and
POST /auth/staff/login for scripts; administrators with a second factor (TOTP, codes
never twice, single-use recovery codes); throttled per account and per address."""
import re

import pyotp
import pytest
import requests

from services.auth.cli import auth_database
from services.auth.service import AuthService
from support import REDIRECT, code_from, https_rpc, make_admin, make_reviewer, pkce, wait_for

STAFF_REDIRECT = "http://127.0.0.1:8000/staff/callback"


@pytest.fixture
def auth(start_service, config):
    url = start_service(AuthService)
    make_reviewer(config, "reviewer.s", ["3204"])
    staff = make_admin(config, "admin.s")
    enrolment = staff.enrol_second_factor("admin.s")
    make_admin(config, "admin.new")  # no second factor yet
    return url, enrolment


def staff_login(url, username, password, otp=None, address=None):
    body = {"username": username, "password": password}
    if otp is not None:
        body["otp"] = otp
    headers = {"X-Forwarded-For": address} if address else {}
    return requests.post(f"{url}/auth/staff/login", json=body, headers=headers, timeout=10)


def refused(response, status=401, code="login_failed", words=None):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and (words is None or words in error["message"]), error


def test_a_reviewer_signs_in_with_a_password_and_refreshes_as_the_staff_pages_do(auth):
    url, _ = auth
    tokens = staff_login(url, "reviewer.s", "Review@2026").json()
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"]
    staff = https_rpc(url, "auth", "list_staff", tokens["access_token"])
    assert staff.status_code == 403  # a reviewer is not an administrator
    renewed = requests.post(f"{url}/auth/token", timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": "staff-web"})
    assert renewed.status_code == 200 and renewed.json()["access_token"] != tokens["access_token"]
    refused(staff_login(url, "reviewer.s", "wrong"))


def test_an_administrator_needs_the_current_code_once_or_a_recovery_code_once(auth):
    url, enrolment = auth
    totp = pyotp.TOTP(enrolment["secret"])
    refused(staff_login(url, "admin.s", "Admin@2026"), words="动态验证码")
    refused(staff_login(url, "admin.s", "Admin@2026", otp="000000" if totp.now() != "000000" else "111111"))
    code = totp.now()
    signed_in = staff_login(url, "admin.s", "Admin@2026", otp=code)
    assert signed_in.status_code == 200, signed_in.text
    admin = signed_in.json()["access_token"]
    assert https_rpc(url, "auth", "list_staff", admin).status_code == 200
    refused(staff_login(url, "admin.s", "Admin@2026", otp=code), words="已使用")  # replayed

    recovery = enrolment["recovery_codes"][0]
    assert staff_login(url, "admin.s", "Admin@2026", otp=recovery).status_code == 200
    refused(staff_login(url, "admin.s", "Admin@2026", otp=recovery))
    assert staff_login(url, "admin.s", "Admin@2026", otp=enrolment["recovery_codes"][1].upper()).status_code == 200
    refused(staff_login(url, "admin.s", "wrong", otp=enrolment["recovery_codes"][2]))  # password first


def test_an_administrator_without_a_second_factor_cannot_sign_in_until_enrolled(auth, config):
    url, enrolment = auth
    refused(staff_login(url, "admin.new", "Admin@2026"), words="绑定")
    admin = staff_login(url, "admin.s", "Admin@2026", otp=enrolment["recovery_codes"][3]).json()["access_token"]
    enrolled = https_rpc(url, "auth", "enrol_second_factor", admin, username="admin.new")
    assert enrolled.status_code == 200
    new = enrolled.json()["result"]
    assert new["otpauth_uri"].startswith("otpauth://totp/") and len(new["recovery_codes"]) == 10
    assert staff_login(url, "admin.new", "Admin@2026", otp=pyotp.TOTP(new["secret"]).now()).status_code == 200
    # Stored encrypted and hashed: neither the secret nor a recovery code is in the database.
    stored = str(auth_database(config).staff.find_one({"_id": "admin.new"}))
    assert new["secret"] not in stored and not any(code in stored for code in new["recovery_codes"])


def test_staff_use_the_page_flow_of_their_own_client_with_pkce(auth):
    url, enrolment = auth
    verifier, challenge = pkce()
    session = requests.Session()
    params = {"response_type": "code", "client_id": "staff-web", "redirect_uri": STAFF_REDIRECT,
              "state": "s1", "code_challenge": challenge, "code_challenge_method": "S256"}
    form = session.get(f"{url}/auth/authorize", params=params, timeout=10)
    assert form.status_code == 200 and 'name="otp"' in form.text and "审核人员登录" in form.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    answer = session.post(f"{url}/auth/authorize", allow_redirects=False, timeout=10, data=dict(
        params, csrf_token=csrf, username="admin.s", password="Admin@2026",
        otp=pyotp.TOTP(enrolment["secret"]).now()))
    assert answer.status_code == 302 and answer.headers["Location"].startswith(STAFF_REDIRECT)
    code = code_from(answer)["code"][0]
    tokens = session.post(f"{url}/auth/token", timeout=10, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": STAFF_REDIRECT,
        "client_id": "staff-web", "code_verifier": verifier})
    assert tokens.status_code == 200, tokens.text
    assert https_rpc(url, "auth", "list_staff", tokens.json()["access_token"]).status_code == 200
    # A candidate's client does not sign staff in: it takes no password at all (its
    # candidates sign in at the registration system).
    posted = session.post(f"{url}/auth/authorize", allow_redirects=False, timeout=10, data=dict(
        params, client_id="upload-web", redirect_uri=REDIRECT, csrf_token=csrf, username="reviewer.s",
        password="Review@2026"))
    assert posted.status_code == 400 and "Location" not in posted.headers


def test_a_staff_code_presented_twice_ends_the_session_it_started(auth):
    url, enrolment = auth
    verifier, challenge = pkce()
    session = requests.Session()
    params = {"response_type": "code", "client_id": "staff-web", "redirect_uri": STAFF_REDIRECT,
              "state": "s1", "code_challenge": challenge, "code_challenge_method": "S256"}
    form = session.get(f"{url}/auth/authorize", params=params, timeout=10)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    answer = session.post(f"{url}/auth/authorize", allow_redirects=False, timeout=10, data=dict(
        params, csrf_token=csrf, username="admin.s", password="Admin@2026",
        otp=pyotp.TOTP(enrolment["secret"]).now()))
    grant = {"grant_type": "authorization_code", "code": code_from(answer)["code"][0],
             "redirect_uri": STAFF_REDIRECT, "client_id": "staff-web", "code_verifier": verifier}
    first = requests.post(f"{url}/auth/token", data=grant, timeout=10)
    assert first.status_code == 200
    assert https_rpc(url, "auth", "list_staff", first.json()["access_token"]).status_code == 200
    again = requests.post(f"{url}/auth/token", data=grant, timeout=10)
    assert again.status_code == 400 and again.json()["error"]["code"] == "invalid_grant"
    # The code may have been stolen: neither the access token nor the refresh token it gave stays good.
    wait_for(lambda: https_rpc(url, "auth", "list_staff", first.json()["access_token"]).status_code == 401,
             timeout=6, message="the access token of a replayed staff code revoked")
    refreshed = requests.post(f"{url}/auth/token", timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"], "client_id": "staff-web"})
    assert refreshed.status_code == 400


def test_a_staff_form_posted_without_its_cookies_token_is_shown_again_and_signs_no_one_in(auth, config):
    url, _ = auth
    _, challenge = pkce()
    params = {"response_type": "code", "client_id": "staff-web", "redirect_uri": STAFF_REDIRECT,
              "state": "s1", "code_challenge": challenge, "code_challenge_method": "S256"}
    session = requests.Session()
    form = session.get(f"{url}/auth/authorize", params=params, timeout=10)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    login = dict(params, username="reviewer.s", password="Review@2026")
    for token, cookies in ((csrf + "x", session.cookies), ("令牌", session.cookies), (csrf, {})):
        answer = requests.post(f"{url}/auth/authorize", allow_redirects=False, timeout=10, cookies=cookies,
                               data=dict(login, csrf_token=token))
        assert answer.status_code == 400 and "Location" not in answer.headers, answer.text[:200]
        assert "页面已过期，请重新登录" in answer.text and 'name="csrf_token"' in answer.text
        assert answer.cookies.get("auth_csrf")  # a fresh form with a fresh token
    db = auth_database(config)
    assert db.auth_codes.count_documents({}) == 0 and db.login_failures.count_documents({}) == 0
    # …while the form as it was served signs in.
    answer = session.post(f"{url}/auth/authorize", allow_redirects=False, timeout=10, data=dict(login, csrf_token=csrf))
    assert answer.status_code == 302 and answer.headers["Location"].startswith(STAFF_REDIRECT)


def test_a_request_for_another_response_type_goes_back_to_the_client_with_its_state(auth):
    url, _ = auth
    _, challenge = pkce()
    answer = requests.get(f"{url}/auth/authorize", allow_redirects=False, timeout=10, params={
        "response_type": "token", "client_id": "staff-web", "redirect_uri": STAFF_REDIRECT, "state": "s9",
        "code_challenge": challenge, "code_challenge_method": "S256"})
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"{STAFF_REDIRECT}?error=unsupported_response_type&state=s9"


def test_staff_sign_in_is_throttled_per_account_and_per_address(auth, config):
    url, _ = auth
    for n in range(5):
        refused(staff_login(url, "reviewer.s", "wrong", address=f"10.1.0.{n}"))
    refused(staff_login(url, "reviewer.s", "Review@2026", address="10.1.0.99"), 429, "rate_limited")
    # One address trying many accounts is stopped too (it could otherwise lock out every
    # account, five guesses each).
    for n in range(20):
        refused(staff_login(url, f"nobody.{n}", "wrong", address="10.2.0.1"))
    make_reviewer(config, "reviewer.t", ["3204"])
    limited = staff_login(url, "reviewer.t", "Review@2026", address="10.2.0.1")
    refused(limited, 429, "rate_limited")
    assert int(limited.headers["Retry-After"]) > 0
    assert staff_login(url, "reviewer.t", "Review@2026", address="10.2.0.2").status_code == 200
