"""materials against the real servers: the candidate journey, locks and races decided by
the database, events through the outbox, objects and records kept in step."""
import hashlib
import io
import socket
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
from PIL import Image
from nameko.events import event_handler as nameko_event_handler
from nameko.standalone.events import event_dispatcher
from nameko.testing.services import replace_dependencies

from common import clock, events
from common.s3 import make_client
from services.auth.service import AuthService
from services.materials.service import MaterialsService
from support import bearer, candidate, create_candidates, login, make_admin, rpc, staff_token, wait_for
from unit.imagefactory import document_jpeg, document_png

A, B, C, D, E = (f"20263204007{n:02d}" for n in range(1, 6))
BEIJING = "2026110100701"
JPEG = document_jpeg()


class Listener:
    """Records every materials event, as a consumer would see them."""
    name = "listener"
    seen = []

    @nameko_event_handler("materials", "PackageSubmitted")
    def submitted(self, payload):
        Listener.seen.append(("PackageSubmitted", payload))

    @nameko_event_handler("materials", "SubmissionWithdrawn")
    def withdrawn(self, payload):
        Listener.seen.append(("SubmissionWithdrawn", payload))

    @nameko_event_handler("materials", "MaterialUploaded")
    def uploaded(self, payload):
        Listener.seen.append(("MaterialUploaded", payload))

    @nameko_event_handler("materials", "MaterialDeleted")
    def deleted(self, payload):
        Listener.seen.append(("MaterialDeleted", payload))

    @nameko_event_handler("materials", "PackageReopened")
    def reopened(self, payload):
        Listener.seen.append(("PackageReopened", payload))

    @classmethod
    def of(cls, event_type, package_id=None):
        return [p for t, p in cls.seen if t == event_type
                and (package_id is None or p["package_id"] == package_id)]


def window(days_before=30, days_after=30):
    now = datetime.now(timezone.utc)
    return {"start": (now - timedelta(days=days_before)).isoformat(),
            "end": (now + timedelta(days=days_after)).isoformat()}


class World:
    def __init__(self, config, auth_url, url, admin):
        self.config, self.auth_url, self.url, self.admin = config, auth_url, url, admin
        self.tokens = {}

    def token(self, number):
        if number not in self.tokens:
            self.tokens[number] = login(self.auth_url, number)["access_token"]
        return self.tokens[number]

    def call(self, method, number, path, **kwargs):
        return requests.request(method, f"{self.url}/api/v1/package{path}",
                                headers=bearer(self.token(number)), timeout=30, **kwargs)

    def package(self, number):
        response = self.call("GET", number, "")
        assert response.status_code == 200, response.text
        return response.json()

    def consent(self, number):
        assert self.call("POST", number, "/consent", json={"notice_version": "2026-1"}).status_code == 200

    def upload(self, number, material_type, data=JPEG, name="photo.jpg"):
        return self.call("POST", number, f"/items/{material_type}/images",
                         files={"file": (name, data, "image/jpeg")})

    def fill(self, number):
        for material_type, count in (("id_card", 2), ("degree_certificate", 1),
                                     ("probation_certificate", 1), ("registration_form", 1)):
            for _ in range(count):
                assert self.upload(number, material_type).status_code == 201

    def item(self, number, material_type):
        return next(i for i in self.package(number)["items"] if i["material_type"] == material_type)

    def review_event(self, cls, number, **fields):
        package = self.package(number)
        payload = cls(package_id=package["package_id"], candidate_id=number, region="32",
                      site="3204", attempt=package["attempt"], reviewer_id="staff:r", **fields).to_payload()
        event_dispatcher(self.config)("review", cls.__name__, payload)
        return payload

    def configure(self, region, **settings):
        with rpc(self.config, self.admin) as proxy:
            return proxy.materials.configure_region(region, settings)


