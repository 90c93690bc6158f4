"""The walking skeleton: every service up on the real servers, health that tells the
truth, an RPC and an event crossing services, events never dropped on failure."""
import eventlet
import pymongo
import requests
from nameko.standalone.events import event_dispatcher

from common import service as base
from common.messaging import event_handler
from services.auth.service import AuthService
from services.materials.service import MaterialsService
from services.notify.service import NotifyService
from services.review.service import ReviewService
from support import candidate, make_admin, rpc, staff_token, wait_for


def test_every_service_reports_healthy_with_the_dependencies_it_checked(start_service):
    expected = {"auth": {"auth", "mongodb", "rabbitmq"}, "materials": {"auth", "mongodb", "rabbitmq", "s3"},
                "review": {"auth", "rabbitmq"}, "notify": {"auth", "rabbitmq"}}
    for cls in (AuthService, MaterialsService, ReviewService, NotifyService):
        url = start_service(cls)
        response = requests.get(f"{url}/healthz/{cls.name}", timeout=5)
        assert response.status_code == 200, response.text
        assert expected[cls.name] <= set(response.json()["checks"])
        assert requests.get(f"{url}/healthz/other", timeout=5).status_code == 404
        metrics = requests.get(f"{url}/metrics/{cls.name}", timeout=5)
        assert metrics.status_code == 200 and "http_request_duration_seconds" in metrics.text


def test_health_names_the_database_when_it_cannot_be_reached(container_factory, config):
    config = dict(config, MONGO=dict(config["MONGO"], URI="mongodb://127.0.0.1:1/",
                                     SELECT_TIMEOUT_MS=300))
    container = container_factory(AuthService, config)
    container.start()
    response = requests.get(f"http://{config['WEB_SERVER_ADDRESS']}/healthz/auth", timeout=10)
    assert response.status_code == 503
    # and auth's own token state, which it serves from that database
    assert response.json()["failing"] == ["auth", "mongodb"]


def test_a_service_that_never_heard_from_auth_is_not_ready_and_says_so(container_factory, config):
    """Until its first sync with auth it cannot tell a good token from a bad one and
    answers every signed-in call 503; health says so, so nothing routes to it yet."""
    container = container_factory(MaterialsService, config)  # no auth on this vhost
    container.start()
    url = f"http://{config['WEB_SERVER_ADDRESS']}"
    response = requests.get(f"{url}/healthz/materials", timeout=10)
    assert response.status_code == 503 and response.json()["failing"] == ["auth"]
    refused = requests.get(f"{url}/api/v1/package", headers={"Authorization": "Bearer x"}, timeout=10)
    assert refused.status_code == 503


def test_an_rpc_and_an_event_cross_services_over_the_real_broker(start_service, config):
    start_service(AuthService)
    start_service(MaterialsService)
    make_admin(config)
    token = staff_token(config, "admin.test", "Admin@2026")
    record = candidate("2026320400901")
    with rpc(config, token) as proxy:
        assert proxy.auth.import_candidates([record])["created"] == 1
        changed = dict(record, category="clinical_practitioner")
        assert proxy.auth.import_candidates([changed])["updated"] == 1

    # auth's outbox publishes CandidateProfileChanged; materials records the profile.
    db = pymongo.MongoClient(config["MONGO"]["URI"])[config["MONGO"]["DB_PREFIX"] + "materials"]
    profile = wait_for(lambda: db.profiles.find_one({"_id": "2026320400901"}), message="profile")
    assert profile["category"] == "clinical_practitioner"
    auth_db = db.client[config["MONGO"]["DB_PREFIX"] + "auth"]
    wait_for(lambda: auth_db.candidates.find_one({"_id": "2026320400901"})["outbox_n"] == 0,
             message="outbox drained")


class Flaky(base.ServiceBase):
    """A consumer that fails on a poison event, to prove nothing is dropped."""
    name = "flaky"
    seen = []
    busy_left = 0

    @event_handler("materials", "MaterialDeleted", delays=(0.2, 0.2), max_attempts=3)
    def on_deleted(self, payload):
        Flaky.seen.append(payload["event_id"])
        if payload["image_id"] == "poison":
            raise ValueError("cannot handle this one")
        if payload["image_id"] == "busy" and Flaky.busy_left > 0:
            Flaky.busy_left -= 1
            raise AtCapacity()


