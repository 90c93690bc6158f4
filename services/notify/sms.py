"""SMS through Tencent Cloud SMS (API 2021-01-11 `SendSms`), via the official SDK.

Pure adapter: no nameko here, so the notify service, scripts and tests share it.

Why Tencent's SDK (tencentcloud-sdk-python-sms) and not Alibaba's dysmsapi v4:
- its request path is one plain `requests.Session` call (green under eventlet's
  monkey-patching); Alibaba's darabonba core imports aiohttp/asyncio and its credential
  chain APScheduler at import time, about twenty packages for one HTTP POST;
- endpoint, scheme (http for the local stand-in), method and timeout are plain
  `HttpProfile` fields, and retrying is an explicit `retryer` object (we pass the no-op
  one: the caller owns retries, with backoff and a bound);
- its TC3-HMAC-SHA256 signature is small and documented, so the local stand-in
  (dev/sms_standin.py) verifies it exactly as the provider does.

Only pre-approved templates are sent: a message kind maps to a template id and an
ordered list of parameter names from config. There is no free-text path. Parameters
are short, never phone or ID numbers, and are truncated to the provider's limit.
"""
from __future__ import annotations

import datetime as _dt
import ipaddress
import logging
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.common.retry import NoopRetryer
from tencentcloud.sms.v20210111 import models, sms_client

from common.clock import BEIJING, beijing_date
from common.privacy import mask_phone, mask_text

log = logging.getLogger(__name__)

# The SDK logs whole requests (phone numbers included) at DEBUG on this logger. Keep it
# at WARNING whatever the root level is, so LOG_LEVEL=DEBUG never leaks a phone number.
_SDK_LOGGER = "tencentcloud_sdk_common"
logging.getLogger(_SDK_LOGGER).setLevel(logging.WARNING)

KINDS = ("submitted", "returned", "approved", "rejected", "reopened")

# Local-development defaults: the template ids the stand-in (dev/sms_standin.py) knows.
# Production sets SMS.TEMPLATES to the ids approved in the provider's console.
DEFAULT_TEMPLATES = {
    "submitted": {"id": "2100001", "params": ["attempt"]},
    "returned": {"id": "2100002", "params": ["count", "deadline"]},
    "approved": {"id": "2100003", "params": []},
    "rejected": {"id": "2100004", "params": []},
    "reopened": {"id": "2100005", "params": ["count"]},
}

STATUSES = ("sent", "throttled", "failed", "timeout")

# Provider codes meaning "slow down", with the wait that makes a retry sensible.
_UNTIL_TOMORROW = -1
_THROTTLE_WAIT_S = {
    "LimitExceeded.PhoneNumberThirtySecondLimit": 30,
    "LimitExceeded.DeliveryFrequencyLimit": 30,
    "LimitExceeded.PhoneNumberOneHourLimit": 3600,
    "LimitExceeded.PhoneNumberDailyLimit": _UNTIL_TOMORROW,
    "LimitExceeded.PhoneNumberSameContentDailyLimit": _UNTIL_TOMORROW,
    "LimitExceeded.DailyLimit": _UNTIL_TOMORROW,
    "LimitExceeded.AppDailyLimit": _UNTIL_TOMORROW,
    "LimitExceeded.AppMainlandChinaDailyLimit": _UNTIL_TOMORROW,
    "RequestLimitExceeded": 1,
}
# Error families that the same request will hit again: retrying cannot help.
_PERMANENT_PREFIXES = (
    "AuthFailure", "FailedOperation", "InvalidAction", "InvalidParameter",
    "InvalidParameterValue", "MissingParameter", "UnauthorizedOperation",
    "UnknownParameter", "UnsupportedOperation", "UnsupportedRegion",
    "ClientError", "ClientParamsError",   # the SDK refusing our own request
)
# SDK codes for failures on our side of the wire (no provider answer).
_NETWORK_CODE = "ClientNetworkError"
_HTTP_STATUS_CODE = "ServerNetworkError"

_MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Values that must never travel in an SMS parameter (DESIGN §8) or that the provider
# refuses (links).
_FORBIDDEN_IN_PARAM = (
    ("a phone number", re.compile(r"1[3-9]\d{9}")),
    ("an ID number", re.compile(r"\d{17}[\dXx]|\d{15}")),
    ("a link", re.compile(r"https?://|www\.", re.IGNORECASE)),
)


def scrub(text) -> str:
    """Provider text as it may be kept or logged: every number masked (DESIGN §8)."""
    return mask_text(str(text or ""))


class SmsTemplateError(ValueError):
    """A kind or parameter set that no approved template can carry (a bug or bad config)."""


class SmsConfigError(ValueError):
    """SMS settings that cannot work, refused at start-up rather than at first send."""


def to_e164(phone: str) -> str | None:
    """Mainland mobile in the provider's E.164 form, or None when it is not one."""
    digits = re.sub(r"[\s-]", "", str(phone or ""))
    for lead in ("+86", "0086", "86"):
        if digits.startswith(lead) and len(digits) == len(lead) + 11:
            digits = digits[len(lead):]
            break
    return f"+86{digits}" if _MAINLAND_MOBILE.match(digits) else None


@dataclass(frozen=True)
class SmsResult:
    """What one provider call came to; the caller decides on retries from it.

    `timeout` means no answer: the provider may or may not have sent the message.
    """
    status: str
    provider_code: str = ""
    provider_message: str = ""
    request_id: str = ""
    serial_no: str = ""
    retryable: bool = False
    retry_after_s: int | None = None

    @property
    def sent(self) -> bool:
        return self.status == "sent"


@dataclass(frozen=True)
class Template:
    kind: str
    template_id: str
    params: tuple[str, ...] = field(default_factory=tuple)


class SmsTemplates:
    """Message kind -> approved template id and its ordered parameter names (from config)."""

    def __init__(self, templates: dict, param_max_len: int):
        self._by_kind = {kind: self._parse(kind, templates) for kind in KINDS}
        if int(param_max_len) < 2:
            raise SmsConfigError("SMS PARAM_MAX_LEN must be at least 2")
        self.param_max_len = int(param_max_len)

    @staticmethod
    def _parse(kind: str, templates: dict) -> Template:
        """One kind's entry; every kind must be configured, so a missing one fails at start."""
        try:
            entry = templates[kind]
            template_id = str(entry["id"]).strip()
        except (KeyError, TypeError):
            raise SmsConfigError(f"SMS template for kind {kind!r} needs an 'id'") from None
        params = entry.get("params") or []
        if not template_id or not isinstance(params, list):
            raise SmsConfigError(f"SMS template for kind {kind!r} is malformed")
        return Template(kind, template_id, tuple(str(name) for name in params))

    def __getitem__(self, kind: str) -> Template:
        try:
            return self._by_kind[kind]
        except KeyError:
            raise SmsTemplateError(f"unknown SMS kind {kind!r}") from None

    def render(self, kind: str, params: dict) -> tuple[str, list[str]]:
        """Template id and the parameter values in template order, checked and shortened."""
        template = self[kind]
        missing = [name for name in template.params if name not in (params or {})]
        if missing:
            raise SmsTemplateError(f"SMS kind {kind!r} lacks parameters {missing}")
        values = [self._value(kind, name, params[name]) for name in template.params]
        return template.template_id, values

    def _value(self, kind: str, name: str, value) -> str:
        if value is None or str(value).strip() == "":
            raise SmsTemplateError(f"SMS parameter {kind}.{name} is empty")
        text = _as_text(value)
        for what, pattern in _FORBIDDEN_IN_PARAM:
            if pattern.search(text):
                raise SmsTemplateError(f"SMS parameter {kind}.{name} looks like {what}")
        return truncate(text, self.param_max_len)


def _as_text(value) -> str:
    """Dates as `5月20日` (short, unambiguous to a candidate); the rest as one clean line."""
    if isinstance(value, _dt.datetime):
        value = beijing_date(value)
    if isinstance(value, _dt.date):
        return f"{value.month}月{value.day}日"
    return " ".join(str(value).split())


