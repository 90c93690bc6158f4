"""Local stand-in for Tencent Cloud SMS: `SendSms` and `PullSmsSendStatusByPhoneNumber`,
API version 2021-01-11, on 127.0.0.1.

The notify service sends SMS with Tencent's own SDK; locally and in tests that SDK talks
to this server instead of sms.tencentcloudapi.com (SMS.ENDPOINT / SMS.SCHEME). It plays
the provider's part faithfully where our code depends on it:

- TC3-HMAC-SHA256: the signature is recomputed from the secret configured here; an
  unknown SecretId, a wrong signature or a stale timestamp get the provider's
  `AuthFailure.*` error;
- parameters: known SmsSdkAppId, approved SignName and TemplateId, exactly as many
  template parameters as the template has, none too long or carrying a link, phone
  numbers in E.164 `+86...` form; refusals use the provider's error codes;
- answers: the provider's JSON shapes (HTTP 200, `Response.Error` for request-level
  errors, `Response.SendStatusSet` per number, `Content-Type: application/json`);
- status reports: every delivered message has a `SUCCESS` report at once, which
  `PullSmsSendStatusByPhoneNumber` returns by number and time range with the request's
  `SessionContext` (the real provider's reports arrive seconds to minutes later).

Control endpoints (plain JSON, same port, under /_standin/):
  GET  /_standin/              human-readable list of what a candidate would receive
  GET  /_standin/messages      {"messages": [...]}; `?phone=138...` filters
  GET  /_standin/refused       {"refused": [...]}: requests answered with an error code
  GET  /_standin/mode          the current mode
  POST /_standin/mode          {"mode": "ok"|"throttle"|"fail"|"hang"|"lose", "times": N,
                                "code": optional provider code, "seconds": hang time,
                                "http_status": fail with this HTTP status instead}
  POST /_standin/reset         forget messages, refusals and mode

The next N valid SendSms requests answer in the chosen mode, then it is "ok" again.
"hang" holds the connection without answering (default 60 s, longer than any client
timeout) and delivers nothing; "lose" delivers, then hangs the same way: the answer is
lost on its way back, the case where only a status report tells that the SMS went out.

Phone numbers are shown in full here: this server plays the provider, and everything
it receives locally is demo data.

Run: python -m dev.sms_standin --port 9020 --secret-id dev-sms-id --secret-key dev-sms-secret
 or: python -m dev.sms_standin --config config.yaml   (ids, secrets, templates from SMS)
"""
from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import hmac
import html
import json
import logging
import math
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger("sms_standin")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9020
API_VERSION = "2021-01-11"
SERVICE = "sms"
REGIONS = ("ap-guangzhou", "ap-beijing", "ap-nanjing")
MAX_CLOCK_SKEW_S = 300
MAX_BODY_BYTES = 1 << 20
MAX_NUMBERS = 200
DEFAULT_PARAM_MAX_LEN = 12
DEFAULT_HANG_S = 60.0

# Local-development defaults; they match services/notify/sms.py DEFAULT_TEMPLATES.
DEMO_SECRET_ID = "dev-sms-id"
DEMO_SECRET_KEY = "dev-sms-secret"
DEMO_APP_ID = "1400900001"
DEMO_SIGN_NAME = "医考报名"
# kind -> (template id, approved text with the provider's {1}, {2} placeholders)
DEMO_KIND_TEMPLATES = {
    "submitted": ("2100001", "您的医师资格考试报名材料已提交审核（第{1}次提交），审核结果将另行通知。"),
    "returned": ("2100002", "您的医师资格考试报名材料有{1}项需修改，请于{2}前登录系统查看原因并重新提交。"),
    "approved": ("2100003", "您的医师资格考试报名材料已审核通过。"),
    "rejected": ("2100004", "您的医师资格考试报名材料审核未通过，原因请登录系统查看。"),
    "reopened": ("2100005", "因您的报考信息变更，需补充{1}项报名材料，请登录系统上传。"),
}
DEMO_TEMPLATES = dict(DEMO_KIND_TEMPLATES.values())

