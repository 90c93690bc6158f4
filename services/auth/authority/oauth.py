"""The OAuth 2.0 endpoints' rules (RFC 6749 with PKCE, RFC 7636): what an authorization
request must hold before anyone signs in, the staff form's CSRF check and sign-in, and
which grant a token request asks for. service.py turns what these answer or raise into
pages, redirects and JSON."""
from urllib.parse import urlencode

from services.auth import domain
from services.auth.exceptions import BackToClient, FormExpired, InvalidClient, InvalidRequest, StaffFormOnly
from services.auth.settings import STAFF_CLIENT

PARAMS = ("response_type", "client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method")


def params_of(source):
    """An authorization request's parameters from its query or form, "" where absent."""
    return {key: source.get(key, "") for key in PARAMS}


class AuthorizationRequests:
    """GET and POST /auth/authorize. Staff sign in on our form (client staff-web); every
    other client is a candidate's page, whose request goes on to the registration system
    (FederatedSignIn.begin)."""

    def __init__(self, redirects, sign_in, codes):
        self.redirects = redirects  # {client_id: [redirect URI]} (AuthSettings.redirects)
        self.sign_in = sign_in      # StaffSignIn
        self.codes = codes          # AuthorizationCodes

    def check(self, params):
        """Refuse a request that must not go on. An unknown client or redirect URI raises
        InvalidClient, an error page and never a redirect (no open redirector); the
        client's own faults raise BackToClient (RFC 6749 §4.1.2.1)."""
        if params["redirect_uri"] not in self.redirects.get(params["client_id"], ()):
            raise InvalidClient()
        fault = domain.request_error(params)
        if fault is not None:
            raise BackToClient(_error_at_client(params, *fault))

    def sign_in_staff(self, params, csrf_cookie, csrf_field, username, password, otp, address):
        """The staff form posted back: where the browser goes with its code. The form's
        hidden CSRF token must equal its cookie's (login CSRF, RFC 9700 §4.7.1), else
        FormExpired; then LoginFailed or RateLimited as StaffSignIn decides."""
        self.check(params)
        if params["client_id"] != STAFF_CLIENT:
            raise StaffFormOnly()
        if not domain.csrf_matches(csrf_cookie, csrf_field):
            raise FormExpired()
        staff = self.sign_in.authenticate(username, password, otp, address)
        code = self.codes.issue(staff, params["client_id"], params["redirect_uri"], params["code_challenge"],
                                kind="staff")
        return f"{params['redirect_uri']}?{urlencode({'code': code, 'state': params['state']})}"


class TokenRequests:
    """POST /auth/token: the grant the form names, answered by the use case for it."""

    def __init__(self, codes, tokens):
        self.codes = codes    # AuthorizationCodes
        self.tokens = tokens  # Tokens

    def grant(self, form, basic=None):
        """The token response. `basic`: the (client_id, secret) of an HTTP Basic header,
        which a client with credentials may send instead of form fields (RFC 6749 §2.3.1)."""
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self.codes.exchange(form.get("code"), form.get("client_id"), form.get("redirect_uri"),
                                       form.get("code_verifier"))
        if grant_type == "refresh_token":
            return self.tokens.refresh(form.get("refresh_token"), form.get("client_id"))
        if grant_type == "client_credentials":
            client_id, secret = basic or (form.get("client_id"), form.get("client_secret"))
            return self.tokens.client_token(client_id, secret)
        raise InvalidRequest("grant_type 不受支持")


def _error_at_client(params, error, description=None):
    query = {"error": error, "state": params["state"]}
    if description:
        query["error_description"] = description
    return f"{params['redirect_uri']}?{urlencode(query)}"
