"""The outcome feed's and webhooks' rules, free of I/O: the §4a record, the signed
cursor, limits, retention, subscriber URLs against SSRF (with a resolver of our own),
the retry schedule and the Standard Webhooks signature; and a model of the numbering
protocol under every interleaving hypothesis finds, against the naive counter."""
import socket
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings, strategies as st
from standardwebhooks import Webhook, WebhookVerificationError

from common import errors, events
from common.clock import BEIJING
from common.settings import load
from services.notify import hooks, outcomes, targets
from services.notify.settings import Keys, Webhooks

KEYS = ["the-active-key", "an-older-key"]


def returned_event(**overrides):
    fields = dict(package_id="2026320400001-2026", candidate_id="2026320400001", region="32", site="3204",
                  attempt=2, respond_by="2026-05-20", reviewer_id="staff:reviewer.3204",
                  items=[{"material_type": "id_card", "reason_code": "mismatch",
                          "reason": "身份证号 320400199501010011，电话 13800000001"}],
                  type_names={"id_card": "身份证明"})
    fields.update(overrides)
    return events.MaterialReturned(**fields).to_payload()


# -- the record ------------------------------------------------------------------------------------
def test_a_return_carries_items_with_reason_codes_and_respond_by_and_no_personal_numbers():
    event = returned_event()
    record = outcomes.record("returned", event)
    assert record == {"event_id": event["event_id"], "candidate_id": "2026320400001",
                      "package_id": "2026320400001-2026", "region": "32", "site": "3204", "attempt": 2,
                      "status": "returned", "occurred_at": event["occurred_at"], "respond_by": "2026-05-20",
                      "items": [{"material_type": "id_card", "reason_code": "mismatch",
                                 "reason": "身份证号 3204**********0011，电话 138****0001"}]}


def test_a_rejection_carries_its_reason_and_an_approval_nothing_more():
    base = dict(package_id="P-2026", candidate_id="C", region="32", site="3204", attempt=1, reviewer_id="r")
    rejected = outcomes.record("rejected", events.PackageRejected(reason="不符合报考条件", **base).to_payload())
    approved = outcomes.record("approved", events.PackageApproved(**base).to_payload())
    assert rejected["reason"] == "不符合报考条件" and "items" not in rejected
    assert set(approved) == {"event_id", "candidate_id", "package_id", "region", "site", "attempt", "status",
                             "occurred_at"}
    with pytest.raises(ValueError):
        outcomes.record("claimed", events.PackageApproved(**base).to_payload())


def test_the_sequence_comes_second_as_design_lists_the_fields():
    record = outcomes.record("returned", returned_event())
    assert list(outcomes.with_sequence(record, 7))[:3] == ["event_id", "sequence", "candidate_id"]


def test_outcomes_are_kept_through_the_year_after_their_exam_year_beijing_time():
    moment = datetime(2026, 12, 31, 17, 0, tzinfo=timezone.utc)  # already 2027 in Beijing
    assert outcomes.exam_year("2026320400001-2026", moment) == 2026
    assert outcomes.exam_year("no-year-here", moment) == 2027
    assert outcomes.keep_until(2026) == datetime(2028, 1, 1, tzinfo=BEIJING)


# -- the cursor ------------------------------------------------------------------------------------
@given(st.integers(min_value=0, max_value=10 ** 15))
def test_a_cursor_reads_back_to_its_sequence_under_every_listed_key(sequence):
    assert outcomes.read_cursor(outcomes.sign_cursor(sequence, KEYS), KEYS) == sequence
    assert outcomes.read_cursor(outcomes.sign_cursor(sequence, KEYS[1:]), KEYS) == sequence  # rotated


@given(st.integers(min_value=0, max_value=10 ** 15), st.integers(min_value=0, max_value=10 ** 15))
def test_a_cursor_moved_to_another_sequence_is_refused(sequence, other):
    _, _, mac = outcomes.sign_cursor(sequence, KEYS).split(".")
    moved = f"v1.{other}.{mac}"
    if other == sequence:
        assert outcomes.read_cursor(moved, KEYS) == sequence
    else:
        with pytest.raises(errors.ValidationError):
            outcomes.read_cursor(moved, KEYS)


