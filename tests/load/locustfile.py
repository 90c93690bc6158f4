"""Locust: simulated candidates through the whole journey (the load benchmark, tests/load/README.md).

Each journey uses its own, never-used candidate (a submitted package takes no more
uploads): sign in as the page does, with the OAuth 2.0 code flow and PKCE at
/auth/authorize, the candidate's sign-in and consent at the registration system's stand-in
(the address auth sends it to; its forms' CSRF tokens read from the pages), back through
/auth/federation/callback, and /auth/token; load the package page, consent, upload six
realistic 100–200 KB document JPEGs to the right material types, submit. The stand-in's
own requests are timed under names of their own ("stand-in: ..."), outside the system's.
No think time: each simulated candidate starts its next step as soon as the last one
answers (a closed loop), so the run measures what the system can do.

Runs in its own virtualenv (Locust brings gevent; the services use eventlet), and
imports nothing from the project. tests/load/run.py prepares everything and starts it;
by hand:

    LOAD_CANDIDATES=var/load/candidates.txt LOAD_IMAGES=var/load/images \\
    /tmp/locustvenv/bin/locust -f tests/load/locustfile.py --headless -u 50 -r 50 \\
        -t 60s --host http://127.0.0.1:8000

Environment:
  LOAD_CANDIDATES  file with one unused registration number per line (required)
  LOAD_IMAGES      directory of pool JPEGs (required)
  LOAD_PASSWORD    the candidates' password at the registration stand-in (default Load@2026)
  LOAD_JOURNEYS    stop after this many journeys have ended (default: when candidates run out)
  LOAD_RESULTS     write every request's timing and the journey outcomes here as JSON
"""
import base64
import hashlib
import itertools
import json
import os
import re
import secrets
import time
from collections import Counter, defaultdict
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from locust import constant, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopUser

CLIENT_ID = "upload-web"
NOTICE_VERSION = "2026-1"
# The six uploads of a typical journey: both sides of the ID card, then one of each.
UPLOADS = ["id_card", "id_card", "degree_certificate", "probation_certificate",
           "registration_form", "work_certificate"]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NEXT = re.compile(r'name="next" value="([^"]+)"')
CONSENT_FORM = re.compile(r'<form method="post" action="(/authorize[^"]*)"')
BOUNDARY = "----loadbench" + "7d3a1f0c9b2e4d58"

NAMES = {
    "authorize": "GET /auth/authorize",
    "standin_authorize": "stand-in: GET /authorize",
    "standin_login": "stand-in: POST /login",
    "standin_consent": "stand-in: POST /authorize",
    "callback": "GET /auth/federation/callback",
    "token": "POST /auth/token",
    "package": "GET /api/v1/package",
    "consent": "POST /api/v1/package/consent",
    "upload": "POST /api/v1/package/items/{material_type}/images",
    "submit": "POST /api/v1/package/submit",
}
# The whole sign-in as the candidate waits for it, from the first request to the tokens
# (issue 27's "sign-in" figure; before federation that was POST /auth/authorize alone),
# and the part of it spent in this system's requests (the stand-in's steps left out).
SIGN_IN = "sign-in: the whole federated flow"
SIGN_IN_OURS = "sign-in: this system's three requests"
OURS = ("authorize", "callback", "token")


def multipart(data, filename):
    """A ready-to-send multipart/form-data body with one `file` part."""
    head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{filename}\"\r\nContent-Type: image/jpeg\r\n\r\n").encode()
    return head + data + f"\r\n--{BOUNDARY}--\r\n".encode()


class Pool:
    """What every simulated candidate shares: unused candidates, request bodies, results."""

    def __init__(self):
        self.candidates = None
        self.bodies = []
        self.next_body = None
        self.journeys_limit = int(os.environ.get("LOAD_JOURNEYS") or 0)
        self.password = os.environ.get("LOAD_PASSWORD", "Load@2026")
        self.redirect = None
        self.timings = defaultdict(list)   # name -> [(started_at, ms, ok)]
        self.errors = Counter()            # "name: status code" -> n
        self.journeys = Counter()          # started, completed, failed
        self.active = 0                    # journeys under way
        self.started_at = None
        self.ended_at = None

    def load(self, host):
        path = os.environ.get("LOAD_CANDIDATES")
        images = os.environ.get("LOAD_IMAGES")
        if not path or not images:
            raise SystemExit("LOAD_CANDIDATES and LOAD_IMAGES must be set (see tests/load/run.py)")
        self.candidates = iter([line.strip() for line in Path(path).read_text().splitlines()
                                if line.strip()])
        for image in sorted(Path(images).glob("*.jpg")):
            self.bodies.append(multipart(image.read_bytes(), image.name))
        if not self.bodies:
            raise SystemExit(f"no JPEGs in {images}")
        self.next_body = itertools.cycle(range(len(self.bodies)))
        self.redirect = f"{host.rstrip('/')}/callback"
        self.started_at = time.time()

    def take_candidate(self):
        if self.journeys_limit and self.journeys["started"] >= self.journeys_limit:
            return None
        candidate = next(self.candidates, None)
        if candidate is not None:
            self.journeys["started"] += 1
            self.active += 1
        return candidate

    def body(self):
        return self.bodies[next(self.next_body)]

    def finished(self, outcome):
        self.journeys[outcome] += 1
        self.active -= 1

    def dump(self, path):
        self.ended_at = self.ended_at or time.time()
        Path(path).write_text(json.dumps({
            "started_at": self.started_at, "ended_at": self.ended_at,
            "journeys": dict(self.journeys), "errors": dict(self.errors),
            "timings": {name: rows for name, rows in self.timings.items()},
        }))


POOL = Pool()


