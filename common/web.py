"""HTTP entrypoint and response helpers shared by every service.

`http` is nameko's HTTP entrypoint with the error mapping of DESIGN §4 in one table:
our errors become `{"error": {"code", "message"}}` with their status; infrastructure
outages become 503; anything unexpected is logged with its trace and answered with a
plain 500 that reveals nothing. Every response gets baseline security headers.

Its web server (`JsonWebServer`) refuses what no entrypoint takes (an unknown path, a
method the path does not allow) in that same envelope, and takes the scheme from the
front proxy's X-Forwarded-Proto, so `request.is_secure` says whether the client came
over HTTPS.
"""
import json
import logging
import time

from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Request, Response

from common.errors import (AppError, FileTooLarge, MethodNotAllowed, NotFound, Unavailable,
                           ValidationError)
from common.metrics import HTTP_LATENCY
from common.outages import OUTAGE_ERRORS, is_outage

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def json_response(data, status=200, headers=None):
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    response = Response(body, status=status, mimetype="application/json")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def with_retry_after(response, exc):
    """Tell the client when to try again, for refusals that name a wait (429, 503)."""
    if exc.retry_after:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def error_response(exc):
    response = with_retry_after(json_response(exc.to_body(), status=exc.status), exc)
    if isinstance(exc, FileTooLarge):
        # Do not let the server read and discard the rest of a huge body.
        response.headers["Connection"] = "close"
    return response


def read_json(request, max_bytes=64 * 1024):
    """The request's JSON object body (an empty body is `{}`), or ValidationError: every
    way a body can be unreadable is the client's mistake, answered 400 (DESIGN §4)."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise ValidationError("请求内容过大")
    raw = request.stream.read(max_bytes + 1)  # bounded even when no length was declared
    if len(raw) > max_bytes:
        raise ValidationError("请求内容过大")
    try:
        data = json.loads(raw or b"{}")
    except (ValueError, RecursionError):
        # Deep nesting ("[[[[…", a few KB) makes the parser give up with RecursionError.
        raise ValidationError("请求内容不是有效的JSON") from None
    if not isinstance(data, dict):
        raise ValidationError("请求内容应为JSON对象")
    return data


def to_app_error(exc):
    """Map any exception to the AppError a user may see."""
    if isinstance(exc, AppError):
        return exc
    if isinstance(exc, RequestEntityTooLarge):
        return FileTooLarge()
    if isinstance(exc, HTTPException) and exc.code == 404:
        return NotFound()
    if isinstance(exc, HTTPException) and exc.code and exc.code < 500:
        return ValidationError()
    if is_outage(exc):
        return Unavailable()
    return None


def with_security_headers(response):
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    return response


def routing_refusal(exc):
    """The JSON answer to a request no entrypoint takes (werkzeug's 404 and 405)."""
    if exc.code == 405:
        response = error_response(MethodNotAllowed())
        response.headers["Allow"] = ", ".join(sorted(exc.valid_methods or ()))
    elif exc.code == 404:
        response = error_response(NotFound("请求的地址不存在"))
    else:
        response = error_response(to_app_error(exc) or AppError())
    return with_security_headers(response)


class Router(WsgiApp):
    """nameko's routing, with refusals in the JSON envelope instead of werkzeug's HTML."""

    def __call__(self, environ, start_response):
        request = Request(environ, shallow=True)  # as nameko's: the entrypoint reads the body
        try:
            provider, values = self.url_map.bind_to_environ(environ).match()
        except RequestRedirect as redirect:  # `/path/` for `/path`: werkzeug's 308 stands
            return redirect(environ, start_response)
        except HTTPException as exc:
            # Not timed in HTTP_LATENCY: its route label would be whatever path was asked.
            return routing_refusal(exc)(environ, start_response)
        request.path_values = values
        return provider.handle_request(request)(environ, start_response)


class JsonWebServer(WebServer):
    """The services sit behind `TRUSTED_PROXIES` proxies (one: nginx, locally and in
    production), each of which overwrites X-Forwarded-For and -Proto. ProxyFix believes
    exactly that many hops, so `request.remote_addr` and `request.scheme` are the
    client's as the proxy saw them, and what a client writes in those headers itself
    counts for nothing."""

    def get_wsgi_app(self):
        hops = int(self.container.config.get("TRUSTED_PROXIES", 1))
        return ProxyFix(Router(self), x_for=hops, x_proto=hops) if hops else Router(self)


class HttpEntrypoint(HttpRequestHandler):
    server = JsonWebServer()

    def __init__(self, method, url, expected_exceptions=(AppError, *OUTAGE_ERRORS), **kwargs):
        super().__init__(method, url, expected_exceptions=expected_exceptions, **kwargs)

    def handle_request(self, request):
        started = time.perf_counter()
        response = with_security_headers(self.respond(request))
        HTTP_LATENCY.labels(
            service=self.container.service_name, route=self.url, method=request.method,
            status=str(response.status_code)).observe(time.perf_counter() - started)
        return response

    def respond(self, request):
        return super().handle_request(request)

    def response_from_exception(self, exc):
        error = to_app_error(exc)
        if error is None:
            log.error("unhandled error in %s %s", self.method, self.url,
                      exc_info=(type(exc), exc, exc.__traceback__))
            error = AppError()
        elif isinstance(error, Unavailable):
            log.warning("dependency unavailable in %s %s: %s", self.method, self.url,
                        type(exc).__name__)
        return error_response(error)


http = HttpEntrypoint.decorator
