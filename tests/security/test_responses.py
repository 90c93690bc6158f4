"""Responses (DESIGN §4, §8): stored images go out as what they are and are
never sniffed into something else; no error, over HTTP or RPC, shows a stack trace or
an internal path, whatever the input."""
import json

import pytest
import requests
from nameko.exceptions import RemoteError

from secsupport import LEAKS, raw_request
from support import Candidate, bearer, rpc, staff_token
from unit.imagefactory import document_jpeg, document_png

RPC_KINDS = {"Unauthenticated", "Forbidden", "NotFound", "Conflict", "InvalidTransition",
             "ValidationError", "Unavailable"}
PERSON = "2026320400010"


@pytest.fixture(scope="module")
def person(system):
    return Candidate(system, PERSON)


def nosniff(response):
    """The header is there and says nosniff (nginx and the service may both add it:
    "nosniff, nosniff" is still nosniff to a browser, Fetch §X-Content-Type-Options)."""
    values = [v.strip().lower() for v in response.headers.get("X-Content-Type-Options", "").split(",")]
    return values[0] == "nosniff" and set(values) == {"nosniff"}


@pytest.mark.parametrize("fmt", ["jpeg", "png"])
def test_stored_images_are_served_as_their_image_type_never_sniffed(fmt, person, system):
    data, content_type, filename = (
        (document_jpeg(seed=31), "image/jpeg", "a.jpg") if fmt == "jpeg"
        else (document_png(seed=32), "image/png", "a.png"))
    # The declared type is a lie on purpose: content decides (DESIGN §4 415 rule).
    created = person.upload("registration_form", data, filename=filename.replace(".", ".html."),
                            content_type="text/html")
    assert created.status_code == 201, created.text
    image_id = created.json()["image_id"]
    served = person.call("GET", f"/package/items/registration_form/images/{image_id}")
    assert served.status_code == 200
    assert served.headers["Content-Type"] == content_type
    assert nosniff(served)
    disposition = served.headers.get("Content-Disposition", "")
    assert disposition.startswith(("inline;", "attachment;")) and "filename=" in disposition
    assert ".html" not in disposition and image_id in disposition
    assert "no-store" in served.headers.get("Cache-Control", "")
    assert "sandbox" in served.headers.get("Content-Security-Policy", "")
    assert person.call("DELETE", f"/package/items/registration_form/images/{image_id}").status_code == 204


def test_every_json_response_and_page_carries_nosniff(person, system):
    for method, path in (("GET", "/api/v1/package"), ("GET", "/api/v1/catalogue"),
                         ("GET", "/api/v1/messages"), ("GET", "/auth/jwks.json"),
                         ("GET", "/healthz/materials"), ("GET", "/")):
        response = requests.request(method, f"{system.url}{path}", headers=bearer(person.token),
                                    timeout=15)
        assert nosniff(response), (path, response.headers.get("X-Content-Type-Options"))


