"""Decisions on an open page (DESIGN §4) against the real servers: a candidate's
Server-Sent Events stream, opened with a ticket, hears a reviewer's decision within a
second on whichever materials instance it is open, keeps quiet connections alive with
heartbeats, and catches up after a reconnect."""
import json
import time

import eventlet
import pytest
import requests

from review_helpers import ANNA, BEN, SITE_3204
from services.materials.service import MaterialsService
from support import bearer, wait_for

STREAM = "/api/v1/package/events"


@pytest.fixture
def config(config):
    config["LIVE"] = {"HEARTBEAT_S": 0.5}
    return config


class Stream:
    """An EventSource stand-in: the frames of one stream, read in a green thread."""

    def __init__(self, session, url, last_event_id=None):
        headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
        self.response = session.get(url + STREAM, stream=True, timeout=30, headers=headers)
        self.frames, self.comments = [], 0
        if self.response.status_code == 200:
            self._reader = eventlet.spawn(self._read)

    def _read(self):
        frame = {}
        for line in self.response.iter_lines(decode_unicode=True):
            if line.startswith(":"):
                self.comments += 1
            elif line == "":
                if "event" in frame:
                    self.frames.append(frame)
                frame = {}
            else:
                key, _, value = line.partition(": ")
                frame[key] = json.loads(value) if key == "data" else value

    def events(self, name):
        return [f for f in self.frames if f["event"] == name]

    def close(self):
        reader = getattr(self, "_reader", None)
        if reader is not None:
            reader.kill()  # first: closing under a read in progress is a reentrant call
        self.response.close()


def ticketed(exam, number, url):
    session = requests.Session()
    answer = session.post(url + STREAM + "/ticket", headers=bearer(exam.token(number)), timeout=10)
    assert answer.status_code == 200, answer.text
    assert 0 < answer.json()["expires_in"] <= 120
    cookie = answer.headers["Set-Cookie"]
    assert f"Path={STREAM}" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    return session


def test_a_return_reaches_a_stream_open_on_another_instance_within_a_second(
        make_exam, start_service):
    exam = make_exam()
    other_instance = start_service(MaterialsService)
    package_id = exam.submit_package(ANNA)
    exam.queued(package_id)
    streams = [Stream(ticketed(exam, ANNA, url), url) for url in (exam.materials_url, other_instance)]
    bystander = Stream(ticketed(exam, BEN, other_instance), other_instance)
    for stream in streams + [bystander]:
        wait_for(lambda s=stream: s.events("ready"), timeout=5, message="ready")
    reviewer = exam.review(SITE_3204)
    reviewer.claim(package_id)
    wait_for(lambda: all(s.events("changed") for s in streams), timeout=5, message="in review")

    returned_at = time.monotonic()
    reviewer.return_materials(package_id, [{"material_type": "id_card", "reason": "unclear"}])

    for stream in streams:
        wait_for(lambda s=stream: any(f["data"]["status"] == "returned" for f in s.events("changed")),
                 timeout=5, interval=0.01, message="returned on the stream")
    assert time.monotonic() - returned_at < 1.0
    last = streams[1].events("changed")[-1]
    assert int(last["id"]) == last["data"]["version"] and set(last["data"]) == {"version", "status"}
    assert exam.package(ANNA)["status"] == "returned"  # what the page then reloads
    time.sleep(1.2)
    assert bystander.events("changed") == [] and bystander.comments >= 2  # heartbeats only
    for stream in streams + [bystander]:
        stream.close()


def test_a_reconnect_with_an_older_last_event_id_is_told_at_once_and_a_current_one_is_not(make_exam):
    exam = make_exam()
    exam.call("POST", ANNA, "/consent", json={"notice_version": "2026-1"})
    session = ticketed(exam, ANNA, exam.materials_url)
    first = Stream(session, exam.materials_url)
    [ready] = wait_for(lambda: first.events("ready"), timeout=5, message="ready")
    first.close()
    version = int(ready["id"])

    current = Stream(session, exam.materials_url, last_event_id=version)
    behind = Stream(session, exam.materials_url, last_event_id=version - 1)
    wait_for(lambda: current.frames and behind.frames, timeout=5, message="first frames")
    assert current.frames[0]["event"] == "ready"
    assert behind.frames[0]["event"] == "changed" and int(behind.frames[0]["id"]) == version
    current.close()
    behind.close()


def test_a_stream_opens_only_with_a_ticket_from_a_signed_in_candidate(make_exam):
    exam = make_exam()
    url = exam.materials_url
    assert requests.post(url + STREAM + "/ticket", timeout=10).status_code == 401
    for cookies in ({}, {"live_ticket": "forged"}, {"live_ticket": ""}):
        refused = requests.get(url + STREAM, cookies=cookies, timeout=10)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthenticated"
        assert "实时通知" in refused.json()["error"]["message"]
    # The Bearer token alone opens nothing: streams take only their own ticket.
    assert requests.get(url + STREAM, headers=bearer(exam.token(ANNA)), timeout=10).status_code == 401
    ok = Stream(ticketed(exam, ANNA, url), url)
    assert ok.response.status_code == 200
    assert ok.response.headers["Content-Type"].startswith("text/event-stream")
    assert ok.response.headers["X-Accel-Buffering"] == "no"
    ok.close()