@pytest.fixture
def world(start_service, container_factory, config, registration_standin):
    auth_url = start_service(AuthService)
    listener = container_factory(Listener, config)
    listener.start()
    Listener.seen.clear()
    config["MATERIALS"] = {"REGION_CACHE_S": 0.2}  # a changed region applies within 0.2 s
    url = start_service(MaterialsService)
    make_admin(config)
    admin = staff_token(config, "admin.test", "Admin@2026")
    records = [candidate(n, serial=700 + i) for i, n in enumerate((A, B, C, D, E))]
    records.append(candidate(BEIJING, site="1101", serial=799))
    assert create_candidates(registration_standin, records)["created"] == 6
    world = World(config, auth_url, url, admin)
    world.configure("32", name="江苏", upload_enabled=True, window=window(),
                    sites={"3204": "常州", "3201": "南京"})
    world.configure("11", name="北京", upload_enabled=False, window=window(), sites={"1101": "北京"})
    return world


def test_the_candidate_journey_from_first_upload_to_resubmission(world):
    package = world.package(A)
    assert package["status"] == "draft" and not package["can_submit"]
    assert world.upload(A, "id_card").json()["error"]["code"] == "consent_required"
    world.consent(A)

    # A fixed-count type refuses a third image.
    assert world.upload(A, "id_card").status_code == 201
    second = world.upload(A, "id_card")
    assert second.status_code == 201
    third = world.upload(A, "id_card")
    assert third.status_code == 409 and third.json()["error"]["code"] == "slot_full"

    # Delete, then upload again.
    image_id = second.json()["image_id"]
    assert world.call("DELETE", A, f"/items/id_card/images/{image_id}").status_code == 204
    assert world.item(A, "id_card")["count"] == 1
    assert world.upload(A, "id_card").status_code == 201

    # Submitting early names what is short.
    early = world.call("POST", A, "/submit")
    assert early.status_code == 422 and early.json()["error"]["code"] == "missing_materials"
    assert {m["material_type"] for m in early.json()["error"]["missing"]} == {
        "degree_certificate", "probation_certificate", "registration_form"}

    for material_type in ("degree_certificate", "probation_certificate", "registration_form"):
        assert world.upload(A, material_type).status_code == 201
    submitted = world.call("POST", A, "/submit")
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"

    # Locked: no uploads, no deletes.
    locked = world.upload(A, "other")
    assert locked.status_code == 409 and locked.json()["error"]["code"] == "package_locked"
    first_id = world.item(A, "id_card")["images"][0]["image_id"]
    refused = world.call("DELETE", A, f"/items/id_card/images/{first_id}")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "package_locked"

    # The reviewer returns one type: only that type opens.
    world.review_event(events.ReviewStarted, A)
    wait_for(lambda: world.package(A)["status"] == "in_review", message="in_review")
    world.review_event(events.MaterialReturned, A, respond_by="2026-12-20",
                       items=[{"material_type": "degree_certificate", "reason": "证书照片模糊，请重新拍摄"}])
    wait_for(lambda: world.package(A)["status"] == "returned", message="returned")
    degree = world.item(A, "degree_certificate")
    assert not degree["locked"] and degree["reason"] == "证书照片模糊，请重新拍摄"
    assert world.item(A, "id_card")["locked"]
    elsewhere = world.upload(A, "id_card")
    assert elsewhere.status_code == 409 and elsewhere.json()["error"]["code"] == "item_locked"

    # Sent back unchanged it would only be returned again: refused, naming the type.
    unchanged = world.call("POST", A, "/submit")
    assert unchanged.status_code == 422
    assert unchanged.json()["error"]["code"] == "returned_unchanged"
    assert unchanged.json()["error"]["returned_unchanged"] == [
        {"material_type": "degree_certificate", "name": degree["name"]}]
    assert world.package(A)["status"] == "returned" and world.package(A)["to_fix"]

    old = degree["images"][0]["image_id"]
    assert world.call("DELETE", A, f"/items/degree_certificate/images/{old}").status_code == 204
    assert world.upload(A, "degree_certificate", data=document_jpeg(seed=5)).status_code == 201  # a new scan
    again = world.call("POST", A, "/submit").json()
    assert again["status"] == "submitted" and again["attempt"] == 2
    wait_for(lambda: [p["attempt"] for p in Listener.of("PackageSubmitted", again["package_id"])] == [1, 2],
             message="two submissions")


