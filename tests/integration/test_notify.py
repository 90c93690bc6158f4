"""notify against the real servers and the SMS stand-in: every outcome reaches the
candidate once by SMS and in-app message, a bad provider is retried without holding
anything up, and nothing personal is kept or logged."""
import json
import logging
import time

import pytest
import requests
from nameko.exceptions import RemoteError
from nameko.standalone.events import event_dispatcher
from prometheus_client import REGISTRY

from common import events
from dev.sms_standin import SmsStandin
from services.auth.service import AuthService
from services.notify.service import NotifyService
from support import bearer, candidate, create_candidates, https_rpc, login, make_admin, rpc, staff_token, wait_for

ANNA, BEN = "2026320400901", "2026320400902"
RECORDS = {ANNA: candidate(ANNA, serial=901), BEN: candidate(BEN, serial=902)}
RETURNED_TEMPLATE, APPROVED_TEMPLATE = "2100002", "2100003"


@pytest.fixture
def standin(base_config):
    sms = base_config["SMS"]
    server = SmsStandin("127.0.0.1", 0, sms["SECRET_ID"], sms["SECRET_KEY"],
                        app_id=sms["APP_ID"], sign_name=sms["SIGN_NAME"]).start()
    yield server
    server.stop()


@pytest.fixture
def config(config, standin):
    """The conftest config, pointed at this test's stand-in, with fast retries. The SDK's
    socket timeout is longer than the hard limit, so a hang proves the hard limit."""
    config["SMS"] = dict(config["SMS"], ENDPOINT=standin.endpoint, SCHEME="http", TIMEOUT=5)
    config["NOTIFY"] = {"RETRY_BASE_S": 0.2, "RETRY_MAX_S": 1.0, "SEND_TIMEOUT_S": 2.0,
                        "POLL_S": 0.1, "REPORT_WAIT_S": 0.5}
    return config


class World:
    def __init__(self, config, auth_url, url, admin, standin, db):
        self.config, self.auth_url, self.url, self.admin = config, auth_url, url, admin
        self.standin, self.db = standin, db
        self.dispatch = event_dispatcher(config)
        self.tokens = {}

    def token(self, number):
        if number not in self.tokens:
            self.tokens[number] = login(self.auth_url, number)["access_token"]
        return self.tokens[number]

    def inbox(self, number, token=None):
        response = requests.get(f"{self.url}/api/v1/messages", timeout=10,
                                headers=bearer(token or self.token(number)))
        assert response.status_code == 200, response.text
        return response.json()

    def read(self, number, message_id):
        return requests.post(f"{self.url}/api/v1/messages/{message_id}/read", timeout=10,
                             headers=bearer(self.token(number)))

    def publish(self, cls, number, site="3204", **fields):
        payload = cls(package_id=f"{number}-2026", candidate_id=number, region=site[:2],
                      site=site, **fields).to_payload()
        self.dispatch(cls.source, cls.__name__, payload)
        return payload

    def returned(self, number, **overrides):
        fields = dict(attempt=1, reviewer_id="staff:reviewer.3204", respond_by="2026-05-20",
                      items=[{"material_type": "degree_certificate", "reason": "照片模糊，请重新拍摄"},
                             {"material_type": "id_card", "reason": "缺少身份证反面"}],
                      type_names={"degree_certificate": "学历证书", "id_card": "身份证明"})
        fields.update(overrides)
        return self.publish(events.MaterialReturned, number, **fields)

    def approved(self, number, attempt=1):
        return self.publish(events.PackageApproved, number, attempt=attempt, reviewer_id="staff:r")

    def sms_to(self, number):
        return self.standin.messages_to(RECORDS[number]["phone"])

    def notification(self, event_id):
        return self.db.messages.find_one({"event_id": event_id})

    def settled(self, event_id, status="sent", timeout=15):
        def check():
            doc = self.notification(event_id)
            return doc if doc and doc["sms"]["status"] == status else None
        return wait_for(check, timeout=timeout, message=f"sms {status}")

    def operator(self):
        return rpc(self.config, self.admin)