MODES = ("ok", "throttle", "fail", "hang", "lose")
SEND, PULL_BY_PHONE = "SendSms", "PullSmsSendStatusByPhoneNumber"
MAX_PULL_LIMIT = 100
THROTTLE_CODE = "LimitExceeded.PhoneNumberThirtySecondLimit"
FAIL_CODE = "InternalError.SendAndRecvFail"

_MESSAGES = {
    "AuthFailure.InvalidAuthorization": "Authorization header is missing or not in TC3-HMAC-SHA256 form.",
    "AuthFailure.SecretIdNotFound": "The SecretId is not found, please ensure that your SecretId is correct.",
    "AuthFailure.SignatureExpire": "Signature expired. Timestamp and server time cannot differ by more than 5 minutes.",
    "AuthFailure.SignatureFailure": "The provided credentials could not be validated. Please check your signature is correct.",
    "InvalidAction": "The action requested does not exist.",
    "InvalidParameter": "Invalid parameter.",
    "UnsupportedRegion": "The region is not supported by this API.",
    "FailedOperation.JsonParseFail": "Failed to parse the request body as JSON.",
    "MissingParameter": "A required parameter is missing.",
    "MissingParameter.EmptyPhoneNumberSet": "The phone number set is empty.",
    "LimitExceeded.PhoneNumberCountLimit": "More than 200 phone numbers in one request.",
    "InvalidParameterValue.SdkAppIdNotExist": "The SdkAppId does not exist.",
    "FailedOperation.SignatureIncorrectOrUnapproved": "The signature is not approved or does not exist.",
    "FailedOperation.TemplateIncorrectOrUnapproved": "The template is not approved or does not exist.",
    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate": "The number of template parameters does not match the approved template.",
    "InvalidParameterValue.TemplateParameterLengthLimit": "A template parameter exceeds the length limit.",
    "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter": "Links are not allowed in template parameters.",
    "InvalidParameterValue.IncorrectPhoneNumber": "invalid mobile number",
    THROTTLE_CODE: "the number of sms messages sent from a single mobile number within 30 seconds exceeds the upper limit",
    "LimitExceeded.PhoneNumberOneHourLimit": "the number of sms messages sent from a single mobile number within 1 hour exceeds the upper limit",
    "LimitExceeded.PhoneNumberDailyLimit": "the number of sms messages sent from a single mobile number every day exceeds the upper limit",
    "RequestLimitExceeded": "Your request frequency has exceeded the limit.",
    FAIL_CODE: "Timeout or failure sending to or receiving from the backend.",
}
_AUTHORIZATION = re.compile(
    r"^TC3-HMAC-SHA256\s+Credential=(?P<id>[^/,\s]+)/(?P<date>\d{4}-\d{2}-\d{2})/"
    r"(?P<service>[^/,\s]+)/tc3_request,\s*SignedHeaders=(?P<headers>[a-z0-9;-]+),"
    r"\s*Signature=(?P<signature>[0-9a-f]{64})$")
