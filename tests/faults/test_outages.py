"""Servers stopped under the running system, with candidates uploading and submitting all
along: health tells which dependency is down, requests fail cleanly, everything
recovers by itself when the server returns, and afterwards the checker finds every
state change announced, every event acted on once, every notification sent once and
every image record matched by its object."""
import os
import signal
import subprocess
import time

import pytest
from nameko.exceptions import RemoteError

from checker import ORPHAN_AGE_S, sweeper
from support import Candidate, https_rpc, rpc, wait_for
from traffic import Trickle, clean_failures, health, in_queue
from unit.imagefactory import document_jpeg

JPEG = document_jpeg()


def test_a_stopped_database_shows_in_health_and_heals_without_restarts(
        fault_system, private_servers, people, checker, fault_admin):
    candidate = Candidate(fault_system, "2026320400003")
    with Trickle(fault_system, people["database"]) as trickle:
        time.sleep(1.5)  # traffic flowing before the fault
        private_servers.stop("mongo")
        try:
            for name in ("auth", "materials"):
                status, body = wait_for(lambda: (lambda r: r if r[0] == 503 else None)(
                    health(fault_system, name)), timeout=20, message=f"{name} unhealthy")
                assert "mongodb" in body["failing"]
            refused = candidate.call("GET", "/package")
            assert refused.status_code == 503
            assert refused.json()["error"]["code"] == "unavailable" and "Traceback" not in refused.text
            # An outage reaches RPC callers as one, never as a claim conflict (DESIGN §5).
            over_https = https_rpc(fault_system.url, "review", "list_queue", fault_admin)
            assert over_https.status_code == 503 and over_https.json()["error"]["code"] == "unavailable"
            assert int(over_https.headers["Retry-After"]) > 0
            with rpc(fault_system.config, fault_admin) as proxy:
                with pytest.raises(RemoteError) as outage:
                    proxy.review.list_queue()
            assert outage.value.exc_type == "Unavailable"
        finally:
            private_servers.start("mongo")
        for name in ("auth", "materials"):
            wait_for(lambda: health(fault_system, name)[0] == 200, timeout=30, message=f"{name} healed")
        assert candidate.call("GET", "/package").status_code == 200
        trickle.wait_finished()
    clean_failures(trickle)
    assert any(entry[3] == 503 for entry in trickle.log), "the trickle never met the outage"
    checker.verify()


def test_a_killed_database_server_keeps_every_upload_and_submission_it_acknowledged(
        fault_system, private_servers, people, checker, fault_mongo):
    with Trickle(fault_system, people["database_kill"], interval=0.2) as trickle:
        time.sleep(2.5)  # uploads acknowledged up to the moment of the kill
        killed_at = time.monotonic()
        private_servers.kill("mongo")
        try:
            time.sleep(1)
        finally:
            private_servers.start("mongo")
        for name in ("auth", "materials", "review", "notify"):
            wait_for(lambda: health(fault_system, name)[0] == 200, timeout=30, message=f"{name} healed")
        trickle.wait_finished()
    clean_failures(trickle)
    before = trickle.made_between(0, killed_at)
    assert sum(1 for entry in before if entry[2] == "upload") >= 3, before

    materials = fault_system.db(fault_mongo, "materials")
    for person in trickle.people:
        package = materials.packages.find_one({"candidate_id": person.number})
        stored = {image_id for item in package["items"].values() for image_id in item["images"]}
        kept = [image_id for material_type, image_id in person.uploaded if material_type != "other"]
        assert set(kept) <= stored, f"{person.number}: acknowledged uploads lost"
        assert person.package_id and package["status"] != "draft", f"{person.number}: submission lost"
    checker.verify()


def exists(s3_client, bucket, key):
    return any(True for _ in s3_client.list_objects(bucket, prefix=key))