def test_the_returned_picture_sent_again_is_flagged_at_upload_and_refused_at_submit(world):
    """returned_unchanged by content (DESIGN §4, issue 29): the same bytes, or the same
    picture saved again, count as unchanged; a new scan of the page does not."""
    world.consent(A)
    world.fill(A)
    assert world.call("POST", A, "/submit").status_code == 200
    world.review_event(events.ReviewStarted, A)
    wait_for(lambda: world.package(A)["status"] == "in_review", message="in_review")
    world.review_event(events.MaterialReturned, A, respond_by="2026-12-20", items=[
        {"material_type": "degree_certificate", "reason_code": "unclear", "reason": "证书照片模糊"}])
    wait_for(lambda: world.package(A)["status"] == "returned", message="returned")

    untouched = world.call("POST", A, "/submit").json()["error"]
    assert untouched["code"] == "returned_unchanged" and "尚未更换" in untouched["message"]

    resaved = io.BytesIO()
    Image.open(io.BytesIO(JPEG)).save(resaved, "JPEG", quality=60)     # other bytes, same picture
    for same in (JPEG, resaved.getvalue()):
        [returned] = world.item(A, "degree_certificate")["images"]
        assert world.call("DELETE", A, f"/items/degree_certificate/images/{returned['image_id']}").status_code == 204
        stored = world.upload(A, "degree_certificate", data=same)
        assert stored.status_code == 201 and stored.json()["same_as_returned"] is True  # told at once
        refused = world.call("POST", A, "/submit")
        assert refused.status_code == 422
        body = refused.json()["error"]
        assert body["code"] == "returned_unchanged" and "与被退回的图片相同" in body["message"]
        assert body["returned_unchanged"] == [{"material_type": "degree_certificate",
                                               "name": world.item(A, "degree_certificate")["name"]}]
        package = world.package(A)
        assert package["status"] == "returned" and package["attempt"] == 1 and not package["can_submit"]
        assert [image["same_as_returned"] for image in world.item(A, "degree_certificate")["images"]] == [True]

    [copy] = world.item(A, "degree_certificate")["images"]
    assert world.call("DELETE", A, f"/items/degree_certificate/images/{copy['image_id']}").status_code == 204
    new_scan = world.upload(A, "degree_certificate", data=document_jpeg(seed=8))
    assert new_scan.status_code == 201 and new_scan.json()["same_as_returned"] is False
    resubmitted = world.call("POST", A, "/submit")
    assert resubmitted.status_code == 200 and resubmitted.json()["attempt"] == 2


def test_a_candidate_can_neither_see_fetch_nor_delete_another_candidates_images(world):
    world.consent(A)
    image_id = world.upload(A, "id_card").json()["image_id"]
    assert world.call("GET", A, f"/items/id_card/images/{image_id}").status_code == 200
    assert world.call("GET", B, f"/items/id_card/images/{image_id}").status_code == 404
    assert world.call("DELETE", B, f"/items/id_card/images/{image_id}").status_code == 404
    assert image_id not in str(world.package(B))
    assert world.item(A, "id_card")["count"] == 1


def test_the_stored_object_follows_the_key_layout_and_matches_its_sha256(world, config):
    world.consent(A)
    image = world.upload(A, "id_card", data=document_png(), name="scan.jpg").json()
    fetched = world.call("GET", A, f"/items/id_card/images/{image['image_id']}")
    assert fetched.headers["Content-Type"] == "image/png"  # judged by content, not name
    assert fetched.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in fetched.headers["Content-Disposition"] or "inline" in fetched.headers["Content-Disposition"]
    key = f"32/3204/{A}/id_card/{image['image_id']}.png"
    stored = make_client(config).get_object(config["S3"]["BUCKET"], key).read()
    assert stored == fetched.content
    uploaded = wait_for(lambda: Listener.of("MaterialUploaded"), message="MaterialUploaded")[0]
    assert uploaded["sha256"] == hashlib.sha256(stored).hexdigest()
    assert uploaded["image_id"] == image["image_id"] and uploaded["bytes"] == len(stored)