@given(st.text(max_size=80))
def test_any_other_text_is_refused_as_a_cursor(text):
    with pytest.raises(errors.ValidationError) as refused:
        outcomes.read_cursor(text or "x", KEYS)
    assert refused.value.status == 400 and "游标" in refused.value.message


def test_no_cursor_is_the_start_and_a_cursor_of_another_key_is_refused():
    assert outcomes.read_cursor(None, KEYS) == 0 and outcomes.read_cursor("", KEYS) == 0
    with pytest.raises(errors.ValidationError):
        outcomes.read_cursor(outcomes.sign_cursor(5, ["someone-else"]), KEYS)


def test_the_limit_is_one_to_five_hundred():
    assert [outcomes.parse_limit(v) for v in (None, "", "1", "500", 42)] == [100, 100, 1, 500, 42]
    for value in ("0", "501", "-3", "1e2", "ten", " 5", 10 ** 6):
        with pytest.raises(errors.ValidationError):
            outcomes.parse_limit(value)


def test_cursor_keys_come_from_config_or_are_derived_from_the_pii_hash_key():
    def keys(config):
        read = load(Keys, config)
        return outcomes.cursor_keys(read.cursor_keys, read.hash_key)
    assert keys({"NOTIFY": {"CURSOR_KEYS": " new , old "}, "PII": {"HASH_KEY": "h"}}) == ["new", "old"]
    derived = keys({"PII": {"HASH_KEY": "h"}})
    assert len(derived) == 1 and derived[0] != "h" and len(derived[0]) == 64
    with pytest.raises(RuntimeError):
        keys({"NOTIFY": {}, "PII": {}})


# -- SSRF -----------------------------------------------------------------------------------------
def resolving_to(*addresses):
    def resolver(host, port, family, kind):
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, kind, 6, "", (a, port)) for a in addresses]
    return resolver


@pytest.mark.parametrize("address, why", [
    ("127.0.0.1", "回环地址"), ("127.8.9.1", "回环地址"), ("::1", "回环地址"), ("::ffff:127.0.0.1", "回环地址"),
    ("10.0.0.1", "内网地址"), ("172.16.5.4", "内网地址"), ("192.168.0.1", "内网地址"), ("fc00::1", "内网地址"),
    ("169.254.169.254", "链路本地地址"), ("fe80::1", "链路本地地址"), ("224.0.0.1", "组播地址"),
    ("0.0.0.0", "未指定地址"), ("::", "未指定地址"), ("240.0.0.1", "保留地址"), ("100.64.0.1", "非公网地址")])
def test_a_name_that_resolves_to_an_internal_address_is_refused(address, why):
    with pytest.raises(targets.TargetRefused) as refused:
        targets.check("https://hooks.example.org/outcomes", resolver=resolving_to(address))
    assert why in refused.value.message and address in refused.value.message


def test_one_internal_address_among_public_ones_is_enough_to_refuse():
    with pytest.raises(targets.TargetRefused):
        targets.check("https://hooks.example.org/", resolver=resolving_to("93.184.216.34", "10.1.2.3"))


def test_a_public_https_target_passes_with_its_host_port_and_path_kept():
    target, addresses = targets.check("https://Hooks.Example.org:8443/in?src=exam",
                                      resolver=resolving_to("93.184.216.34", "2606:2800:220:1::1"))
    assert target == targets.Target("https", "hooks.example.org", 8443, "/in?src=exam")
    assert target.host_header == "hooks.example.org:8443" and addresses == ["93.184.216.34", "2606:2800:220:1::1"]


@pytest.mark.parametrize("url", ["http://hooks.example.org/", "ftp://hooks.example.org/", "https://",
                                 "https://u:p@hooks.example.org/", "https://hooks.example.org/#x", "hooks.example.org",
                                 "https://hooks.example.org:99999/", 42, "", "https://" + "a" * 2050])
def test_anything_but_a_plain_https_url_is_refused_before_any_lookup(url):
    def no_lookup(*args):
        raise AssertionError("looked up")
    with pytest.raises(targets.TargetRefused):
        targets.check(url, resolver=no_lookup)


