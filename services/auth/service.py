"""auth: candidate directory, staff accounts, OAuth 2.0 code flow with PKCE, tokens;
candidates sign in at the registration system (OpenID Connect, authority/federation.py).

Entrypoints read the request, call a use case (authority/, built by bootstrap.py) and
turn its answer into a response: the cookies, pages and redirects are theirs, the rules
the use cases'."""
import logging

from nameko.timer import timer
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from common import arguments, outbox
from common.errors import RateLimited, Unauthenticated, ValidationError
from common.rpc import rpc
from common import service as base
from common.web import http, json_response, read_json, with_retry_after
from services.auth import domain, import_files, pages
from services.auth.authority.oauth import params_of
from services.auth.bootstrap import UseCases
from services.auth.dependencies import (AuthDatabase, AuthUseCases, LocalTokenAuth, PasswordHashing,
                                        RegistrationSystem, SigningKeys, Vault)
from services.auth.exceptions import (BackToClient, FederationRefused, FormExpired, InvalidClient,
                                      LoginFailed, NotArrived, ProviderUnavailable, StaffFormOnly)
from services.auth.settings import STAFF_CLIENT

log = logging.getLogger(__name__)

CSRF_COOKIE = "auth_csrf"
# Ties the registration system's answer to the browser that was sent there (RFC 9700
# §4.7.1, login CSRF). SameSite=Lax: the answer arrives by a top-level navigation from
# the provider's origin, which Strict would strip the cookie from.
BROWSER_COOKIE, FLOW_PATH = "auth_browser", "/auth/federation"
FORM_LIMIT = 16 * 1024


