"""auth: candidate directory, staff accounts, OAuth 2.0 code flow with PKCE, tokens;
candidates sign in at the registration system (OpenID Connect, authority/federation.py)."""
import hmac
import logging
import time
from urllib.parse import urlencode

from nameko.timer import timer
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from common import arguments, outbox
from common.errors import RateLimited, Unauthenticated, ValidationError
from common.rpc import rpc
from common import service as base
from common.web import http, json_response, read_json, with_retry_after
from services.auth import domain, import_files, pages
from services.auth.authority import STAFF_CLIENT
from services.auth.dependencies import AuthorityProvider, LocalTokenAuth
from services.auth.exceptions import (FederationRefused, InvalidClient, InvalidRequest, LoginFailed,
                                      NotArrived, ProviderUnavailable)

log = logging.getLogger(__name__)

CSRF_COOKIE = "auth_csrf"
# Ties the registration system's answer to the browser that was sent there (RFC 9700
# §4.7.1, login CSRF). SameSite=Lax: the answer arrives by a top-level navigation from
# the provider's origin, which Strict would strip the cookie from.
BROWSER_COOKIE, FLOW_PATH = "auth_browser", "/auth/federation"
OAUTH_PARAMS = ("response_type", "client_id", "redirect_uri", "state", "code_challenge",
                "code_challenge_method")
FORM_LIMIT = 16 * 1024


