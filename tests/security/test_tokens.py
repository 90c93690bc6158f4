"""Token attacks against the running system (DESIGN §4, §5).

Every forged, stale or revoked token must get 401 `unauthenticated` at each HTTP
service (materials, notify, auth) and `Unauthenticated` over RPC (review.list_queue).
A control token signed with the real key proves the forging itself is sound, so a
refusal is for the flaw and not for a slip of the test."""
import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from nameko.exceptions import RemoteError

from secsupport import assert_no_leak
from support import bearer, rpc, staff_token, wait_for

ATTACKER_KID = "attacker-1"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(obj):
    return b64(json.dumps(obj, separators=(",", ":")).encode())


def unverified(token):
    return jwt.decode(token, options={"verify_signature": False})


class JwksServer:
    """An attacker's key server on 127.0.0.1: serves a JWKS, records every request."""

    def __init__(self, public_jwk):
        self.requests = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                owner.requests.append(self.path)
                body = json.dumps({"keys": [public_jwk]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class Forger:
    def __init__(self, system):
        from services.auth.keys import KeyRing
        self.ring = KeyRing(system.keys_dir, "test-1")
        self.real_key = self.ring.private["test-1"]
        self.attacker_key = ec.generate_private_key(ec.SECP256R1())
        jwk = jwt.algorithms.ECAlgorithm.to_jwk(self.attacker_key.public_key(), as_dict=True)
        self.attacker_jwk = dict(jwk, kid=ATTACKER_KID, alg="ES256", use="sig")
        published = requests.get(f"{system.url}/auth/jwks.json", timeout=10).json()["keys"]
        self.published = next(k for k in published if k["kid"] == "test-1")
        public = jwt.PyJWK(self.published, algorithm="ES256").key
        self.public_pem = public.public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)

    def fresh(self, base, **changes):
        now = int(time.time())
        claims = {k: v for k, v in base.items() if k != "sid"}
        claims.update(iat=now, nbf=now, exp=now + 600, jti=hashlib.sha1(
            f"{now}{time.perf_counter()}".encode()).hexdigest())
        for key, value in changes.items():
            if value is None:
                claims.pop(key, None)
            else:
                claims[key] = value
        return claims

    def sign(self, claims, key=None, **headers):
        headers.setdefault("kid", "test-1")
        return jwt.encode(claims, key or self.real_key, algorithm="ES256", headers=headers)

    def unsigned(self, claims, alg="none"):
        return f"{b64json({'alg': alg, 'typ': 'JWT', 'kid': 'test-1'})}.{b64json(claims)}."

    def hmac_with(self, claims, secret, kid="test-1"):
        signing_input = f"{b64json({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{b64json(claims)}"
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{b64(signature)}"

    @staticmethod
    def edited(token, **changes):
        header, payload, signature = token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims.update(changes)
        return f"{header}.{b64json(claims)}.{signature}"

    def attacks(self, real_token, base, jku_url, edit):
        """name -> forged token, each carrying exactly one flaw."""
        now = int(time.time())
        jwk_header = {k: v for k, v in self.attacker_jwk.items() if k != "kid"}
        return {
            "alg_none": self.unsigned(self.fresh(base)),
            "alg_None": self.unsigned(self.fresh(base), alg="None"),
            "hs256_public_key_pem": self.hmac_with(self.fresh(base), self.public_pem),
            "hs256_public_jwk_json": self.hmac_with(
                self.fresh(base), json.dumps(self.published).encode()),
            "edited_payload": self.edited(real_token, **edit),
            "expired": self.sign(self.fresh(base, iat=now - 1200, nbf=now - 1200, exp=now - 60)),
            "not_yet_valid_nbf": self.sign(self.fresh(base, iat=now, nbf=now + 3600, exp=now + 4000)),
            "issued_in_the_future": self.sign(self.fresh(base, iat=now + 3600, nbf=None,
                                                         exp=now + 4000)),
            "wrong_audience": self.sign(self.fresh(base, aud="another-system")),
            "wrong_issuer": self.sign(self.fresh(base, iss="https://evil.example/auth")),
            "jku_attacker_kid": self.sign(self.fresh(base), key=self.attacker_key, kid=ATTACKER_KID,
                                          jku=f"{jku_url}/jwks.json"),
            "jku_real_kid": self.sign(self.fresh(base), key=self.attacker_key, kid="test-1",
                                      jku=f"{jku_url}/jwks.json"),
            "x5u_header": self.sign(self.fresh(base), key=self.attacker_key, kid=ATTACKER_KID,
                                    x5u=f"{jku_url}/cert.pem"),
            "embedded_jwk": self.sign(self.fresh(base), key=self.attacker_key, kid=ATTACKER_KID,
                                      jwk=jwk_header),
        }


@pytest.fixture(scope="module")
def forger(system):
    return Forger(system)


@pytest.fixture(scope="module")
def tokens(system):
    candidate = system.login("2026320100001")["access_token"]
    reviewer = staff_token(system.config, "reviewer.3201", "Review@2026")
    return {"candidate": candidate, "reviewer": reviewer}


def http_checks(system, token):
    """(what, response) for each HTTP service, with `token`."""
    headers = bearer(token)
    return [
        ("materials", requests.get(f"{system.url}/api/v1/package", headers=headers, timeout=15)),
        ("notify", requests.get(f"{system.url}/api/v1/messages", headers=headers, timeout=15)),
        ("auth", requests.post(f"{system.url}/auth/logout", headers=headers, timeout=15)),
    ]


def rpc_outcome(system, token):
    try:
        with rpc(system.config, token) as proxy:
            proxy.review.list_queue(limit=1)
    except RemoteError as exc:
        return exc.exc_type
    return "ok"


def assert_refused_everywhere(system, candidate_token, staff_token_, what):
    for service, response in http_checks(system, candidate_token):
        assert response.status_code == 401, f"{what} at {service}: {response.status_code} {response.text}"
        assert response.json()["error"]["code"] == "unauthenticated", f"{what} at {service}"
        assert_no_leak(response, f"{what} at {service}")
    assert rpc_outcome(system, staff_token_) == "Unauthenticated", f"{what} over RPC"


def test_forged_and_stale_tokens_are_refused_by_every_service_and_no_key_url_is_fetched(
        system, forger, tokens):
    candidate_base = unverified(tokens["candidate"])
    staff_base = unverified(tokens["reviewer"])

    # Control: the same claims, freshly signed with the real key, are accepted.
    control_candidate = forger.sign(forger.fresh(candidate_base))
    control_staff = forger.sign(forger.fresh(staff_base))
    assert requests.get(f"{system.url}/api/v1/package", headers=bearer(control_candidate),
                        timeout=15).status_code == 200
    assert requests.get(f"{system.url}/api/v1/messages", headers=bearer(control_candidate),
                        timeout=15).status_code == 200
    assert rpc_outcome(system, control_staff) == "ok"

    with JwksServer(forger.attacker_jwk) as keyserver:
        candidate_attacks = forger.attacks(tokens["candidate"], candidate_base, keyserver.url,
                                           edit={"sub": "2026320100002"})
        staff_attacks = forger.attacks(tokens["reviewer"], staff_base, keyserver.url,
                                       edit={"role": "admin", "region": "*", "sites": ["*"]})
        failures = []
        for name in candidate_attacks:
            try:
                assert_refused_everywhere(system, candidate_attacks[name], staff_attacks[name], name)
            except AssertionError as exc:
                failures.append(str(exc).splitlines()[0])
        time.sleep(1.0)  # a verifier that fetched keys in the background would have done so by now
        assert keyserver.requests == [], f"a service fetched the attacker's key URL: {keyserver.requests}"
    assert not failures, "accepted or mis-refused:\n" + "\n".join(failures)

    # The honest tokens these were made from still work (nothing above revoked them).
    assert requests.get(f"{system.url}/api/v1/package", headers=bearer(tokens["candidate"]),
                        timeout=15).status_code == 200
    assert rpc_outcome(system, tokens["reviewer"]) == "ok"


@pytest.mark.parametrize("value", ["", "Bearer", "Bearer ", "Basic Zm9vOmJhcg==", "Bearer a.b",
                                   "Bearer " + "A" * 9000, "Bearer \x00.\x00.\x00",
                                   "Bearer eyJhbGciOiJFUzI1NiJ9.e30.AAAA"])
def test_malformed_authorization_headers_get_401_without_internals(system, value):
    for path, method in (("/api/v1/package", "GET"), ("/api/v1/messages", "GET"),
                         ("/auth/logout", "POST")):
        try:
            response = requests.request(method, f"{system.url}{path}", timeout=15,
                                        headers={"Authorization": value})
        except (requests.exceptions.InvalidHeader, ValueError):
            continue  # the client itself refuses to send it
        assert response.status_code in (400, 401, 431), (path, value[:20], response.status_code)
        if response.status_code == 401:
            assert response.json()["error"]["code"] == "unauthenticated"
        assert_no_leak(response, f"{path} with {value[:20]!r}")


def test_a_logged_out_token_is_refused_everywhere_within_seconds(system):
    tokens = system.login("2026320100003")
    access, refresh = tokens["access_token"], tokens["refresh_token"]
    assert requests.get(f"{system.url}/api/v1/package", headers=bearer(access), timeout=15).status_code == 200
    # Staff sessions end the same way (HTTP logout with a staff token).
    staff = staff_token(system.config, "reviewer.3204", "Review@2026")
    assert rpc_outcome(system, staff) == "ok"

    assert requests.post(f"{system.url}/auth/logout", headers=bearer(access), timeout=15,
                         data={"refresh_token": refresh}).status_code == 204
    assert requests.post(f"{system.url}/auth/logout", headers=bearer(staff), timeout=15).status_code == 204

    def refused():
        return all(r.status_code == 401 for _, r in http_checks(system, access)) \
            and rpc_outcome(system, staff) == "Unauthenticated"
    started = time.monotonic()
    wait_for(refused, timeout=15, interval=0.5, message="revoked tokens refused everywhere")
    assert time.monotonic() - started < 10
    assert_refused_everywhere(system, access, staff, "revoked")
    # The refresh token went with it.
    again = requests.post(f"{system.url}/auth/token", timeout=15, data={
        "grant_type": "refresh_token", "refresh_token": refresh, "client_id": "upload-web"})
    assert again.status_code == 400 and again.json()["error"]["code"] == "invalid_grant"


def test_a_disabled_staff_accounts_token_is_refused_over_rpc_and_http(system, admin_token):
    username = "sec.disabled.3204"
    with rpc(system.config, admin_token) as proxy:
        proxy.auth.save_staff(username, "reviewer", "32", ["3204"], "Review@2026x")
    signed_in = requests.post(f"{system.url}/auth/staff/login", timeout=15,
                              json={"username": username, "password": "Review@2026x"})
    assert signed_in.status_code == 200, signed_in.text
    issued = signed_in.json()
    token = issued["access_token"]
    assert rpc_outcome(system, token) == "ok"
    # A reviewer's token is not a candidate's: refused by role before the account is disabled.
    assert requests.get(f"{system.url}/api/v1/package", headers=bearer(token), timeout=15).status_code == 403

    with rpc(system.config, admin_token) as proxy:
        proxy.auth.disable_staff(username)

    # Each service learns of the revocation on its own poll of auth (every 2 s).
    wait_for(lambda: rpc_outcome(system, token) == "Unauthenticated"
             and all(r.status_code == 401 for _, r in http_checks(system, token)),
             timeout=15, interval=0.5, message="disabled account's token refused everywhere")
    for service, response in http_checks(system, token):
        assert response.status_code == 401, (service, response.status_code, response.text)
    refresh = requests.post(f"{system.url}/auth/token", timeout=15, data={
        "grant_type": "refresh_token", "refresh_token": issued["refresh_token"], "client_id": "staff-web"})
    assert refresh.status_code == 400 and refresh.json()["error"]["code"] == "invalid_grant"
    again = requests.post(f"{system.url}/auth/staff/login", timeout=15,
                          json={"username": username, "password": "Review@2026x"})
    assert again.status_code == 401 and again.json()["error"]["code"] == "login_failed"