def test_local_development_admits_http_and_loopback():
    target, addresses = targets.check("http://localhost:9031/hook", local_development=True,
                                      resolver=resolving_to("127.0.0.1"))
    assert (target.scheme, addresses) == ("http", ["127.0.0.1"])


def test_a_name_that_does_not_resolve_is_refused():
    def nothing(*args):
        raise socket.gaierror("no such name")
    with pytest.raises(targets.TargetRefused) as refused:
        targets.check("https://nowhere.invalid/", resolver=nothing)
    assert "无法解析" in refused.value.message


# -- retries and signatures -----------------------------------------------------------------------
def test_failed_attempts_back_off_doubling_until_the_horizon_then_fail():
    s = Webhooks(retry_base_s=10, retry_max_s=80, horizon_s=1000)
    assert [hooks.backoff(n, s, rand=lambda: 1.0) for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 80, 80]
    assert [hooks.backoff(n, s, rand=lambda: 0.0) for n in (1, 2, 3)] == [5, 10, 20]  # half fixed
    assert hooks.after_failure(1, now=100, expires_at=1000, settings=s, rand=lambda: 1.0) == ("pending", 110)
    assert hooks.after_failure(9, now=950, expires_at=1000, settings=s, rand=lambda: 1.0) == ("failed", None)


def test_the_horizon_reads_in_hours_minutes_or_seconds_in_an_operators_note():
    from services.notify.dispatcher import duration_text
    assert [duration_text(s) for s in (259200, 5400, 300, 3)] == ["72 小时", "1.5 小时", "5 分钟", "3 秒"]


def test_defaults_are_seventy_two_hours_and_config_overrides_them():
    assert Webhooks().horizon_s == 72 * 3600
    s = load(Webhooks, {"WEBHOOKS": {"HORIZON_S": "60", "LOCAL_DEVELOPMENT": "false",
                                     "PER_SUBSCRIBER": 3, "CA_FILE": ""}})
    assert (s.horizon_s, s.local_development, s.per_subscriber, s.ca_file) == (60.0, False, 3, None)
    assert load(Webhooks, {"WEBHOOKS": {"LOCAL_DEVELOPMENT": "true"}}).local_development


def test_the_headers_verify_with_standardwebhooks_and_every_retry_keeps_the_webhook_id():
    secret, record = hooks.new_secret(), outcomes.with_sequence(outcomes.record("returned", returned_event()), 3)
    payload = hooks.body(record)
    webhook_id = hooks.delivery_id("sub_abc", record["event_id"])
    assert webhook_id == hooks.delivery_id("sub_abc", record["event_id"]) != hooks.delivery_id("sub_xyz", record["event_id"])
    import time
    now = time.time()
    for moment in (now, now + 30):
        headers = hooks.signed_headers(secret, webhook_id, payload, moment)
        assert headers["webhook-id"] == webhook_id
        body = Webhook(secret).verify(payload, headers)
        assert body == {"type": "outcome.returned", "timestamp": record["occurred_at"], "data": record}
    stale = hooks.signed_headers(secret, webhook_id, payload, now - 600)
    with pytest.raises(WebhookVerificationError):  # receivers refuse old timestamps
        Webhook(secret).verify(payload, stale)


def test_a_receivers_inbox_applies_a_webhook_id_once_and_refuses_a_forged_one():
    import time
    from dev.webhook_receiver import Inbox
    secret, record = hooks.new_secret(), outcomes.with_sequence(outcomes.record("returned", returned_event()), 1)
    payload, inbox = hooks.body(record), Inbox(secret)
    headers = hooks.signed_headers(secret, "msg_1", payload, time.time())
    assert inbox.receive(payload, headers) == record
    assert inbox.receive(payload, hooks.signed_headers(secret, "msg_1", payload, time.time() + 1)) is None  # a retry
    with pytest.raises(WebhookVerificationError):
        inbox.receive(payload, hooks.signed_headers(hooks.new_secret(), "msg_2", payload, time.time()))
    assert inbox.seen == {"msg_1"}