def probes(token, spare):
    auth = bearer(token)
    nested = "[" * 50_000 + "]" * 50_000
    return [
        ("GET", "/api/v1/package", {}),
        ("GET", "/api/v1/package", {"headers": {"Authorization": "Bearer x.y.z"}}),
        ("GET", "/api/v1/no/such/thing", {"headers": auth}),
        ("PUT", "/api/v1/package", {"headers": auth}),
        ("DELETE", "/api/v1/package", {"headers": auth}),
        ("POST", "/api/v1/package/consent", {"headers": auth, "data": b"{not json"}),
        ("POST", "/api/v1/package/consent", {"headers": auth, "json": ["a list"]}),
        ("POST", "/api/v1/package/consent", {"headers": auth, "json": {"notice_version": {"$gt": ""}}}),
        ("POST", "/api/v1/package/consent", {"headers": auth, "json": {"notice_version": "1999"}}),
        ("POST", "/api/v1/package/consent", {"headers": auth, "data": b"{\"a\": \"" + b"x" * 70_000 + b"\"}"}),
        ("POST", "/api/v1/package/consent", {"headers": auth, "data": nested.encode()}),
        ("POST", "/api/v1/package/consent", {"headers": auth, "data": b"\xff\xfe\x00garbage"}),
        ("POST", "/api/v1/package/items/id_card/images", {"headers": auth}),
        ("POST", "/api/v1/package/items/id_card/images", {"headers": auth, "data": b"raw bytes"}),
        ("POST", "/api/v1/package/items/id_card/images",
         {"headers": dict(auth, **{"Content-Type": "multipart/form-data"}), "data": b"--x\r\n"}),
        ("POST", "/api/v1/package/items/id_card/images",
         {"headers": dict(auth, **{"Content-Type": "multipart/form-data; boundary=zz"}),
          "data": b"--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nabc"}),
        ("POST", "/api/v1/package/items/id_card/images",
         {"headers": auth, "files": {"wrong_field": ("a.jpg", b"\xff\xd8\xff", "image/jpeg")}}),
        ("POST", "/api/v1/package/items/id_card/images",
         {"headers": auth, "files": [(f"f{n}", ("a.jpg", b"x", "image/jpeg")) for n in range(15)]}),
        ("POST", "/api/v1/package/items/id_card/images",
         {"headers": auth, "files": {"file": ("a.jpg", b"", "image/jpeg")}}),
        ("POST", "/api/v1/package/items/id_card/images",
         {"headers": auth, "files": {"file": ("a.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif")}}),
        ("POST", "/api/v1/package/items/id_card/images",
         {"headers": auth, "files": {"file": ("a.svg", b"<svg onload=alert(1)/>", "image/svg+xml")}}),
        ("POST", "/api/v1/package/items/id_card/images",
         {"headers": auth, "files": {"file": ("a.jpg", document_jpeg(seed=1)[:5000], "image/jpeg")}}),
        ("POST", "/api/v1/package/items/id_card/images",
         {"headers": auth, "files": {"file": ("a.jpg", b"\xff\xd8\xff\xc0\x00\x11\x08\xff\xff\xff\xff"
                                              + b"\x00" * 100, "image/jpeg")}}),
        ("POST", "/api/v1/package/items/id_card/images",
         {"headers": auth, "files": {"file": ("a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image/png")}}),
        ("POST", "/api/v1/package/items/no_such_type/images",
         {"headers": auth, "files": {"file": ("a.jpg", b"x", "image/jpeg")}}),
        ("GET", "/api/v1/package/items/id_card/images/" + "f" * 32, {"headers": auth}),
        ("GET", "/api/v1/package/items/id_card/images/" + "A" * 3000, {"headers": auth}),
        ("GET", "/api/v1/package/items/id_card/images/%2e%2e%2f%2e%2e%2fetc", {"headers": auth}),
        ("DELETE", "/api/v1/package/items/id_card/images/zz", {"headers": auth}),
        ("POST", "/api/v1/package/submit", {"headers": auth}),
        ("GET", "/api/v1/messages?limit=abc", {"headers": auth}),
        ("GET", "/api/v1/messages?limit=99999999999999999999999999", {"headers": auth}),
        ("GET", "/api/v1/messages?limit=-5&limit=x", {"headers": auth}),
        ("POST", "/api/v1/messages/" + "0" * 32 + "/read", {"headers": auth}),
        ("POST", "/api/v1/messages/%24ne/read", {"headers": auth}),
        ("POST", "/api/v1/messages/x/read", {"headers": auth, "json": {"$set": {"read": True}}}),
        ("POST", "/auth/token", {"data": {"grant_type": "password", "username": "a"}}),
        ("POST", "/auth/token", {"data": {"grant_type": "authorization_code", "code": "x"}}),
        ("POST", "/auth/token", {"data": {"grant_type": "refresh_token", "refresh_token": ["a", "b"]}}),
        ("POST", "/auth/token", {"data": b"\xff" * 20_000,
                                 "headers": {"Content-Type": "application/x-www-form-urlencoded"}}),
        ("POST", "/auth/token", {"json": {"grant_type": "refresh_token"}}),
        ("GET", "/auth/authorize?client_id=upload-web&redirect_uri=http://evil.example/", {}),
        ("GET", "/auth/authorize?response_type=code&client_id[]=x", {}),
        ("POST", "/auth/authorize", {"data": {"username": "x", "password": "y"}}),
        ("POST", "/auth/logout", {}),
        ("POST", "/auth/logout", {"headers": bearer(spare), "data": b"refresh_token=%ZZ%"}),
        ("GET", "/healthz/nothing", {}),
        ("GET", "/metrics/nothing", {}),
    ]