class AuthService(base.ServiceBase):
    name = "auth"

    # Wiring (common/wiring.py): providers name the siblings they use.
    auth = LocalTokenAuth(authority="authority")
    authority = AuthorityProvider()
    relay = outbox.OutboxRelay(["candidates"], database="authority")

    # -- OAuth 2.0 authorization endpoint ----------------------------------------------------
    @http("GET", "/auth/authorize")
    def authorize_form(self, request):
        params = {k: request.args.get(k, "") for k in OAUTH_PARAMS}
        refusal = self._check_oauth_params(params)
        if refusal is not None:
            return refusal
        if params["client_id"] != STAFF_CLIENT:
            return self._federate(request, params)
        csrf = domain.new_secret()
        response = pages.login_form(params, csrf)
        _set_csrf_cookie(response, csrf, request)
        return response

    @http("POST", "/auth/authorize")
    def authorize(self, request):
        request.max_content_length = FORM_LIMIT
        form = request.form
        params = {k: form.get(k, "") for k in OAUTH_PARAMS}
        refusal = self._check_oauth_params(params)
        if refusal is not None:
            return refusal
        if params["client_id"] != STAFF_CLIENT:  # candidates sign in at the registration system
            return pages.error_page("考生请使用报名系统账号授权登录：请回到材料上传页面重新登录")
        csrf = request.cookies.get(CSRF_COOKIE, "")
        if not csrf or not hmac.compare_digest(csrf, form.get("csrf_token", "")):
            return _fresh_form(request, params, "页面已过期，请重新登录", status=400)
        username = form.get("username", "")[:32]
        try:
            subject = self.authority.authenticate_staff(
                username, form.get("password", "")[:128], form.get("otp", "")[:32], request.remote_addr)
        except (LoginFailed, RateLimited) as exc:
            return with_retry_after(
                _fresh_form(request, params, exc.message, username=username, status=exc.status), exc)
        code = self.authority.issue_code(subject, params["client_id"], params["redirect_uri"],
                                         params["code_challenge"], kind="staff")
        location = f"{params['redirect_uri']}?{urlencode({'code': code, 'state': params['state']})}"
        response = Response(status=302, headers={"Location": location})
        response.delete_cookie(CSRF_COOKIE, path="/auth", secure=request.is_secure, httponly=True,
                               samesite="Strict")
        return response

    def _federate(self, request, params):
        """Off to the registration system's sign-in and consent (DESIGN §4 Auth)."""
        browser = request.cookies.get(BROWSER_COOKIE) or domain.new_secret()
        try:
            location = self.authority.begin_federation(params, browser)
        except ProviderUnavailable as exc:
            return pages.unavailable_page(request.full_path, exc.retry_after)
        response = Response(status=302, headers={"Location": location, "Cache-Control": "no-store"})
        response.set_cookie(BROWSER_COOKIE, browser, path=FLOW_PATH, httponly=True, samesite="Lax",
                            max_age=domain.FLOW_TTL_S, secure=request.is_secure)
        return response

    @http("GET", "/auth/federation/callback")
    def federation_callback(self, request):
        """The registration system's answer: on to the page's redirect URI with our code."""
        args = request.args
        try:
            location = self.authority.finish_federation(
                args.get("state", "")[:128], args.get("code", "")[:512], args.get("error", "")[:64],
                request.cookies.get(BROWSER_COOKIE, ""))
        except tuple(FEDERATION_PAGES) as exc:
            return FEDERATION_PAGES[type(exc)](exc)
        return Response(status=302, headers={"Location": location, "Cache-Control": "no-store"})

    def _check_oauth_params(self, params):
        """None if the request may proceed; otherwise the refusal to send.

        An unknown client or redirect URI gets an error page, never a redirect (no open
        redirector); other faults go back to the client as RFC 6749 §4.1.2.1 errors."""
        allowed = self.authority.client_redirects(params["client_id"])
        if not allowed or params["redirect_uri"] not in allowed:
            return pages.error_page(InvalidClient.message)
        if params["response_type"] != "code":
            return _redirect_error(params, "unsupported_response_type")
        if params["code_challenge_method"] != "S256" or not domain.valid_challenge(
                params["code_challenge"]):
            return _redirect_error(params, "invalid_request", "PKCE S256 required")
        return None

    # -- token endpoint ---------------------------------------------------------------------
    @http("POST", "/auth/token")
    def token(self, request):
        request.max_content_length = FORM_LIMIT
        form = request.form
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            pair = self.authority.exchange_code(form.get("code"), form.get("client_id"),
                                                form.get("redirect_uri"), form.get("code_verifier"))
        elif grant_type == "refresh_token":
            pair = self.authority.refresh(form.get("refresh_token"), form.get("client_id"))
        elif grant_type == "client_credentials":
            basic = request.authorization  # RFC 6749 §2.3.1: HTTP Basic, or the form
            client_id = basic.username if basic and basic.type == "basic" else form.get("client_id")
            secret = basic.password if basic and basic.type == "basic" else form.get("client_secret")
            pair = self.authority.client_token(client_id, secret)
        else:
            raise InvalidRequest("grant_type 不受支持")
        return json_response(pair, headers={"Pragma": "no-cache"})

    @http("POST", "/auth/staff/login")
    def staff_login(self, request):
        """Staff sign-in for scripts and the CLI (DESIGN §5): JSON username, password and,
        for accounts with a second factor, otp; the same token response as /auth/token."""
        body = read_json(request, max_bytes=FORM_LIMIT)
        pair = self.authority.login_staff(
            arguments.text(body.get("username"), "用户名", 64), arguments.text(body.get("password"), "密码", 128),
            body.get("otp") if isinstance(body.get("otp"), str) else None, request.remote_addr)
        return json_response(pair, headers={"Pragma": "no-cache"})

    @http("GET", "/auth/jwks.json")
    def jwks(self, request):
        return json_response(self.authority.keyring.jwks(),
                             headers={"Cache-Control": "public, max-age=60"})

    @http("POST", "/auth/logout")
    def logout(self, request):
        try:
            principal = self.auth.from_request(request)
        except Unauthenticated:
            principal = None  # expired: the refresh token alone may still name the session
        try:
            refresh = refresh_token_in(request)
        except ValidationError:
            # The header's token names the session even when the body cannot be read:
            # end that session, then say what was wrong with the body.
            if principal is not None:
                self.authority.logout(principal)
            raise
        if principal is None:
            # Holding the refresh token is proof enough to end its session (RFC 7009).
            if not (refresh and self.authority.end_refresh_session(refresh)):
                raise Unauthenticated()
            return Response(status=204)
        self.authority.logout(principal, refresh)
        return Response(status=204)

    # -- RPC (DESIGN §5) ----------------------------------------------------------------------
    @rpc(https=True)
    def import_candidates(self, records):
        principal = self.auth.from_context("admin", "registration")
        if not isinstance(records, list):
            raise ValidationError("records 须为列表")
        return self.authority.import_candidates(records, principal)

    @rpc(https=True, max_body=import_files.MAX_BODY_BYTES)
    def preview_import(self, file_name, data):
        """What importing the registration system's CSV/XLSX would change, per row."""
        principal = self.auth.from_context("admin")
        return self.authority.preview_import(import_files.read(file_name, data), principal)

    @rpc(https=True, max_body=import_files.MAX_BODY_BYTES)
    def apply_import(self, file_name, data):
        """Import that file through import_candidates' path (idempotent per record)."""
        principal = self.auth.from_context("admin")
        return self.authority.apply_import(import_files.read(file_name, data), principal)

    @rpc
    def get_contact(self, candidate_id):
        self.auth.from_context("service")
        return self.authority.contact(candidate_id)

    @rpc
    def get_profile(self, candidate_id):
        self.auth.from_context("service")
        return self.authority.profile(candidate_id)

    @rpc
    def compare_identity(self, candidate_id, id_number=None, name=None, expires=None):
        """For review's ID card reader only (a service token; not served over HTTPS): the
        number and name it read compared with the registration, answered as verdicts."""
        self.auth.from_context("service")
        return self.authority.compare_identity(
            arguments.text(candidate_id, "candidate_id"), _optional_text(id_number),
            _optional_text(name), _optional_text(expires))

    @rpc
    def candidate_by_id_number(self, id_number):
        """For review's search only (a service token; not served over HTTPS): the
        registration number of the candidate with this ID number, matched by its keyed
        hash, or None. The number is neither stored nor logged here."""
        self.auth.from_context("service")
        return self.authority.candidate_by_id_number(_optional_text(id_number))

    @rpc(https=True)
    def save_staff(self, username, role, region, sites=(), password=None):
        principal = self.auth.from_context("admin")
        self.authority.save_staff(arguments.text(username, "用户名"), role, region, list(sites),
                                  password, principal)
        return {"username": username}

    @rpc(https=True)
    def list_staff(self):
        principal = self.auth.from_context("admin")
        return self.authority.list_staff(principal)

    @rpc(https=True)
    def enrol_second_factor(self, username):
        """A new TOTP secret and recovery codes for a staff account (an administrator
        enrols another; the answer is the only time the secret is shown)."""
        principal = self.auth.from_context("admin")
        return self.authority.enrol_second_factor(arguments.text(username, "用户名"), principal)

    @rpc(https=True)
    def disable_staff(self, username):
        principal = self.auth.from_context("admin")
        self.authority.disable_staff(arguments.text(username, "用户名"), principal)
        return {"username": username, "disabled": True}

    @rpc
    def token_state(self, since=0):
        """Public keys and recent revocations, for every service's local verifier (and
        for services only: a revocation names whom it signed out)."""
        self.auth.from_context("service")
        return self.authority.token_state(float(arguments.number(since, "since")))

    @rpc
    def service_token(self, client_id, client_secret):
        return self.authority.service_token(client_id, client_secret)

    @timer(interval=300)
    def purge_expired(self):
        now = time.time()
        self.authority.repo.purge_codes(now - 3600)
        self.authority.repo.purge_flows(now - 3600)
        self.authority.repo.purge_failures(now - domain.FAILURE_WINDOW_S)