def test_regions_and_descriptions_of_subscribers_are_checked():
    assert hooks.regions_filter(None) is None and hooks.regions_filter(["32", "11", "32"]) == ["11", "32"]
    assert hooks.regions_filter("32") == ["32"]
    for bad in ([], ["3204"], [32], "all", ["3" * 2] * 41):
        with pytest.raises(errors.ValidationError):
            hooks.regions_filter(bad)
    assert hooks.description_text("  报名系统  正式环境 ") == "报名系统 正式环境"
    assert hooks.wants({"regions": None}, "11") and not hooks.wants({"regions": ["32"]}, "11")


# -- the numbering protocol, as a model (feed.py) -----------------------------------------------
class Store:
    """Outcomes as readers see them: a number once a write of it has landed."""

    def __init__(self):
        self.outcomes = []   # ids in the order stored
        self.numbers = {}    # id -> sequence, landed writes only

    def land(self, outcome, number):
        """A guarded write: refused if the outcome is numbered or the number taken."""
        if outcome in self.numbers or number in self.numbers.values():
            return False
        self.numbers[outcome] = number
        return True

    def after(self, cursor):
        return sorted((n, o) for o, n in self.numbers.items() if n > cursor)


class Sequencer:
    """feed.Sequencer's protocol: read the highest landed number, then number the
    oldest unnumbered outcome with the next one; the next write only after this one
    landed (acknowledged); a refused write means start again from the highest."""

    def __init__(self):
        self.last, self.in_flight = None, None

    def step(self, store):
        if self.in_flight is not None:
            outcome, number = self.in_flight
            self.in_flight = None
            self.last = number if store.land(outcome, number) else None
        elif self.last is None:
            self.last = max(store.numbers.values(), default=0)
        else:
            waiting = [o for o in store.outcomes if o not in store.numbers]
            if waiting:
                self.in_flight = (waiting[0], self.last + 1)


class Counter:
    """The naive way: a writer takes the next number from a counter, then writes; the
    writes land in any order."""

    def __init__(self):
        self.next, self.in_flight = 1, []

    def take(self, outcome):
        self.in_flight.append((outcome, self.next))
        self.next += 1

    def land(self, store, index):
        outcome, number = self.in_flight.pop(index % len(self.in_flight))
        store.land(outcome, number)


def follow(store, cursor, seen):
    for number, outcome in store.after(cursor):
        seen.append((number, outcome))
        cursor = number
    return cursor


def run_sequencers(steps):
    """Writers, three sequencers and a reader interleaved as `steps` say; then
    everything finishes and the reader catches up. What the reader saw."""
    store, sequencers, seen, cursor = Store(), [Sequencer() for _ in range(3)], [], 0
    for n, step in enumerate(steps):
        if step == "write":
            store.outcomes.append(f"o{n}")
        elif step == "read":
            cursor = follow(store, cursor, seen)
        else:
            sequencers[step].step(store)
    while len(store.numbers) < len(store.outcomes) or any(s.in_flight for s in sequencers):
        for sequencer in sequencers:
            sequencer.step(store)
    follow(store, cursor, seen)
    return store, seen


def run_counter(steps):
    store, counter, seen, cursor = Store(), Counter(), [], 0
    for n, step in enumerate(steps):
        if step == "write":
            store.outcomes.append(f"o{n}")
            counter.take(f"o{n}")
        elif step == "read":
            cursor = follow(store, cursor, seen)
        elif counter.in_flight:
            counter.land(store, step)
    while counter.in_flight:
        counter.land(store, 0)
    follow(store, cursor, seen)
    return store, seen


STEPS = st.lists(st.one_of(st.just("write"), st.just("read"), st.sampled_from([0, 1, 2])), max_size=120)


@settings(max_examples=400)
@given(STEPS)
def test_a_reader_following_the_cursor_sees_every_outcome_once_in_order_however_sequencers_interleave(steps):
    store, seen = run_sequencers(steps)
    assert [n for n, _ in seen] == list(range(1, len(store.outcomes) + 1))
    assert sorted(o for _, o in seen) == sorted(store.outcomes)


def test_the_naive_counter_loses_an_outcome_for_some_interleaving_which_the_model_finds():
    from hypothesis import find
    lossy = find(STEPS, lambda steps: len(run_counter(steps)[1]) < steps.count("write"))
    store, seen = run_counter(lossy)
    assert len(seen) < len(store.outcomes)  # e.g. write, write, land 6 first, read, land 5: 5 is never read