class AtCapacity(Exception):
    busy = True  # back-pressure: try again soon, no attempt used up


def two_at_once(config):
    return 2


class Slow(base.ServiceBase):
    """A handler bounded by a resource of its own (like the ID card reader)."""
    name = "slow"
    holding = 0
    most = 0
    done = []

    @event_handler("materials", "MaterialDeleted", prefetch=two_at_once)
    def on_deleted(self, payload):
        Slow.holding += 1
        Slow.most = max(Slow.most, Slow.holding)
        eventlet.sleep(0.2)
        Slow.holding -= 1
        Slow.done.append(payload["event_id"])


def _deleted(image_id):
    from common.events import MaterialDeleted
    return MaterialDeleted(package_id="p", candidate_id="c", material_type="other",
                           image_id=image_id).to_payload()


def test_a_poison_event_is_retried_then_parked_and_can_be_replayed(start_service, config):
    start_service(AuthService)
    start_service(Flaky)
    Flaky.seen.clear()
    dispatch = event_dispatcher(config)
    poison, fine = _deleted("poison"), _deleted("fine")
    dispatch("materials", "MaterialDeleted", poison)
    dispatch("materials", "MaterialDeleted", fine)

    make_admin(config)
    token = staff_token(config, "admin.test", "Admin@2026")
    with rpc(config, token) as proxy:
        parked = wait_for(lambda: proxy.flaky.dead_letters(), timeout=15, message="dead letter")
    assert [p["event_id"] for p in parked] == [poison["event_id"]]
    assert parked[0]["attempts"] == 3 and "ValueError" in parked[0]["last_error"]
    assert Flaky.seen.count(poison["event_id"]) == 3
    assert Flaky.seen.count(fine["event_id"]) == 1  # other events kept flowing

    with rpc(config, token) as proxy:
        proxy.flaky.replay_dead_letter(poison["event_id"])
        wait_for(lambda: Flaky.seen.count(poison["event_id"]) >= 4, message="replayed delivery")
        # It fails again, so after its fresh attempts it is parked once more, not lost.
        parked = wait_for(lambda: proxy.flaky.dead_letters(), timeout=15, message="parked again")
    assert [p["event_id"] for p in parked] == [poison["event_id"]]


def test_a_handler_at_capacity_gets_the_event_again_soon_without_using_up_attempts(start_service, config):
    start_service(AuthService)
    start_service(Flaky)
    Flaky.seen.clear()
    Flaky.busy_left = 5                       # more refusals than the 3 attempts allowed
    busy = _deleted("busy")
    event_dispatcher(config)("materials", "MaterialDeleted", busy)
    wait_for(lambda: Flaky.seen.count(busy["event_id"]) == 6, timeout=15, message="handled after 5 refusals")
    assert Flaky.busy_left == 0


def test_a_handler_with_a_prefetch_of_its_own_holds_that_many_and_the_broker_keeps_the_rest(
        start_service, config):
    start_service(AuthService)
    start_service(Slow)  # max_workers is 20: without its own prefetch it would take all 8
    Slow.done.clear()
    Slow.most = 0
    events = [_deleted(f"slow-{i}") for i in range(8)]
    dispatch = event_dispatcher(config)
    for event in events:
        dispatch("materials", "MaterialDeleted", event)
    wait_for(lambda: len(Slow.done) == 8, timeout=20, message="all eight handled")
    assert Slow.most == 2
    assert sorted(Slow.done) == sorted(e["event_id"] for e in events)  # each once, none lost


def test_an_event_without_its_required_fields_is_parked_at_once(start_service, config):
    start_service(AuthService)
    start_service(Flaky)
    Flaky.seen.clear()
    event_dispatcher(config)("materials", "MaterialDeleted", {"event_id": "bad", "version": 1})
    make_admin(config)
    token = staff_token(config, "admin.test", "Admin@2026")
    with rpc(config, token) as proxy:
        parked = wait_for(lambda: proxy.flaky.dead_letters(), timeout=10, message="dead letter")
    assert parked[0]["event_id"] == "bad" and parked[0]["attempts"] == 0
    assert Flaky.seen == []
