"""Object access (DESIGN §4, §5, §8): nobody reaches what is not theirs.

A candidate guessing another candidate's image or message ids gets 404 (exactly as for
an id that does not exist) and the service writes a log line; a reviewer outside their
scope gets `Forbidden`; presigned image URLs are short-lived and the S3 server holds
them to it."""
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit, urlunsplit, urlencode

import pytest
import requests
from nameko.exceptions import RemoteError

from secsupport import assert_no_leak, log_lines
from support import Candidate, rpc, staff_token, wait_for, wait_until_queued

OWNER, GUESSER = "2026320400006", "2026320400009"


@pytest.fixture(scope="module")
def owner(system):
    """A 3204 candidate with a submitted package (so an in-app message exists too)."""
    person = Candidate(system, OWNER)
    person.image_ids = person.fill_required()
    person.package_id = person.submit()["package_id"]
    return person


@pytest.fixture(scope="module")
def guesser(system):
    return Candidate(system, GUESSER)


def test_another_candidates_image_ids_answer_404_like_unknown_ones_and_are_logged(owner, guesser, system):
    material_type, image_id = owner.image_ids[0]
    assert owner.call("GET", f"/package/items/{material_type}/images/{image_id}").status_code == 200

    unknown = uuid.uuid4().hex
    attempts = {
        "theirs": guesser.call("GET", f"/package/items/{material_type}/images/{image_id}"),
        "theirs_other_type": guesser.call("GET", f"/package/items/other/images/{image_id}"),
        "unknown": guesser.call("GET", f"/package/items/{material_type}/images/{unknown}"),
        "delete_theirs": guesser.call("DELETE", f"/package/items/{material_type}/images/{image_id}"),
    }
    bodies = set()
    for what, response in attempts.items():
        assert response.status_code == 404, (what, response.status_code, response.text)
        assert response.json()["error"]["code"] == "not_found", what
        assert_no_leak(response, what)
        if what != "delete_theirs":
            bodies.add(response.text)
    assert len(bodies) == 1, f"a guess for a real id must read like one for an unknown id: {bodies}"

    # The owner's image is untouched, and the guesses were logged by materials.
    assert owner.call("GET", f"/package/items/{material_type}/images/{image_id}").status_code == 200

    def logged():
        return [line for line in log_lines(system, "materials")
                if "image not found in candidate's own package" in str(line.get("message"))
                and image_id[:32] in str(line)]
    lines = wait_for(logged, timeout=5, message="materials logged the guess")
    assert len(lines) >= 3  # read as theirs, read under another type, delete


def test_another_candidates_message_ids_answer_404_and_are_logged(owner, guesser, system):
    inbox = wait_for(lambda: owner.call("GET", "/messages").json()["messages"], timeout=20,
                     message="the owner's submission message")
    message_id = inbox[0]["message_id"]

    seen = len(log_lines(system, "notify"))
    theirs = guesser.call("POST", f"/messages/{message_id}/read")
    unknown = guesser.call("POST", f"/messages/{uuid.uuid4().hex}/read")
    for what, response in (("theirs", theirs), ("unknown", unknown)):
        assert response.status_code == 404, (what, response.status_code, response.text)
        assert response.json()["error"]["code"] == "not_found"
        assert_no_leak(response, what)
    assert theirs.text == unknown.text
    assert all(m["message_id"] != message_id for m in guesser.call("GET", "/messages").json()["messages"])
    # Still unread for its owner: the guess changed nothing.
    mine = next(m for m in owner.call("GET", "/messages").json()["messages"] if m["message_id"] == message_id)
    assert mine["read"] is False

    def logged():
        # Not the access log (it names the path, not whose inbox was probed): a line of
        # notify's own, as materials writes for images.
        return [line for line in log_lines(system, "notify")[seen:] if message_id in str(line)
                and not str(line.get("logger", "")).startswith("nameko")]
    try:
        wait_for(logged, timeout=5, message="notify logged the guess")
    except AssertionError:
        pytest.fail("notify answers a guessed message id with 404 but writes no log line "
                    "naming it (a guessed id must get 404 and a log line)")