class AuthService(base.ServiceBase):
    name = "auth"

    # One provider per resource; the use cases over them (common/wiring.py: by name).
    database = AuthDatabase()
    keys = SigningKeys()
    vault = Vault()
    passwords = PasswordHashing()
    registration_system = RegistrationSystem()
    # A worker sees bootstrap.UseCases here (nameko injects the provider's dependency).
    use_cases: UseCases = AuthUseCases(database="database", keys="keys", vault="vault",
                                       passwords="passwords", registration_system="registration_system")
    auth = LocalTokenAuth(use_cases="use_cases")
    relay = outbox.OutboxRelay(["candidates"], database="database")

    # -- OAuth 2.0 authorization endpoint ----------------------------------------------------
    @http("GET", "/auth/authorize")
    def authorize_form(self, request):
        params = params_of(request.args)
        try:
            self.use_cases.authorization.check(params)
        except tuple(AUTHORIZE_REFUSALS) as exc:
            return AUTHORIZE_REFUSALS[type(exc)](exc)
        if params["client_id"] != STAFF_CLIENT:
            return self._federate(request, params)
        return _fresh_form(request, params)

    @http("POST", "/auth/authorize")
    def authorize(self, request):
        request.max_content_length = FORM_LIMIT
        form = request.form
        params, username = params_of(form), form.get("username", "")[:32]
        try:
            location = self.use_cases.authorization.sign_in_staff(
                params, request.cookies.get(CSRF_COOKIE, ""), form.get("csrf_token", ""), username,
                form.get("password", "")[:128], form.get("otp", "")[:32], request.remote_addr)
        except tuple(AUTHORIZE_REFUSALS) as exc:
            return AUTHORIZE_REFUSALS[type(exc)](exc)
        except FormExpired as exc:
            return _fresh_form(request, params, exc.message, status=exc.status)
        except (LoginFailed, RateLimited) as exc:
            return with_retry_after(
                _fresh_form(request, params, exc.message, username=username, status=exc.status), exc)
        response = Response(status=302, headers={"Location": location})
        response.delete_cookie(CSRF_COOKIE, path="/auth", secure=request.is_secure, httponly=True,
                               samesite="Strict")
        return response

    def _federate(self, request, params):
        """Off to the registration system's sign-in and consent (DESIGN §4 Auth)."""
        try:
            location, browser = self.use_cases.federation.begin(params, request.cookies.get(BROWSER_COOKIE))
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
            location = self.use_cases.federation.finish(
                args.get("state", "")[:128], args.get("code", "")[:512], args.get("error", "")[:64],
                request.cookies.get(BROWSER_COOKIE, ""))
        except tuple(FEDERATION_PAGES) as exc:
            return FEDERATION_PAGES[type(exc)](exc)
        return Response(status=302, headers={"Location": location, "Cache-Control": "no-store"})

    # -- token endpoint ---------------------------------------------------------------------
    @http("POST", "/auth/token")
    def token(self, request):
        request.max_content_length = FORM_LIMIT
        basic = request.authorization
        pair = self.use_cases.token_requests.grant(
            request.form, (basic.username, basic.password) if basic and basic.type == "basic" else None)
        return json_response(pair, headers={"Pragma": "no-cache"})

    @http("POST", "/auth/staff/login")
    def staff_login(self, request):
        """Staff sign-in for scripts and the CLI (DESIGN §5): JSON username, password and,
        for accounts with a second factor, otp; the same token response as /auth/token."""
        body = read_json(request, max_bytes=FORM_LIMIT)
        pair = self.use_cases.sign_in.login(
            arguments.text(body.get("username"), "用户名", 64), arguments.text(body.get("password"), "密码", 128),
            body.get("otp") if isinstance(body.get("otp"), str) else None, request.remote_addr)
        return json_response(pair, headers={"Pragma": "no-cache"})

    @http("GET", "/auth/jwks.json")
    def jwks(self, request):
        return json_response(self.use_cases.tokens.jwks(), headers={"Cache-Control": "public, max-age=60"})

    @http("POST", "/auth/logout")
    def logout(self, request):
        try:
            principal = self.auth.from_request(request)
        except Unauthenticated:
            principal = None  # expired: the refresh token alone may still name the session
        try:
            refresh, unreadable = refresh_token_in(request), None
        except ValidationError as exc:
            refresh, unreadable = None, exc
        self.use_cases.sessions.sign_out(principal, refresh, unreadable)
        return Response(status=204)

    # -- RPC (DESIGN §5) ----------------------------------------------------------------------
    @rpc(https=True)
    def import_candidates(self, records):
        principal = self.auth.from_context("admin", "registration")
        if not isinstance(records, list):
            raise ValidationError("records 须为列表")
        return self.use_cases.candidates.import_candidates(records, principal)

    @rpc(https=True, max_body=import_files.MAX_BODY_BYTES)
    def preview_import(self, file_name, data):
        """What importing the registration system's CSV/XLSX would change, per row."""
        principal = self.auth.from_context("admin")
        return self.use_cases.candidates.preview_import(import_files.read(file_name, data), principal)

    @rpc(https=True, max_body=import_files.MAX_BODY_BYTES)
    def apply_import(self, file_name, data):
        """Import that file through import_candidates' path (idempotent per record)."""
        principal = self.auth.from_context("admin")
        return self.use_cases.candidates.apply_import(import_files.read(file_name, data), principal)

    @rpc
    def get_contact(self, candidate_id):
        self.auth.from_context("service")
        return self.use_cases.candidates.contact(candidate_id)

    @rpc
    def get_profile(self, candidate_id):
        self.auth.from_context("service")
        return self.use_cases.candidates.profile(candidate_id)

    @rpc
    def compare_identity(self, candidate_id, id_number=None, name=None, expires=None):
        """For review's ID card reader only (a service token; not served over HTTPS): the
        number and name it read compared with the registration, answered as verdicts."""
        self.auth.from_context("service")
        return self.use_cases.candidates.compare_identity(
            arguments.text(candidate_id, "candidate_id"), _optional_text(id_number),
            _optional_text(name), _optional_text(expires))

    @rpc
    def candidate_by_id_number(self, id_number):
        """For review's search only (a service token; not served over HTTPS): the
        registration number of the candidate with this ID number, matched by its keyed
        hash, or None. The number is neither stored nor logged here."""
        self.auth.from_context("service")
        return self.use_cases.candidates.candidate_by_id_number(_optional_text(id_number))

    @rpc(https=True)
    def save_staff(self, username, role, region, sites=(), password=None):
        principal = self.auth.from_context("admin")
        self.use_cases.staff.save_staff(arguments.text(username, "用户名"), role, region, list(sites),
                                        password, principal)
        return {"username": username}

    @rpc(https=True)
    def list_staff(self):
        principal = self.auth.from_context("admin")
        return self.use_cases.staff.list_staff(principal)

    @rpc(https=True)
    def enrol_second_factor(self, username):
        """A new TOTP secret and recovery codes for a staff account (an administrator
        enrols another; the answer is the only time the secret is shown)."""
        principal = self.auth.from_context("admin")
        return self.use_cases.staff.enrol_second_factor(arguments.text(username, "用户名"), principal)

    @rpc(https=True)
    def disable_staff(self, username):
        principal = self.auth.from_context("admin")
        self.use_cases.staff.disable_staff(arguments.text(username, "用户名"), principal)
        return {"username": username, "disabled": True}

    @rpc
    def token_state(self, since=0):
        """Public keys and recent revocations, for every service's local verifier (and
        for services only: a revocation names whom it signed out)."""
        self.auth.from_context("service")
        return self.use_cases.tokens.token_state(float(arguments.number(since, "since")))

    @rpc
    def service_token(self, client_id, client_secret):
        return self.use_cases.tokens.service_token(client_id, client_secret)

    @timer(interval=300)
    def purge_expired(self):
        self.use_cases.codes.purge_expired()
        self.use_cases.federation.purge_expired()
        self.use_cases.sign_in.purge_expired()


# What the authorization endpoint answers a request it refuses (authority/oauth.py).
AUTHORIZE_REFUSALS = {
    InvalidClient: lambda exc: pages.error_page(exc.message),
    StaffFormOnly: lambda exc: pages.error_page(exc.message),
    BackToClient: lambda exc: Response(status=302, headers={"Location": exc.location}),
}

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


def _fresh_form(request, params, error=None, username="", status=200):
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
