"""The SMS adapter speaks Tencent Cloud SMS through the real SDK to the local stand-in.

No other servers: the stand-in (dev/sms_standin.py) runs in-process on a free port and
plays the provider, signature check included.
"""
import datetime as dt
import hashlib
import json
import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from common.settings import load
from dev.sms_standin import DEMO_APP_ID, DEMO_KIND_TEMPLATES, DEMO_SIGN_NAME, SmsStandin, \
    tc3_signature
from services.notify.settings import SmsProvider
from services.notify.sms import DEFAULT_TEMPLATES, SmsClient, SmsConfigError, SmsTemplateError, \
    SmsTemplates, scrub, to_e164
from support import free_port

SECRET_ID = "test-sms-id"
SECRET_KEY = "test-sms-secret"
PHONE = "13800000001"
REPO = Path(__file__).resolve().parents[2]
PARAM_MAX_LEN = SmsProvider().param_max_len  # the provider's limit for individual accounts


@pytest.fixture(scope="module")
def standin():
    server = SmsStandin("127.0.0.1", 0, SECRET_ID, SECRET_KEY).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fresh(standin):
    standin.reset()


def make_client(standin, secret_id=SECRET_ID, secret_key=SECRET_KEY, templates=None,
                timeout_s=2.0):
    return SmsClient(endpoint=standin.endpoint, scheme="http", secret_id=secret_id,
                     secret_key=secret_key, app_id=DEMO_APP_ID, sign_name=DEMO_SIGN_NAME,
                     templates=SmsTemplates(templates or DEFAULT_TEMPLATES, PARAM_MAX_LEN),
                     region="ap-guangzhou", timeout_s=timeout_s)


def raw_send(standin, payload, timestamp=None, signed_host=None):
    """A hand-signed SendSms request, for provider checks the SDK never trips."""
    timestamp = int(timestamp or time.time())
    date = dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).strftime("%Y-%m-%d")
    body = json.dumps(payload).encode()
    host = standin.endpoint
    canonical = "\n".join(["POST", "/", "",
                           f"content-type:application/json\nhost:{signed_host or host}\n",
                           "content-type;host", hashlib.sha256(body).hexdigest()])
    to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp), f"{date}/sms/tc3_request",
                         hashlib.sha256(canonical.encode()).hexdigest()])
    signature = tc3_signature(SECRET_KEY, date, "sms", to_sign)
    headers = {
        "Content-Type": "application/json", "Host": host, "X-TC-Action": "SendSms",
        "X-TC-Version": "2021-01-11", "X-TC-Region": "ap-guangzhou",
        "X-TC-Timestamp": str(timestamp),
        "Authorization": f"TC3-HMAC-SHA256 Credential={SECRET_ID}/{date}/sms/tc3_request, "
                         f"SignedHeaders=content-type;host, Signature={signature}",
    }
    return requests.post(standin.url + "/", data=body, headers=headers, timeout=5).json()


def payload(**overrides):
    base = {"PhoneNumberSet": ["+8613800000001"], "SmsSdkAppId": DEMO_APP_ID,
            "SignName": DEMO_SIGN_NAME, "TemplateId": "2100001", "TemplateParamSet": ["1"]}
    base.update(overrides)
    return base


# -- delivery ------------------------------------------------------------------------

def test_sends_template_and_parameters_the_standin_records(standin):
    result = make_client(standin).send(PHONE, "returned",
                                       {"count": 2, "deadline": dt.date(2026, 5, 20)},
                                       session_context="delivery-1")

    assert result.status == "sent" and result.sent
    assert result.provider_code == "Ok" and result.serial_no and result.request_id
    [message] = standin.messages
    assert message["phone"] == "+8613800000001"
    assert message["template_id"] == DEFAULT_TEMPLATES["returned"]["id"]
    assert message["params"] == ["2", "5月20日"]
    assert message["sign_name"] == DEMO_SIGN_NAME and message["sdk_app_id"] == DEMO_APP_ID
    assert message["session_context"] == "delivery-1"
    assert message["request_id"] == result.request_id
    assert message["serial_no"] == result.serial_no
    assert message["text"] == ("【医考报名】您的医师资格考试报名材料有2项需修改，"
                               "请于5月20日前登录系统查看原因并重新提交。")


@pytest.mark.parametrize("kind, params", [
    ("submitted", {"attempt": 1}), ("returned", {"count": 1, "deadline": "5月1日"}),
    ("approved", {}), ("rejected", {}), ("reopened", {"count": 3}),
])
def test_every_kind_has_an_approved_template(standin, kind, params):
    assert make_client(standin).send(PHONE, kind, params).status == "sent"
    assert standin.messages[-1]["template_id"] == DEFAULT_TEMPLATES[kind]["id"]