def test_no_error_body_shows_a_stack_trace_or_an_internal_path(person, system):
    findings = []
    spare = system.login(PERSON)["access_token"]  # the logout probe ends its session
    for method, path, kwargs in probes(person.token, spare):
        response = requests.request(method, f"{system.url}{path}", timeout=30, **kwargs)
        what = f"{method} {path[:70]}"
        for needle in LEAKS:
            if needle in response.text:
                findings.append(f"{what}: {response.status_code} reveals {needle!r}: {response.text[:200]}")
        if response.status_code >= 500:
            findings.append(f"{what}: bad input answered {response.status_code}: {response.text[:200]}")
        if response.status_code >= 400 and path.startswith("/api/") \
                and response.headers.get("Content-Type", "").startswith("application/json"):
            error = response.json().get("error") or {}
            if not (isinstance(error.get("code"), str) and isinstance(error.get("message"), str)):
                findings.append(f"{what}: error body without code and message: {response.text[:200]}")
    assert not findings, "\n".join(findings)
    # Bad input changed nothing: still a draft with no images.
    package = person.package()
    assert package["status"] == "draft"
    assert sum(len(item["images"]) for item in package["items"]) == 0


def test_malformed_requests_at_the_byte_level_reveal_nothing(system, person):
    token = person.token
    cases = [
        ("GET", "/api/v1/package?%ZZ=%", [("Authorization", f"Bearer {token}")], b""),
        ("GET", "/api/v1/package/items/\xff\xfe/images/x", [("Authorization", f"Bearer {token}")], b""),
        ("GET", "/api/v1/" + "a" * 10_000, [], b""),
        ("POST", "/api/v1/package/consent", [("Authorization", f"Bearer {token}"),
                                            ("Content-Type", "application/json"),
                                            ("Content-Length", "100")], b"{}"),
        ("POST", "/api/v1/package/consent", [("Authorization", f"Bearer {token}"),
                                            ("Content-Length", "-1")], b""),
        ("POST", "/api/v1/package/consent", [("Authorization", f"Bearer {token}"),
                                            ("Transfer-Encoding", "chunked"),
                                            ("Content-Length", "4")], b"zz\r\nxx\r\n0\r\n\r\n"),
        ("GET", "/api/v1/package", [("Authorization", f"Bearer {token}"), ("X-Big", "h" * 20_000)], b""),
    ]
    for method, path, headers, body in cases:
        try:
            status, _, text = raw_request(system.url, method, path, headers=headers, body=body, timeout=3)
        except OSError:
            continue  # dropped outright: fine
        decoded = text.decode("utf-8", "replace")
        for needle in LEAKS:
            assert needle not in decoded, (path[:40], status, decoded[:200])
        assert status < 500 or status == 0, (method, path[:40], status, decoded[:200])


def nothing(result):
    """An answer that matched nothing: the operator was taken as a plain string."""
    if isinstance(result, dict) and set(result) >= {"pending", "claimed"}:
        return not any(result.values())
    if isinstance(result, dict) and "configured" in result:
        return result["configured"] is False
    if isinstance(result, dict) and "errors" in result:
        return result["created"] == result["updated"] == 0 and result["errors"]
    return result in ([], None, {})


def rpc_probes(package_id):
    """(service, method, args, kwargs): bad types, operators where strings belong."""
    return [
        ("review", "get_case", ({"$ne": None},), {}),
        ("review", "get_case", ("../../etc/passwd",), {}),
        ("review", "claim", (["a", "b"],), {}),
        ("review", "list_queue", (), {"limit": "50; drop"}),
        ("review", "list_queue", (), {"after": {"$gt": ""}}),
        ("review", "list_queue", (), {"site": {"$ne": ""}}),
        ("review", "list_queue", (), {"status": {"$ne": "x"}}),
        ("review", "list_queue", (), {"sort": "__proto__"}),
        ("review", "return_materials", (package_id, "x"), {}),
        ("review", "reject", (package_id, {"$set": 1}), {}),
        ("review", "stats", (), {"region": {"$ne": None}}),
        ("review", "search_cases", ({"$ne": ""},), {}),
        ("review", "search_cases", ("考生",), {"limit": {"$gt": 0}}),
        ("review", "export_outcomes", (), {"region": "32", "since": {"$gt": ""}}),
        ("review", "export_outcomes", (), {"region": "32", "status": {"$ne": "x"}}),
        ("review", "approve", (package_id,), {"acknowledged": {"$set": 1}}),
        ("review", "undo_decision", ({"$ne": None},), {}),
        ("auth", "candidate_by_id_number", ({"$ne": None},), {}),
        ("review", "replay_dead_letter", ({"$ne": None},), {}),
        ("review", "audit", (None,), {}),
        ("materials", "get_region", ({"$ne": None},), {}),
        ("materials", "configure_region", ("99", "not a config"), {}),
        ("materials", "purge_exam_year", ("twenty",), {}),
        ("notify", "retry", ({"$ne": None},), {}),
        ("notify", "messages_of", ({"$ne": None},), {}),
        ("notify", "pending", (), {"limit": "x"}),
        ("notify", "failed_webhooks", (), {"limit": {"$gt": 0}}),
        ("notify", "replay_webhook", ({"$ne": None},), {}),
        ("notify", "remove_webhook_subscriber", ({"$ne": None},), {}),
        ("notify", "add_webhook_subscriber", ({"$ne": None},), {}),
        ("notify", "add_webhook_subscriber", ("https://127.0.0.1/hook",), {"regions": {"$ne": None}}),
        ("auth", "import_candidates", ("not a list",), {}),
        ("auth", "import_candidates", ([{"registration_number": {"$gt": ""}}],), {}),
        ("auth", "save_staff", ("x", "god", "*"), {}),
        ("auth", "get_contact", ("2026320400001",), {}),
        ("auth", "token_state", ("yesterday",), {}),
    ]