@pytest.fixture
def world(start_service, config, standin, registration_standin, mongo_client):
    auth_url = start_service(AuthService)
    make_admin(config)
    admin = staff_token(config, "admin.test", "Admin@2026")
    create_candidates(registration_standin, list(RECORDS.values()))
    url = start_service(NotifyService)
    db = mongo_client[config["MONGO"]["DB_PREFIX"] + "notify"]
    return World(config, auth_url, url, admin, standin, db)


def handled(handler):
    return REGISTRY.get_sample_value("events_handled_total", {
        "service": "notify", "handler": handler, "outcome": "ok"}) or 0


# -- the returned-materials path, end to end ----------------------------------------------------
def test_returned_materials_reach_the_candidate_by_sms_and_in_app(world):
    event = world.returned(ANNA)

    [sms] = wait_for(lambda: world.sms_to(ANNA), message="sms at the stand-in")
    assert sms["template_id"] == RETURNED_TEMPLATE and sms["params"] == ["2", "5月20日"]
    assert sms["text"] == "【医考报名】您的医师资格考试报名材料有2项需修改，请于5月20日前登录系统查看原因并重新提交。"

    inbox = world.inbox(ANNA)
    assert inbox["unread"] == 1
    [message] = inbox["messages"]
    assert message["kind"] == "returned" and not message["read"] and message["read_at"] is None
    assert "学历证书：照片模糊，请重新拍摄" in message["body"] and "身份证明：缺少身份证反面" in message["body"]
    assert "2026年5月20日前" in message["body"] and message["respond_by"] == "2026-05-20"
    assert [i["name"] for i in message["items"]] == ["学历证书", "身份证明"]
    assert len(message["message_id"]) == 32

    # Nobody else sees it or can mark it read; an unknown id answers the same way.
    assert world.inbox(BEN) == {"messages": [], "unread": 0}
    for number, message_id in ((BEN, message["message_id"]), (ANNA, "f" * 32), (ANNA, "x")):
        refused = world.read(number, message_id)
        assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
    assert requests.get(f"{world.url}/api/v1/messages", timeout=10).status_code == 401

    # Read receipt: kept with its time, a second read keeps the first time.
    first = world.read(ANNA, message["message_id"]).json()
    assert first["read"] and first["read_at"]
    assert world.read(ANNA, message["message_id"]).json()["read_at"] == first["read_at"]
    assert world.inbox(ANNA)["unread"] == 0
    with world.operator() as proxy:
        [told] = proxy.notify.messages_of(ANNA)
    assert told["event_id"] == event["event_id"] and told["read_at"] == first["read_at"]
    assert told["sms"]["status"] == "sent" and told["sms"]["phone_masked"] == "138****0901"
    assert [a["provider_code"] for a in told["sms"]["log"]] == ["Ok"]


def test_the_same_event_three_times_sends_one_sms_and_one_message(world):
    before = handled("on_material_returned")
    event = world.returned(ANNA)
    world.dispatch("review", "MaterialReturned", event)
    world.dispatch("review", "MaterialReturned", event)
    wait_for(lambda: handled("on_material_returned") - before == 3, message="three deliveries")
    world.settled(event["event_id"])
    time.sleep(0.5)  # room for a wrong second send to show up

    assert len(world.sms_to(ANNA)) == 1
    assert len(world.inbox(ANNA)["messages"]) == 1
    assert world.db.messages.count_documents({}) == 1


