"""Headers and envelopes (DESIGN §4, §5): requests no entrypoint takes are refused in the JSON
envelope like every other error (DESIGN §4); the sign-in form's CSRF cookie is Secure
whenever the client came over HTTPS; the page's CSP fixes the base URL and where forms
may post."""
import re

import pytest
import requests

from secsupport import assert_no_leak
from support import bearer, pkce

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def token(system):
    return system.login("2026320400009")["access_token"]


def refusals(system):
    """(method, url, status, code): through the one origin, and straight at each service."""
    direct = {name: f"http://127.0.0.1:{port}" for name, port in system.ports.items()}
    return [
        ("GET", f"{system.url}/api/v1/no/such/thing", 404, "not_found"),
        ("GET", f"{system.url}/auth/no-such-page", 404, "not_found"),
        ("PUT", f"{system.url}/api/v1/package", 405, "method_not_allowed"),
        ("DELETE", f"{system.url}/api/v1/package/submit", 405, "method_not_allowed"),
        ("GET", f"{system.url}/api/v1/messages/{'0' * 32}/read", 405, "method_not_allowed"),
        ("GET", f"{system.url}/auth/logout", 405, "method_not_allowed"),
        ("GET", f"{direct['review']}/anything", 404, "not_found"),
        ("POST", f"{direct['review']}/healthz/review", 405, "method_not_allowed"),
        ("GET", f"{direct['notify']}/api/v1/package", 404, "not_found"),
    ]


def test_unknown_paths_and_wrong_methods_are_refused_in_the_json_envelope(system, token):
    for method, url, status, code in refusals(system):
        response = requests.request(method, url, headers=bearer(token), timeout=15)
        what = f"{method} {url}"
        assert response.status_code == status, (what, response.status_code, response.text[:200])
        assert response.headers["Content-Type"].startswith("application/json"), what
        error = response.json()["error"]
        assert error["code"] == code and HAN.search(error["message"]), (what, error)
        assert response.headers.get("X-Content-Type-Options", "").startswith("nosniff"), what
        assert_no_leak(response, what)
        if status == 405:
            assert method not in response.headers["Allow"] and response.headers["Allow"], what


SIGN_IN_COOKIES = {  # client -> (its redirect path, the cookie auth sets on its way in, status)
    "staff-web": ("/staff/callback", "auth_csrf", 200),         # the staff sign-in form's CSRF token
    "upload-web": ("/callback", "auth_browser", 302),           # off to the registration system
}


def sign_in_cookie(system, url, client_id, headers=None):
    """The attributes of the cookie `url`'s authorization endpoint sets for `client_id`,
    lower-cased."""
    path, name, status = SIGN_IN_COOKIES[client_id]
    params = {"response_type": "code", "client_id": client_id, "state": "s",
              "redirect_uri": f"{system.url}{path}", "code_challenge": pkce()[1],
              "code_challenge_method": "S256"}
    response = requests.get(f"{url}/auth/authorize", params=params, headers=headers, timeout=15,
                            allow_redirects=False)
    assert response.status_code == status, response.text[:200]
    (cookie,) = [c for c in response.raw.headers.getlist("Set-Cookie") if c.startswith(f"{name}=")]
    return [part.strip().lower() for part in cookie.split(";")]


def test_the_sign_in_cookies_are_secure_when_the_proxy_says_the_client_came_over_https(system):
    auth = f"http://127.0.0.1:{system.ports['auth']}"
    # Behind the production proxy, which sets X-Forwarded-Proto from its TLS listener.
    over_https = sign_in_cookie(system, auth, "staff-web", {"X-Forwarded-Proto": "https"})
    assert "secure" in over_https and "httponly" in over_https and "samesite=strict" in over_https
    # The browser's binding to its sign-in at the registration system comes back from
    # that system's origin by a top-level navigation: Lax, on the callback's path only.
    binding = sign_in_cookie(system, auth, "upload-web", {"X-Forwarded-Proto": "https"})
    assert "secure" in binding and "httponly" in binding and "samesite=lax" in binding
    assert "path=/auth/federation" in binding
    # Plain HTTP (local development) keeps cookies the browser will send back.
    for client in SIGN_IN_COOKIES:
        assert "secure" not in sign_in_cookie(system, system.url, client)


def test_the_local_proxy_tells_the_services_the_scheme_the_client_really_used(system):
    """nginx sets X-Forwarded-Proto itself: a client's own header (claiming HTTPS over
    plain HTTP) does not reach auth, or the cookie would be Secure and never come back."""
    for client in SIGN_IN_COOKIES:
        assert "secure" not in sign_in_cookie(system, system.url, client, {"X-Forwarded-Proto": "https"})


def test_the_page_fixes_its_base_url_and_where_its_forms_may_post(system):
    for path in ("/", "/callback"):
        csp = requests.get(f"{system.url}{path}", timeout=15).headers["Content-Security-Policy"]
        directives = {d.strip().split(" ", 1)[0]: d.strip() for d in csp.split(";") if d.strip()}
        assert directives["base-uri"] == "base-uri 'none'", (path, csp)
        assert directives["form-action"] == "form-action 'self'", (path, csp)