def truncate(text: str, limit: int) -> str:
    """At most `limit` characters, marking a cut with `…` so it is never silent."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class SmsClient:
    """Sends one templated SMS per call through the Tencent SDK, retrying nothing."""

    def __init__(self, endpoint: str, scheme: str, secret_id: str, secret_key: str,
                 app_id: str, sign_name: str, templates: SmsTemplates, region: str,
                 timeout_s: float):
        _check_transport(endpoint, scheme)
        if not (secret_id and secret_key and app_id and sign_name):
            raise SmsConfigError("SMS SECRET_ID, SECRET_KEY, APP_ID and SIGN_NAME are required")
        self.endpoint, self.scheme = endpoint, scheme
        self.app_id, self.sign_name = str(app_id), sign_name
        self.templates = templates
        self.timeout_s = float(timeout_s)
        self._sdk = sms_client.SmsClient(
            credential.Credential(secret_id, secret_key), region,
            _client_profile(endpoint, scheme, self.timeout_s))

    @classmethod
    def from_settings(cls, sms) -> "SmsClient":
        """Built from notify's settings.SmsProvider (the config's `SMS` section)."""
        return cls(endpoint=sms.endpoint, scheme=sms.scheme, secret_id=sms.secret_id,
                   secret_key=sms.secret_key, app_id=sms.app_id, sign_name=sms.sign_name,
                   templates=SmsTemplates(sms.templates or DEFAULT_TEMPLATES, sms.param_max_len),
                   region=sms.region, timeout_s=sms.timeout_s)

    def send(self, phone: str, kind: str, params: dict | None = None,
             session_context: str | None = None) -> SmsResult:
        """One SendSms call. Raises SmsTemplateError for a bad kind or parameters (a bug);
        every provider or network outcome comes back as an SmsResult."""
        template_id, values = self.templates.render(kind, params or {})
        number = to_e164(phone)
        if number is None:
            result = SmsResult("failed", "ClientInvalidPhoneNumber",
                               "not a mainland mobile number", retryable=False)
        else:
            request = self._request(number, template_id, values, session_context)
            result = self._call(request)
        self._log(phone, kind, template_id, result)
        return result

    def delivered(self, phone: str, session_context: str, since: float) -> str | None:
        """The serial number of a delivered SMS sent with `session_context` to `phone` at
        or after `since` (epoch seconds), from the provider's status reports; None when
        there is none yet, or the reports cannot be read (the caller then sends again, as
        it would have without asking)."""
        number = to_e164(phone)
        if number is None or not session_context:
            return None
        request = models.PullSmsSendStatusByPhoneNumberRequest()
        request.PhoneNumber = number
        request.SmsSdkAppId = self.app_id
        request.BeginTime = int(since)
        request.Offset = 0
        request.Limit = 100
        try:
            response = self._sdk.PullSmsSendStatusByPhoneNumber(request)
        except TencentCloudSDKException as exc:
            log.warning("sms status reports unreadable for %s: %s", mask_phone(phone),
                        exc.get_code() or type(_cause(exc)).__name__)
            return None
        for report in response.PullSmsSendStatusSet or []:
            if report.SessionContext == str(session_context) and report.ReportStatus == "SUCCESS":
                return report.SerialNo or "reported"
        return None

    def _request(self, number: str, template_id: str, values: list[str],
                 session_context: str | None) -> models.SendSmsRequest:
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [number]
        request.SmsSdkAppId = self.app_id
        request.SignName = self.sign_name
        request.TemplateId = template_id
        request.TemplateParamSet = values
        if session_context:
            request.SessionContext = str(session_context)
        return request

    def _call(self, request: models.SendSmsRequest) -> SmsResult:
        """The SDK raises for request-level errors and answers per number otherwise."""
        try:
            response = self._sdk.SendSms(request)
        except TencentCloudSDKException as exc:
            return _from_exception(exc, self.timeout_s)
        return _from_response(response)

    def _log(self, phone: str, kind: str, template_id: str, result: SmsResult) -> None:
        level = logging.INFO if result.sent else logging.WARNING
        log.log(level, "sms %s to %s kind=%s template=%s code=%s request_id=%s",
                result.status, mask_phone(phone), kind, template_id,
                result.provider_code or "-", result.request_id or "-")


def _check_transport(endpoint: str, scheme: str) -> None:
    """Phone numbers cross this connection: plain http only to this machine's loopback."""
    if scheme not in ("http", "https"):
        raise SmsConfigError(f"SMS SCHEME must be http or https, not {scheme!r}")
    if not endpoint or "/" in endpoint:
        raise SmsConfigError("SMS ENDPOINT is host[:port], without scheme or path")
    if scheme == "http" and not _is_loopback(endpoint):
        raise SmsConfigError("SMS SCHEME http is allowed only for a loopback ENDPOINT")