def test_long_parameter_is_truncated_within_the_provider_limit(standin):
    result = make_client(standin).send(PHONE, "returned",
                                       {"count": 1, "deadline": "下个月的最后一个工作日之前尽快"})

    assert result.status == "sent"
    deadline = standin.messages[-1]["params"][1]
    assert len(deadline) == 12 and deadline.endswith("…")


def test_accepts_e164_and_spaced_numbers(standin):
    client = make_client(standin)
    assert client.send("+86 138-0000-0001", "approved").status == "sent"
    assert client.send("8613800000001", "approved").status == "sent"
    assert [m["phone"] for m in standin.messages] == ["+8613800000001"] * 2


# -- provider refusals and failures --------------------------------------------------

@pytest.mark.parametrize("secret_id, secret_key, code", [
    (SECRET_ID, "not-the-secret", "AuthFailure.SignatureFailure"),
    ("unknown-id", SECRET_KEY, "AuthFailure.SecretIdNotFound"),
])
def test_wrong_credentials_get_the_auth_failure_mapped_to_failed(standin, secret_id,
                                                                 secret_key, code):
    result = make_client(standin, secret_id, secret_key).send(PHONE, "approved")

    assert result.status == "failed" and result.provider_code == code
    assert result.request_id and not result.retryable
    assert standin.messages == []


def test_throttle_mode_answers_the_providers_throttling_code(standin):
    standin.set_mode("throttle", times=1)
    client = make_client(standin)

    throttled = client.send(PHONE, "approved")
    assert throttled.status == "throttled"
    assert throttled.provider_code == "LimitExceeded.PhoneNumberThirtySecondLimit"
    assert throttled.retryable and throttled.retry_after_s == 30
    assert standin.messages == []
    assert client.send(PHONE, "approved").status == "sent"   # back to ok after N=1


def test_daily_limit_waits_until_midnight_china_time(standin):
    standin.set_mode("throttle", code="LimitExceeded.PhoneNumberDailyLimit")
    result = make_client(standin).send(PHONE, "approved")
    assert result.status == "throttled"
    assert 0 < result.retry_after_s <= 24 * 3600


def test_request_rate_limit_is_throttled_and_the_sdk_does_not_retry(standin):
    standin.set_mode("throttle", times=3, code="RequestLimitExceeded")
    result = make_client(standin).send(PHONE, "approved")

    assert result.status == "throttled" and result.provider_code == "RequestLimitExceeded"
    assert standin.api_requests == 1   # the SDK's retryer would have tried again


def test_hang_is_a_timeout_within_the_client_timeout(standin):
    standin.set_mode("hang", times=1)
    client = make_client(standin, timeout_s=1.0)

    started = time.monotonic()
    result = client.send(PHONE, "approved")
    elapsed = time.monotonic() - started

    assert result.status == "timeout" and result.retryable
    assert result.provider_code == "ClientNetworkError"
    assert 0.9 <= elapsed < 2.5
    assert standin.api_requests == 1 and standin.messages == []
    assert client.send(PHONE, "approved").status == "sent"


def test_a_lost_answer_is_a_timeout_but_the_status_report_shows_the_sms_went_out(standin):
    standin.set_mode("lose", times=1)
    client = make_client(standin, timeout_s=1.0)
    before = time.time()

    result = client.send(PHONE, "approved", session_context="m-1")

    assert result.status == "timeout"
    [message] = standin.messages  # delivered all the same
    assert client.delivered(PHONE, "m-1", since=before - 60) == message["serial_no"]
    # Only a report of this message counts, and only from the time asked for.
    assert client.delivered(PHONE, "m-2", since=before - 60) is None
    assert client.delivered("13800000002", "m-1", since=before - 60) is None
    assert client.delivered(PHONE, "m-1", since=time.time() + 60) is None


def test_status_reports_need_the_same_signature_and_app_as_sending(standin):
    make_client(standin).send(PHONE, "approved", session_context="m-3")
    impostor = make_client(standin, secret_key="not-the-key")
    assert impostor.delivered(PHONE, "m-3", since=time.time() - 60) is None
    assert [r["code"] for r in standin.refused] == ["AuthFailure.SignatureFailure"]


