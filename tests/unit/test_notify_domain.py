"""notify's pure parts: what each event tells the candidate, the retry schedule, the
hourly per-phone limit."""
from datetime import date, datetime, timezone

import pytest

from common import events
from services.notify import domain, policy
from services.notify.settings import SmsDelivery, SmsProvider, load_settings
from services.notify.sms import DEFAULT_TEMPLATES, SmsResult, SmsTemplates

ABOUT = dict(package_id="p1", candidate_id="2026320400001", region="32", site="3204", attempt=1)


def compose(kind, event):
    return domain.compose(kind, event.to_payload())


def sms_values(notice):
    """The parameters as they would reach the provider (validated, shortened)."""
    return SmsTemplates(DEFAULT_TEMPLATES, SmsProvider().param_max_len).render(notice.kind, notice.sms_params)[1]


# -- message texts ---------------------------------------------------------------------------
def test_type_names_come_in_the_event_and_a_type_without_one_shows_its_code():
    notice = compose("returned", events.MaterialReturned(
        **ABOUT, reviewer_id="staff:r", respond_by=None, type_names={"id_card": "身份证明"},
        items=[{"material_type": "id_card", "reason": "缺少反面"},
               {"material_type": "new_type", "reason": "请补充"}]))
    assert [i["name"] for i in notice.items] == ["身份证明", "new_type"]


def test_submitted_is_a_receipt_that_says_the_package_is_locked():
    notice = compose("submitted", events.PackageSubmitted(
        **dict(ABOUT, attempt=2), category="integrated_practitioner", items=[]))
    assert "已提交审核，内容已锁定" in notice.body and "第2次" in notice.body
    assert sms_values(notice) == ["2"]


def test_returned_names_each_type_with_its_reason_and_the_deadline():
    notice = compose("returned", events.MaterialReturned(
        **ABOUT, reviewer_id="staff:r", respond_by="2026-05-20",
        items=[{"material_type": "degree_certificate", "reason": "照片模糊，请重新拍摄"},
               {"material_type": "id_card", "reason": "缺少反面"}],
        type_names={"degree_certificate": "学历证书", "id_card": "身份证明"}))
    assert "1. 学历证书：照片模糊，请重新拍摄" in notice.body
    assert "2. 身份证明：缺少反面" in notice.body
    assert "2026年5月20日前" in notice.body
    assert [i["name"] for i in notice.items] == ["学历证书", "身份证明"]
    assert sms_values(notice) == ["2", "5月20日"]


def test_returned_without_a_deadline_still_fits_the_template():
    notice = compose("returned", events.MaterialReturned(
        **ABOUT, reviewer_id="r", respond_by=None,
        items=[{"material_type": "mystery_type", "reason": ""}]))
    assert "请尽快" in notice.body and "mystery_type" in notice.body
    assert sms_values(notice) == ["1", domain.NO_DEADLINE_SMS]


def test_a_withdrawal_is_told_in_the_app_only():
    notice = compose("withdrawn", events.SubmissionWithdrawn(**ABOUT))
    assert notice.title == "已撤回提交" and notice.body.startswith("已撤回提交（第1次提交）")
    assert "重新提交" in notice.body and notice.sms is False


def test_the_same_sms_text_for_the_same_attempt_has_the_same_key_and_any_change_another():
    def key(kind, event):
        return domain.sms_key(compose(kind, event), event.to_payload())
    submitted = dict(ABOUT, category="integrated_practitioner", items=[])
    first = key("submitted", events.PackageSubmitted(**submitted))
    assert first == key("submitted", events.PackageSubmitted(**submitted))  # resubmitted
    assert first != key("submitted", events.PackageSubmitted(**dict(submitted, attempt=2)))
    assert first != key("submitted", events.PackageSubmitted(**dict(submitted, package_id="p2")))
    assert first != key("approved", events.PackageApproved(**ABOUT, reviewer_id="r"))
    reopened = dict(ABOUT, reason="报考信息变更")
    assert key("reopened", events.PackageReopened(**reopened, items=["a"])) != key(
        "reopened", events.PackageReopened(**reopened, items=["a", "b"]))


def test_a_timestamp_deadline_is_shown_in_beijing_time():
    assert domain.parse_deadline("2026-05-20") == date(2026, 5, 20)
    moment = domain.parse_deadline("2026-05-20T16:30:00Z")
    assert domain.deadline_text(moment) == "2026年5月21日 00:30"
    assert domain.deadline_sms(moment) == "5月21日"
    assert domain.parse_deadline("soon") is None


