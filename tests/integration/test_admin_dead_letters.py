"""Dead letters as administrators see them (issue 19 item 9): scoped to their region or
sites, replayed once, and a replay that is repeated changes nothing."""
import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.events import event_dispatcher

from common import service as base
from common.events import SubmissionWithdrawn
from common.messaging import event_handler
from services.auth.service import AuthService
from support import make_admin, rpc, staff_token, wait_for


class Picky(base.ServiceBase):
    """Fails on every event until `broken` is cleared; applies each event_id once."""
    name = "picky"
    broken = True
    applied = []

    @event_handler("materials", "SubmissionWithdrawn", delays=(0.2,), max_attempts=2)
    def on_withdrawn(self, payload):
        if Picky.broken:
            raise ValueError("not yet")
        if payload["event_id"] not in Picky.applied:  # idempotent on event_id
            Picky.applied.append(payload["event_id"])


def withdrawn(site):
    return SubmissionWithdrawn(package_id=f"p-{site}", candidate_id=f"2026{site}00001", region=site[:2],
                               site=site, attempt=1).to_payload()


@pytest.fixture
def parked(start_service, config):
    start_service(AuthService)
    start_service(Picky)
    Picky.broken, Picky.applied = True, []
    letters = {site: withdrawn(site) for site in ("3204", "3201")}
    dispatch = event_dispatcher(config)
    for payload in letters.values():
        dispatch("materials", "SubmissionWithdrawn", payload)
    make_admin(config, "admin.32", region="32")
    make_admin(config, "admin.3201", region="32").save_staff("admin.3201", "admin", "32", ["3201"], "Admin@2026")
    tokens = {n: staff_token(config, n, "Admin@2026") for n in ("admin.32", "admin.3201")}
    with rpc(config, tokens["admin.32"]) as proxy:
        wait_for(lambda: len(proxy.picky.dead_letters()) == 2, timeout=15, message="both parked")
    return config, tokens, letters


def test_a_site_administrator_lists_and_replays_only_their_sites_dead_letters(parked):
    config, tokens, letters = parked
    with rpc(config, tokens["admin.3201"]) as proxy:
        seen = proxy.picky.dead_letters()
        assert [(l["event_id"], l["site"]) for l in seen] == [(letters["3201"]["event_id"], "3201")]
        assert seen[0]["attempts"] == 2 and "ValueError" in seen[0]["last_error"]
        with pytest.raises(RemoteError) as refused:
            proxy.picky.replay_dead_letter(letters["3204"]["event_id"])
        assert refused.value.exc_type == "NotFound"
    with rpc(config, tokens["admin.32"]) as proxy:
        assert {l["site"] for l in proxy.picky.dead_letters()} == {"3204", "3201"}  # still parked


def test_a_replay_applies_the_event_once_and_a_repeated_replay_changes_nothing(parked):
    config, tokens, letters = parked
    event_id = letters["3204"]["event_id"]
    Picky.broken = False
    with rpc(config, tokens["admin.32"]) as proxy:
        assert proxy.picky.replay_dead_letter(event_id) == {"replayed": event_id}
        wait_for(lambda: event_id in Picky.applied, timeout=10, message="replayed event applied")
        with pytest.raises(RemoteError) as again:
            proxy.picky.replay_dead_letter(event_id)
        assert again.value.exc_type == "NotFound"
        assert [l["site"] for l in proxy.picky.dead_letters()] == ["3201"]
    assert Picky.applied == [event_id]
