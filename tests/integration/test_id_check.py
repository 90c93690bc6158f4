"""The ID card cross-check on the real servers (issue 21): a candidate uploads a photo of
an ID card, review reads it in its OCR worker off the upload path, auth compares, and the
verdicts show on the case and in the queue. What was read stays out of the database, the
logs and the events."""
import json
import os
import signal
import logging
from pathlib import Path

import eventlet
import psutil
import pytest
from kombu import Connection, Exchange, Queue

from common.outages import is_outage
from services.review.idcheck.reader import OcrPool, ReaderBusy, ReaderFailed
from services.review.settings import ReviewSettings
from review_helpers import REQUIRED, SITE_3204
from support import candidate, create_candidates, wait_for
from unit import idcards
from unit.imagefactory import document_jpeg

EMMA, FANG, GAO = "2026320400021", "2026320400022", "2026320400023"
RIGHT, OTHER, GLARE = idcards.card(21), idcards.card(22), idcards.card(23)


@pytest.fixture
def reader_on(config):
    """The reader on (off elsewhere in the suites), at requests' priority: these tests are
    about what it reads; its priority is one test's subject (`reader_at_lowest_priority`),
    and an idle-class worker waits minutes on a machine the other lanes keep busy."""
    config["OCR"] = dict(config["OCR"], WORKERS=1, NICE=0)
    return config["OCR"]


@pytest.fixture
def reader_at_lowest_priority(reader_on):
    reader_on["NICE"] = 19
    return reader_on


def register(exam, number, card, serial):
    record = candidate(number, serial=serial, name=card.name, id_number=card.id_number)
    assert create_candidates(exam.standin, [record])["created"] == 1


def submit_with_id_card(exam, number, front, back):
    consent = exam.call("POST", number, "/consent", json={"notice_version": "2026-1"})
    assert consent.status_code == 200, consent.text
    for data in (front, back):
        response = exam.upload(number, "id_card", data)
        assert response.status_code == 201, response.text
    for n, (material_type, count) in enumerate(REQUIRED[1:]):
        assert exam.upload(number, material_type, document_jpeg(seed=900 + n)).status_code == 201
    submitted = exam.call("POST", number, "/submit")
    assert submitted.status_code == 200, submitted.text
    return submitted.json()["package_id"]


def checked_case(exam, package_id, images=2):
    """The case once both ID card images have been read (OCR takes about a second each)."""
    exam.queued(package_id)  # review has the case (a busy machine delivers the event later)

    def read():
        case = exam.review(SITE_3204).get_case(package_id)
        check = case.get("id_check")
        return case if check and check["images"] == images else None
    # Generous: the workers run at nice 19 and yield to anything else on a busy machine.
    return wait_for(read, timeout=240, interval=0.5, message="the ID card cross-check")


def queue_item(exam, package_id):
    items = exam.review(SITE_3204).list_queue(limit=200)["items"]
    return next(i for i in items if i["package_id"] == package_id)


def own_autogroup():
    """This process's session group; None for the kernel's root group (init's session,
    as under a CI runner's init), whose file is empty."""
    fields = Path("/proc/self/autogroup").read_text().split()
    return fields[0] if fields else None


def test_the_right_persons_card_matches_and_raises_no_flag(reader_at_lowest_priority, make_exam):
    exam = make_exam()
    register(exam, EMMA, RIGHT, 21)
    package_id = submit_with_id_card(exam, EMMA, idcards.photo_jpeg(RIGHT),
                                     idcards.photo_jpeg(RIGHT, "back"))
    check = checked_case(exam, package_id)["id_check"]
    assert (check["id_number"], check["name"], check["expired"]) == ("match", "match", False)
    assert check["engine"].startswith("rapidocr-onnxruntime ")
    assert 0.8 <= check["confidence"] <= 1
    if RIGHT.valid_until is None:
        assert check["long_term"] and check["expires"] is None
    else:
        assert check["expires"] == RIGHT.valid_until.isoformat()
    item = queue_item(exam, package_id)
    assert item["id_check"] == check and item["id_flags"] == []
    # this process's own review container's workers (a whole system started by another
    # suite in this session has its own, further down the process tree)
    workers = [p for p in psutil.Process().children(recursive=False)
               if "services.review.idcheck.ocr_worker" in p.cmdline()]
    assert len(workers) == 1 and workers[0].nice() == 19  # OCR.WORKERS, OCR.NICE
    autogroup = Path(f"/proc/{workers[0].pid}/autogroup")
    if autogroup.exists():  # the kernel groups by session: the reader's group is its own
        group, _, nice = autogroup.read_text().split()
        assert nice == "19" and group != own_autogroup()
    assert os.sched_getscheduler(workers[0].pid) == os.SCHED_IDLE  # preempted by any request


