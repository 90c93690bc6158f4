"""Review in the system as `make run` starts it (`nameko run`, config.yaml defaults), with
people on HTTPS only (DESIGN §5): the seeded admin signs in with a second factor and
imports a candidate, a seeded reviewer opens the package the candidate submitted and
returns a type, and the candidate's page at the one origin shows it."""
import hashlib

import requests

from common.rpc_client import RpcClient
from support import bearer, candidate, create_candidates, wait_for
from unit.imagefactory import document_jpeg

NUMBER = "2026320400951"
REQUIRED = (("id_card", 2), ("degree_certificate", 1), ("probation_certificate", 1),
            ("registration_form", 1))


def test_a_seeded_reviewer_returns_a_type_and_the_candidate_sees_it_at_the_one_origin(system, reader_on, admin):
    assert create_candidates(system.standin, [candidate(NUMBER, serial=951)])["created"] == 1
    token = system.login(NUMBER)["access_token"]

    def call(method, path="", **kwargs):
        return requests.request(method, f"{system.url}/api/v1/package{path}", headers=bearer(token),
                                timeout=30, **kwargs)

    assert call("POST", "/consent", json={"notice_version": "2026-1"}).status_code == 200
    for n, (material_type, count) in enumerate(REQUIRED):
        for i in range(count):
            data = document_jpeg(seed=950 + n * 2 + i)
            assert call("POST", f"/items/{material_type}/images",
                        files={"file": ("scan.jpg", data, "image/jpeg")}).status_code == 201
    package_id = call("POST", "/submit").json()["package_id"]

    reviewer = RpcClient(system.url)
    reviewer.staff_login("reviewer.3204", "Review@2026")
    wait_for(lambda: package_id in [i["package_id"] for i in reviewer.call(
        "review", "list_queue", limit=200)["items"]], timeout=10, message="queued")
    reviewer.call("review", "claim", package_id=package_id)
    # The ID card cross-check ran in review's OCR worker and asked auth over the broker with
    # review's own account (dev/broker.py): a page of text is no ID card, so 无法识别.
    def checked():
        found = reviewer.call("review", "get_case", package_id=package_id)
        return found if (found["id_check"] or {}).get("images") == 2 else None
    case = wait_for(checked, timeout=240, interval=1, message="the ID card cross-check")
    assert case["id_check"]["id_number"] == "unreadable" and case["id_flags"] == ["无法识别"]
    image = case["items"][0]["images"][0]
    fetched = requests.get(image["url"], timeout=10)
    assert fetched.status_code == 200 and hashlib.sha256(fetched.content).hexdigest() == image["sha256"]
    reviewer.call("review", "return_materials", package_id=package_id,
                  items=[{"material_type": "id_card", "reason": "incomplete"}])

    wait_for(lambda: call("GET").json()["status"] == "returned", timeout=5, message="returned")
    id_card = next(i for i in call("GET").json()["items"] if i["material_type"] == "id_card")
    assert id_card["locked"] is False and id_card["reason"].startswith("材料不完整")
    # Every read and decision is audited with the address the connection came from.
    trail = admin.call("review", "audit", package_id=package_id)
    assert {e["action"] for e in trail} >= {"claim", "read", "return"}
    assert {e["client"] for e in trail} == {"127.0.0.1"}
    assert requests.get(f"{system.url}/healthz/review", timeout=5).json()["checks"]["mongodb"] == "ok"
