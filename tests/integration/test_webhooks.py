"""Outcomes pushed as Standard Webhooks (DESIGN §4a) against the real servers and
receivers on 127.0.0.1 (dev/webhook_receiver.py: verifies with standardwebhooks'
Webhook.verify and applies an outcome once per webhook-id): every outcome arrives
signed; a receiver that answers 500, is down, is slow or redirects is retried under
the same webhook-id and nothing is lost or applied twice; a slow subscriber holds no
other up; after the retry horizon a delivery is failed, listed and replayed; national
administrators alone manage subscribers; and no URL reaches loopback, private or
link-local addresses outside local development, at registration or at send time."""
import time

import pytest
from standardwebhooks import Webhook

from dev.webhook_receiver import WebhookReceiver
from services.notify import hooks
from support import free_port, make_reviewer, staff_token, wait_for

pytestmark = pytest.mark.outcome_settings  # fast rounds (tests/integration/conftest.py)


@pytest.fixture
def receivers():
    started = []

    def make(**kwargs):
        receiver = WebhookReceiver(**kwargs).start()
        started.append(receiver)
        return receiver

    yield make
    for receiver in started:
        receiver.set_mode("ok")
        receiver.stop()


def result(response, status=200):
    assert response.status_code == status, response.text
    return response.json()["result"]


def refused(response, status, code):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), error
    return error


def subscribe(outcomes, receiver, **kwargs):
    added = result(outcomes.call("add_webhook_subscriber", url=receiver.url, **kwargs))
    receiver.secret = added["secret"]
    return added


def deliveries(outcomes, event_id):
    return list(outcomes.db.webhook_deliveries.find({"event_id": event_id}))


def requests_for(receiver, webhook_id):
    return [r for r in list(receiver.requests) if r["webhook_id"] == webhook_id]


def test_every_outcome_reaches_its_subscribers_once_signed_as_standard_webhooks(outcomes, receivers):
    everywhere, beijing = receivers(), receivers()
    added = subscribe(outcomes, everywhere, description="报名系统（全部考区）")
    subscribe(outcomes, beijing, regions=["11"])
    assert added["secret"].startswith("whsec_") and added["regions"] is None
    assert "secret" not in result(outcomes.call("webhook_subscribers"))[0]  # shown once only

    sent = [outcomes.submitted(), outcomes.returned(), outcomes.approved(), outcomes.approved(site="1101")]
    wait_for(lambda: len(everywhere.applied) == 4 and len(beijing.applied) == 1, timeout=15,
             message="every outcome at its subscribers")
    time.sleep(0.5)  # room for a wrong second delivery to show up

    feed = {i["event_id"]: i for i in outcomes.everything()}
    assert sorted(r["event_id"] for r in everywhere.records()) == sorted(e["event_id"] for e in sent)
    for webhook_id, record in everywhere.applied.items():
        assert record == feed[record["event_id"]]  # the same record as the pull feed, sequence included
        [delivery] = [d for d in deliveries(outcomes, record["event_id"]) if d["subscriber_id"] == added["subscriber_id"]]
        assert delivery["_id"] == webhook_id and delivery["status"] == "delivered"
    assert [r["region"] for r in beijing.records()] == ["11"]
    assert all(r["verified"] for r in everywhere.requests + beijing.requests)
    # one webhook-id per outcome (a request the busy machine answered late may repeat one)
    assert len({r["webhook_id"] for r in everywhere.requests}) == 4 and everywhere.rejected == 0


def test_a_receiver_answering_500_then_down_then_slow_gets_each_outcome_once_under_one_webhook_id(
        outcomes, receivers):
    receiver = receivers()
    subscribe(outcomes, receiver)

    receiver.set_mode("error")
    first = outcomes.approved()
    wait_for(lambda: len(receiver.requests) >= 2, timeout=15, message="two refused attempts")
    receiver.set_mode("ok")
    wait_for(lambda: len(receiver.applied) == 1, timeout=15, message="delivered after the 500s")

    receiver.stop()  # down: nothing listens
    second = outcomes.approved()
    wait_for(lambda: any(d["attempts"] >= 2 for d in deliveries(outcomes, second["event_id"])),
             timeout=15, message="attempts while it was down")
    assert "无法连接接收方" in deliveries(outcomes, second["event_id"])[0]["note"]
    receiver.start()
    wait_for(lambda: len(receiver.applied) == 2, timeout=15, message="delivered once it is back")

    # Slow: it takes the outcome but answers after notify's read deadline (1 s), so
    # notify tries again, with the same webhook-id, and the receiver applies it once.
    receiver.set_mode("slow", seconds=1.5)
    third = outcomes.approved()
    wait_for(lambda: any(d["attempts"] >= 1 for d in deliveries(outcomes, third["event_id"])),
             timeout=15, message="a timed-out attempt")
    receiver.set_mode("ok")
    wait_for(lambda: deliveries(outcomes, third["event_id"])[0]["status"] == "delivered", timeout=15,
             message="delivered after the slow answer")
    slow_id = deliveries(outcomes, third["event_id"])[0]["_id"]
    wait_for(lambda: len(requests_for(receiver, slow_id)) >= 2, timeout=5,
             message="the slow request finished at the receiver too")

    assert sorted(r["event_id"] for r in receiver.records()) == sorted(
        e["event_id"] for e in (first, second, third))
    for event in (first, second, third):
        [delivery] = deliveries(outcomes, event["event_id"])
        assert {r["webhook_id"] for r in requests_for(receiver, delivery["_id"])} == {delivery["_id"]}
        assert delivery["attempts"] >= 2
    assert len(requests_for(receiver, deliveries(outcomes, first["event_id"])[0]["_id"])) >= 3
    assert receiver.duplicates >= 1  # the slow one arrived twice, applied once
    assert all(r["verified"] for r in receiver.requests)