def test_ten_parallel_uploads_into_one_free_slot_leave_exactly_one_more_image(world):
    world.consent(A)
    assert world.upload(A, "id_card").status_code == 201
    results = []
    threads = [threading.Thread(target=lambda: results.append(world.upload(A, "id_card").status_code))
               for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results).count(201) == 1 and results.count(409) == 9
    assert world.item(A, "id_card")["count"] == 2
    wait_for(lambda: len(Listener.of("MaterialUploaded")) == 2, message="two uploads")


def test_a_delete_racing_a_submit_ends_in_one_consistent_state(world):
    for attempt in range(3):
        number = (B, C, D)[attempt]
        world.consent(number)
        world.fill(number)
        registration = world.item(number, "registration_form")["images"][0]["image_id"]
        outcomes = {}
        racers = [
            threading.Thread(target=lambda: outcomes.__setitem__("submit", world.call("POST", number, "/submit"))),
            threading.Thread(target=lambda: outcomes.__setitem__("delete", world.call(
                "DELETE", number, f"/items/registration_form/images/{registration}")))]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join()
        package = world.package(number)
        count = world.item(number, "registration_form")["count"]
        if outcomes["delete"].status_code == 204:
            assert package["status"] == "draft" and count == 0
            assert outcomes["submit"].json()["error"]["code"] == "missing_materials"
        else:
            assert package["status"] == "submitted" and count == 1
            assert outcomes["delete"].json()["error"]["code"] == "package_locked"


def test_a_double_clicked_submit_submits_once(world):
    world.consent(A)
    world.fill(A)
    responses = []
    clicks = [threading.Thread(target=lambda: responses.append(world.call("POST", A, "/submit")))
              for _ in range(2)]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join()
    assert [r.status_code for r in responses] == [200, 200]
    assert all(r.json()["status"] == "submitted" for r in responses)
    wait_for(lambda: Listener.of("PackageSubmitted"), message="submission")
    time.sleep(1)
    assert len(Listener.of("PackageSubmitted")) == 1