_E164_MAINLAND = re.compile(r"^\+861[3-9]\d{9}$")
_LINK = re.compile(r"https?://|www\.", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\{(\d+)\}")


class ApiError(Exception):
    """A request-level refusal, answered as the provider's `Response.Error`."""

    def __init__(self, code: str, message: str | None = None):
        super().__init__(code)
        self.code = code
        self.message = message or _MESSAGES.get(code, code)


@dataclass
class Mode:
    name: str = "ok"
    remaining: int = 0
    code: str | None = None
    seconds: float = DEFAULT_HANG_S
    http_status: int | None = None

    def describe(self) -> dict:
        return {"mode": self.name, "remaining": self.remaining, "code": self.code,
                "seconds": self.seconds, "http_status": self.http_status}


def tc3_signature(secret_key: str, date: str, service: str, string_to_sign: str) -> str:
    """TC3-HMAC-SHA256 as Tencent documents it: key derived from date, service, tc3_request."""
    def _hmac(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()
    key = _hmac(("TC3" + secret_key).encode("utf-8"), date)
    key = _hmac(key, service)
    key = _hmac(key, "tc3_request")
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def placeholder_count(text: str) -> int:
    return len(set(_PLACEHOLDER.findall(text)))


def render(text: str, params: list[str]) -> str:
    return _PLACEHOLDER.sub(lambda m: params[int(m.group(1)) - 1], text)


def _masked(number: str) -> str:
    """Log lines mask numbers like everything else here; the listing shows them whole."""
    return f"{number[:-8]}****{number[-4:]}" if len(number) >= 11 else "****"


def fee(sign_name: str, text: str) -> int:
    """Billing count: up to 70 characters (signature included) is one; longer ones go by 67."""
    length = len(f"【{sign_name}】{text}")
    return 1 if length <= 70 else math.ceil(length / 67)


class SmsStandin:
    """The stand-in provider; `start()` serves it from a background thread."""

    def __init__(self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                 secret_id: str = DEMO_SECRET_ID, secret_key: str = DEMO_SECRET_KEY,
                 templates: dict | None = None, app_id: str = DEMO_APP_ID,
                 sign_name: str = DEMO_SIGN_NAME, param_max_len: int = DEFAULT_PARAM_MAX_LEN,
                 record_path: str | None = None):
        self.host, self.port = host, port
        self.secret_id, self.secret_key = secret_id, secret_key
        self.templates = dict(templates if templates is not None else DEMO_TEMPLATES)
        self.app_id, self.sign_name = str(app_id), sign_name
        self.param_max_len = int(param_max_len)
        self.record_path = record_path
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._messages: list[dict] = []
        self._refused: list[dict] = []
        self._mode = Mode()
        self.api_requests = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle -------------------------------------------------------------------

    def bind(self) -> ThreadingHTTPServer:
        """Listen now (port 0 picks a free one, readable from `.port` afterwards)."""
        server = ThreadingHTTPServer((self.host, self.port), _Handler)
        server.daemon_threads = True
        server.standin = self
        self._server, self.port = server, server.server_address[1]
        return server

    def start(self) -> "SmsStandin":
        server = self.bind()
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="sms-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; requests held by "hang" are let go (they still deliver nothing)."""
        self._stopping.set()
        if self._server is not None:
            if self._thread is not None:
                self._server.shutdown()
                self._thread.join(timeout=5)
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "SmsStandin":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def endpoint(self) -> str:
        """`host:port`, the form SMS.ENDPOINT takes."""
        return f"{self.host}:{self.port}"

    # -- state for tests and the control endpoints -------------------------------------

    @property
    def messages(self) -> list[dict]:
        with self._lock:
            return [dict(message) for message in self._messages]

    @property
    def refused(self) -> list[dict]:
        with self._lock:
            return [dict(entry) for entry in self._refused]

    def messages_to(self, phone: str) -> list[dict]:
        wanted = phone if phone.startswith("+") else f"+86{phone[-11:]}"
        return [message for message in self.messages if message["phone"] == wanted]

    def set_mode(self, mode: str, times: int = 1, code: str | None = None,
                 seconds: float | None = None, http_status: int | None = None) -> dict:
        """Answer the next `times` valid requests this way, then go back to "ok"."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        times = int(times)
        if times < 1:
            raise ValueError("times must be at least 1")
        if http_status is not None and not 400 <= int(http_status) <= 599:
            raise ValueError("http_status must be 4xx or 5xx")
        with self._lock:
            self._mode = Mode(mode, 0 if mode == "ok" else times, code,
                              float(seconds) if seconds else DEFAULT_HANG_S,
                              int(http_status) if http_status else None)
            return self._mode.describe()

    def mode(self) -> dict:
        with self._lock:
            return self._mode.describe()

    def reset(self) -> None:
        with self._lock:
            self._messages.clear()
            self._refused.clear()
            self._mode = Mode()
            self.api_requests = 0

    def _take_mode(self) -> Mode:
        """The mode for this request, counting it down."""
        with self._lock:
            mode = self._mode
            if mode.name == "ok":
                return mode
            mode.remaining -= 1
            if mode.remaining <= 0:
                self._mode = Mode()
            return Mode(mode.name, mode.remaining, mode.code, mode.seconds, mode.http_status)

    # -- the API ----------------------------------------------------------------------

    def handle_api(self, method: str, path: str, headers, body: bytes) -> tuple[int, dict | None]:
        """One API call: (HTTP status, JSON answer); None means hang up without answering."""
        request_id = str(uuid.uuid4())
        with self._lock:
            self.api_requests += 1
        payload = {}
        try:
            self._verify_signature(method, path, headers, body)
            action = self._check_common(headers)
            payload = self._parse(body)
            if action == PULL_BY_PHONE:
                return 200, {"Response": {"PullSmsSendStatusSet": self._reports(payload),
                                          "RequestId": request_id}}
            template_text = self._check_params(payload)
            return self._answer(request_id, headers, payload, template_text)
        except ApiError as error:
            self._refuse(request_id, error.code, error.message, payload)
            return 200, {"Response": {"Error": {"Code": error.code, "Message": error.message},
                                      "RequestId": request_id}}

    def _verify_signature(self, method: str, path: str, headers, body: bytes) -> None:
        """Recompute the TC3-HMAC-SHA256 signature the way the provider's gateway does."""
        match = _AUTHORIZATION.match(headers.get("Authorization", "").strip())
        if not match:
            raise ApiError("AuthFailure.InvalidAuthorization")
        if match["id"] != self.secret_id:
            raise ApiError("AuthFailure.SecretIdNotFound")
        timestamp = self._timestamp(headers)
        signed = match["headers"].split(";")
        if {"content-type", "host"} - set(signed) or match["service"] != SERVICE:
            raise ApiError("AuthFailure.SignatureFailure")
        utc_date = _dt.datetime.fromtimestamp(timestamp, _dt.timezone.utc).strftime("%Y-%m-%d")
        if match["date"] != utc_date:
            raise ApiError("AuthFailure.SignatureFailure")
        string_to_sign = self._string_to_sign(method, path, headers, body, signed,
                                              timestamp, match)
        expected = tc3_signature(self.secret_key, match["date"], SERVICE, string_to_sign)
        if not hmac.compare_digest(expected, match["signature"]):
            raise ApiError("AuthFailure.SignatureFailure")

    @staticmethod
    def _timestamp(headers) -> int:
        try:
            timestamp = int(headers.get("X-TC-Timestamp", ""))
        except ValueError:
            raise ApiError("AuthFailure.SignatureFailure") from None
        if abs(time.time() - timestamp) > MAX_CLOCK_SKEW_S:
            raise ApiError("AuthFailure.SignatureExpire")
        return timestamp

    @staticmethod
    def _string_to_sign(method, path, headers, body, signed, timestamp, match) -> str:
        split = urlsplit(path)
        canonical_headers = "".join(
            f"{name}:{(headers.get(name) or '').strip().lower()}\n" for name in signed)
        if headers.get("X-TC-Content-SHA256") == "UNSIGNED-PAYLOAD":
            body = b"UNSIGNED-PAYLOAD"
        canonical_request = "\n".join([
            method, split.path or "/", split.query, canonical_headers,
            match["headers"], hashlib.sha256(body).hexdigest()])
        scope = f"{match['date']}/{match['service']}/tc3_request"
        digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
        return f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{digest}"

    @staticmethod
    def _check_common(headers) -> str:
        """The action, once version, region and content type are as the provider wants."""
        action = headers.get("X-TC-Action")
        if action not in (SEND, PULL_BY_PHONE):
            raise ApiError("InvalidAction")
        if headers.get("X-TC-Version") != API_VERSION:
            raise ApiError("InvalidParameter", f"Version must be {API_VERSION}.")
        if headers.get("X-TC-Region") not in REGIONS:
            raise ApiError("UnsupportedRegion")
        if (headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
            raise ApiError("InvalidParameter", "This stand-in accepts POST application/json only.")
        return action

    @staticmethod
    def _parse(body: bytes) -> dict:
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ApiError("FailedOperation.JsonParseFail") from None
        if not isinstance(payload, dict):
            raise ApiError("FailedOperation.JsonParseFail")
        return payload

    def _check_params(self, payload: dict) -> str:
        """Request-level checks; returns the approved template text."""
        numbers = payload.get("PhoneNumberSet")
        if not isinstance(numbers, list) or not numbers:
            raise ApiError("MissingParameter.EmptyPhoneNumberSet")
        if len(numbers) > MAX_NUMBERS:
            raise ApiError("LimitExceeded.PhoneNumberCountLimit")
        if not payload.get("SmsSdkAppId") or not payload.get("TemplateId"):
            raise ApiError("MissingParameter")
        if str(payload["SmsSdkAppId"]) != self.app_id:
            raise ApiError("InvalidParameterValue.SdkAppIdNotExist")
        if payload.get("SignName") != self.sign_name:
            raise ApiError("FailedOperation.SignatureIncorrectOrUnapproved")
        text = self.templates.get(str(payload["TemplateId"]))
        if text is None:
            raise ApiError("FailedOperation.TemplateIncorrectOrUnapproved")
        self._check_template_params(text, payload.get("TemplateParamSet") or [])
        return text

    def _check_template_params(self, text: str, params) -> None:
        if not isinstance(params, list) or len(params) != placeholder_count(text):
            raise ApiError("FailedOperation.TemplateParamSetNotMatchApprovedTemplate")
        for value in params:
            if not isinstance(value, str):
                raise ApiError("InvalidParameterValue.TemplateParameterFormatError",
                               "Template parameters must be strings.")
            if len(value) > self.param_max_len:
                raise ApiError("InvalidParameterValue.TemplateParameterLengthLimit")
            if _LINK.search(value):
                raise ApiError("InvalidParameterValue.ProhibitedUseUrlInTemplateParameter")

    def _reports(self, payload: dict) -> list[dict]:
        """PullSmsSendStatusByPhoneNumber: the status reports of one number in a time range."""
        if str(payload.get("SmsSdkAppId") or "") != self.app_id:
            raise ApiError("InvalidParameterValue.SdkAppIdNotExist")
        number = str(payload.get("PhoneNumber") or "")
        if not _E164_MAINLAND.match(number):
            raise ApiError("InvalidParameterValue.IncorrectPhoneNumber")
        try:
            begin, offset, limit = (int(payload[key]) for key in ("BeginTime", "Offset", "Limit"))
            end = int(payload.get("EndTime") or time.time())
        except (KeyError, TypeError, ValueError):
            raise ApiError("MissingParameter",
                           "BeginTime, Offset and Limit are required integers.") from None
        if not 0 < limit <= MAX_PULL_LIMIT or offset < 0:
            raise ApiError("InvalidParameter",
                           f"Limit must be 1 to {MAX_PULL_LIMIT}, Offset at least 0.")
        found = [m for m in self.messages
                 if m["phone"] == number and begin <= m["received_unix"] <= end]
        return [{"UserReceiveTime": m["received_unix"], "CountryCode": "86",
                 "SubscriberNumber": number[3:], "PhoneNumber": number, "SerialNo": m["serial_no"],
                 "ReportStatus": "SUCCESS", "Description": "DELIVRD",
                 "SessionContext": m["session_context"]} for m in found[offset:offset + limit]]

    def _answer(self, request_id, headers, payload, template_text) -> tuple[int, dict | None]:
        mode = self._take_mode()
        if mode.name == "hang":
            self._stopping.wait(mode.seconds)
            return 0, None
        if mode.name == "fail":
            return self._fail(mode)
        if mode.name == "throttle" and (mode.code or "").startswith("RequestLimitExceeded"):
            raise ApiError(mode.code)
        statuses = [self._deliver(request_id, headers, payload, template_text, number, mode)
                    for number in payload["PhoneNumberSet"]]
        if mode.name == "lose":  # delivered, but the answer never reaches the caller
            self._stopping.wait(mode.seconds)
            return 0, None
        return 200, {"Response": {"SendStatusSet": statuses, "RequestId": request_id}}

    @staticmethod
    def _fail(mode: Mode) -> tuple[int, dict | None]:
        if mode.http_status:
            return mode.http_status, {"error": "stand-in told to fail with this HTTP status"}
        raise ApiError(mode.code or FAIL_CODE)

    def _deliver(self, request_id, headers, payload, template_text, number, mode) -> dict:
        """Per-number outcome, as the provider reports it in SendStatusSet."""
        number = str(number)
        context = str(payload.get("SessionContext") or "")
        status = {"SerialNo": "", "PhoneNumber": number, "Fee": 0, "SessionContext": context,
                  "Code": "", "Message": "", "IsoCode": "CN"}
        code = None
        if not _E164_MAINLAND.match(number):
            code = "InvalidParameterValue.IncorrectPhoneNumber"
        elif mode.name == "throttle":
            code = mode.code or THROTTLE_CODE
        if code:
            status.update(Code=code, Message=_MESSAGES.get(code, code))
            self._refuse(request_id, code, status["Message"], payload, number)
            return status
        text = render(template_text, payload.get("TemplateParamSet") or [])
        status.update(SerialNo=f"2645:{secrets.randbelow(10 ** 28):028d}",
                      Fee=fee(self.sign_name, text), Code="Ok", Message="send success")
        self._record(request_id, headers, payload, number, text, status)
        return status

    def _record(self, request_id, headers, payload, number, text, status) -> None:
        now = _dt.datetime.now(_dt.timezone.utc)
        message = {
            "received_at": now.isoformat(timespec="milliseconds"),
            "received_unix": int(now.timestamp()),
            "request_id": request_id, "serial_no": status["SerialNo"], "phone": number,
            "sdk_app_id": str(payload["SmsSdkAppId"]), "region": headers.get("X-TC-Region"),
            "sign_name": payload["SignName"], "template_id": str(payload["TemplateId"]),
            "params": list(payload.get("TemplateParamSet") or []),
            "session_context": status["SessionContext"], "fee": status["Fee"],
            "text": f"【{payload['SignName']}】{text}",
        }
        with self._lock:
            message["seq"] = len(self._messages) + 1
            self._messages.append(message)
            if self.record_path:
                with open(self.record_path, "a", encoding="utf-8") as handle:
                    handle.write(json.dumps(message, ensure_ascii=False) + "\n")
        log.info("delivered to %s template=%s request_id=%s", _masked(number),
                 message["template_id"], request_id)

    def _refuse(self, request_id, code, message, payload, number=None) -> None:
        entry = {
            "received_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds"),
            "request_id": request_id, "code": code, "message": message,
            "template_id": str(payload.get("TemplateId") or ""),
            "phone": number or ",".join(map(str, payload.get("PhoneNumberSet") or [])),
        }
        with self._lock:
            self._refused.append(entry)
        log.info("refused %s request_id=%s", code, request_id)


class _Handler(BaseHTTPRequestHandler):
    """HTTP plumbing only: the API goes to SmsStandin.handle_api, /_standin/ to control."""
    protocol_version = "HTTP/1.1"
    server_version = "sms-standin"

    @property
    def standin(self) -> SmsStandin:
        return self.server.standin

    def do_GET(self):
        split = urlsplit(self.path)
        routes = {"/_standin/messages": self._get_messages, "/_standin/refused": self._get_refused,
                  "/_standin/mode": lambda q: self._json(200, self.standin.mode()),
                  "/_standin/": self._get_page, "/_standin": self._get_page}
        route = routes.get(split.path)
        if route is None:
            return self._json(404, {"error": "not found"})
        route(parse_qs(split.query))

    def do_POST(self):
        body = self._body()
        if body is None:
            return
        path = urlsplit(self.path).path
        if path == "/_standin/mode":
            return self._post_mode(body)
        if path == "/_standin/reset":
            self.standin.reset()
            return self._json(200, {"reset": True})
        if path != "/":
            return self._json(404, {"error": "not found"})
        status, answer = self.standin.handle_api("POST", self.path, self.headers, body)
        if answer is None:
            self.close_connection = True
            return
        self._json(status, answer)

    def _body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self._json(400, {"error": "bad Content-Length"})
            return None
        return self.rfile.read(length)

    def _post_mode(self, body: bytes) -> None:
        try:
            spec = json.loads(body.decode("utf-8") or "{}")
            answer = self.standin.set_mode(
                spec.get("mode", "ok"), int(spec.get("times", 1)), spec.get("code"),
                spec.get("seconds"), spec.get("http_status"))
        except (ValueError, TypeError, AttributeError, UnicodeDecodeError) as error:
            return self._json(400, {"error": str(error)})
        self._json(200, answer)

    def _get_messages(self, query: dict) -> None:
        phone = (query.get("phone") or [""])[0].strip()
        messages = self.standin.messages_to(phone) if phone else self.standin.messages
        self._json(200, {"messages": messages})

    def _get_refused(self, query: dict) -> None:
        self._json(200, {"refused": self.standin.refused})

    def _get_page(self, query: dict) -> None:
        rows = "".join(
            f"<tr><td>{m['seq']}</td><td>{html.escape(m['received_at'])}</td>"
            f"<td>{html.escape(m['phone'])}</td><td>{html.escape(m['template_id'])}</td>"
            f"<td>{html.escape(m['text'])}</td></tr>"
            for m in reversed(self.standin.messages))
        page = ("<!doctype html><meta charset=utf-8><title>SMS stand-in</title>"
                "<h1>短信（本地模拟，演示数据）</h1><p>What candidates would receive. "
                "JSON: <a href=/_standin/messages>/_standin/messages</a></p>"
                "<table border=1 cellpadding=4><tr><th>#</th><th>time (UTC)</th><th>phone</th>"
                f"<th>template</th><th>text</th></tr>{rows}</table>")
        self._send(200, "text/html; charset=utf-8", page.encode("utf-8"))

    def _json(self, status: int, payload: dict) -> None:
        # Exactly "application/json": the SDK reads Response.Error only under that type.
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self._send(status, "application/json", data)

    def _send(self, status: int, content_type: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        log.debug("%s %s", self.address_string(), format % args)


def _from_config(path: str) -> dict:
    """Secrets, ids and templates from the SMS section of the nameko config file."""
    from common.config import load_config, section
    sms = section(load_config(path), "SMS")
    options = {"secret_id": sms.get("SECRET_ID"), "secret_key": sms.get("SECRET_KEY"),
               "app_id": sms.get("APP_ID"), "sign_name": sms.get("SIGN_NAME"),
               "param_max_len": sms.get("PARAM_MAX_LEN")}
    if sms.get("TEMPLATES"):
        options["templates"] = templates_for(sms["TEMPLATES"])
    return {key: value for key, value in options.items() if value}


def templates_for(configured: dict) -> dict:
    """Template id -> text: the demo text of that kind when its parameter count fits."""
    templates = {}
    for kind, entry in configured.items():
        count = len(entry.get("params") or [])
        text = DEMO_KIND_TEMPLATES.get(kind, ("", ""))[1]
        if placeholder_count(text) != count:
            text = f"[{kind}] " + " ".join(f"{{{i}}}" for i in range(1, count + 1))
        templates[str(entry["id"])] = text
    return templates


def _arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Local stand-in for Tencent Cloud SMS SendSms.")
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--config", help="read SECRET_ID, SECRET_KEY, APP_ID, SIGN_NAME, "
                                          "TEMPLATES from this nameko config's SMS section")
    parser.add_argument("--secret-id")
    parser.add_argument("--secret-key")
    parser.add_argument("--app-id")
    parser.add_argument("--sign-name")
    parser.add_argument("--param-max-len", type=int)
    parser.add_argument("--record", metavar="FILE", help="append delivered messages as JSON lines")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = _arguments(argv)
    options = _from_config(args.config) if args.config else {}
    for name in ("secret_id", "secret_key", "app_id", "sign_name", "param_max_len"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s sms-standin %(message)s")
    standin = SmsStandin(args.host, args.port, record_path=args.record, **options)
    server = standin.bind()
    print(f"SMS stand-in (Tencent SendSms {API_VERSION}) on {standin.url}; "
          f"received messages: {standin.url}/_standin/", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        standin._stopping.set()
        server.server_close()


if __name__ == "__main__":
    main()
