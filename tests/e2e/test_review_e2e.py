"""Review in the system as `make run` starts it (`nameko run`, config.yaml defaults): a
seeded reviewer opens a package a candidate submitted, returns a type, and the
candidate's page at the one origin shows it."""
import hashlib

import requests

from support import bearer, candidate, rpc, staff_token, wait_for, wait_until_queued
from unit.imagefactory import document_jpeg

NUMBER = "2026320400951"
REQUIRED = (("id_card", 2), ("degree_certificate", 1), ("probation_certificate", 1),
            ("registration_form", 1))


def test_a_seeded_reviewer_returns_a_type_and_the_candidate_sees_it_at_the_one_origin(system):
    admin = staff_token(system.config, "admin", "Admin@2026")
    with rpc(system.config, admin) as proxy:
        proxy.auth.import_candidates([candidate(NUMBER, serial=951)])
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

    reviewer = staff_token(system.config, "reviewer.3204", "Review@2026")
    with rpc(system.config, reviewer) as proxy:
        wait_until_queued(proxy, package_id, timeout=10)
        proxy.review.claim(package_id)
        case = proxy.review.get_case(package_id)
        image = case["items"][0]["images"][0]
        fetched = requests.get(image["url"], timeout=10)
        assert fetched.status_code == 200 and hashlib.sha256(fetched.content).hexdigest() == image["sha256"]
        proxy.review.return_materials(package_id, [{"material_type": "id_card", "reason": "incomplete"}])

    wait_for(lambda: call("GET").json()["status"] == "returned", timeout=5, message="returned")
    id_card = next(i for i in call("GET").json()["items"] if i["material_type"] == "id_card")
    assert id_card["locked"] is False and id_card["reason"].startswith("材料不完整")
    assert requests.get(f"{system.url}/healthz/review", timeout=5).json()["checks"]["mongodb"] == "ok"
