"""The registration system's pull feed (DESIGN §4a) against the real servers: each
outcome recorded once, numbered by one sequencer, read oldest first by following
`next`; never skipped or repeated while outcomes are being written, even when numbering
sequencers race because their lease lapsed; cursors we did not issue, limits out of
bounds and callers without the role refused in the §4 envelope."""
import random
import time
from datetime import datetime, timedelta, timezone

import eventlet
import pytest
from prometheus_client import REGISTRY

from common import events
from common.clock import utcnow
from services.notify import outcomes as rules
from services.notify.feed import Feed, Sequencer
from services.notify.feed_repository import FeedRepository
from services.notify.hooks_repository import HooksRepository
from services.notify.service import NotifyService
from support import candidate, create_candidates, free_port, login, make_reviewer, staff_token, wait_for

pytestmark = pytest.mark.outcome_settings  # fast rounds (tests/integration/conftest.py)


def refused(response, status, code):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), error
    return error


def recorded(status):
    return REGISTRY.get_sample_value("notify_outcomes_total", {"status": status}) or 0


def test_each_outcome_is_read_once_with_the_design_record_and_nothing_personal(outcomes):
    returns_before = recorded("returned")
    submitted = outcomes.submitted("2026320400501")
    returned = outcomes.returned("2026320400501", items=[
        {"material_type": "id_card", "reason_code": "mismatch", "reason": "证件号 320400199501010011 与报名信息不一致"}])
    outcomes.dispatch("review", "MaterialReturned", returned)  # redelivered: still one outcome
    rejected = outcomes.publish(events.PackageRejected, "2026320400502", attempt=2, reason="不符合报考条件",
                                reviewer_id="staff:r")
    reopened = outcomes.publish(events.PackageReopened, "2026320400503", attempt=1, items=["degree_certificate"],
                                reason="报考信息变更，需补充材料")
    withdrawn = outcomes.publish(events.SubmissionWithdrawn, "2026320400504", attempt=1)
    approved = outcomes.approved("2026320400505")
    sent = [submitted, returned, rejected, reopened, withdrawn, approved]
    items = wait_for(lambda: (lambda got: got if len(got) >= len(sent) else None)(outcomes.everything()),
                     timeout=15, message="six outcomes in the feed")
    time.sleep(0.5)  # room for a wrong second record of the redelivered event
    items = outcomes.everything()

    assert [i["sequence"] for i in items] == list(range(1, len(sent) + 1))
    by_event = {i["event_id"]: i for i in items}
    assert set(by_event) == {e["event_id"] for e in sent}
    assert by_event[submitted["event_id"]] == {
        "event_id": submitted["event_id"], "sequence": by_event[submitted["event_id"]]["sequence"],
        "candidate_id": "2026320400501", "package_id": "2026320400501-2026", "region": "32",
        "site": "3204", "attempt": 1, "status": "submitted", "occurred_at": submitted["occurred_at"]}
    back = by_event[returned["event_id"]]
    assert back["status"] == "returned" and back["respond_by"] == "2026-05-20"
    assert back["items"] == [{"material_type": "id_card", "reason_code": "mismatch",
                              "reason": "证件号 3204**********0011 与报名信息不一致"}]  # masked (DESIGN §8)
    assert by_event[rejected["event_id"]]["reason"] == "不符合报考条件"
    assert by_event[reopened["event_id"]]["items"] == [
        {"material_type": "degree_certificate", "reason_code": "profile_changed", "reason": "报考信息变更，需补充材料"}]
    assert [by_event[e["event_id"]]["status"] for e in (withdrawn, approved)] == ["withdrawn", "approved"]
    for item in items:
        assert not {"reviewer_id", "type_names", "image_ids", "phone", "id_number", "category"} & set(item)
    assert outcomes.db.outcomes.count_documents({}) == len(sent)
    assert recorded("returned") - returns_before == 1  # the redelivery recorded nothing