# What a candidate sees when the registration system's sign-in cannot finish.
FEDERATION_PAGES = {
    FederationRefused: lambda exc: pages.error_page(exc.message),
    NotArrived: lambda exc: pages.not_arrived_page(),
    ProviderUnavailable: lambda exc: pages.unavailable_page(getattr(exc, "retry", "/"), exc.retry_after),
}


def _optional_text(value, limit=64):
    return str(value)[:limit] if value is not None else None


def refresh_token_in(request):
    """The refresh token a logout names in its form or JSON body (None if none), or
    ValidationError when the body cannot be read."""
    if request.is_json:
        token = read_json(request, FORM_LIMIT).get("refresh_token")
    else:
        request.max_content_length = FORM_LIMIT
        try:
            token = request.form.get("refresh_token")
        except RequestEntityTooLarge:
            raise ValidationError("请求内容过大") from None
    if token is not None and not isinstance(token, str):
        raise ValidationError("refresh_token 须为字符串")
    return token


def _fresh_form(request, params, error, username="", status=200):
    csrf = domain.new_secret()
    response = pages.login_form(params, csrf, error=error, username=username, status=status)
    _set_csrf_cookie(response, csrf, request)
    return response


def _set_csrf_cookie(response, csrf, request):
    # Secure whenever the client came over HTTPS (behind the proxy: its X-Forwarded-Proto,
    # common.web), so the cookie never travels in clear text; plain-HTTP development
    # keeps working because only there is it sent without.
    response.set_cookie(CSRF_COOKIE, csrf, path="/auth", httponly=True, samesite="Strict",
                        max_age=1800, secure=request.is_secure)


def _redirect_error(params, error, description=None):
    query = {"error": error, "state": params["state"]}
    if description:
        query["error_description"] = description
    return Response(status=302, headers={"Location": f"{params['redirect_uri']}?{urlencode(query)}"})