def test_unreachable_endpoint_is_a_timeout():
    port = free_port()  # closed again: nobody listens there
    client = SmsClient(f"127.0.0.1:{port}", "http", SECRET_ID, SECRET_KEY, DEMO_APP_ID,
                       DEMO_SIGN_NAME, SmsTemplates(DEFAULT_TEMPLATES, PARAM_MAX_LEN), "ap-guangzhou",
                       timeout_s=1)
    result = client.send(PHONE, "approved")
    assert result.status == "timeout" and result.provider_code == "ClientNetworkError"


def test_fail_mode_is_failed_and_retryable(standin):
    standin.set_mode("fail", times=1)
    result = make_client(standin).send(PHONE, "approved")

    assert result.status == "failed" and result.retryable
    assert result.provider_code == "InternalError.SendAndRecvFail"
    assert standin.api_requests == 1


def test_fail_with_an_http_status_is_failed(standin):
    standin.set_mode("fail", http_status=502)
    result = make_client(standin).send(PHONE, "approved")
    assert result.status == "failed" and result.provider_code == "ServerNetworkError"


def test_parameter_count_mismatch_is_refused_by_the_standin(standin):
    templates = dict(DEFAULT_TEMPLATES, approved={"id": DEFAULT_TEMPLATES["approved"]["id"],
                                                  "params": ["count"]})
    result = make_client(standin, templates=templates).send(PHONE, "approved", {"count": 1})

    assert result.status == "failed" and not result.retryable
    assert result.provider_code == "FailedOperation.TemplateParamSetNotMatchApprovedTemplate"
    assert standin.messages == []
    assert standin.refused[-1]["code"] == result.provider_code


def test_unknown_template_is_refused_by_the_standin(standin):
    templates = dict(DEFAULT_TEMPLATES, approved={"id": "9999999", "params": []})
    result = make_client(standin, templates=templates).send(PHONE, "approved")
    assert result.provider_code == "FailedOperation.TemplateIncorrectOrUnapproved"
    assert result.status == "failed"


def test_standin_refuses_a_stale_timestamp(standin):
    answer = raw_send(standin, payload(), timestamp=time.time() - 600)
    assert answer["Response"]["Error"]["Code"] == "AuthFailure.SignatureExpire"


def test_standin_refuses_a_signature_made_for_another_host(standin):
    answer = raw_send(standin, payload(), signed_host="sms.tencentcloudapi.com")
    assert answer["Response"]["Error"]["Code"] == "AuthFailure.SignatureFailure"


def test_standin_answers_bad_numbers_per_number(standin):
    answer = raw_send(standin, payload(PhoneNumberSet=["13800000001", "+8613800000002"]))
    codes = [status["Code"] for status in answer["Response"]["SendStatusSet"]]
    assert codes == ["InvalidParameterValue.IncorrectPhoneNumber", "Ok"]
    assert [m["phone"] for m in standin.messages] == ["+8613800000002"]


@pytest.mark.parametrize("params, code", [
    (["1234567890123"], "InvalidParameterValue.TemplateParameterLengthLimit"),
    (["www.x.cn"], "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter"),
])
def test_standin_checks_parameter_values(standin, params, code):
    answer = raw_send(standin, payload(TemplateParamSet=params))
    assert answer["Response"]["Error"]["Code"] == code


# -- no free text, no personal numbers -----------------------------------------------

@pytest.mark.parametrize("kind, params", [
    ("free_text", {}),
    ("returned", {"count": 1}),                                  # deadline missing
    ("submitted", {"attempt": "13800000001"}),                   # a phone number
    ("submitted", {"attempt": "32040219900101123X"}),            # an ID number
    ("submitted", {"attempt": "https://x.cn"}),                  # a link
    ("submitted", {"attempt": None}),
])
def test_bad_kind_or_parameters_are_refused_before_sending(standin, kind, params):
    with pytest.raises(SmsTemplateError):
        make_client(standin).send(PHONE, kind, params)
    assert standin.api_requests == 0


def test_invalid_phone_fails_without_calling_the_provider(standin):
    result = make_client(standin).send("12345", "approved")
    assert result.status == "failed" and result.provider_code == "ClientInvalidPhoneNumber"
    assert standin.api_requests == 0


def test_phone_numbers_never_reach_the_logs(standin, caplog):
    caplog.set_level(logging.DEBUG)
    standin.set_mode("throttle")
    client = make_client(standin)
    client.send(PHONE, "approved")
    client.send(PHONE, "approved")

    assert PHONE not in caplog.text
    assert "138****0001" in caplog.text