def test_a_redirect_is_not_followed(outcomes, receivers):
    receiver, elsewhere = receivers(), receivers()
    subscribe(outcomes, receiver)
    elsewhere.secret = receiver.secret
    receiver.set_mode("redirect", location=elsewhere.url)
    event = outcomes.approved()
    wait_for(lambda: any(d["attempts"] >= 2 for d in deliveries(outcomes, event["event_id"])),
             timeout=15, message="redirected attempts")
    [delivery] = deliveries(outcomes, event["event_id"])
    assert delivery["status"] in ("pending", "sending") and delivery["last_status"] == 307
    assert "不跟随重定向" in delivery["note"]
    assert elsewhere.requests == [] and receiver.applied == {}


def test_one_slow_subscriber_holds_up_no_other(outcomes, receivers):
    slow, fast = receivers(), receivers()
    subscribe(outcomes, slow)
    subscribe(outcomes, fast)
    slow.set_mode("slow", seconds=30)  # far past every deadline of notify's
    started = time.monotonic()
    for _ in range(8):
        outcomes.approved()
    wait_for(lambda: len(fast.applied) == 8, timeout=10, message="the fast subscriber served")
    assert time.monotonic() - started < 10
    assert slow.applied == {}


@pytest.fixture
def short_horizon(config):
    config["WEBHOOKS"] = dict(config["WEBHOOKS"], HORIZON_S=1.5)


def test_after_the_retry_horizon_a_delivery_is_failed_listed_and_replayed_under_its_webhook_id(
        short_horizon, outcomes, receivers):
    receiver = receivers()
    subscribe(outcomes, receiver, description="报名系统")
    receiver.set_mode("error")
    event = outcomes.returned()

    failed = wait_for(lambda: result(outcomes.call("failed_webhooks")), timeout=15, message="failed")
    [listed] = failed
    assert listed["event_id"] == event["event_id"] and listed["status"] == "failed"
    assert listed["outcome"] == "returned" and listed["url"] == receiver.url and listed["description"] == "报名系统"
    assert listed["attempts"] >= 2 and "HTTP 500" in listed["note"] and "已停止重试" in listed["note"]
    assert len(receiver.requests) == listed["attempts"] and receiver.applied == {}

    receiver.set_mode("ok")
    replayed = result(outcomes.call("replay_webhook", delivery_id=listed["delivery_id"]))
    assert replayed["status"] == "pending" and replayed["log"][-1]["by"] == "staff:admin.test"
    wait_for(lambda: len(receiver.applied) == 1, timeout=15, message="delivered after the replay")
    assert list(receiver.applied) == [listed["webhook_id"]]  # the same id as every attempt before
    assert result(outcomes.call("failed_webhooks")) == []
    again = refused(outcomes.call("replay_webhook", delivery_id=listed["delivery_id"]), 409, "invalid_transition")
    assert "已送达" in again["message"]
    refused(outcomes.call("replay_webhook", delivery_id="msg_" + "0" * 32), 404, "not_found")
    refused(outcomes.call("replay_webhook", delivery_id="../etc"), 404, "not_found")


