"""The national registration system as an OAuth client of its own (DESIGN §5): client
credentials at /auth/token, then candidates imported and region settings read over
HTTPS, and nothing else."""
import pytest
import requests

from services.auth.service import AuthService
from services.materials.service import MaterialsService
from services.review.service import ReviewService
from support import candidate, https_rpc

SECRET = "a-registration-secret-for-this-test"


@pytest.fixture
def urls(start_service, config):
    config["CLIENTS"] = {"REGISTRATION_SYSTEM_SECRET": SECRET}
    return {name: start_service(cls) for name, cls in
            (("auth", AuthService), ("materials", MaterialsService), ("review", ReviewService))}


def client_token(url, secret=SECRET, basic=False):
    data = {"grant_type": "client_credentials"}
    if basic:
        return requests.post(f"{url}/auth/token", data=data, auth=("registration-system", secret), timeout=10)
    return requests.post(f"{url}/auth/token", timeout=10,
                         data=dict(data, client_id="registration-system", client_secret=secret))


def test_the_registration_system_imports_candidates_and_reads_regions_with_its_own_token(urls):
    issued = client_token(urls["auth"])
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert body["token_type"] == "Bearer" and "refresh_token" not in body
    token = body["access_token"]
    imported = https_rpc(urls["auth"], "auth", "import_candidates", token,
                         records=[candidate("2026110100701", site="1101", serial=701),
                                  candidate("2026320400702", serial=702)])
    assert imported.status_code == 200 and imported.json()["result"]["created"] == 2, imported.text
    region = https_rpc(urls["materials"], "materials", "get_region", token, region="11")
    assert region.status_code == 200 and region.json()["result"]["region"] == "11"
    assert client_token(urls["auth"], basic=True).status_code == 200  # HTTP Basic as well


def test_its_token_opens_nothing_else(urls):
    token = client_token(urls["auth"]).json()["access_token"]
    for url, service, method, kwargs in (
            (urls["review"], "review", "list_queue", {}), (urls["materials"], "materials", "configure_region",
                                                           {"region": "32", "config": {}}),
            (urls["auth"], "auth", "save_staff", {"username": "x", "role": "admin", "region": "*"})):
        refused = https_rpc(url, service, method, token, **kwargs)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden", (method, refused.text)


def test_a_wrong_or_missing_secret_gets_no_token(urls):
    for secret in ("wrong", ""):
        refused = client_token(urls["auth"], secret)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_client"
    unknown = requests.post(f"{urls['auth']}/auth/token", timeout=10, data={
        "grant_type": "client_credentials", "client_id": "someone-else", "client_secret": SECRET})
    assert unknown.status_code == 400