def test_provider_text_is_scrubbed_and_phones_take_the_provider_form():
    assert scrub("number +8613800000001 and 13900000002") == \
        "number +86138****0001 and 139****0002"
    assert scrub(None) == ""
    assert to_e164("138 0000 0001") == "+8613800000001"
    assert to_e164("23800000001") is None


# -- configuration -------------------------------------------------------------------

def test_plain_http_only_to_loopback():
    templates = SmsTemplates(DEFAULT_TEMPLATES, PARAM_MAX_LEN)
    with pytest.raises(SmsConfigError):
        SmsClient("sms.tencentcloudapi.com", "http", SECRET_ID, SECRET_KEY, DEMO_APP_ID,
                  DEMO_SIGN_NAME, templates, "ap-guangzhou", 5)
    SmsClient("sms.tencentcloudapi.com", "https", SECRET_ID, SECRET_KEY, DEMO_APP_ID,
              DEMO_SIGN_NAME, templates, "ap-guangzhou", 5)
    SmsClient("localhost:9020", "http", SECRET_ID, SECRET_KEY, DEMO_APP_ID,
              DEMO_SIGN_NAME, templates, "ap-guangzhou", 5)


def test_every_kind_must_be_configured():
    with pytest.raises(SmsConfigError):
        SmsTemplates({"submitted": {"id": "1", "params": []}}, PARAM_MAX_LEN)


def test_default_templates_match_the_standins_approved_ones():
    from dev.sms_standin import placeholder_count
    for kind, entry in DEFAULT_TEMPLATES.items():
        template_id, text = DEMO_KIND_TEMPLATES[kind]
        assert entry["id"] == template_id
        assert len(entry["params"]) == placeholder_count(text)


# -- control endpoints and the command line ------------------------------------------

def test_control_endpoints_over_http(standin):
    make_client(standin).send(PHONE, "approved")
    make_client(standin).send("13900000002", "rejected")

    listed = requests.get(standin.url + "/_standin/messages", params={"phone": PHONE}).json()
    assert [m["template_id"] for m in listed["messages"]] == [DEFAULT_TEMPLATES["approved"]["id"]]
    page = requests.get(standin.url + "/_standin/")
    assert page.ok and "审核通过" in page.text

    mode = requests.post(standin.url + "/_standin/mode", json={"mode": "fail", "times": 2})
    assert mode.json()["mode"] == "fail" and mode.json()["remaining"] == 2
    assert requests.post(standin.url + "/_standin/mode", json={"mode": "nope"}).status_code == 400

    requests.post(standin.url + "/_standin/reset").raise_for_status()
    assert requests.get(standin.url + "/_standin/messages").json() == {"messages": []}
    assert standin.mode()["mode"] == "ok"


def test_record_file_gets_json_lines(tmp_path):
    record = tmp_path / "sms.jsonl"
    with SmsStandin("127.0.0.1", 0, SECRET_ID, SECRET_KEY, record_path=str(record)) as server:
        assert make_client(server).send(PHONE, "reopened", {"count": 2}).sent
    [line] = record.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["params"] == ["2"]


def test_command_line_with_the_config_file(tmp_path):
    """`python -m dev.sms_standin --config` and notify's SMS settings agree on one file."""
    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(
        "SMS:\n"
        f"  ENDPOINT: 127.0.0.1:{port}\n  SCHEME: http\n"
        "  SECRET_ID: cfg-id\n  SECRET_KEY: cfg-secret\n  APP_ID: '1400123456'\n"
        "  SIGN_NAME: 测试签名\n  REGION: ap-beijing\n  TIMEOUT: 2\n"
        "  TEMPLATES:\n"
        "    submitted: {id: '31', params: [attempt]}\n"
        "    returned: {id: '32', params: [count, deadline]}\n"
        "    approved: {id: '33', params: []}\n"
        "    rejected: {id: '34', params: []}\n"
        "    reopened: {id: '35', params: [count]}\n", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "dev.sms_standin", "--config", str(config), "--port", str(port)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "SMS stand-in" in process.stdout.readline()
        from common.config import load_config
        client = SmsClient.from_settings(load(SmsProvider, load_config(str(config))))
        assert client.send(PHONE, "submitted", {"attempt": 2}).status == "sent"
        listed = requests.get(f"http://127.0.0.1:{port}/_standin/messages", timeout=5).json()
        [message] = listed["messages"]
        assert message["template_id"] == "31" and message["region"] == "ap-beijing"
        assert message["text"].startswith("【测试签名】")
    finally:
        process.terminate()
        process.wait(timeout=10)
