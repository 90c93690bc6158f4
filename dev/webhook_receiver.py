"""A Standard Webhooks receiver on 127.0.0.1, as the registration system would run one
(DESIGN §4a): every request is verified with the `standardwebhooks` package
(`Webhook.verify`: signature over id, timestamp and body; timestamp within 5 minutes),
and an outcome is applied once per `webhook-id`, however often it is delivered.

For the stand-in registration system and the tests. It can also misbehave, to show
what notify does then: `set_mode("error")` answers 500, `"slow"` waits `seconds`
before answering, `"redirect"` answers 307 to `location`, `"ok"` is normal; `stop()`
and `start()` take it down and bring it back on the same port.

    receiver = WebhookReceiver().start()                  # receiver.url: http://127.0.0.1:PORT/hook
    receiver.secret = added["secret"]                     # from add_webhook_subscriber
    receiver.applied                                      # {webhook-id: outcome record}, first arrival

`Inbox` is the part to reuse in a receiver of one's own (a Flask route): verify, then
apply once per webhook-id.
"""
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError

log = logging.getLogger("webhook_receiver")


class Inbox:
    """What a receiver keeps to apply each outcome once: the webhook-ids it has taken.
    For a receiver of one's own (the stand-in registration system's Flask route):

        inbox = Inbox(secret)
        record = inbox.receive(request.get_data(), dict(request.headers))  # raises if forged
        if record is not None: ...apply it...                              # None: a repeat
        return "", 204

    (In memory: a receiver that must survive restarts keeps the ids in its database.)"""

    def __init__(self, secret):
        self.secret = secret
        self.seen = set()
        self.lock = threading.Lock()

    def receive(self, body, headers):
        """The outcome record the first time a webhook-id arrives, None after; raises
        WebhookVerificationError for a bad signature or a timestamp more than 5 minutes
        away (standardwebhooks' Webhook.verify; a signature header without a comma makes
        it raise ValueError instead: answer 400 to both)."""
        payload = Webhook(self.secret).verify(body, headers)
        webhook_id = {k.lower(): v for k, v in headers.items()}["webhook-id"]
        with self.lock:
            if webhook_id in self.seen:
                return None
            self.seen.add(webhook_id)
        return payload["data"]


class WebhookReceiver:
    def __init__(self, host="127.0.0.1", port=0, path="/hook", secret=None, on_outcome=None):
        self.host, self.port, self.path = host, port, path
        self.inbox = Inbox(secret)
        self.on_outcome = on_outcome  # called once per webhook-id with the record
        self.lock = threading.Lock()
        self.mode, self.seconds, self.location = "ok", 0.0, None
        self.requests = []     # every request: {"webhook_id", "verified", "answered", "at"}
        self.applied = {}      # webhook-id -> the outcome record (`data`), first arrival only
        self.duplicates = 0    # verified requests whose webhook-id was applied before
        self.rejected = 0      # requests that failed verification
        self._server = None
        self._thread = None

    @property
    def secret(self):
        return self.inbox.secret

    @secret.setter
    def secret(self, value):
        self.inbox.secret = value

    @property
    def url(self):
        return f"http://{self.host}:{self.port}{self.path}"

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                receiver._handle(self)

            def log_message(self, *args):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="webhook-receiver", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Down: nothing listens on the port until `start()` again."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def set_mode(self, mode, seconds=0.0, location=None):
        with self.lock:
            self.mode, self.seconds, self.location = mode, float(seconds), location

    def records(self):
        """The outcomes applied, in the order they first arrived."""
        with self.lock:
            return list(self.applied.values())

    # -- one request ----------------------------------------------------------------------------
    def _handle(self, request):
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length)
        headers = {k: v for k, v in request.headers.items()}
        with self.lock:
            mode, seconds, location, secret = self.mode, self.seconds, self.location, self.secret
        webhook_id = request.headers.get("webhook-id")
        try:
            Webhook(secret).verify(body, headers, json_parse=False)
            verified = True
        except Exception as exc:  # WebhookVerificationError, no secret yet, a malformed header
            if not isinstance(exc, WebhookVerificationError):
                exc = f"{type(exc).__name__}: {exc}"
            log.warning("webhook refused: %s", exc)
            verified = False
        if mode == "slow":
            time.sleep(seconds)
        status = {"ok": 204, "slow": 204, "error": 500, "redirect": 307}.get(mode, 204)
        if not verified:
            status = 400
        if status == 204:  # applied only when we answer that we took it
            self._apply(webhook_id, self.inbox.receive(body, headers))
        with self.lock:
            self.requests.append({"webhook_id": webhook_id, "verified": verified, "answered": status,
                                  "at": time.time()})
            if not verified:
                self.rejected += 1
        try:
            request.send_response(status)
            if status == 307:
                request.send_header("Location", location or "/")
            request.send_header("Content-Length", "0")
            request.end_headers()
        except OSError:  # the sender gave up waiting (its deadline): it will retry
            pass

    def _apply(self, webhook_id, record):
        with self.lock:
            if record is None:  # Inbox.receive: this webhook-id was applied before
                self.duplicates += 1
                return
            self.applied[webhook_id] = record
        if self.on_outcome is not None:
            self.on_outcome(record)


if __name__ == "__main__":  # python -m dev.webhook_receiver SECRET [PORT]: print what arrives
    import sys
    logging.basicConfig(level=logging.INFO)
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 9031
    WebhookReceiver(port=port, secret=sys.argv[1],
                    on_outcome=lambda r: print(json.dumps(r, ensure_ascii=False), flush=True)).start()
    while True:
        time.sleep(3600)
