"""Calling the services' RPC methods over HTTPS (DESIGN §5): the client people's tools and
outside systems use (the review CLI, auth's operator CLI, the demo seed, the load scripts).
Only the services themselves speak to the broker.

    client = RpcClient("https://exam.example.cn")
    client.staff_login("reviewer.3204", password)          # or client.client_credentials(...)
    client.call("review", "list_queue", site="3204")
"""
import json
import os
import time
from pathlib import Path

import requests

STAFF_CLIENT = "staff-web"


class RpcRefused(Exception):
    """The system answered with a DESIGN §4 error: `code` and a message for a person."""

    def __init__(self, status, code, message, retry_after=None, details=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after
        self.details = details or {}


class Unreachable(Exception):
    """Nothing answered (or not in time)."""


class RpcClient:
    def __init__(self, url, token=None, timeout=20, session=None):
        self.url = url.rstrip("/")
        self.token = token
        self.refresh_token = None
        self.timeout = timeout
        self.session = session or requests.Session()

    # -- tokens ------------------------------------------------------------------------------
    def staff_login(self, username, password, otp=None):
        """Sign in as staff (`otp`: the TOTP or a recovery code, for accounts that have a
        second factor); returns the token response and uses its access token from now on."""
        body = {"username": username, "password": password}
        if otp:
            body["otp"] = otp
        return self.use(self._send("POST", "/auth/staff/login", json=body))

    def refresh(self, refresh_token, client_id=STAFF_CLIENT):
        return self.use(self._send("POST", "/auth/token", data={
            "grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}))

    def client_credentials(self, client_id, client_secret):
        """An outside system's own token (OAuth 2.0 client credentials)."""
        return self.use(self._send("POST", "/auth/token", data={
            "grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}))

    def use(self, tokens):
        """Call with this token response from now on (its refresh token renews it)."""
        self.token = tokens["access_token"]
        self.refresh_token = tokens.get("refresh_token")
        return tokens

    # -- calls -------------------------------------------------------------------------------
    def call(self, service, method, **kwargs):
        """The method's result, or RpcRefused / Unreachable. An expired staff token is
        renewed once with the refresh token this client signed in with."""
        try:
            return self._send("POST", f"/rpc/{service}/{method}", json=kwargs)["result"]
        except RpcRefused as exc:
            if exc.status != 401 or not self.refresh_token:
                raise
        self.refresh(self.refresh_token)
        return self._send("POST", f"/rpc/{service}/{method}", json=kwargs)["result"]

    def _send(self, http_method, path, **kwargs):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = self.session.request(http_method, self.url + path, headers=headers,
                                            timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise Unreachable(f"{self.url} 无法访问（{type(exc).__name__}）") from None
        if response.status_code == 200:
            return response.json()
        raise _refusal(response)


def _refusal(response):
    try:
        error = dict(response.json()["error"])
    except (ValueError, KeyError, TypeError):
        error = {"code": "unexpected", "message": f"服务返回 HTTP {response.status_code}"}
    retry_after = response.headers.get("Retry-After")
    code, message = error.pop("code", "unexpected"), error.pop("message", "")
    return RpcRefused(response.status_code, code, message,
                      retry_after=int(retry_after) if retry_after and retry_after.isdigit() else None,
                      details=error)


# -- a staff member's session at a terminal -------------------------------------------------------
class TokenStore:
    """A staff member's sign-in for the command-line tools (the review CLI and auth's
    operator CLI share it): ~/.config/exam-review/token.json, mode 600 in a mode 700
    directory. `EXAM_REVIEW_TOKEN` (an access token) takes precedence, for scripts."""

    def __init__(self, directory=None):
        base = directory or os.environ.get("EXAM_REVIEW_HOME") or Path.home() / ".config" / "exam-review"
        self.path = Path(base) / "token.json"

    def load(self):
        if os.environ.get("EXAM_REVIEW_TOKEN"):
            return {"access_token": os.environ["EXAM_REVIEW_TOKEN"], "expires_at": None}
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def save(self, username, tokens):
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        record = {"username": username, "access_token": tokens["access_token"],
                  "refresh_token": tokens.get("refresh_token"),
                  "expires_at": time.time() + int(tokens.get("expires_in", 900))}
        # Created with 600 from the start: the token is never readable by others, not even briefly.
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(record, handle)
        os.chmod(self.path, 0o600)
        return record

    def clear(self):
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    @staticmethod
    def fresh(record, margin_s=30):
        expires_at = record.get("expires_at")
        return expires_at is None or expires_at - margin_s > time.time()


class StaffSession:
    """Sign in once, then call with a token that is renewed from the stored refresh token."""

    def __init__(self, url, store):
        self.url = url
        self.store = store

    def login(self, username, password, otp=None):
        tokens = RpcClient(self.url).staff_login(username, password, otp)
        return self.store.save(username, tokens)

    def client(self):
        """An RpcClient with a fresh access token; NotSignedIn if there is none."""
        record = self.store.load()
        if record is None:
            raise NotSignedIn("尚未登录")
        if not self.store.fresh(record):
            if not record.get("refresh_token"):
                raise NotSignedIn("登录已过期")
            record = self.store.save(record.get("username"), RpcClient(self.url).refresh(record["refresh_token"]))
        return RpcClient(self.url, token=record["access_token"])


class NotSignedIn(Exception):
    pass
