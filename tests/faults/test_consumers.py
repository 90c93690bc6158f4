"""Consumers under fault, with candidate traffic all along (DESIGN §6):

- a consumer killed with SIGKILL while it holds an event gets the event again after its
  restart and acts on it once (a duplicate delivery is acted on once too);
- a handler that always raises on one poison event parks it in the dead-letter queue
  after the bounded retries while other events keep flowing, and operators list and
  replay it over RPC. (The retry delays are shortened by a broker policy for the whole
  fault session: conftest.short_retry_delays.)
"""
import re
import time
import uuid

import pytest
import requests
from kombu import Connection
from nameko.exceptions import RemoteError
from nameko.standalone.events import get_event_exchange

from checker import handler_queue, ready_messages
from support import Candidate, rpc, staff_token, wait_for
from traffic import Trickle, in_queue

SUBMITTED_QUEUE = handler_queue("materials", "PackageSubmitted", "review", "on_package_submitted")


def publish(system, source, event_type, payload):
    """Put an event on a service's event exchange as its outbox would (persistent, JSON,
    with the source service's own broker account: consumers take nothing else)."""
    exchange = get_event_exchange(source, {})
    with Connection(system.amqp_uri_of(source), connect_timeout=5) as conn:
        producer = conn.Producer(serializer="json")
        producer.publish(payload, exchange=exchange, routing_key=event_type, declare=[exchange],
                         message_id=payload["event_id"], delivery_mode=2, retry=True,
                         user_id=conn.userid)


def history_lines(db, package_id, event_id):
    case = db.cases.find_one({"_id": package_id}, {"history": 1}) or {}
    return [h for h in case.get("history") or [] if h.get("event_id") == event_id]


def test_a_consumer_killed_while_holding_an_event_gets_it_again_and_acts_once(
        fault_system, private_servers, fault_mongo, people, checker, fault_admin):
    amqp = private_servers.layout.amqp_uri
    materials = fault_system.db(fault_mongo, "materials")
    review = fault_system.db(fault_mongo, "review")
    *others, number = people["kill"]
    candidate = Candidate(fault_system, number)
    candidate.fill_required()

    with Trickle(fault_system, others) as trickle:
        time.sleep(1.0)
        # auth frozen: review's handler for the submission asks auth for the candidate's
        # profile and waits (up to its 5 s RPC timeout) with the event in hand, unacked.
        fault_system.freeze("auth")
        try:
            package_id = candidate.submit()["package_id"]

            def in_hand():
                published = materials.packages.find_one({"_id": package_id})["outbox_n"] == 0
                return published and ready_messages(amqp, SUBMITTED_QUEUE) == 0 \
                    and review.cases.count_documents({"_id": package_id}) == 0
            wait_for(in_hand, timeout=4, interval=0.05, message="review holding the submission")
            fault_system.stop_service("review", sig=9)
            assert review.cases.count_documents({"_id": package_id}) == 0, \
                "review finished before it was killed: the test proves nothing"
        finally:
            fault_system.thaw("auth")
        event_id = next(h["event_id"] for h in materials.packages.find_one({"_id": package_id})["history"]
                        if h.get("event_type") == "PackageSubmitted")
        # Killed with it unacknowledged, so the broker has it ready again for the next consumer.
        wait_for(lambda: ready_messages(amqp, SUBMITTED_QUEUE) >= 1, timeout=10, message="requeued")

        fault_system.start_service("review")
        fault_system.wait_healthy(["review"])
        in_queue(fault_system, fault_admin, [package_id], timeout=30)
        assert len(history_lines(review, package_id, event_id)) == 1

        # The case works as any other: a reviewer claims and approves it.
        reviewer = staff_token(fault_system.config, "reviewer.3204", "Review@2026")
        with rpc(fault_system.config, reviewer) as proxy:
            proxy.review.claim(package_id)
            proxy.review.approve(package_id)
        wait_for(lambda: materials.packages.find_one({"_id": package_id})["status"] == "approved",
                 timeout=20, message="approved in materials")

        # At-least-once: the same events delivered again change nothing anywhere.
        checker.tap.drain()
        copies = [(source, kind, payload) for source, kind, payload in checker.tap.seen
                  if payload.get("package_id") == package_id]
        assert {kind for _, kind, _ in copies} >= {"PackageSubmitted", "ReviewStarted", "PackageApproved"}
        for source, kind, payload in copies:
            publish(fault_system, source, kind, payload)
        trickle.wait_finished()
    checker.verify()
    assert len(history_lines(review, package_id, event_id)) == 1
    messages = list(fault_system.db(fault_mongo, "notify").messages.find({"package_id": package_id}))
    assert sorted(m["kind"] for m in messages) == ["approved", "submitted"]


