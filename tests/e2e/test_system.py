"""The system as `make run` starts it: one origin, four healthy services, demo data."""
import requests

from support import bearer


def test_one_origin_serves_the_page_every_health_check_and_a_signed_in_package(system):
    for name in ("auth", "materials", "review", "notify"):
        assert requests.get(f"{system.url}/healthz/{name}", timeout=5).status_code == 200
    page = requests.get(f"{system.url}/", timeout=5)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    tokens = system.login("2026320400002")
    package = requests.get(f"{system.url}/api/v1/package", headers=bearer(tokens["access_token"]),
                           timeout=5)
    assert package.status_code == 200
    body = package.json()
    assert body["status"] == "draft" and body["upload_enabled"] is True
    assert body["candidate"]["site_name"] == "常州"