def test_approved_and_rejected():
    approved = compose("approved", events.PackageApproved(**ABOUT, reviewer_id="r"))
    assert "审核通过" in approved.title and sms_values(approved) == []
    rejected = compose("rejected", events.PackageRejected(
        **ABOUT, reviewer_id="r", reason="不符合报考条件：试用期不满一年"))
    assert "原因：不符合报考条件：试用期不满一年" in rejected.body
    assert sms_values(rejected) == []  # the reason stays in the app


def test_reopened_lists_the_newly_required_types():
    notice = compose("reopened", events.PackageReopened(
        **ABOUT, items=["degree_verification", "work_certificate"], reason="报考信息变更，需补充材料",
        type_names={"degree_verification": "学历认证报告", "work_certificate": "工作证明"}))
    assert "学历认证报告、工作证明" in notice.body
    assert sms_values(notice) == ["2"]


def test_personal_numbers_in_reviewer_text_are_masked_before_storing():
    notice = compose("rejected", events.PackageRejected(
        **ABOUT, reviewer_id="r", reason="请致电13800001234，身份证320402199001011234有误"))
    assert "13800001234" not in notice.body and "320402199001011234" not in notice.body
    assert "138****1234" in notice.body and "3204**********1234" in notice.body
    assert len(domain.clean("字" * 900)) == domain.REASON_MAX_LEN


# -- retry schedule --------------------------------------------------------------------------
SETTINGS = SmsDelivery(retry_base_s=2, retry_max_s=60, max_attempts=5, send_timeout_s=7)


def test_backoff_doubles_with_jitter_between_half_and_full_and_is_capped():
    low = [policy.backoff(n, 2, 60, rand=lambda: 0.0) for n in range(1, 8)]
    high = [policy.backoff(n, 2, 60, rand=lambda: 0.999999) for n in range(1, 8)]
    assert low == [1, 2, 4, 8, 16, 30, 30]
    assert [round(h) for h in high] == [2, 4, 8, 16, 32, 60, 60]


def test_provider_wait_hint_is_honoured_up_to_the_cap():
    assert policy.retry_delay(1, 30, SETTINGS, rand=lambda: 0) == 30
    assert policy.retry_delay(1, 86400, SETTINGS, rand=lambda: 0) == 60
    assert policy.retry_delay(1, None, SETTINGS, rand=lambda: 0) == 1


@pytest.mark.parametrize("result, attempts, expected", [
    (SmsResult("sent", "Ok"), 1, policy.SENT),
    (SmsResult("throttled", "LimitExceeded.X", retryable=True, retry_after_s=30), 1,
     policy.PENDING),
    (SmsResult("timeout", "HardTimeout", retryable=True), 4, policy.PENDING),
    (SmsResult("timeout", "HardTimeout", retryable=True), 5, policy.FAILED),
    (SmsResult("failed", "AuthFailure.SignatureFailure", retryable=False), 1, policy.FAILED),
])
def test_after_an_attempt(result, attempts, expected):
    status, delay, note = policy.after_attempt(result, attempts, SETTINGS, rand=lambda: 0.5)
    assert status == expected
    assert (delay is not None) == (expected == policy.PENDING)
    assert (note is not None) == (expected == policy.FAILED)


def test_an_unanswered_send_waits_for_its_status_report_before_the_next_try():
    settings = SmsDelivery(retry_base_s=1, retry_max_s=5, report_wait_s=30, send_timeout_s=7)
    _, after_timeout, _ = policy.after_attempt(SmsResult("timeout", "HardTimeout", retryable=True),
                                               1, settings, rand=lambda: 0)
    _, after_failure, _ = policy.after_attempt(SmsResult("failed", "InternalError", retryable=True),
                                               1, settings, rand=lambda: 0)
    assert after_timeout == 30 and after_failure == 0.5


def test_settings_from_config_with_defaults():
    config = {"SMS": {"TIMEOUT": 5}, "NOTIFY": {"RETRY_BASE_S": 0.2, "MAX_ATTEMPTS": "3"}}
    settings = load_settings(config).delivery
    assert settings.retry_base_s == 0.2 and settings.max_attempts == 3
    assert settings.send_timeout_s == 7 and settings.hourly_limit == 5  # SMS.TIMEOUT + 2
    assert settings.report_wait_s == 60
    assert settings.lease_s > settings.send_timeout_s + settings.contact_timeout_s
    assert load_settings(dict(config, NOTIFY={"SEND_TIMEOUT_S": "3"})).delivery.send_timeout_s == 3