def test_a_reader_following_next_sees_every_outcome_once_in_order_while_two_instances_write(
        outcomes, start_service, container_factory, config):
    """Two notify instances handle events and race to number them; a reader polls
    through it all. What it collected is exactly what was published, once, in order."""
    second = container_factory(NotifyService, dict(config, WEB_SERVER_ADDRESS=f"127.0.0.1:{free_port()}"))
    second.start()
    writers, per_writer = 6, 25
    published = []
    seen, cursor, done = [], None, {"writing": True}

    def write(n):
        for i in range(per_writer):
            published.append(outcomes.approved(f"2026320{n:02d}{i:04d}"[:13]))
            eventlet.sleep(random.random() * 0.01)

    def read():
        nonlocal cursor
        while done["writing"] or len(seen) < writers * per_writer:
            body = outcomes.page(cursor, limit=random.choice((1, 3, 7, 50)))
            seen.extend(body["items"])
            cursor = body["next"]
            assert body["next"], body  # also for an empty page
            if not body["items"]:
                eventlet.sleep(0.02)

    reader = eventlet.spawn(read)
    pool = [eventlet.spawn(write, n) for n in range(writers)]
    for thread in pool:
        thread.wait()
    done["writing"] = False
    with eventlet.Timeout(60, AssertionError("the reader never caught up")):
        reader.wait()

    assert [i["sequence"] for i in seen] == list(range(1, writers * per_writer + 1))
    assert sorted(i["event_id"] for i in seen) == sorted(p["event_id"] for p in published)
    assert outcomes.page(cursor)["items"] == []


