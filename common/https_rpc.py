"""The same RPC methods over HTTPS (DESIGN §5): `POST /rpc/{service}/{method}`.

People (reviewers, administrators, the review CLI) and outside systems (the national
registration system) never touch the broker. Each service answers its own methods on its
own HTTP entrypoint: the call runs in the HTTP worker itself, with the request's bearer
token and the client's address put into the worker's context data, exactly where the RPC
methods read them when called over AMQP. So the scope checks are the methods' own, and
there is no second implementation to keep in step.

Only methods declared `@rpc(https=True)` are reachable; any other name is 404, the same
answer as a method that does not exist. Arguments are a JSON object of keyword arguments,
checked against the method's signature before it runs. Errors use the DESIGN §4
envelope with the DESIGN §5 kinds and statuses.
"""
import inspect
import logging
from functools import partial

from eventlet.event import Event

from common.errors import (
    AppError, Conflict, Forbidden, InvalidTransition, NotFound, RateLimited, Unauthenticated,
    Unavailable, ValidationError)
from common.rpc import RpcEntrypoint
from common.web import (
    HttpEntrypoint, error_response, json_response, read_json, to_app_error, with_retry_after)

log = logging.getLogger(__name__)

# Context data key for the caller's address, set only here (from the connection, after
# the trusted proxy): an AMQP caller could write the same key, so readers check which
# entrypoint started the worker (`client_of`).
CLIENT = "client"

# DESIGN §5: the kind decides status and code; the message stays the method's own.
KINDS = ((Unauthenticated, 401, "unauthenticated"), (Forbidden, 403, "forbidden"),
         (NotFound, 404, "not_found"), (Conflict, 409, "conflict"),
         (InvalidTransition, 409, "invalid_transition"), (ValidationError, 422, "validation_error"))


class HttpsRpc(HttpEntrypoint):
    def __init__(self, **kwargs):
        super().__init__("POST", "/rpc/<string:service>/<string:method>", **kwargs)

    def respond(self, request):
        request.shallow = False  # (nameko's handler does this before reading the body)
        try:
            method, kwargs = self._call_of(request)
            context = {"authorization": request.headers.get("Authorization"), CLIENT: request.remote_addr}
            event = Event()
            self.container.spawn_worker(self, (method, kwargs), {}, context_data=context,
                                        handle_result=partial(self.handle_result, event))
            return json_response({"result": event.wait()})
        except Exception as exc:
            return self.response_from_exception(exc)

    def _call_of(self, request):
        """(method name, keyword arguments) of an allowed call, or the refusal."""
        service, method = request.path_values["service"], request.path_values["method"]
        entrypoint = self._allowed(service, method)
        kwargs = read_json(request, **({"max_bytes": entrypoint.max_body} if entrypoint.max_body else {}))
        signature = inspect.signature(getattr(self.container.service_cls, method))
        try:
            signature.bind(None, **kwargs)
        except TypeError:
            names = [name for name in signature.parameters if name != "self"]
            raise ValidationError(f"参数不符：{method} 接受 {', '.join(names) or '无参数'}") from None
        return method, kwargs

    def _allowed(self, service, method):
        if service == self.container.service_name:
            for entrypoint in self.container.entrypoints:
                if isinstance(entrypoint, RpcEntrypoint) and entrypoint.https \
                        and entrypoint.method_name == method:
                    return entrypoint
        raise NotFound("没有该接口")

    def response_from_exception(self, exc):
        error = to_app_error(exc)
        if error is None:
            log.error("unhandled error in POST %s", self.url, exc_info=(type(exc), exc, exc.__traceback__))
            return error_response(AppError())
        if isinstance(error, (RateLimited, Unavailable)):
            if isinstance(error, Unavailable):
                log.warning("dependency unavailable in an RPC over HTTPS: %s", type(exc).__name__)
            return error_response(error)
        for kind, status, code in KINDS:
            if isinstance(error, kind):
                details = {k: v for k, v in error.details.items() if k != "code"}
                body = {"error": dict(details, code=code, message=error.message)}
                return with_retry_after(json_response(body, status=status), error)
        return error_response(error)


https_rpc = HttpsRpc.decorator


def client_of(worker_ctx):
    """The caller's address as the connection showed it, or None: only for workers that
    this module started; whatever an AMQP caller writes under the same key is ignored."""
    if isinstance(worker_ctx.entrypoint, HttpsRpc):
        return worker_ctx.data.get(CLIENT)
    return None
