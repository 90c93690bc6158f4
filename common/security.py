"""TokenAuth: the dependency through which entrypoints learn who is calling.

HTTP entrypoints call `self.auth.from_request(request, "candidate")`; RPC entrypoints
call `self.auth.from_context("reviewer", "admin")`, which reads the `authorization`
context-data key (DESIGN §5). Verification is local; a background thread keeps the
keys and the revocation list in step with `auth` (see common.tokens).
"""
import logging
import time

import eventlet
from eventlet.semaphore import Semaphore
from nameko.extensions import DependencyProvider
from nameko.standalone.rpc import ClusterRpcProxy

from common.errors import Unavailable
from common.tokens import TokenState, bearer, require_role

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 2.0
RPC_TIMEOUT_S = 5
# Re-read revocations a little before the cursor so clock skew between auth instances
# cannot make us skip one.
CURSOR_OVERLAP_S = 10.0


class Authenticator:
    """What a worker sees: principal lookup for this request or call."""

    def __init__(self, provider, worker_ctx):
        self._provider = provider
        self._worker_ctx = worker_ctx

    def from_request(self, request, *roles):
        token = bearer(request.headers.get("Authorization"))
        return require_role(self._provider.state.verify(token), *roles)

    def from_context(self, *roles):
        token = bearer(self._worker_ctx.data.get("authorization"))
        return require_role(self._provider.state.verify(token), *roles)

    def service_token(self):
        return self._provider.service_token()

    @property
    def ready(self):
        return self._provider.state.synced_at is not None


class TokenAuth(DependencyProvider):
    """Keeps a TokenState in sync with `auth` and hands out Authenticators."""

    health_name = "auth"

    def health_check(self):
        """Not ready before the first sync: until then every authenticated call is refused
        (503), so /healthz says so and a load balancer (or a test) waits. Once synced, a
        later outage of auth keeps the service ready: it verifies with what it has."""
        if self.state.synced_at is None:
            raise Unavailable("never heard from auth")

    def setup(self):
        config = self.container.config["TOKENS"]
        self.state = TokenState(config["ISSUER"], config["AUDIENCE"])
        self._client_id = config["SERVICE_CLIENT_ID"]
        self._client_secret = config["SERVICE_CLIENT_SECRET"]
        self._proxy_lock = Semaphore()
        self._proxy = None
        self._proxy_token = None
        self._service_token = (None, 0)
        self._thread = None

    def start(self):
        self._thread = self.container.spawn_managed_thread(self._sync_forever)

    def stop(self):
        if self._thread is not None:
            self._thread.kill()
        self._close_proxy()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return Authenticator(self, worker_ctx)

    # -- keeping in sync ----------------------------------------------------------
    def _sync_forever(self):
        while True:
            try:
                self.sync()
            except Exception as exc:  # keep verifying with what we have; retry soon
                log.warning("token state sync failed: %s", type(exc).__name__)
                self._close_proxy()
            eventlet.sleep(POLL_INTERVAL_S)

    def sync(self):
        since = max(self.state.cursor - CURSOR_OVERLAP_S, 0)
        self.state.apply(self.fetch_state(since))

    def fetch_state(self, since):
        # Keys and revocations are for services only (they name who was signed out).
        return self._call("token_state", token=self.service_token(), since=since)

    # -- this service's own identity, for calls to other services -------------------
    def service_token(self):
        token, expires_at = self._service_token
        if token is None or expires_at - time.time() < 60:
            issued = self.issue_service_token()
            token = issued["access_token"]
            self._service_token = (token, time.time() + issued["expires_in"])
        return token

    def issue_service_token(self):
        return self._call("service_token", client_id=self._client_id,
                          client_secret=self._client_secret)

    # -- one long-lived standalone proxy, used under a lock -------------------------
    def _call(self, method, token=None, **kwargs):
        """auth.`method`, carrying `token` (a new proxy only when the token changes)."""
        with self._proxy_lock:
            try:
                if self._proxy is not None and self._proxy_token != token:
                    self._close_proxy_unlocked()
                if self._proxy is None:
                    context = {"authorization": f"Bearer {token}"} if token else None
                    self._proxy = ClusterRpcProxy(self.container.config, timeout=RPC_TIMEOUT_S,
                                                  context_data=context)
                    self._cluster = self._proxy.start()
                    self._proxy_token = token
                return getattr(self._cluster.auth, method)(**kwargs)
            except Exception as exc:
                log.warning("rpc auth.%s failed: %s", method, type(exc).__name__)
                self._close_proxy_unlocked()
                raise Unavailable("身份认证服务暂时不可用，请稍后再试") from exc

    def _close_proxy(self):
        with self._proxy_lock:
            self._close_proxy_unlocked()

    def _close_proxy_unlocked(self):
        if self._proxy is not None:
            try:
                self._proxy.stop()
            except Exception:  # already broken; nothing more to release
                log.debug("closing a broken rpc proxy failed", exc_info=True)
            self._proxy = None
