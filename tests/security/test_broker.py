"""The broker belongs to the services (DESIGN §5, §6), tried as an outside tester would
with a service's own account: each may publish only its own events and RPC requests,
consume only its own queues, bind only the keys it serves; a forged event changes
nothing; and a staff sign-in puts no password on the broker."""
import subprocess
import time
import uuid

import pytest
import requests
from amqp.exceptions import AccessRefused
from kombu import Connection, Exchange, Queue

from dev import servers
from support import Candidate, candidate, create_candidates, rpc, wait_for

NUMBER = "2026320400971"
APPROVED_QUEUE = "evt-review-PackageApproved--materials.on_package_approved"


def connect(system, service):
    return Connection(system.amqp_uri_of(service), connect_timeout=5,
                      transport_options={"confirm_publish": True})


def refused(action):
    with pytest.raises(AccessRefused):
        action()


def test_a_service_publishes_neither_another_services_events_nor_its_rpc_requests(system):
    with connect(system, "notify") as conn:
        producer = conn.Producer(serializer="json")
        refused(lambda: producer.publish({"x": 1}, exchange=Exchange("review.events", type="topic"),
                                         routing_key="PackageApproved", user_id=conn.userid))
    with connect(system, "notify") as conn:
        producer = conn.Producer(serializer="json")
        # An RPC it does not make (only auth.get_contact, and its token verifier's calls).
        refused(lambda: producer.publish({}, exchange=Exchange("nameko-rpc", type="topic"),
                                         routing_key="review.approve", user_id=conn.userid))
    with connect(system, "notify") as conn:  # what it does make goes through
        conn.Producer(serializer="json").publish({}, exchange=Exchange("nameko-rpc", type="topic"),
                                                 routing_key="auth.get_contact", user_id=conn.userid)


def test_a_service_binds_no_queue_that_would_copy_what_it_does_not_handle(system):
    nameko_rpc = Exchange("nameko-rpc", type="topic")
    for key in ("auth.login_staff", "auth.*", "#", "review.get_case"):
        with connect(system, "notify") as conn:
            queue = Queue(f"rpc.reply-notify-{uuid.uuid4()}", exchange=nameko_rpc, routing_key=key,
                          auto_delete=True)
            refused(lambda: queue(conn.channel()).declare())
    with connect(system, "notify") as conn:  # notify handles no auth events at all
        queue = Queue("evt-auth-CandidateProfileChanged--notify.spy", auto_delete=True,
                      exchange=Exchange("auth.events", type="topic"), routing_key="CandidateProfileChanged")
        refused(lambda: queue(conn.channel()).declare())


def test_a_service_consumes_no_other_services_queue(system):
    for queue_name in ("rpc-auth", "evt-materials-PackageSubmitted--review.on_package_submitted"):
        with connect(system, "notify") as conn:
            refused(lambda: conn.channel().basic_get(queue=queue_name))


def test_a_forged_package_approval_changes_nothing_anywhere(system, admin_token):
    create_candidates(system.standin, [candidate(NUMBER, serial=971)])
    person = Candidate(system, NUMBER)
    person.fill_required()
    package = person.submit()
    wait_for(lambda: person.call("GET", "/messages").json()["messages"], timeout=15, message="told of the submission")
    forged = {"event_id": uuid.uuid4().hex, "occurred_at": "2026-11-29T08:00:00.000Z", "version": 1,
              "package_id": package["package_id"], "candidate_id": NUMBER, "region": "32",
              "site": "3204", "attempt": 1, "reviewer_id": "staff:reviewer.3204"}
    # Straight into materials' queue through the default exchange, as notify and as the
    # broker's own admin user (which the services never use).
    for uri in (system.amqp_uri_of("notify"), system.amqp_uri):
        with Connection(uri, connect_timeout=5) as conn:
            conn.Producer(serializer="json").publish(dict(forged, event_id=uuid.uuid4().hex), exchange="",
                                                     routing_key=APPROVED_QUEUE, delivery_mode=2)
    with Connection(system.amqp_uri, connect_timeout=5) as conn:
        wait_for(lambda: conn.channel().queue_declare(queue=APPROVED_QUEUE, passive=True)[1] == 0,
                 timeout=15, message="the forged events taken off the queue")
    time.sleep(1)
    assert person.package()["status"] == "submitted"
    kinds = [m["kind"] for m in person.call("GET", "/messages").json()["messages"]]
    assert kinds and "approved" not in kinds, kinds
    assert "forged event refused" in system.log("materials")


def test_a_staff_sign_in_puts_no_password_on_the_broker(system):
    """The firehose traces every message of the vhost while a reviewer signs in over HTTPS."""
    vhost = system.amqp_uri.rsplit("/", 1)[1]
    password = f"Sekret-{uuid.uuid4().hex[:12]}"
    from services.auth.cli import use_cases
    use_cases(system.config).staff.save_staff("sec.trace.3204", "reviewer", "32", ["3204"], password)
    ctl = [str(servers.RABBIT_BIN / "rabbitmqctl"), "-q"]
    env = servers.rabbit_env(servers.DEFAULT)
    subprocess.run(ctl + ["trace_on", "-p", vhost], env=env, check=True, capture_output=True)
    try:
        with Connection(system.amqp_uri, connect_timeout=5) as conn:
            trace = Queue(f"trace-{uuid.uuid4().hex[:8]}", exchange=Exchange("amq.rabbitmq.trace", type="topic",
                                                                           passive=True),
                          routing_key="#", auto_delete=True)
            bound = trace(conn.channel())
            bound.declare()
            signed_in = requests.post(f"{system.url}/auth/staff/login", timeout=15,
                                      json={"username": "sec.trace.3204", "password": password})
            assert signed_in.status_code == 200, signed_in.text
            time.sleep(3)  # the services' own traffic goes on meanwhile (token state polls)
            bodies = []
            while (message := bound.get(no_ack=True)) is not None:
                bodies.append(message.body if isinstance(message.body, bytes) else str(message.body).encode())
    finally:
        subprocess.run(ctl + ["trace_off", "-p", vhost], env=env, capture_output=True)
    assert bodies, "the trace saw nothing: it proves nothing"
    assert not any(password.encode() in body for body in bodies)


def test_a_malformed_rpc_request_takes_no_service_down(system, admin_token):
    """A request without arguments or reply address, from an account allowed to call:
    nameko would let the failed reply kill the container (common/rpc.SafeRpcConsumer)."""
    with connect(system, "notify") as conn:
        conn.Producer(serializer="json").publish({"nonsense": True}, exchange=Exchange("nameko-rpc", type="topic"),
                                                 routing_key="auth.get_contact", user_id=conn.userid)
    time.sleep(1)
    with rpc(system.config, admin_token) as proxy:
        assert any(s["username"] == "admin" for s in proxy.auth.list_staff())
    assert requests.get(f"{system.url}/healthz/auth", timeout=10).status_code == 200