def test_a_stopped_s3_server_refuses_uploads_cleanly_and_leaves_no_record(
        fault_system, private_servers, people, checker, fault_mongo, fault_s3):
    candidate = Candidate(fault_system, "2026320400004")
    with Trickle(fault_system, people["s3"]) as trickle:
        time.sleep(1.5)
        private_servers.stop("s3")
        try:
            status, body = wait_for(lambda: (lambda r: r if r[0] == 503 else None)(
                health(fault_system, "materials")), timeout=20, message="materials unhealthy")
            assert body["failing"] == ["s3"]
            refused = candidate.upload("id_card", JPEG)
            assert refused.status_code == 503 and refused.json()["error"]["code"] == "unavailable", refused.text
            assert candidate.item("id_card")["count"] == 0
        finally:
            private_servers.start("s3")
        wait_for(lambda: health(fault_system, "materials")[0] == 200, timeout=30, message="healed")
        assert candidate.upload("id_card", JPEG).status_code == 201
        trickle.wait_finished()
    clean_failures(trickle)
    assert any(entry[3] == 503 and entry[2] == "upload" for entry in trickle.log), \
        "no trickle upload met the outage"

    # An upload cut off mid-call by the stop may have stored its object: its pending note
    # stays (a refused connection leaves none). The sweeper, looking at every pending
    # upload however young, clears those, and then nothing is pending any more.
    packages = sweeper(fault_system, fault_mongo, fault_s3)
    packages.sweep_orphans(now=time.time() + 10 * ORPHAN_AGE_S)
    assert list(packages.repo.stale_pending(time.time() + 10 * ORPHAN_AGE_S)) == []

    # What a crash leaves, made with materials' own repository calls, then swept:
    # (a) object written, record never attached; (b) slot reserved, object never written;
    # (c) image detached from the package (and MaterialDeleted recorded), object not removed.
    from services.materials import domain
    repo = packages.repo
    package_id = domain.package_id_for("2026320400004", 2026)
    package = repo.get(package_id)
    a, b = "a" * 32, "b" * 32
    key_a = domain.object_key(package, "other", a, "jpg")
    key_b = domain.object_key(package, "other", b, "jpg")
    assert repo.reserve_upload(package_id, "other", a, key_a)
    packages.images.put(key_a, JPEG, "image/jpeg")
    assert repo.reserve_upload(package_id, "other", b, key_b)
    kept = next(iter(repo.get(package_id)["items"]["id_card"]["images"].values()))
    assert repo.remove_image(package_id, "id_card", kept["image_id"],
                             lambda pkg: domain.deleted_event(pkg, "id_card", kept["image_id"]))[0]
    materials = fault_system.db(fault_mongo, "materials")
    old = time.time() - ORPHAN_AGE_S - 60
    materials.packages.update_one({"_id": package_id}, {"$set": {
        f"pending.{a}.at": old, f"pending.{b}.at": old, f"pending.{kept['image_id']}.at": old}})
    assert exists(fault_s3, fault_system.bucket, key_a) and exists(fault_s3, fault_system.bucket, kept["key"])

    packages.sweep_orphans()  # (the service's own timer may take some of them first)
    assert not materials.packages.find_one({"_id": package_id}).get("pending")
    assert not exists(fault_s3, fault_system.bucket, key_a)
    assert not exists(fault_s3, fault_system.bucket, kept["key"])
    assert packages.sweep_orphans(now=time.time() + 10 * ORPHAN_AGE_S) == 0
    checker.verify()


def test_a_broker_outage_loses_no_upload_or_event_and_services_reconnect(
        fault_system, private_servers, fault_mongo, people, checker, fault_admin):
    candidate = Candidate(fault_system, "2026320400005")
    with Trickle(fault_system, people["broker"]) as trickle:
        time.sleep(1.5)
        private_servers.stop("rabbitmq")
        stopped_at = time.monotonic()
        try:
            made = []
            while time.monotonic() - stopped_at < 20:  # the broker stays away 20 s
                if len(made) < 5:
                    response = candidate.upload("work_certificate", JPEG)
                    if response.status_code == 201:
                        made.append(response.json()["image_id"])
                time.sleep(1)
            assert made, "uploads must keep working without the broker (events wait in the outbox)"
        finally:
            restarted_at = time.monotonic()
            private_servers.start("rabbitmq")
        for name in ("auth", "materials", "review", "notify"):
            wait_for(lambda: health(fault_system, name)[0] == 200, timeout=60, message=f"{name} reconnected")
        trickle.wait_finished()
    clean_failures(trickle)
    during = trickle.made_between(stopped_at, restarted_at)
    assert sum(1 for e in during if e[2] == "upload") >= 5, during
    submitted_during = {e[1] for e in during if e[2] == "submit"}
    assert submitted_during, f"no submission was made while the broker was away: {during}"

    db = fault_system.db(fault_mongo, "materials")
    wait_for(lambda: db.packages.find_one({"candidate_id": "2026320400005"})["outbox_n"] == 0,
             timeout=30, message="outbox drained after the outage")
    # Every submission, those made while the broker was away included, reached review.
    in_queue(fault_system, fault_admin, [p.package_id for p in trickle.people])
    checker.verify()


