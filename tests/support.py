"""Helpers the integration and e2e suites share: candidates made at the registration
system's stand-in, an OAuth client that signs them in through it, RPC as someone, waits.

Candidates: `candidate(...)` builds one import_candidates record (no password: DESIGN §5);
`create_candidates(standin, records)` is the one way a test makes candidates who can sign
in: the stand-in keeps their accounts (password PASSWORD) and feeds the records to auth
through import_candidates, as the registration system does. `standin` is the
`registration_standin` fixture (integration) or `system.standin` (the whole system)."""
import base64
import os
import hashlib
import html
import re
import secrets
import socket
import time
from contextlib import contextmanager
from urllib.parse import parse_qs, urljoin, urlparse

import requests
from nameko.standalone.rpc import ClusterRpcProxy

from common.idnumber import check_character as id_check_char
from unit.imagefactory import document_jpeg

MONGO_URI = os.environ.get("MONGO_URI", "mongodb://127.0.0.1:27017/")
S3_ENDPOINT = os.environ.get("S3_ENDPOINT", "127.0.0.1:9000")
REDIRECT = "http://127.0.0.1:8000/callback"
PASSWORD = "Demo@2026"


# Ports for the servers a test starts. Not the OS's pick (bind to port 0): that comes
# from the ephemeral range, where every outgoing connection of every process also takes
# its local port, so between our check and the server's bind a client could take it
# (CI, 2026-12-07: notify's port, "Address already in use", a whole lane lost). Each lane
# gets a block of its own below the ephemeral range instead (tests/lanes.py sets
# TEST_PORT_BLOCK); its port+10000, where SeaweedFS puts gRPC, stays below it too.
PORT_BLOCK_SIZE = 1000
PORT_BLOCKS_START = 10000  # blocks 0-9: 10000-19999; +10000: 20000-29999 (ephemeral from 32768)


def _port_block():
    block = int(os.environ.get("TEST_PORT_BLOCK", os.getpid() % 10))
    start = PORT_BLOCKS_START + (block % 10) * PORT_BLOCK_SIZE
    while True:  # round the block again: a port handed out long ago is bound or free by then
        yield from range(start, start + PORT_BLOCK_SIZE)


_ports = _port_block()


def free_port():
    """The next port of this lane's block that nothing is bound to now."""
    for _ in range(PORT_BLOCK_SIZE):
        port = next(_ports)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in the block of TEST_PORT_BLOCK={os.environ.get('TEST_PORT_BLOCK')}")


def free_ports(count):
    """`count` distinct free ports whose port+10000 is free too (SeaweedFS and others put
    their gRPC listener there)."""
    from dev.procs import port_open
    found = []
    while len(found) < count:
        port = free_port()
        if port not in found and not port_open(port + 10000):
            found.append(port)
    return found


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize(auth_url, username, password=PASSWORD, redirect=REDIRECT, session=None, challenge=None,
              consent=True):
    """The page's request at auth's authorization endpoint, the candidate's sign-in and
    consent at the registration system, and its answer at auth's callback; returns
    (session, auth's answer to the callback, the page's parameters). Signed in, that
    answer is a 302 to `redirect` with our code."""
    session = session or requests.Session()
    params = {"response_type": "code", "client_id": "upload-web", "redirect_uri": redirect,
              "state": secrets.token_hex(8), "code_challenge": challenge or pkce()[1],
              "code_challenge_method": "S256"}
    start = session.get(f"{auth_url}/auth/authorize", params=params, allow_redirects=False, timeout=10)
    assert start.status_code == 302, start.text
    answer = provider_sign_in(session, start.headers["Location"], username, password, consent)
    assert answer.status_code == 302, answer.text
    callback = session.get(answer.headers["Location"], allow_redirects=False, timeout=20)
    return session, callback, params


def _form_field(page, name):
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    return html.unescape(found.group(1)) if found else None


def provider_sign_in(session, authorize_url, username, password=PASSWORD, consent=True):
    """At the registration system's stand-in: sign in (if not already) and answer its
    consent page; returns its answer (a 302 back to the client, not followed)."""
    page = session.get(authorize_url, timeout=10)
    assert page.status_code == 200, page.text
    if 'action="/login"' in page.text:
        page = session.post(urljoin(page.url, "/login"), timeout=10, data={
            "csrf_token": _form_field(page.text, "csrf_token"), "next": _form_field(page.text, "next"),
            "login": username, "password": password})
        assert page.status_code == 200 and "consent-title" in page.text, page.text
    action = html.unescape(re.search(r'<form method="post" action="(/authorize[^"]*)"', page.text).group(1))
    return session.post(urljoin(page.url, action), allow_redirects=False, timeout=10, data={
        "csrf_token": _form_field(page.text, "csrf_token"), "decision": "allow" if consent else "deny"})


def create_candidates(standin, records, password=PASSWORD, feed=True):
    """Make candidates as the registration system does: their accounts at its stand-in
    (`standin`: the `registration_standin` fixture, `system.standin`, or its URL), their records fed to auth
    through import_candidates. Returns the import's summary (created, updated, unchanged,
    errors). `feed=False` keeps the accounts only: registration data not yet sent to us."""
    url = standin if isinstance(standin, str) else standin.url
    response = requests.post(f"{url}/_standin/candidates", params=None if feed else {"feed": "0"},
                             json=[dict(record, password=password) for record in records], timeout=120)
    assert response.status_code == 201, response.text
    return response.json()


def code_from(response):
    return parse_qs(urlparse(response.headers["Location"]).query)


