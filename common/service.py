"""What every service exposes besides its own work: health, metrics, dead letters.

A service class inherits `ServiceBase` and sets `name`; nameko collects entrypoints
and dependencies from base classes too."""
import logging
import time
from functools import partial

from kombu import Connection
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Response

from common.arguments import integer
from common.errors import NotFound
from common.messaging import DeadLetterOffice
from common.metrics import exposition
from common.https_rpc import https_rpc
from common.rpc import rpc
from common.security import TokenAuth
from common.web import http, json_response

log = logging.getLogger(__name__)

CACHE_S = 1.0


class HealthCheck(DependencyProvider):
    """Checks the broker and every dependency that offers `health_check()`.

    Results are cached for a second so a storm of probes cannot become a storm on
    the databases."""

    def setup(self):
        self._cached = (0.0, None)

    def get_dependency(self, worker_ctx):
        return self

    def report(self):
        at, report = self._cached
        if report is None or time.monotonic() - at > CACHE_S:
            report = self._check_all()
            self._cached = (time.monotonic(), report)
        return report

    def _check_all(self):
        checks = {"rabbitmq": self._check_broker}
        for dep in self.container.dependencies:
            check = getattr(dep, "health_check", None)
            if check is not None:
                checks[dep.health_name] = check
        results = {}
        for name, check in sorted(checks.items()):
            try:
                check()
                results[name] = "ok"
            except Exception as exc:
                results[name] = f"unavailable: {type(exc).__name__}"
        failing = sorted(name for name, state in results.items() if state != "ok")
        return {"service": self.container.service_name, "ok": not failing,
                "failing": failing, "checks": results}

    def _check_broker(self):
        with Connection(self.container.config[AMQP_URI_CONFIG_KEY], connect_timeout=2) as conn:
            conn.connect()


class ServiceBase:
    name = None

    auth = TokenAuth()
    health = HealthCheck()
    dlq = DeadLetterOffice()

    @http("GET", "/healthz/<string:service>")
    def healthz(self, request, service):
        if service != self.name:
            raise NotFound()
        report = self.health.report()
        return json_response(report, status=200 if report["ok"] else 503)

    @http("GET", "/metrics/<string:service>")
    def metrics(self, request, service):
        if service != self.name:
            raise NotFound()
        body, content_type = exposition()
        return Response(body, status=200, content_type=content_type)

    @https_rpc
    def rpc_over_https(self, method, kwargs):
        """POST /rpc/{service}/{method}: the allowed RPC method, run in this worker."""
        return getattr(self, method)(**kwargs)

    @rpc(https=True)
    def dead_letters(self, limit=100):
        principal = self.auth.from_context("admin")
        return self.dlq.list(limit=min(max(integer(limit, "limit"), 1), 500),
                             visible=partial(letter_visible, principal))

    @rpc(https=True)
    def replay_dead_letter(self, message_id):
        principal = self.auth.from_context("admin")
        if not isinstance(message_id, str) or not self.dlq.replay(
                message_id, visible=partial(letter_visible, principal)):
            raise NotFound("没有该死信消息（可能已重放）")
        return {"replayed": message_id}


def letter_visible(principal, letter):
    """National administrators see every parked event; a region's or a site's
    administrator only those of their region or sites (an event naming no region is
    national business)."""
    if principal.is_national:
        return True
    return bool(letter.get("region")) and principal.covers(letter["region"], letter.get("site"))