def test_withdrawal_returns_to_draft_until_review_starts(world):
    world.consent(A)
    world.fill(A)
    world.call("POST", A, "/submit")
    withdrawn = world.call("POST", A, "/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "draft"
    assert not world.item(A, "id_card")["locked"]
    wait_for(lambda: Listener.of("SubmissionWithdrawn"), message="SubmissionWithdrawn")
    world.call("POST", A, "/submit")
    world.review_event(events.ReviewStarted, A)
    wait_for(lambda: world.package(A)["status"] == "in_review", message="in_review")
    refused = world.call("POST", A, "/withdraw")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "package_locked"


def test_review_outcomes_apply_once_even_when_redelivered(world):
    world.consent(A)
    world.fill(A)
    world.call("POST", A, "/submit")
    started = world.review_event(events.ReviewStarted, A)
    wait_for(lambda: world.package(A)["status"] == "in_review", message="in_review")
    approved = world.review_event(events.PackageApproved, A)
    wait_for(lambda: world.package(A)["status"] == "approved", message="approved")
    for payload, kind in ((started, "ReviewStarted"), (approved, "PackageApproved")):
        event_dispatcher(world.config)("review", kind, payload)
    time.sleep(1)
    package = world.package(A)
    assert package["status"] == "approved" and all(i["locked"] for i in package["items"])
    assert world.upload(A, "other").json()["error"]["code"] == "package_locked"


def test_a_region_without_uploading_and_a_closed_window_refuse_edits(world):
    world.consent(BEIJING)
    refused = world.upload(BEIJING, "id_card")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "upload_disabled"
    world.configure("32", name="江苏", upload_enabled=True, window=window(60, -1),
                    sites={"3204": "常州", "3201": "南京"})
    world.consent(A)
    wait_for(lambda: world.package(A)["window"]["open"] is False, timeout=5,
             message="the closed window past the region cache (0.2 s here)")
    closed = world.upload(A, "id_card")
    assert closed.status_code == 403 and closed.json()["error"]["code"] == "upload_closed"


@pytest.mark.parametrize("data, status, code", [
    (b"GIF89a" + b"\0" * 100, 415, "unsupported_format"),
    (b"", 415, "unsupported_format"),
    (JPEG[: len(JPEG) // 2], 422, "image_corrupt"),
    (b"\0" * 204_801, 413, "file_too_large"),
])
def test_bad_uploads_get_their_code_and_change_nothing(world, data, status, code):
    world.consent(A)
    before = world.package(A)
    response = world.upload(A, "degree_certificate", data=data)
    assert response.status_code == status and response.json()["error"]["code"] == code
    assert "Traceback" not in response.text
    after = world.package(A)
    assert after["items"] == before["items"]


def test_unknown_material_types_and_traversal_attempts_are_not_found(world):
    world.consent(A)
    for material_type in ("passport", "..%2F..%2Fetc", "id_card%00", "ID_CARD"):
        response = world.upload(A, material_type)
        assert response.status_code == 404, material_type
    assert world.call("GET", A, "/items/id_card/images/..%2F..%2Fx").status_code == 404


def test_a_declared_huge_body_is_refused_without_being_read(world):
    world.consent(A)
    host, port = world.url.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall((f"POST /api/v1/package/items/id_card/images HTTP/1.1\r\nHost: {host}\r\n"
                      f"Authorization: Bearer {world.token(A)}\r\n"
                      "Content-Type: multipart/form-data; boundary=x\r\n"
                      f"Content-Length: {50 * 1024 * 1024}\r\n\r\n").encode() + b"x" * 1024)
        answer = sock.recv(4096).decode(errors="replace")
    assert answer.startswith("HTTP/1.1 413") and "file_too_large" in answer


def test_a_body_without_length_is_cut_off_at_the_limit(world):
    world.consent(A)

    def chunks():
        yield b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\n"
        for _ in range(400):
            yield b"\xff" * 1024

    response = requests.post(f"{world.url}/api/v1/package/items/id_card/images", data=chunks(),
                             headers=dict(bearer(world.token(A)),
                                          **{"Content-Type": "multipart/form-data; boundary=x"}))
    assert response.status_code == 413
    assert world.item(A, "id_card")["count"] == 0


def test_a_profile_change_reopens_a_submitted_package_for_newly_required_types(world):
    world.configure("32", name="江苏", upload_enabled=True, window=window(),
                    sites={"3204": "常州", "3201": "南京"},
                    categories={"clinical_practitioner": {"required": [
                        "id_card", "degree_certificate", "probation_certificate",
                        "registration_form", "degree_verification"]}})
    world.consent(A)
    world.fill(A)
    world.call("POST", A, "/submit")
    with rpc(world.config, world.admin) as proxy:
        proxy.auth.import_candidates([candidate(A, serial=700, category="clinical_practitioner")])
    wait_for(lambda: world.package(A)["status"] == "returned", message="reopened")
    package = world.package(A)
    verification = world.item(A, "degree_verification")
    assert verification["required"] and not verification["locked"] and verification["reason"]
    assert world.item(A, "id_card")["locked"]
    assert package["candidate"]["category"] == "clinical_practitioner"
    assert [p["items"] for p in Listener.of("PackageReopened")] == [["degree_verification"]]


def test_configuring_a_region_keeps_every_version_and_refuses_weaker_rules(world, mongo_client, config):
    with rpc(world.config, world.admin) as proxy:
        region = proxy.materials.get_region("32")
        assert region["configured"] and region["version"] == 1
        with pytest.raises(Exception) as refused:
            proxy.materials.configure_region("32", {
                "upload_enabled": True, "window": window(),
                "categories": {"integrated_practitioner": {"required": ["id_card"]}}})
    assert refused.value.exc_type == "ValidationError"
    world.configure("32", name="江苏", upload_enabled=True, window=window(), sites={"3204": "常州"})
    db = mongo_client[config["MONGO"]["DB_PREFIX"] + "materials"]
    assert [v["version"] for v in db.region_versions.find({"region": "32"}).sort("version")] == [1, 2]


def test_an_object_left_by_a_crash_before_its_record_is_swept(world, config, mongo_client):
    world.consent(A)
    package = world.package(A)
    db = mongo_client[config["MONGO"]["DB_PREFIX"] + "materials"]
    key = f"32/3204/{A}/id_card/{'f' * 32}.jpg"
    client = make_client(config)
    import io
    client.put_object(config["S3"]["BUCKET"], key, io.BytesIO(JPEG), len(JPEG))
    db.packages.update_one({"_id": package["package_id"]}, {
        "$set": {f"pending.{'f' * 32}": {"key": key, "at": time.time() - 3600}},
        "$inc": {"pending_n": 1}})
    kept = world.upload(A, "id_card").json()  # a live upload is not touched
    from services.materials.domain import Catalogue
    from services.materials.packages import Packages
    from services.materials.regions import RegionCache
    from services.materials.repository import PackageRepository
    from services.materials.storage import ImageStore
    packages = Packages(PackageRepository(db), ImageStore(client, config["S3"]["BUCKET"]),
                        Catalogue.load(), RegionCache())
    assert packages.sweep_orphans() == 1
    names = {o.object_name for o in client.list_objects(config["S3"]["BUCKET"], prefix=f"32/3204/{A}/",
                                                        recursive=True)}
    assert key not in names and f"32/3204/{A}/id_card/{kept['image_id']}.jpg" in names
    assert db.packages.find_one({"_id": package["package_id"]})["pending_n"] == 0


def test_a_submission_whose_process_died_before_publishing_is_announced_after_restart(
        start_service, container_factory, config, world, mongo_client):
    world.consent(A)
    world.fill(A)
    # A second instance that writes but has not yet published when it is killed: its
    # outbox relay is replaced by nameko's stand-in, which publishes nothing.
    for container in list(start_service.containers.values()):
        if container.service_name == "materials":
            container.stop()
    stalled = container_factory(MaterialsService, dict(config, WEB_SERVER_ADDRESS=world.url.split("//")[1]))
    replace_dependencies(stalled, "relay")
    stalled.start()
    wait_for(lambda: world.call("GET", A, "").status_code == 200, message="stalled instance ready")
    Listener.seen.clear()
    submitted = world.call("POST", A, "/submit").json()
    assert submitted["status"] == "submitted"
    packages = mongo_client[config["MONGO"]["DB_PREFIX"] + "materials"].packages
    assert packages.find_one({"_id": submitted["package_id"]})["outbox_n"] >= 1  # saved, not yet published
    assert Listener.of("PackageSubmitted") == []
    stalled.kill()

    start_service(MaterialsService)  # starts again, relays what the dead one left
    wait_for(lambda: Listener.of("PackageSubmitted"), timeout=10, message="recovered event")
    time.sleep(1)
    assert len(Listener.of("PackageSubmitted")) == 1


def test_the_retention_job_removes_a_closed_years_images_and_packages(world, config, mongo_client):
    world.consent(A)
    image = world.upload(A, "id_card").json()
    db = mongo_client[config["MONGO"]["DB_PREFIX"] + "materials"]
    package_id = world.package(A)["package_id"]
    db.packages.update_one({"_id": package_id}, {"$set": {"exam_year": 2025}})
    with rpc(config, world.admin) as proxy:
        with pytest.raises(Exception) as refused:
            proxy.materials.purge_exam_year(clock.beijing_today().year)
        assert refused.value.exc_type == "ValidationError"
        assert proxy.materials.purge_exam_year(2025) == {"packages": 1, "images": 1}
    assert db.packages.count_documents({"_id": package_id}) == 0
    names = [o.object_name for o in make_client(config).list_objects(
        config["S3"]["BUCKET"], prefix=f"32/3204/{A}/", recursive=True)]
    assert image["image_id"] not in str(names)