def test_a_reply_that_cannot_be_sent_while_the_broker_is_away_kills_no_service(
        fault_system, private_servers, fault_admin):
    """An RPC in flight when the broker goes: its reply cannot be sent. nameko let that
    failure kill the container (auth exited in an outside test run); here the service
    logs it, and carries on when the broker is back (common/rpc.SafeRpcConsumer)."""
    import os
    import signal
    import threading
    auth = fault_system.procs["auth"]
    database = private_servers.entries["mongo"]["pid"]
    os.kill(database, signal.SIGSTOP)  # the call waits on the database: it is in flight
    in_flight = threading.Thread(target=_call_quietly, args=(fault_system.config, fault_admin), daemon=True)
    try:
        in_flight.start()
        time.sleep(1.5)
        private_servers.stop("rabbitmq")
    finally:
        os.kill(database, signal.SIGCONT)  # the worker finishes and tries to reply
    time.sleep(12)  # past pymongo's socket timeout (10 s): the reply has been attempted
    try:
        assert auth.poll() is None, "auth died:\n" + fault_system.log("auth")[-2000:]
    finally:
        private_servers.start("rabbitmq")
    for name in ("auth", "materials", "review", "notify"):
        wait_for(lambda: health(fault_system, name)[0] == 200, timeout=60, message=f"{name} reconnected")
    assert auth.poll() is None
    with rpc(fault_system.config, fault_admin) as proxy:
        assert proxy.auth.list_staff()
    assert "RPC reply not sent" in fault_system.log("auth")


def _call_quietly(config, token):
    try:
        with rpc(config, token, timeout=30) as proxy:
            proxy.auth.list_staff()
    except Exception:  # the broker went away under it: expected
        pass


def test_a_service_that_is_down_is_answered_in_json_at_the_front_door(fault_system):
    """nginx's own 502 for a service that is not there becomes DESIGN §4's envelope."""
    candidate = Candidate(fault_system, "2026320400006")
    fault_system.stop_service("materials")
    try:
        for response in (candidate.call("GET", "/package"), candidate.upload("id_card", JPEG)):
            assert response.status_code == 503, response.text
            assert response.headers["Content-Type"].startswith("application/json")
            assert response.json()["error"]["code"] == "unavailable" and "<html" not in response.text
            assert int(response.headers["Retry-After"]) > 0
    finally:
        fault_system.start_service("materials")
    fault_system.wait_healthy(["materials"])
    assert candidate.call("GET", "/package").status_code == 200


# -- servers that accept connections and answer nothing (SIGSTOP) --------------------------------------
def _hang(pid):
    os.kill(pid, signal.SIGSTOP)
    return lambda: os.kill(pid, signal.SIGCONT)


def _beam_of(node):
    """The Erlang VM of the RabbitMQ node (its name is in its environment, not its command)."""
    for pid in subprocess.run(["pgrep", "-f", "beam.smp"], capture_output=True, text=True).stdout.split():
        try:
            if f"RABBITMQ_NODENAME={node}".encode() in open(f"/proc/{pid}/environ", "rb").read():
                return int(pid)
        except OSError:
            continue
    raise AssertionError(f"no beam.smp for {node}")


def _timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def _refused_in_time(response, took):
    assert took < 5, f"answered after {took:.1f} s"
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "unavailable" and int(response.headers["Retry-After"]) > 0


def test_a_hung_s3_server_costs_an_upload_seconds_and_writes_nothing_half(fault_system, private_servers):
    candidate = Candidate(fault_system, "2026320400007")
    resume = _hang(private_servers.entries["s3"]["pid"])
    try:
        _refused_in_time(*_timed(lambda: candidate.upload("id_card", JPEG)))
        status, body = wait_for(lambda: (lambda r: r if r[0] == 503 else None)(health(fault_system, "materials")),
                                timeout=10, message="materials names s3")
        assert body["failing"] == ["s3"]
        assert candidate.item("id_card")["count"] == 0
    finally:
        resume()
    wait_for(lambda: candidate.upload("id_card", JPEG).status_code == 201, timeout=30, interval=1,
             message="uploads again")


def test_a_hung_database_costs_a_request_seconds(fault_system, private_servers):
    candidate = Candidate(fault_system, "2026320400008")
    resume = _hang(private_servers.entries["mongo"]["pid"])
    try:
        _refused_in_time(*_timed(lambda: candidate.call("GET", "/package")))
        _refused_in_time(*_timed(lambda: candidate.upload("id_card", JPEG)))
    finally:
        resume()
    wait_for(lambda: candidate.call("GET", "/package").status_code == 200, timeout=30, interval=1,
             message="reads again")


def test_a_hung_broker_holds_no_candidate_request(fault_system, private_servers):
    """Candidates' requests do not wait on the broker (events leave through the outbox)."""
    candidate = Candidate(fault_system, "2026320400009")
    resume = _hang(_beam_of(private_servers.layout.rabbit_node))
    try:
        response, took = _timed(lambda: candidate.upload("id_card", JPEG))
        assert response.status_code == 201 and took < 5, (response.status_code, took)
        assert _timed(lambda: candidate.call("GET", "/package"))[1] < 5
        status, body = wait_for(lambda: (lambda r: r if r[0] == 503 else None)(health(fault_system, "materials")),
                                timeout=15, message="materials names rabbitmq")
        assert "rabbitmq" in body["failing"]
    finally:
        resume()
    for name in ("auth", "materials", "review", "notify"):
        wait_for(lambda: health(fault_system, name)[0] == 200, timeout=60, message=f"{name} healthy again")
