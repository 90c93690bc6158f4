"""RPC entrypoint and a proxy that calls other services as this service.

`rpc` is nameko's RPC entrypoint that answers with the error kinds of DESIGN §5
(`Unauthenticated`, `Forbidden`, `NotFound`, `Conflict`, `InvalidTransition`,
`ValidationError`, `Unavailable`): HTTP-flavoured errors are mapped to their kind,
outages to `Unavailable`.

`ServiceRpc("auth")` is an RpcProxy whose calls carry this service's own `service`
token rather than whatever the current caller sent, and give up after a timeout rather
than wait forever for a service that is down.
"""
import logging

import eventlet
from nameko.rpc import MethodProxy, Rpc, RpcConsumer, RpcProxy, ServiceProxy

from common.errors import AppError, Unavailable, for_rpc
from common.outages import OUTAGE_ERRORS
from common.security import TokenAuth
from common.web import to_app_error
from common.wiring import sibling

DEFAULT_TIMEOUT_S = 10

log = logging.getLogger(__name__)
# nameko logs every RPC reply body at DEBUG (RpcReply.result), and some replies carry
# personal data (auth.get_contact: a phone). That logger stays at INFO whatever LOG_LEVEL
# says, in every service (each imports this module), and in tests and scripts that
# configure no logging; the JSON formatter's masking stays the second line.
logging.getLogger("nameko.rpc").setLevel(logging.INFO)


class SafeRpcConsumer(RpcConsumer):
    """nameko's RPC consumer, except that no request and no reply can kill the service.

    nameko answers a request it cannot handle (unknown method, missing arguments) with an
    error reply, and lets any failure to reply escape into the container, which then
    dies: a request without a reply address, from anyone allowed to publish one, took
    auth down (tests/security/test_broker.py), and so would a broker gone away mid-reply.
    Here a request with no reply address is dropped, and a reply that cannot be sent is
    logged and given up: the caller times out or retries, and the service carries on."""

    def handle_result(self, message, result, exc_info):
        if not message.properties.get("reply_to") or not message.properties.get("correlation_id"):
            log.warning("RPC request without a reply address dropped (routing key %s)",
                        message.delivery_info.get("routing_key"))
            self.queue_consumer.ack_message(message)
            return result, exc_info
        try:
            return super().handle_result(message, result, exc_info)
        except Exception as exc:
            log.warning("RPC reply not sent (%s); the caller will time out", type(exc).__name__)
            try:
                self.queue_consumer.ack_message(message)
            except Exception:  # the broker is away: the request comes back when it returns
                log.debug("ack of an unanswered RPC request failed", exc_info=True)
            return result, exc_info


class RpcEntrypoint(Rpc):
    """`https=True` also serves the method at POST /rpc/{service}/{method} (common/https_rpc.py);
    `max_body` raises that route's body limit (the front door's route must allow it too)."""

    rpc_consumer = SafeRpcConsumer()

    def __init__(self, expected_exceptions=(AppError, *OUTAGE_ERRORS), https=False, max_body=None,
                 **kwargs):
        super().__init__(expected_exceptions=expected_exceptions, **kwargs)
        self.https = https
        self.max_body = max_body  # bytes of JSON over HTTPS, when a method takes a file

    def handle_result(self, message, worker_ctx, result, exc_info):
        if exc_info is not None:
            error = to_app_error(exc_info[1])
            if error is not None:
                error = for_rpc(error)
                exc_info = (type(error), error, exc_info[2])
        return super().handle_result(message, worker_ctx, result, exc_info)


rpc = RpcEntrypoint.decorator


class _AsService:
    """A worker context whose context data carries the service token."""

    def __init__(self, worker_ctx, token_source):
        self._worker_ctx = worker_ctx
        self._token_source = token_source

    @property
    def context_data(self):
        data = self._worker_ctx.context_data
        data["authorization"] = f"Bearer {self._token_source()}"
        return data

    def __getattr__(self, name):
        return getattr(self._worker_ctx, name)


class _TimedMethodProxy(MethodProxy):
    def __init__(self, *args, timeout, **kwargs):
        super().__init__(*args, **kwargs)
        self._timeout = timeout

    def __call__(self, *args, **kwargs):
        with eventlet.Timeout(self._timeout, Unavailable(f"{self.service_name} 服务暂时不可用")):
            return super().__call__(*args, **kwargs)


class _TimedServiceProxy(ServiceProxy):
    def __init__(self, *args, timeout, **kwargs):
        super().__init__(*args, **kwargs)
        self._timeout = timeout

    def __getattr__(self, name):
        return _TimedMethodProxy(self.worker_ctx, self.service_name, name,
                                 self.reply_listener, timeout=self._timeout, **self.options)


class ServiceRpc(RpcProxy):
    def __init__(self, target_service, timeout=DEFAULT_TIMEOUT_S, tokens="auth", **options):
        """`tokens`: the TokenAuth that issues this service's token (ServiceBase's `auth`)."""
        super().__init__(target_service, **options)
        self.timeout = timeout
        self.tokens = tokens

    def setup(self):
        super().setup()
        self._tokens = sibling(self, self.tokens, TokenAuth)

    def get_dependency(self, worker_ctx):
        return _TimedServiceProxy(_AsService(worker_ctx, self._tokens.service_token),
                                  self.target_service, self.rpc_reply_listener,
                                  timeout=self.timeout, **self.options)