# -- the hourly limit (its counting: tests/unit/test_ratelimit.py) -------------------------
def test_limit_key_hides_the_phone():
    key = policy.limit_key("13800000001", "secret", "c1")
    assert "13800000001" not in key and key == policy.limit_key("13800000001", "secret", "c2")
    assert key != policy.limit_key("13800000001", "other", "c1")
    assert policy.limit_key("13800000001", None, "c1") == "candidate:c1"


# -- settling a delivery (the courier's decisions, with a fixed clock and random source) ----
AT = datetime(2026, 5, 20, 2, 0, tzinfo=timezone.utc)


def test_a_sent_sms_is_settled_sent_with_its_log_entry_and_no_due_time():
    result = SmsResult("sent", "Ok", "send success", "req-1", "serial-1")
    settled = policy.after_send(result, {"attempts": 0}, started=1000.0, now=1000.25, at=AT,
                                masked="138****0001", settings=SETTINGS, rand=lambda: 0.5)
    assert settled.status == policy.SENT and settled.due_at is None and settled.attempted
    assert settled.sets == {"sms.phone_masked": "138****0001", "sms.slot_taken": True,
                            "sms.last_code": "Ok", "sms.sent_at": AT}
    assert settled.entry["n"] == 1 and settled.entry["duration_ms"] == 250
    assert settled.entry["serial_no"] == "serial-1" and settled.entry["at"] == AT


def test_a_throttled_sms_is_due_again_after_the_jittered_backoff_or_the_providers_hint():
    throttled = SmsResult("throttled", "LimitExceeded", retryable=True, retry_after_s=10)
    settled = policy.after_send(throttled, {"attempts": 1}, 1000.0, 1001.0, AT, "138****0001",
                                SETTINGS, rand=lambda: 0.0)
    assert settled.status == policy.PENDING and settled.due_at == 1001.0 + 10
    no_hint = SmsResult("failed", "InternalError", retryable=True)
    settled = policy.after_send(no_hint, {"attempts": 2}, 1000.0, 1001.0, AT, "138****0001",
                                SETTINGS, rand=lambda: 1.0)
    assert settled.due_at == 1001.0 + 8  # third attempt: 2·2² s at full jitter


def test_an_unanswered_send_remembers_when_the_first_one_went_unanswered():
    timeout = SmsResult("timeout", "HardTimeout", retryable=True)
    first = policy.after_send(timeout, {"attempts": 0}, 1000.0, 1007.0, AT, "m", SETTINGS)
    again = policy.after_send(timeout, {"attempts": 1, "unanswered_at": 900.0}, 1000.0, 1007.0,
                              AT, "m", SETTINGS)
    assert first.sets["sms.unanswered_at"] == 1000.0 and again.sets["sms.unanswered_at"] == 900.0
    assert first.due_at >= 1007.0 + SETTINGS.report_wait_s
    assert policy.reports_since(1000.0) == 1000.0 - policy.REPORT_SLACK_S


def test_no_contact_fails_without_an_attempt_and_an_auth_outage_waits_without_one():
    assert policy.no_contact() == policy.Settlement(
        policy.FAILED, note="no contact for this candidate", attempted=False)
    waiting = policy.contact_unavailable("Unavailable", 1000.0, SETTINGS)
    assert waiting.status == policy.PENDING and not waiting.attempted
    assert waiting.due_at == 1000.0 + policy.CONTACT_RETRY_S
    short_cap = SmsDelivery(retry_max_s=10, send_timeout_s=7)
    assert policy.contact_unavailable("x", 1000.0, short_cap).due_at == 1010.0


def test_the_hourly_limit_suppresses_with_a_note_and_a_lost_race_tries_again_shortly():
    suppressed = policy.over_hourly_limit("138****0001", AT, SETTINGS)
    assert suppressed.status == policy.SUPPRESSED and not suppressed.attempted
    assert "at most 5 SMS per phone per hour" in suppressed.note
    assert suppressed.entry == {"at": AT, "event": "suppressed", "note": suppressed.note,
                                "phone_masked": "138****0001"}
    contended = policy.slot_contended(1000.0, SETTINGS)
    assert contended.status == policy.PENDING and contended.due_at == 1002.0


def test_a_status_report_settles_an_unanswered_send_as_sent_without_an_attempt():
    settled = policy.confirmed_by_report("serial-9", "138****0001", AT)
    assert settled.status == policy.SENT and not settled.attempted
    assert settled.sets == {"sms.sent_at": AT, "sms.last_code": "StatusReport"}
    assert settled.entry["serial_no"] == "serial-9"