def login(auth_url, username, password=PASSWORD, redirect=REDIRECT):
    """The whole code flow with PKCE, the candidate signing in at the registration
    system's stand-in (made with create_candidates); returns our token response."""
    verifier, challenge = pkce()
    session, response, _ = authorize(auth_url, username, password, redirect=redirect,
                                     challenge=challenge)
    assert response.status_code == 302, response.text
    code = code_from(response)["code"][0]
    tokens = session.post(f"{auth_url}/auth/token", timeout=10, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
        "client_id": "upload-web", "code_verifier": verifier})
    assert tokens.status_code == 200, tokens.text
    return tokens.json()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def rpc(config, token=None, timeout=15):
    context = {"authorization": f"Bearer {token}"} if token else None
    with ClusterRpcProxy(config, timeout=timeout, context_data=context) as proxy:
        yield proxy


def https_rpc(url, service, method, token=None, **kwargs):
    """POST {url}/rpc/{service}/{method} with the keyword arguments as JSON (DESIGN §5)."""
    return requests.post(f"{url}/rpc/{service}/{method}", json=kwargs, timeout=20,
                         headers=bearer(token) if token else {})


def wait_for(check, timeout=10, interval=0.05, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}")


def id_number(area="320400", serial=1):
    first17 = f"{area}19950101{serial:03d}"
    return first17 + id_check_char(first17)


def candidate(number, site="3204", serial=1, category="integrated_practitioner", **overrides):
    record = {"registration_number": number, "name": f"考生{serial}", "id_number":
              id_number(f"{site}00", serial), "phone": f"1380000{serial:04d}", "region": site[:2],
              "site": site, "category": category, "exam_year": 2026}
    record.update(overrides)
    return record


def make_admin(config, username="admin.test", password="Admin@2026", region="*"):
    """An administrator made at the console; returns auth's StaffAdministration there."""
    from services.auth.cli import use_cases
    staff = use_cases(config).staff
    staff.save_staff(username, "admin", region, [], password)
    return staff


def make_reviewer(config, username, sites, region="32", password="Review@2026"):
    from services.auth.cli import use_cases
    use_cases(config).staff.save_staff(username, "reviewer", region, sites, password)


def staff_tokens(config, username, password):
    """A staff member's token response as auth issues it at sign-in, made in this process
    (the password is checked; signing in itself, second factor included, is
    test_staff_sign_in's subject)."""
    from services.auth.cli import use_cases
    auth = use_cases(config)
    assert auth.staff.password_matches(username, password), username
    return auth.tokens.console_staff_tokens(username)


def staff_token(config, username, password):
    return staff_tokens(config, username, password)["access_token"]


def staff_client(system, username, password):
    """An RPC client over HTTPS at the system's origin, signed in as `username` the way
    staff_tokens makes it. (The admin signing in through the second factor waited up to
    30 s for a TOTP step the seed had not used yet: that sign-in is test_staff_sign_in's.)"""
    from common.rpc_client import RpcClient
    client = RpcClient(system.url, timeout=30)
    client.use(staff_tokens(system.config, username, password))
    return client


def wait_until_queued(proxy, package_id, timeout=20, **filters):
    """Wait until `package_id` is a case in the review queue the proxy's reviewer sees."""
    wait_for(lambda: any(i["package_id"] == package_id
                         for i in proxy.review.list_queue(limit=200, **filters)["items"]),
             timeout=timeout, message=f"{package_id} in the review queue")


def return_by_reviewer(system, package_id, items, site="3204", respond_by=None):
    """The site's seeded reviewer claims the submitted package once it is queued and
    returns `items` ([{"material_type", "reason"}]) over RPC, as the staff page would;
    returns the reviewer's token for what the test has them do next."""
    reviewer = staff_token(system.config, f"reviewer.{site}", "Review@2026")
    with rpc(system.config, reviewer) as proxy:
        wait_until_queued(proxy, package_id, timeout=20)
        proxy.review.claim(package_id)
        proxy.review.return_materials(package_id, items=items, respond_by=respond_by)
    return reviewer


# -- a candidate at the system's one origin (tests/e2e/system.py) -----------------------------------
NOTICE = "2026-1"
REQUIRED = (("id_card", 2), ("degree_certificate", 1), ("probation_certificate", 1),
            ("registration_form", 1))


class Candidate:
    """One signed-in candidate at the system's origin."""

    def __init__(self, system, number, consent=True):
        self.system = system
        self.number = number
        tokens = system.login(number)
        self.token = tokens["access_token"]
        self.refresh_token = tokens["refresh_token"]
        if consent:
            assert self.call("POST", "/package/consent", json={"notice_version": NOTICE}).status_code == 200

    def call(self, method, path, token=None, **kwargs):
        kwargs.setdefault("timeout", 30)
        return requests.request(method, f"{self.system.url}/api/v1{path}",
                                headers=bearer(token or self.token), **kwargs)

    def upload(self, material_type, data=None, filename="scan.jpg", content_type="image/jpeg"):
        data = document_jpeg(seed=int(self.number[-3:])) if data is None else data
        return self.call("POST", f"/package/items/{material_type}/images",
                         files={"file": (filename, data, content_type)})

    def package(self):
        response = self.call("GET", "/package")
        assert response.status_code == 200, response.text
        return response.json()

    def item(self, material_type):
        return next(i for i in self.package()["items"] if i["material_type"] == material_type)

    def fill_required(self):
        image_ids = []
        for n, (material_type, count) in enumerate(REQUIRED):
            for i in range(count):
                response = self.upload(material_type, document_jpeg(seed=700 + n * 3 + i))
                assert response.status_code == 201, response.text
                image_ids.append((material_type, response.json()["image_id"]))
        return image_ids

    def submit(self):
        response = self.call("POST", "/package/submit")
        assert response.status_code == 200, response.text
        return response.json()