def test_a_reviewer_outside_their_scope_is_forbidden_and_the_refusal_is_audited(owner, system, admin_token):
    outsider = staff_token(system.config, "reviewer.3201", "Review@2026")
    insider = staff_token(system.config, "reviewer.3204", "Review@2026")
    with rpc(system.config, insider) as proxy:
        wait_until_queued(proxy, owner.package_id, timeout=20)

    with rpc(system.config, outsider) as proxy:
        assert all(i["site"] == "3201" for i in proxy.review.list_queue(limit=200)["items"])
        for call in (lambda: proxy.review.get_case(owner.package_id),
                     lambda: proxy.review.claim(owner.package_id),
                     lambda: proxy.review.approve(owner.package_id),
                     lambda: proxy.review.reject(owner.package_id, "x"),
                     lambda: proxy.review.return_materials(
                         owner.package_id, [{"material_type": "id_card", "reason": "unclear"}]),
                     lambda: proxy.review.release(owner.package_id),
                     lambda: proxy.review.list_queue(site="3204"),
                     lambda: proxy.review.stats(site="3204"),
                     lambda: proxy.review.audit(owner.package_id),
                     lambda: proxy.materials.configure_region("11", {}),
                     lambda: proxy.auth.import_candidates([]),
                     lambda: proxy.review.dead_letters(),
                     lambda: proxy.notify.messages_of(OWNER)):
            with pytest.raises(RemoteError) as refused:
                call()
            assert refused.value.exc_type == "Forbidden", refused.value
            assert_no_leak(str(refused.value), "rpc refusal")

    # A candidate's token opens nothing over RPC either.
    with rpc(system.config, owner.token) as proxy:
        with pytest.raises(RemoteError) as refused:
            proxy.review.get_case(owner.package_id)
        assert refused.value.exc_type == "Forbidden"

    with rpc(system.config, admin_token) as proxy:
        trail = proxy.review.audit(owner.package_id)
    denied = [e for e in trail if e["outcome"] == "denied" and e["actor"] == "staff:reviewer.3201"]
    assert {e["action"] for e in denied} >= {"read", "claim"}


def test_presigned_urls_are_short_lived_read_only_and_bound_to_their_object(owner, system):
    reviewer = staff_token(system.config, "reviewer.32", "Review@2026")
    with rpc(system.config, reviewer) as proxy:
        wait_until_queued(proxy, owner.package_id, timeout=20, site="3204")
        case = proxy.review.get_case(owner.package_id)
    images = [image for item in case["items"] for image in item["images"]]
    assert len(images) == 5 and all(image["url"] for image in images)
    first, second = images[0], images[1]

    query = parse_qs(urlsplit(first["url"]).query)
    assert int(query["X-Amz-Expires"][0]) <= 600, "DESIGN §8: presigned URLs live at most 10 minutes"
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    assert abs((datetime.now(timezone.utc) - signed_at).total_seconds()) < 60
    assert query["X-Amz-Credential"][0].startswith(system.config["S3"]["READ_ACCESS_KEY"] + "/"), \
        "presigned with the read-only review identity"
    assert requests.get(first["url"], timeout=15).status_code == 200

    def with_query(url, **changes):
        parts = urlsplit(url)
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        params.update(changes)
        return urlunsplit(parts._replace(query=urlencode(params)))

    # Stretching the lifetime or pointing the signature at another object breaks it.
    assert requests.get(with_query(first["url"], **{"X-Amz-Expires": "604800"}),
                        timeout=15).status_code == 403
    other_path = urlsplit(second["url"]).path
    assert requests.get(urlunsplit(urlsplit(first["url"])._replace(path=other_path)),
                        timeout=15).status_code == 403

    # The S3 server enforces expiry: the same identity's URL signed 11 minutes ago is dead.
    from common import s3
    presigner = s3.public_client(system.config)
    key = urlsplit(first["url"]).path.split("/", 2)[2]
    stale = presigner.presigned_get_object(
        system.bucket, key, expires=timedelta(seconds=600),
        request_date=datetime.now(timezone.utc) - timedelta(seconds=660))
    expired = requests.get(stale, timeout=15)
    assert expired.status_code == 403, f"an expired presigned URL still works: {expired.status_code}"
    short = presigner.presigned_get_object(system.bucket, key, expires=timedelta(seconds=1))
    time.sleep(2.5)
    assert requests.get(short, timeout=15).status_code == 403

    # The review identity can read, never write or delete.
    put = presigner.presigned_put_object(system.bucket, key, expires=timedelta(seconds=60))
    assert requests.put(put, data=b"overwritten", timeout=15).status_code == 403
    assert requests.get(first["url"], timeout=15).content[:2] == b"\xff\xd8"