# -- poison ---------------------------------------------------------------------------------------------
def handled(system, service, handler):
    """events_handled_total of one handler by outcome (from /metrics/<service>)."""
    text = requests.get(f"{system.url}/metrics/{service}", timeout=10).text
    counts = {}
    for match in re.finditer(r'^events_handled_total\{([^}]*)\} ([0-9.e+]+)$', text, re.M):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
        if labels.get("handler") == handler:
            counts[labels["outcome"]] = float(match.group(2))
    return counts


def letters_of(proxy, service, event_id):
    return [letter for letter in getattr(proxy, service).dead_letters() if letter["event_id"] == event_id]


def test_a_poison_event_is_parked_after_bounded_retries_while_others_flow_and_can_be_replayed(
        fault_system, private_servers, people, checker, fault_admin):
    # Schema-valid (every field DESIGN §6 names is there), but `attempt` is not a number
    # and `items` is not a list of items: review's and notify's handlers both raise.
    poison = {"event_id": uuid.uuid4().hex, "occurred_at": "2026-11-28T00:00:00.000Z", "version": 1,
              "package_id": "2026320400999-2026", "candidate_id": "2026320400999", "region": "32",
              "site": "3204", "category": "integrated_practitioner", "attempt": "second",
              "items": "nonsense"}
    checker.inject(poison["event_id"])
    with Trickle(fault_system, people["poison"]) as trickle:
        time.sleep(1.0)
        publish(fault_system, "materials", "PackageSubmitted", poison)
        with rpc(fault_system.config, fault_admin) as proxy:
            for service in ("review", "notify"):
                letters = wait_for(lambda: letters_of(proxy, service, poison["event_id"]), timeout=30,
                                   message=f"poison parked by {service}")
                assert len(letters) == 1, letters
                assert letters[0]["attempts"] == 5, letters[0]
                assert letters[0]["queue"].endswith(f"--{service}.on_package_submitted")
                assert letters[0]["last_error"].split(":")[0] in ("TypeError", "ValueError")

            # Other events kept flowing: every candidate of the trickle got through.
            trickle.wait_finished()
            in_queue(fault_system, fault_admin, [p.package_id for p in trickle.people])

            # Replay: back through review's handler (5 more attempts), parked again.
            before = handled(fault_system, "review", "on_package_submitted")
            assert proxy.review.replay_dead_letter(poison["event_id"]) == {"replayed": poison["event_id"]}

            def parked_again():
                after = handled(fault_system, "review", "on_package_submitted")
                return (after.get("retry", 0) - before.get("retry", 0) == 4
                        and after.get("dead", 0) - before.get("dead", 0) == 1
                        and len(letters_of(proxy, "review", poison["event_id"])) == 1)
            wait_for(parked_again, timeout=30, interval=0.5, message="replayed and parked again")
            assert len(letters_of(proxy, "notify", poison["event_id"])) == 1  # replay is per service

            with pytest.raises(RemoteError) as unknown:
                proxy.review.replay_dead_letter(uuid.uuid4().hex)
            assert unknown.value.exc_type == "NotFound"
        reviewer = staff_token(fault_system.config, "reviewer.3204", "Review@2026")
        with rpc(fault_system.config, reviewer) as proxy:
            with pytest.raises(RemoteError) as refused:
                proxy.review.dead_letters()
            assert refused.value.exc_type == "Forbidden"
    checker.verify()
