"""The whole journey of DESIGN §1 through one origin: upload, submit, a reviewer returns
one type, the candidate replaces it, approval; told by SMS and in-app every time."""
import requests

from support import bearer, return_by_reviewer, rpc, wait_for
from unit.imagefactory import document_jpeg

NUMBER = "2026320100002"
PHONE = "+8613800000022"  # dev.seed: 1380000 + serial 22
REQUIRED = (("id_card", 2), ("degree_certificate", 1), ("probation_certificate", 1),
            ("registration_form", 1))


def test_a_candidate_is_returned_one_type_resubmits_is_approved_and_told_each_time(system):
    token = system.login(NUMBER)["access_token"]
    api = f"{system.url}/api/v1"

    def call(method, path, **kwargs):
        return requests.request(method, f"{api}{path}", headers=bearer(token), timeout=30, **kwargs)

    assert call("POST", "/package/consent", json={"notice_version": "2026-1"}).status_code == 200
    image = document_jpeg()
    for material_type, count in REQUIRED:
        for _ in range(count):
            assert call("POST", f"/package/items/{material_type}/images",
                        files={"file": ("a.jpg", image, "image/jpeg")}).status_code == 201
    package = call("POST", "/package/submit").json()
    assert package["status"] == "submitted"
    package_id = package["package_id"]

    reviewer = return_by_reviewer(system, package_id, [{"material_type": "degree_certificate", "reason": "unclear"}],
                                  site="3201", respond_by="2026-12-20")
    wait_for(lambda: call("GET", "/package").json()["status"] == "returned", message="returned")
    degree = next(i for i in call("GET", "/package").json()["items"]
                  if i["material_type"] == "degree_certificate")
    assert not degree["locked"] and degree["reason"]

    old = degree["images"][0]["image_id"]
    assert call("DELETE", f"/package/items/degree_certificate/images/{old}").status_code == 204
    new_scan = document_jpeg(seed=5)          # the same file again would be returned_unchanged
    assert call("POST", "/package/items/degree_certificate/images",
                files={"file": ("b.jpg", new_scan, "image/jpeg")}).status_code == 201
    assert call("POST", "/package/submit").json()["attempt"] == 2

    with rpc(system.config, reviewer) as proxy:
        wait_for(lambda: proxy.review.get_case(package_id)["attempt"] == 2, message="attempt 2")
        proxy.review.claim(package_id)
        proxy.review.approve(package_id)
    wait_for(lambda: call("GET", "/package").json()["status"] == "approved", message="approved")

    # Told every time: submitted, returned, submitted again, approved.
    inbox = wait_for(lambda: (lambda body: body if len(body["messages"]) == 4 else None)(
        call("GET", "/messages").json()), timeout=15, message="four messages")
    assert inbox["unread"] == 4
    assert [m["kind"] for m in inbox["messages"]] == ["approved", "submitted", "returned", "submitted"]
    # The type's name travelled materials → review → notify in the events.
    returned = inbox["messages"][2]
    assert "学历证书：" in returned["body"] and returned["items"][0]["name"] == "学历证书"
    sent = wait_for(lambda: (lambda got: got if len(got) == 4 else None)(
        [m for m in system.sms.messages if m.get("phone") == PHONE]), timeout=15, message="four SMS")
    assert len({m["template_id"] for m in sent}) == 3