def test_withdraw_then_resubmit_is_in_the_inbox_but_the_same_sms_text_goes_out_once(world):
    submission = dict(category="integrated_practitioner",
                      items=[{"material_type": "id_card", "image_ids": ["a" * 32]}])
    first = world.publish(events.PackageSubmitted, ANNA, attempt=1,
                          occurred_at="2026-05-01T08:00:00.000Z", **submission)
    world.settled(first["event_id"])
    withdrawn = world.publish(events.SubmissionWithdrawn, ANNA, attempt=1,
                              occurred_at="2026-05-01T08:05:00.000Z")
    again = world.publish(events.PackageSubmitted, ANNA, attempt=1,
                          occurred_at="2026-05-01T08:10:00.000Z", **submission)
    world.dispatch("materials", "PackageSubmitted", again)  # redelivered: still the same answer
    world.settled(withdrawn["event_id"], status="skipped")
    world.settled(again["event_id"], status="skipped")
    second = world.publish(events.PackageSubmitted, ANNA, attempt=2,
                           occurred_at="2026-05-02T08:00:00.000Z", **submission)
    world.settled(second["event_id"])
    time.sleep(0.5)  # room for a wrong extra send to show up

    assert [m["params"] for m in world.sms_to(ANNA)] == [["1"], ["2"]]
    assert world.sms_to(ANNA)[0]["text"].endswith("已提交审核（第1次提交），审核结果将另行通知。")
    inbox = world.inbox(ANNA)["messages"]
    assert [m["kind"] for m in inbox] == ["submitted", "submitted", "withdrawn", "submitted"]
    assert inbox[2]["title"] == "已撤回提交" and inbox[2]["body"].startswith("已撤回提交（第1次提交）")
    with world.operator() as proxy:
        told = {m["event_id"]: m["sms"] for m in proxy.notify.messages_of(ANNA)}
    assert told[again["event_id"]]["note"] == "same text already sent for this attempt"
    assert told[withdrawn["event_id"]]["note"] == "in-app only"


# -- a provider that throttles or hangs --------------------------------------------------------
def test_throttled_twice_then_delivered_on_the_third_attempt_with_backoff(world):
    world.standin.set_mode("throttle", times=2)
    event = world.approved(ANNA)

    doc = world.settled(event["event_id"])
    log = doc["sms_log"]
    assert [a["status"] for a in log] == ["throttled", "throttled", "sent"]
    assert log[0]["provider_code"] == "LimitExceeded.PhoneNumberThirtySecondLimit"
    assert doc["sms"]["attempts"] == 3
    # The provider asked for 30 s; the test config caps waits at 1 s, so each gap is 1 s.
    gaps = [(b["at"] - a["at"]).total_seconds() for a, b in zip(log, log[1:])]
    assert all(gap >= 0.9 for gap in gaps), gaps
    [sms] = world.sms_to(ANNA)
    assert sms["template_id"] == APPROVED_TEMPLATE
    assert len(world.standin.refused) == 2


def test_a_hanging_provider_times_out_and_is_retried_while_other_events_go_on(world):
    world.standin.set_mode("hang", times=1, seconds=20)
    stuck = world.approved(ANNA)
    wait_for(lambda: world.standin.api_requests >= 1, message="the hanging request")

    other = world.returned(BEN)
    wait_for(lambda: world.sms_to(BEN), timeout=5, message="the other candidate's sms")
    assert world.inbox(BEN)["unread"] == 1
    # ...all while the first send was still hanging (hard limit 2 s, SDK timeout 5 s).
    stuck_now = world.notification(stuck["event_id"])["sms"]
    assert stuck_now["status"] == "sending" and stuck_now["attempts"] == 0
    assert world.settled(other["event_id"])["sms"]["attempts"] == 1

    doc = world.settled(stuck["event_id"])
    assert [a["status"] for a in doc["sms_log"]] == ["timeout", "sent"]
    assert doc["sms_log"][0]["provider_code"] == "HardTimeout"
    assert 1900 <= doc["sms_log"][0]["duration_ms"] < 4000
    assert len(world.sms_to(ANNA)) == 1  # the hung request delivered nothing