def test_another_persons_card_is_a_mismatch_and_what_was_read_is_kept_nowhere(
        reader_on, make_exam, mongo_client, caplog, config):
    caplog.set_level(logging.DEBUG)
    exam = make_exam()
    register(exam, FANG, RIGHT, 22)
    events = capture_events(config)
    package_id = submit_with_id_card(exam, FANG, idcards.photo_jpeg(OTHER),
                                     idcards.photo_jpeg(OTHER, "back"))
    check = checked_case(exam, package_id)["id_check"]
    assert (check["id_number"], check["name"]) == ("mismatch", "mismatch")
    assert queue_item(exam, package_id)["id_flags"] == ["证件号与报名信息不一致", "姓名与报名信息不一致"]

    # The other person's number and name exist only on the photo: nothing may carry them.
    secrets = (OTHER.id_number, OTHER.name)
    stored = json.dumps([doc for name in mongo_client.list_database_names()
                         if name.startswith(config["MONGO"]["DB_PREFIX"])
                         for collection in mongo_client[name].list_collection_names()
                         for doc in mongo_client[name][collection].find()],
                        default=str, ensure_ascii=False)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    published = events()
    assert '"material_type": "id_card"' in published  # the capture saw the uploads
    for secret in secrets:
        assert secret not in stored and secret not in logged and secret not in published


def test_a_card_under_glare_is_unreadable_never_a_mismatch(reader_on, make_exam):
    exam = make_exam()
    register(exam, GAO, GLARE, 23)
    package_id = submit_with_id_card(exam, GAO, idcards.glare_jpeg(GLARE),
                                     idcards.photo_jpeg(GLARE, "back"))
    check = checked_case(exam, package_id)["id_check"]
    assert (check["id_number"], check["name"]) == ("unreadable", "unreadable")
    assert queue_item(exam, package_id)["id_flags"] == ["无法识别"]


def capture_events(config):
    """Every event published on the test's vhost from now on; call the result to read them."""
    connection = Connection(config["AMQP_URI"])
    queue = Queue("test-all-events", exclusive=True, bindings=[])
    channel = connection.channel()
    bound = queue(channel)
    bound.declare()
    for source in ("auth", "materials", "review", "notify"):
        exchange = Exchange(f"{source}.events", type="topic", durable=True)
        exchange(channel).declare()
        bound.bind_to(exchange=exchange(channel), routing_key="#")

    def read():
        bodies = []
        while (message := bound.get(no_ack=True)) is not None:
            # JSON escapes Chinese (\uXXXX): decode, so a name would show as written
            bodies.append(json.dumps(message.payload, ensure_ascii=False))
        connection.release()
        return "\n".join(bodies)
    return read


# -- the reader's worker processes ---------------------------------------------------------------
def test_a_worker_that_dies_mid_read_fails_that_read_and_a_fresh_one_reads_the_next():
    pool = OcrPool(ReviewSettings(ocr_nice=0, ocr_max_defer_s=0))
    data = idcards.photo_jpeg(RIGHT)
    try:
        first = pool.read(data)
        worker = next(iter(pool.live))
        eventlet.spawn_after(0.2, worker.process.kill)
        with pytest.raises(ReaderFailed):
            pool.read(data)
        assert pool.read(data) == first
        assert worker not in pool.live and len(pool.live) == 1
    finally:
        pool.stop()
    assert not pool.live


def test_a_read_past_its_cpu_limit_fails_and_a_fresh_worker_reads_the_next():
    pool = OcrPool(ReviewSettings(ocr_nice=0, ocr_max_defer_s=0, ocr_cpu_limit_s=0.05))
    data = idcards.photo_jpeg(RIGHT)
    try:
        with pytest.raises(ReaderFailed, match="OverCpuLimit"):
            pool.read(data)
        assert not pool.live
        pool.cpu_limit_s = 30
        assert pool.read(data)["fields"]["id_number"] == RIGHT.id_number
    finally:
        pool.stop()


def test_a_read_waiting_for_cpu_is_not_failed_for_the_time_it_waited():
    """The limit is CPU: a worker held off the CPU for longer than the limit still reads."""
    pool = OcrPool(ReviewSettings(ocr_nice=0, ocr_max_defer_s=0, ocr_cpu_limit_s=5))
    data = idcards.photo_jpeg(RIGHT)
    try:
        pool.read(data)  # started and warm
        worker = next(iter(pool.live))
        worker.process.send_signal(signal.SIGSTOP)  # no CPU at all, as on a saturated machine
        eventlet.spawn_after(6, worker.process.send_signal, signal.SIGCONT)
        assert pool.read(data)["fields"]["id_number"] == RIGHT.id_number
        assert worker in pool.live
    finally:
        pool.stop()


def test_beyond_two_waiting_reads_per_worker_the_reader_is_busy_and_the_event_waits_for_later():
    """Handlers share review's worker pool with reviewers' calls: only a few may wait."""
    pool = OcrPool(ReviewSettings(ocr_nice=0, ocr_max_defer_s=0))
    data = idcards.photo_jpeg(RIGHT)
    try:
        reads = [eventlet.spawn(pool.read, data) for _ in range(3)]
        eventlet.sleep(0.1)
        with pytest.raises(ReaderBusy) as busy:
            pool.read(data)
        assert is_outage(busy.value) and busy.value.busy  # retried soon, no attempt used up
        assert len({read.wait()["fields"]["id_number"] for read in reads}) == 1
        assert pool.read(data)["fields"]["id_number"] == RIGHT.id_number
    finally:
        pool.stop()
