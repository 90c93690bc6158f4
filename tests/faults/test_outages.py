"""Servers stopped under the running system: health tells which dependency is down,
requests fail cleanly, and everything recovers by itself when the server returns."""
import time

import requests

from conftest import health
from support import bearer, wait_for
from unit.imagefactory import document_jpeg

JPEG = document_jpeg()


def consented(system, number):
    token = system.login(number)["access_token"]
    assert requests.post(f"{system.url}/api/v1/package/consent", headers=bearer(token), timeout=10,
                         json={"notice_version": "2026-1"}).status_code == 200
    return token


def upload(system, token, material_type="id_card"):
    return requests.post(f"{system.url}/api/v1/package/items/{material_type}/images",
                         headers=bearer(token), files={"file": ("a.jpg", JPEG, "image/jpeg")},
                         timeout=30)


def test_a_stopped_database_shows_in_health_and_heals_without_restarts(fault_system, private_servers):
    token = consented(fault_system, "2026320400003")
    private_servers.stop("mongo")
    try:
        for name in ("auth", "materials"):
            status, body = wait_for(lambda: (lambda r: r if r[0] == 503 else None)(
                health(fault_system, name)), timeout=20, message=f"{name} unhealthy")
            assert "mongodb" in body["failing"]
        refused = requests.get(f"{fault_system.url}/api/v1/package", headers=bearer(token), timeout=30)
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "unavailable" and "Traceback" not in refused.text
    finally:
        private_servers.start("mongo")
    for name in ("auth", "materials"):
        wait_for(lambda: health(fault_system, name)[0] == 200, timeout=30, message=f"{name} healed")
    assert requests.get(f"{fault_system.url}/api/v1/package", headers=bearer(token),
                        timeout=10).status_code == 200


def test_a_stopped_s3_server_refuses_uploads_cleanly_and_leaves_no_record(fault_system, private_servers):
    token = consented(fault_system, "2026320400004")
    private_servers.stop("s3")
    try:
        status, body = wait_for(lambda: (lambda r: r if r[0] == 503 else None)(
            health(fault_system, "materials")), timeout=20, message="materials unhealthy")
        assert body["failing"] == ["s3"]
        refused = upload(fault_system, token)
        assert refused.status_code == 503 and refused.json()["error"]["code"] == "unavailable", refused.text
        package = requests.get(f"{fault_system.url}/api/v1/package", headers=bearer(token), timeout=10).json()
        assert next(i for i in package["items"] if i["material_type"] == "id_card")["count"] == 0
    finally:
        private_servers.start("s3")
    wait_for(lambda: health(fault_system, "materials")[0] == 200, timeout=30, message="healed")
    assert upload(fault_system, token).status_code == 201


def test_a_broker_outage_loses_no_upload_or_event_and_services_reconnect(
        fault_system, private_servers, mongo_for):
    token = consented(fault_system, "2026320400005")
    private_servers.stop("rabbitmq")
    stopped_at = time.monotonic()
    try:
        made = []
        while time.monotonic() - stopped_at < 20:  # a steady trickle while the broker is away
            response = upload(fault_system, token, "work_certificate")
            if response.status_code == 201:
                made.append(response.json()["image_id"])
            time.sleep(2)
            if len(made) >= 5:
                break
        assert made, "uploads must keep working without the broker (events wait in the outbox)"
    finally:
        private_servers.start("rabbitmq")
    for name in ("auth", "materials", "review", "notify"):
        wait_for(lambda: health(fault_system, name)[0] == 200, timeout=60, message=f"{name} reconnected")
    db = fault_system.db(mongo_for(private_servers.layout.mongo_uri), "materials")
    wait_for(lambda: db.packages.find_one({"candidate_id": "2026320400005"})["outbox_n"] == 0,
             timeout=30, message="outbox drained after the outage")