def test_a_send_whose_answer_was_lost_is_found_in_the_status_reports_and_not_sent_twice(world):
    world.standin.set_mode("lose", times=1, seconds=20)
    event = world.approved(ANNA)

    doc = world.settled(event["event_id"])
    assert [a["status"] for a in doc["sms_log"]] == ["timeout", "sent"]
    assert doc["sms_log"][1]["provider_code"] == "StatusReport"
    assert doc["sms"]["attempts"] == 1  # asking is not sending
    [sms] = world.sms_to(ANNA)
    assert doc["sms_log"][1]["serial_no"] == sms["serial_no"]
    # The retry waited for the report rather than sending at once.
    gap = (doc["sms_log"][1]["at"] - doc["sms_log"][0]["at"]).total_seconds()
    assert gap >= 0.45, gap


def test_a_send_whose_answer_was_never_recorded_is_found_in_the_status_reports_and_not_sent_twice(world, config):
    """A sender that called the provider and died (or lost the database) before recording
    the answer leaves `in_flight_at` on its claim: the next sender asks the status reports
    first. (The fault suite, killing the database under traffic, saw such an SMS sent twice.)"""
    from services.notify import domain
    from services.notify.inbox import new_document
    from services.notify.repository import utcnow
    from common.settings import load
    from services.notify.settings import SmsProvider
    from services.notify.sms import SmsClient
    event = events.PackageApproved(package_id=f"{BEN}-2026", candidate_id=BEN, region="32",
                                   site="3204", attempt=1, reviewer_id="staff:r").to_payload()
    doc = new_document(domain.compose("approved", event), event, utcnow(), time.time())
    # What the dead sender did: claimed, noted the send, and the provider took the SMS.
    sent = SmsClient.from_settings(load(SmsProvider, config)).send(
        RECORDS[BEN]["phone"], doc["sms"]["kind"], doc["sms"].get("params"), session_context=doc["_id"])
    assert sent.status == "sent"
    doc["sms"].update(status="sending", claim="dead-sender", due_at=time.time() - 1,
                      in_flight_at=time.time() - 2, slot_taken=True)
    # An untouched claim of a sender that died before calling the provider, beside it.
    untouched = new_document(domain.compose("approved", dict(event, event_id="e-untouched", attempt=2)),
                             dict(event, event_id="e-untouched", attempt=2), utcnow(), time.time())
    untouched["sms"].update(status="sending", claim="dead-before-sending", due_at=time.time() - 1)
    world.db.messages.insert_many([doc, untouched])

    settled = world.settled(event["event_id"])
    assert settled["sms_log"][-1]["provider_code"] == "StatusReport" and settled["sms"]["attempts"] == 0
    assert "in_flight_at" not in settled["sms"]
    assert world.settled("e-untouched")["sms_log"][-1]["status"] == "sent"
    contexts = [m["session_context"] for m in world.standin.messages]
    assert contexts.count(doc["_id"]) == 1 and contexts.count(untouched["_id"]) == 1


# -- limits and operators ----------------------------------------------------------------------
def test_at_most_five_sms_per_phone_per_hour_then_in_app_only(world):
    # Distinct attempts: the same text for the same attempt is sent once anyway.
    sent = [world.approved(ANNA, attempt=n) for n in range(1, 7)]
    wait_for(lambda: world.db.messages.count_documents(
        {"sms.status": {"$in": ["sent", "suppressed"]}}) == 6, message="all settled")

    assert len(world.sms_to(ANNA)) == 5
    assert len(world.inbox(ANNA)["messages"]) == 6
    [suppressed] = list(world.db.messages.find({"sms.status": "suppressed"}))
    assert suppressed["event_id"] in {e["event_id"] for e in sent}
    assert "hourly limit" in suppressed["sms"]["note"]
    assert suppressed["sms"]["attempts"] == 0
    with world.operator() as proxy:
        assert [f["message_id"] for f in proxy.notify.failed()] == [suppressed["_id"]]