@events.test_start.add_listener
def _on_start(environment, **_):
    POOL.load(environment.host or "http://127.0.0.1:8000")


@events.request.add_listener
def _on_request(request_type, name, response_time, response_length, exception=None,
                start_time=None, response=None, **_):
    ok = exception is None
    POOL.timings[name].append((round(start_time or 0, 4), round(response_time, 2), ok))
    if not ok:
        status = getattr(response, "status_code", None) or type(exception).__name__
        code = ""
        try:
            code = json.loads(response.content)["error"]["code"]
        except Exception:  # not a JSON error body (HTML form, connection error)
            pass
        POOL.errors[f"{name}: {status} {code}".strip()] += 1


@events.quitting.add_listener
def _on_quit(environment, **_):
    POOL.ended_at = POOL.ended_at or time.time()
    out = os.environ.get("LOAD_RESULTS")
    if out:
        POOL.dump(out)


class JourneyFailed(Exception):
    pass


class Candidate(FastHttpUser):
    """One simulated candidate at a time; a new one for every journey."""

    wait_time = constant(0)
    network_timeout = 60.0
    connection_timeout = 10.0
    max_retries = 0

    @task
    def journey(self):
        number = POOL.take_candidate()
        if number is None:
            # Nothing left to start: the last simulated candidate to finish ends the run.
            if POOL.active == 0 and self.environment.runner is not None:
                POOL.ended_at = time.time()
                self.environment.runner.quit()
            raise StopUser()
        try:
            token = self.sign_in(number)
            headers = {"Authorization": f"Bearer {token}"}
            self.expect("GET", "/api/v1/package", "package", 200, headers=headers)
            self.expect("POST", "/api/v1/package/consent", "consent", 200, headers=headers,
                        json={"notice_version": NOTICE_VERSION})
            upload_headers = dict(headers, **{
                "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
            for material_type in UPLOADS:
                self.expect("POST", f"/api/v1/package/items/{material_type}/images", "upload", 201,
                            headers=upload_headers, data=POOL.body())
            package = self.expect("POST", "/api/v1/package/submit", "submit", 200, headers=headers)
            if json.loads(package.content)["status"] != "submitted":
                raise JourneyFailed("not submitted")
        except JourneyFailed:
            POOL.finished("failed")
            return
        except Exception as exc:  # an unexpected answer (unparseable body, ...): a failed journey
            POOL.errors[f"journey: {type(exc).__name__}"] += 1
            POOL.finished("failed")
            return
        POOL.finished("completed")

    def sign_in(self, number):
        """OAuth 2.0 authorization code flow with PKCE, as the upload page does it, timed
        as a whole besides step by step."""
        started_at, started = time.time(), time.perf_counter()
        self.ours_ms = 0.0
        token = self.federated_sign_in(number)
        for name, ms in ((SIGN_IN, 1000 * (time.perf_counter() - started)), (SIGN_IN_OURS, self.ours_ms)):
            self.environment.events.request.fire(
                request_type="FLOW", name=name, response_time=ms, response_length=0,
                exception=None, start_time=started_at, context={})
        return token

    def federated_sign_in(self, number):
        self.client.cookiejar.clear()
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        params = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": POOL.redirect,
                  "state": secrets.token_hex(8), "code_challenge": challenge,
                  "code_challenge_method": "S256"}
        query = "&".join(f"{k}={v}" for k, v in params.items()).replace(":", "%3A").replace("/", "%2F")
        sent = self.expect("GET", f"/auth/authorize?{query}", "authorize", 302, allow_redirects=False)
        provider = sent.headers.get("Location", "")
        origin = "{0.scheme}://{0.netloc}".format(urlparse(provider))
        form = self.expect("GET", provider, "standin_authorize", 200)  # on to its sign-in form
        found, next_url = CSRF.search(form.text or ""), NEXT.search(form.text or "")
        if not found or not next_url:
            raise JourneyFailed("no sign-in form at the registration stand-in")
        consent = self.expect("POST", f"{origin}/login", "standin_login", 200, data={
            "csrf_token": found.group(1), "next": unescape(next_url.group(1)), "login": number,
            "password": POOL.password})
        found, action = CSRF.search(consent.text or ""), CONSENT_FORM.search(consent.text or "")
        if not found or not action:
            raise JourneyFailed("no consent form at the registration stand-in")
        answer = self.expect("POST", origin + unescape(action.group(1)), "standin_consent", 302,
                             allow_redirects=False, data={"csrf_token": found.group(1), "decision": "allow"})
        back = self.expect("GET", answer.headers.get("Location", ""), "callback", 302, allow_redirects=False)
        code = parse_qs(urlparse(back.headers.get("Location", "")).query).get("code", [None])[0]
        tokens = self.expect("POST", "/auth/token", "token", 200, data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": POOL.redirect,
            "client_id": CLIENT_ID, "code_verifier": verifier})
        return json.loads(tokens.content)["access_token"]

    def expect(self, method, path, step, status, data=None, **kwargs):
        """One request, counted as failed unless it answers `status`; JourneyFailed then."""
        if isinstance(data, dict):
            kwargs.setdefault("headers", {})["Content-Type"] = "application/x-www-form-urlencoded"
            data = "&".join(f"{k}={_quote(v)}" for k, v in data.items())
        started = time.perf_counter()
        with self.client.request(method, path, name=NAMES[step], data=data, catch_response=True,
                                 **kwargs) as response:
            if step in OURS:
                self.ours_ms = getattr(self, "ours_ms", 0.0) + 1000 * (time.perf_counter() - started)
            if response.status_code != status:
                response.failure(f"{response.status_code}")
                raise JourneyFailed(step)
            response.success()
            return response


def _quote(value):
    from urllib.parse import quote
    return quote(str(value), safe="")