def test_rpc_errors_are_one_of_the_design_kinds_and_reveal_nothing(system, admin_token, person):
    """DESIGN §5: errors cross RPC as one of seven kinds. Bad types and query operators in
    arguments are refused (or match nothing), never crash into another exception type."""
    package_id = person.package()["package_id"]
    findings = []
    with rpc(system.config, admin_token) as proxy:
        for service, method, args, kwargs in rpc_probes(package_id):
            what = f"{service}.{method}({json.dumps(args, default=str)[:50]}, {kwargs})"
            try:
                result = getattr(getattr(proxy, service), method)(*args, **kwargs)
            except RemoteError as exc:
                if exc.exc_type not in RPC_KINDS:
                    findings.append(f"{what}: exc_type {exc.exc_type} ({exc.value}) is not one of DESIGN §5's kinds")
                text = f"{exc.exc_type} {exc.value}"
                for needle in LEAKS:
                    if needle in text:
                        findings.append(f"{what}: reveals {needle!r}: {text[:200]}")
            else:
                if not nothing(result):
                    findings.append(f"{what}: answered {str(result)[:120]}")
    assert not findings, "\n".join(findings)
    # No probe locked an account out, and region 32 is intact.
    reviewer = staff_token(system.config, "reviewer.32", "Review@2026")
    with rpc(system.config, reviewer) as proxy:
        assert proxy.materials.get_region("32")["upload_enabled"] is True


def staff_states(system):
    from services.auth.cli import auth_database
    accounts = auth_database(system.config).staff
    return accounts, {s["_id"]: bool(s.get("disabled")) for s in accounts.find({}, {"disabled": 1})}


def test_disable_staff_takes_a_name_never_a_query(system, admin_token):
    """`disable_staff({"$ne": None})` must not disable whichever account matches first."""
    accounts, before = staff_states(system)
    try:
        with rpc(system.config, admin_token) as proxy:
            try:
                proxy.auth.disable_staff({"$ne": None})
            except RemoteError as exc:
                assert exc.exc_type in ("ValidationError", "NotFound"), exc
        _, after = staff_states(system)
        newly = sorted(name for name, disabled in after.items() if disabled and not before.get(name))
        assert not newly, f"an operator in the username disabled {newly}"
    finally:  # put back what the probe broke, for the rest of the session
        _, after = staff_states(system)
        for name, disabled in after.items():
            if disabled and not before.get(name):
                accounts.update_one({"_id": name}, {"$set": {"disabled": False}})


def test_a_regional_admin_cannot_disable_staff_of_another_region(system, admin_token):
    """Scope applies to staff administration too (save_staff checks it; so must disable)."""
    with rpc(system.config, admin_token) as proxy:
        proxy.auth.save_staff("sec.admin.11", "admin", "11", [], "Admin@2026x")
        proxy.auth.save_staff("sec.victim.3204", "reviewer", "32", ["3204"], "Review@2026x")
    regional = staff_token(system.config, "sec.admin.11", "Admin@2026x")
    with rpc(system.config, regional) as proxy:
        with pytest.raises(RemoteError) as refused:
            proxy.auth.disable_staff("sec.victim.3204")
        assert refused.value.exc_type == "Forbidden"
        # Nor take the account over by saving it into their own region with a new password.
        with pytest.raises(RemoteError) as refused:
            proxy.auth.save_staff("sec.victim.3204", "reviewer", "11", ["1101"], "Taken@2026x")
        assert refused.value.exc_type == "Forbidden"
    # The victim still signs in, with their own password.
    assert staff_token(system.config, "sec.victim.3204", "Review@2026x")