def test_operators_see_failed_deliveries_and_retry_them(world):
    world.standin.set_mode("fail", times=5)
    event = world.approved(ANNA)
    doc = world.settled(event["event_id"], status="failed")
    assert doc["sms"]["attempts"] == 5 and "gave up after 5 attempts" in doc["sms"]["note"]
    assert [a["provider_code"] for a in doc["sms_log"]] == ["InternalError.SendAndRecvFail"] * 5
    assert world.inbox(ANNA)["unread"] == 1  # the in-app message stays

    with world.operator() as proxy:
        assert proxy.notify.pending() == []
        [failed] = proxy.notify.failed()
        assert failed["message_id"] == doc["_id"] and len(failed["sms"]["log"]) == 5
        assert proxy.notify.retry(doc["_id"])["sms"]["status"] == "pending"
        world.settled(event["event_id"])
        assert proxy.notify.failed() == []
        for message_id, kind in ((doc["_id"], "InvalidTransition"), ("f" * 32, "NotFound")):
            with pytest.raises(RemoteError) as refused:
                proxy.notify.retry(message_id)
            assert refused.value.exc_type == kind
    assert len(world.sms_to(ANNA)) == 1

    with rpc(world.config, world.token(ANNA)) as proxy:
        with pytest.raises(RemoteError) as refused:
            proxy.notify.failed()
    assert refused.value.exc_type == "Forbidden"

    metrics = requests.get(f"{world.url}/metrics/notify", timeout=10).text
    assert 'notify_sms_attempts_total{outcome="failed"}' in metrics
    assert 'notify_sms_deliveries_total{outcome="sent"}' in metrics


def test_a_site_administrator_sees_and_retries_only_their_own_sites_undelivered_sms(world):
    # The SMS account ran out of balance: a refusal retrying cannot fix, failed at once;
    # an operator re-sends once it is topped up.
    world.standin.set_mode("fail", times=2, code="FailedOperation.InsufficientBalanceInSmsPackage")
    at_3204 = world.settled(world.approved(ANNA)["event_id"], status="failed")
    at_3201 = world.settled(world.publish(events.PackageApproved, BEN, site="3201", attempt=1,
                                          reviewer_id="staff:r")["event_id"], status="failed")
    assert at_3201["sms"]["attempts"] == 1
    assert at_3201["sms"]["note"] == "provider refused: FailedOperation.InsufficientBalanceInSmsPackage"
    authority = make_admin(world.config)
    authority.save_staff("admin.3201", "admin", "32", ["3201"], "Admin@2026")
    authority.save_staff("admin.32", "admin", "32", [], "Admin@2026")
    site, region = (staff_token(world.config, name, "Admin@2026") for name in ("admin.3201", "admin.32"))

    with rpc(world.config, site) as proxy:
        [mine] = proxy.notify.failed()
        assert (mine["message_id"], mine["site"], mine["title"]) == (at_3201["_id"], "3201", "报名材料审核通过")
        assert mine["sms"]["phone_masked"] == "138****0902"
        assert proxy.notify.messages_of(ANNA) == [] and len(proxy.notify.messages_of(BEN)) == 1
        with pytest.raises(RemoteError) as refused:
            proxy.notify.retry(at_3204["_id"])  # another site's answers as an unknown one
        assert refused.value.exc_type == "NotFound"
    with rpc(world.config, region) as proxy:
        assert {f["message_id"] for f in proxy.notify.failed()} == {at_3201["_id"], at_3204["_id"]}

    # Over HTTPS as the staff pages call it: re-sent once, then refused in Chinese.
    again = https_rpc(world.url, "notify", "retry", site, message_id=at_3201["_id"])
    assert again.status_code == 200 and again.json()["result"]["sms"]["status"] == "pending"
    world.settled(at_3201["event_id"])
    twice = https_rpc(world.url, "notify", "retry", site, message_id=at_3201["_id"])
    assert twice.status_code == 409 and twice.json()["error"] == {
        "code": "invalid_transition", "message": "该短信当前状态为“已发送”，只有发送失败或超出每小时限制的短信可以重发"}
    assert https_rpc(world.url, "notify", "failed", site).json() == {"result": []}
    assert len(world.sms_to(BEN)) == 1 and world.sms_to(ANNA) == []