def test_only_national_administrators_manage_subscribers_and_bad_input_changes_nothing(
        outcomes, receivers, config):
    from services.auth.cli import use_cases
    use_cases(config).staff.save_staff("admin.32", "admin", "32", [], "Admin@2026")
    make_reviewer(config, "reviewer.3204", ["3204"])
    receiver = receivers()
    for token in (staff_token(config, "admin.32", "Admin@2026"), staff_token(config, "reviewer.3204", "Review@2026"),
                  outcomes.registration):
        for method, kwargs in (("webhook_subscribers", {}), ("add_webhook_subscriber", {"url": receiver.url}),
                               ("failed_webhooks", {}), ("remove_webhook_subscriber", {"subscriber_id": "sub_" + "0" * 24}),
                               ("replay_webhook", {"delivery_id": "msg_" + "0" * 32})):
            refused(outcomes.call(method, token, **kwargs), 403, "forbidden")
    for kwargs in ({"url": receiver.url, "regions": ["3204"]}, {"url": receiver.url, "regions": "all"},
                   {"url": receiver.url, "description": "长" * 101}, {"url": 42}, {"url": "ftp://x/y"}):
        refused(outcomes.call("add_webhook_subscriber", **kwargs), 422, "validation_error")
    assert result(outcomes.call("webhook_subscribers")) == []

    added = subscribe(outcomes, receiver, regions=["32", "11", "32"])
    assert added["regions"] == ["11", "32"] and added["created_by"] == "staff:admin.test"
    refused(outcomes.call("add_webhook_subscriber", url=receiver.url), 409, "conflict")
    receiver.set_mode("error")
    event = outcomes.approved()
    wait_for(lambda: any(d["attempts"] >= 1 for d in deliveries(outcomes, event["event_id"])), timeout=15,
             message="an attempt")
    removed = result(outcomes.call("remove_webhook_subscriber", subscriber_id=added["subscriber_id"]))
    assert removed["status"] == "removed" and removed["removed_by"] == "staff:admin.test" and removed["cancelled"] == 1
    seen = len(receiver.requests)
    outcomes.approved()
    time.sleep(1.5)  # rounds run every 0.1 s: anything still going out would show
    assert len(receiver.requests) <= seen + 1  # at most the one in flight at the removal
    assert deliveries(outcomes, event["event_id"])[0]["status"] == "cancelled"
    refused(outcomes.call("remove_webhook_subscriber", subscriber_id=added["subscriber_id"]), 404, "not_found")
    [listed] = result(outcomes.call("webhook_subscribers"))
    assert listed["status"] == "removed" and "secret" not in listed


# -- SSRF: production rules (no local development) ----------------------------------------------
@pytest.fixture
def production_rules(config):
    config["WEBHOOKS"] = dict(config["WEBHOOKS"], LOCAL_DEVELOPMENT=False)


def test_loopback_private_and_link_local_targets_are_refused_at_registration(production_rules, outcomes):
    port = free_port()
    for url, why in (("http://example.com/hook", "https://"),
                     ("https://127.0.0.1/hook", "回环地址"),
                     (f"https://localhost:{port}/hook", "回环地址"),   # a name that resolves there
                     ("https://[::1]/hook", "回环地址"),
                     ("https://[::ffff:127.0.0.1]/hook", "回环地址"),  # IPv4-mapped IPv6
                     ("https://10.0.0.1/hook", "内网地址"),
                     ("https://192.168.1.20/hook", "内网地址"),
                     ("https://169.254.169.254/latest/meta-data/", "链路本地地址"),
                     ("https://0.0.0.0/hook", "未指定地址"),
                     ("https://224.0.0.1/hook", "组播地址"),
                     ("https://user:secret@127.0.0.1/hook", "用户名或密码")):
        error = refused(outcomes.call("add_webhook_subscriber", url=url), 422, "validation_error")
        assert why in error["message"], (url, error)
    assert result(outcomes.call("webhook_subscribers")) == []
    assert outcomes.db.webhook_subscribers.count_documents({}) == 0


def test_a_target_that_resolves_to_loopback_at_send_time_gets_nothing(production_rules, outcomes, receivers):
    """Registered while its name answered with a public address, say; now it answers
    127.0.0.1. The check runs again before every send, on the address connected to."""
    receiver = receivers()
    secret = hooks.new_secret()
    receiver.secret = secret
    outcomes.db.webhook_subscribers.insert_one({
        "_id": hooks.new_subscriber_id(), "url": f"https://localhost:{receiver.port}/hook", "regions": None,
        "description": "", "secret": secret, "status": "active", "created_by": "test"})
    event = outcomes.approved()
    wait_for(lambda: any(d["attempts"] >= 2 for d in deliveries(outcomes, event["event_id"])), timeout=15,
             message="refused attempts")
    [delivery] = deliveries(outcomes, event["event_id"])
    assert "回环地址 127.0.0.1" in delivery["note"] and delivery["last_status"] is None
    assert receiver.requests == []


def test_signatures_verify_with_standardwebhooks_and_fail_with_another_secret(outcomes, receivers):
    receiver = receivers()
    subscribe(outcomes, receiver)
    outcomes.approved()
    wait_for(lambda: receiver.applied, timeout=15, message="one delivery")
    [delivery] = list(outcomes.db.webhook_deliveries.find())
    secret = receiver.secret
    headers = hooks.signed_headers(secret, delivery["_id"], delivery["payload"], time.time())
    assert Webhook(secret).verify(delivery["payload"], headers)["data"]["event_id"] == delivery["event_id"]
    from standardwebhooks import WebhookVerificationError
    with pytest.raises(WebhookVerificationError):
        Webhook(hooks.new_secret()).verify(delivery["payload"], headers)
    with pytest.raises(WebhookVerificationError):  # another body under the same signature
        Webhook(secret).verify(delivery["payload"].replace("approved", "rejected"), headers)