def test_sequencers_whose_leases_keep_lapsing_never_share_or_skip_a_number(outcomes, config):
    """The lease is only an optimisation: with it lapsing all the time (0 s), four
    sequencers race for every number, writers store outcomes meanwhile, and a reader
    following the cursor still gets every outcome once, in order (feed.py's invariant:
    number k is written only after k-1 is visible; the unique index settles races)."""
    db = outcomes.db
    feed = Feed(FeedRepository(db), HooksRepository(db), ["k"])
    total, stored, seen = 300, [], []
    state = {"writing": True}

    def write(n):
        for i in range(total // 6):
            event = events.PackageApproved(package_id=f"P{n}-{i}-2026", candidate_id=f"C{n}{i}", region="32",
                                           site="3204", attempt=1, reviewer_id="r").to_payload()
            assert feed.record("approved", event)
            stored.append(event["event_id"])
            eventlet.sleep(0)

    def number(name):
        sequencer = Sequencer(FeedRepository(db), HooksRepository(db), 60, holder=name, lease_s=0.0, batch=7)
        while state["writing"] or db.outcomes.count_documents({"unnumbered": True}):
            sequencer.lease_s = 0.0
            sequencer.run()
            eventlet.sleep(0)

    def read():
        after = 0
        while state["writing"] or len(seen) < total:
            page = FeedRepository(db).page(after, random.choice((1, 5, 40)))
            for doc in page:
                seen.append((doc["seq"], doc["_id"]))
                after = doc["seq"]
            eventlet.sleep(0)

    # the service's own sequencer keeps racing too; these four join it
    threads = [eventlet.spawn(number, f"sequencer-{n}") for n in range(4)] + [eventlet.spawn(read)]
    writers = [eventlet.spawn(write, n) for n in range(6)]
    for thread in writers:
        thread.wait()
    state["writing"] = False
    with eventlet.Timeout(120, AssertionError("numbering or reading never finished")):
        for thread in threads:
            thread.wait()

    assert [s for s, _ in seen] == list(range(1, total + 1))
    assert sorted(e for _, e in seen) == sorted(stored)
    numbers = [d["seq"] for d in db.outcomes.find({}, {"seq": 1})]
    assert sorted(numbers) == list(range(1, total + 1))


def test_a_number_already_taken_is_refused_by_the_index_and_the_outcome_stays_unnumbered(config, mongo_client):
    """The race the lease cannot rule out: a sequencer that read the highest number
    before another's write gives a second outcome the same number. The unique index
    refuses it, whichever lands second. (No service runs here: nothing else numbers.)"""
    db = mongo_client[config["MONGO"]["DB_PREFIX"] + "notify"]
    FeedRepository.create_indexes(db)
    repo, feed = FeedRepository(db), Feed(FeedRepository(db), HooksRepository(db), ["k"])
    for n in (1, 2):
        feed.record("approved", events.PackageApproved(package_id=f"P{n}-2026", candidate_id=f"C{n}", region="32",
                                                       site="3204", attempt=1, reviewer_id="r").to_payload())
    first, second = [d["_id"] for d in db.outcomes.find({"unnumbered": True}).sort("received_at")]
    taken = repo.last_sequence() + 1
    assert repo.number(first, taken, [], utcnow()) is True
    assert repo.number(second, taken, [], utcnow()) is False
    assert repo.number(first, taken + 1, [], utcnow()) is False  # numbered already: never twice
    assert db.outcomes.find_one({"_id": second})["unnumbered"] is True
    assert db.outcomes.count_documents({"seq": taken}) == 1


def test_a_cursor_we_did_not_issue_is_refused_with_400_and_a_chinese_message(outcomes):
    outcomes.approved()
    body = wait_for(lambda: (lambda b: b if b["items"] else None)(outcomes.page()), message="one outcome")
    good = body["next"]
    _, number, mac = good.split(".")
    forged = [f"v1.{int(number) - 1}.{mac}",                       # another position, same MAC
              f"v1.{number}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}",  # MAC altered
              rules.sign_cursor(0, ["somebody-elses-key"]),        # signed with another key
              "0", "1", "v1.1", "null", "v2" + good[2:], good + "x", "x" * 70]
    for cursor in forged:
        error = refused(outcomes.feed(after=cursor), 400, "bad_request")
        assert "游标" in error["message"], cursor
    assert outcomes.page(good)["items"] == []  # the one we issued still works


def test_limit_is_one_to_five_hundred_and_next_comes_even_with_no_items(outcomes):
    for _ in range(3):
        outcomes.approved()
    wait_for(lambda: len(outcomes.page()["items"]) == 3, message="three outcomes")
    for limit in ("0", "501", "-1", "ten", "1.5", "99999"):
        refused(outcomes.feed(limit=limit), 400, "bad_request")
    first = outcomes.page(limit=1)
    assert [i["sequence"] for i in first["items"]] == [1]
    rest = outcomes.page(first["next"], limit=500)
    assert [i["sequence"] for i in rest["items"]] == [2, 3]
    empty = outcomes.page(rest["next"])
    assert empty["items"] == [] and empty["next"] == rest["next"]
    assert len(outcomes.feed().json()["items"]) == 3  # no limit: the default (100)


def test_only_the_registration_system_and_national_administrators_read_the_feed(outcomes, config,
                                                                               registration_standin):
    from services.auth.cli import use_cases
    use_cases(config).staff.save_staff("admin.32", "admin", "32", [], "Admin@2026")
    make_reviewer(config, "reviewer.3204", ["3204"])
    create_candidates(registration_standin, [candidate("2026320400599", serial=599)])
    for token in (staff_token(config, "admin.32", "Admin@2026"), staff_token(config, "reviewer.3204", "Review@2026"),
                  login(outcomes.auth_url, "2026320400599")["access_token"]):
        refused(outcomes.feed(token=token), 403, "forbidden")
    refused(outcomes.feed(token="not-a-token"), 401, "unauthenticated")
    assert outcomes.feed(token=outcomes.admin).status_code == 200
    assert outcomes.feed().status_code == 200


def test_outcomes_past_the_year_after_their_exam_year_are_purged_but_never_the_last_number(outcomes):
    old = outcomes.approved("2024320400001", year=2024)  # kept through 2025: its time is up
    wait_for(lambda: outcomes.page()["items"], message="numbered")
    newer = outcomes.approved("2026320400002")
    wait_for(lambda: len(outcomes.page()["items"]) == 2, message="both numbered")
    db = outcomes.db
    kept = db.outcomes.find_one({"_id": old["event_id"]})["keep_until"].replace(tzinfo=timezone.utc)
    assert kept == datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=8)))  # through 2025, Beijing
    feed = Feed(FeedRepository(db), HooksRepository(db), ["k"])

    assert feed.purge() == 1
    assert [i["event_id"] for i in outcomes.everything()] == [newer["event_id"]]
    # Even when its time is up, the highest number stays: numbering goes on from it.
    db.outcomes.update_many({}, {"$set": {"keep_until": utcnow() - timedelta(days=1)}})
    assert feed.purge() == 0
    third = outcomes.approved()
    wait_for(lambda: len(outcomes.everything()) == 2, message="numbered on")
    assert [(i["sequence"], i["event_id"]) for i in outcomes.everything()] == [
        (2, newer["event_id"]), (3, third["event_id"])]