def test_every_kind_of_outcome_is_told(world):
    about = dict(attempt=1, reviewer_id="staff:r")
    kinds = [  # published newest first: the inbox orders by when it happened
        world.publish(events.PackageReopened, ANNA, attempt=1, items=["degree_verification"],
                      reason="报考信息变更，需补充材料", occurred_at="2026-05-03T08:00:00.000Z"),
        world.publish(events.PackageRejected, ANNA, reason="不符合报考条件",
                      occurred_at="2026-05-02T08:00:00.000Z", **about),
        world.publish(events.PackageSubmitted, ANNA, attempt=1, category="integrated_practitioner",
                      items=[{"material_type": "id_card", "image_ids": ["a" * 32]}],
                      occurred_at="2026-05-01T08:00:00.000Z"),
    ]
    for event in kinds:
        world.settled(event["event_id"])
    inbox = world.inbox(ANNA)
    assert [m["title"] for m in inbox["messages"]] == [
        "报考信息变更，请补充材料", "报名材料审核未通过", "材料已提交审核"]
    assert inbox["messages"][2]["created_at"] == "2026-05-01T08:00:00.000Z"
    assert "已提交审核，内容已锁定" in inbox["messages"][2]["body"]
    assert "原因：不符合报考条件" in inbox["messages"][1]["body"]
    assert sorted(m["template_id"] for m in world.sms_to(ANNA)) == ["2100001", "2100004", "2100005"]


# -- personal information ----------------------------------------------------------------------
def test_no_id_number_or_phone_in_the_notify_database_or_logs(world, caplog):
    caplog.set_level(logging.DEBUG)
    world.standin.set_mode("throttle", times=1)
    for number in (ANNA, BEN):
        world.settled(world.returned(number)["event_id"])
        world.settled(world.approved(number)["event_id"])
    world.read(ANNA, world.inbox(ANNA)["messages"][0]["message_id"])

    dump = "".join(json.dumps(doc, default=str, ensure_ascii=False)
                   for name in world.db.list_collection_names() for doc in world.db[name].find())
    assert ANNA in dump and "138****0901" in dump  # the dump is real
    logs = caplog.text
    assert "138****0901" in logs
    for record in RECORDS.values():
        for secret in (record["phone"], record["id_number"]):
            assert secret not in dump
            assert secret not in logs


# -- several instances, and a sender that died mid-send ----------------------------------------
def test_two_instances_never_send_one_sms_twice_and_a_dead_senders_claim_lapses(
        world, start_service):
    from services.notify import domain
    from services.notify.inbox import new_document
    from services.notify.repository import utcnow

    start_service(NotifyService)  # a second instance on the same queues and database
    # A delivery claimed by a sender that crashed: its lease ran out a moment ago.
    event = events.PackageApproved(package_id=f"{BEN}-2026", candidate_id=BEN, region="32",
                                   site="3204", attempt=1, reviewer_id="staff:r").to_payload()
    doc = new_document(domain.compose("approved", event), event, utcnow(), time.time())
    doc["sms"].update(status="sending", claim="dead-sender", due_at=time.time() - 1)
    world.db.messages.insert_one(doc)

    published = [world.approved(number, attempt=n) for number in (ANNA, BEN) for n in range(2, 6)]
    for event in published + [event]:
        world.settled(event["event_id"])

    contexts = [m["session_context"] for m in world.standin.messages]
    assert len(contexts) == 9 and len(set(contexts)) == 9  # one SMS per message, none twice
    assert world.db.messages.find_one({"_id": doc["_id"]})["sms"]["attempts"] == 1