def _is_loopback(endpoint: str) -> bool:
    host = urlsplit(f"//{endpoint}").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _client_profile(endpoint: str, scheme: str, timeout_s: float) -> ClientProfile:
    """Fixed endpoint (no region breaker rerouting to the public domain), no SDK retries."""
    http = HttpProfile(protocol=scheme, endpoint=endpoint, reqMethod="POST",
                       reqTimeout=timeout_s)
    return ClientProfile(signMethod="TC3-HMAC-SHA256", httpProfile=http,
                         disable_region_breaker=True, retryer=NoopRetryer())


def _from_response(response: models.SendSmsResponse) -> SmsResult:
    """Per-number status: `Ok`, or a code such as the per-number throttling ones."""
    statuses = response.SendStatusSet or []
    if not statuses:
        return SmsResult("failed", "EmptySendStatusSet", "provider answered no status",
                         request_id=response.RequestId or "", retryable=True)
    status = statuses[0]
    code = status.Code or ""
    if code == "Ok":
        return SmsResult("sent", code, scrub(status.Message), response.RequestId or "",
                         status.SerialNo or "")
    return _classify(code, status.Message, response.RequestId or "")


def _from_exception(exc: TencentCloudSDKException, timeout_s: float) -> SmsResult:
    """Request-level failures: no answer (network), HTTP status, or the provider's Error."""
    code = exc.get_code() or ""
    if code == _NETWORK_CODE or isinstance(_cause(exc), requests.RequestException):
        return SmsResult("timeout", code, _network_message(exc, timeout_s), retryable=True)
    if code == _HTTP_STATUS_CODE:
        return SmsResult("failed", code, "provider answered a non-200 HTTP status",
                         retryable=True)
    return _classify(code, exc.get_message(), exc.get_request_id() or "")


def _classify(code: str, message, request_id: str) -> SmsResult:
    wait = _throttle_wait(code)
    if wait is not None:
        return SmsResult("throttled", code, scrub(message), request_id,
                         retryable=True, retry_after_s=wait)
    permanent = code.split(".", 1)[0] in _PERMANENT_PREFIXES
    return SmsResult("failed", code, scrub(message), request_id, retryable=not permanent)


def _throttle_wait(code: str) -> int | None:
    if code.startswith("RequestLimitExceeded"):
        return _THROTTLE_WAIT_S["RequestLimitExceeded"]
    wait = _THROTTLE_WAIT_S.get(code)
    if wait == _UNTIL_TOMORROW:
        return _seconds_to_beijing_midnight()
    return wait


def _seconds_to_beijing_midnight() -> int:
    """Daily provider limits reset at midnight China time."""
    now = _dt.datetime.now(BEIJING)
    tomorrow = (now + _dt.timedelta(days=1)).replace(hour=0, minute=0, second=0,
                                                     microsecond=0)
    return max(1, int((tomorrow - now).total_seconds()))


def _cause(exc: BaseException):
    """The SDK re-raises network errors as its own exception; the original is the context."""
    return exc.__cause__ or exc.__context__


def _network_message(exc: TencentCloudSDKException, timeout_s: float) -> str:
    cause = _cause(exc)
    if isinstance(cause, requests.exceptions.Timeout):
        return f"no answer within {timeout_s:g}s"
    if isinstance(cause, requests.exceptions.ConnectionError):
        return "connection to the SMS endpoint failed or was cut"
    return scrub(exc.get_message())
