"""The registration system as our OpenID Provider (DESIGN §4 Auth), seen from `auth`, its
confidential client: its discovery document, its authorization endpoint, the code
exchange at its token endpoint, and the ID token checked against its published keys.

The ID token is checked by PyJWT (signature against the provider's JWKS through
`PyJWKClient`, which also refetches the set when a new `kid` appears; `iss`, `aud`, `exp`,
`iat` required and checked) with the algorithms the provider announces, limited to
asymmetric ones, so `alg: none` and HMAC tokens are refused whatever the header says. The
rest (our nonce, a fresh `iat`, `azp`, `sub` a 报名号) is domain.id_token_problem.

The code exchange is one form POST (RFC 6749 §4.1.3, client_secret_basic, PKCE's
code_verifier) with `requests`, whose timeouts and errors we map ourselves: no answer or
a 5xx is ProviderUnavailable (a 503 page), a refusal is FederationRefused."""
import logging
import threading
import time
from urllib.parse import urlencode

import jwt
import requests

from services.auth import domain
from services.auth.exceptions import FederationRefused, ProviderUnavailable

log = logging.getLogger(__name__)

ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
METADATA_TTL_S = 300
REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat", "nonce"]


class OpenIdProvider:
    """One per auth instance (the RegistrationSystem provider): it keeps the discovery
    document and the provider's keys between requests."""

    def __init__(self, issuer, client_id, client_secret, redirect_uri, timeout):
        self.issuer, self.client_id, self.client_secret = issuer, client_id, client_secret
        self.redirect_uri, self.timeout = redirect_uri, timeout
        self._lock = threading.Lock()
        self._metadata, self._until, self._keys, self._algorithms = None, 0.0, None, ()

    @classmethod
    def from_settings(cls, settings):
        """From AuthSettings' FEDERATION keys."""
        return cls(settings.federation_issuer.rstrip("/"), settings.federation_client_id,
                   settings.federation_client_secret, settings.federation_redirect_uri,
                   settings.federation_timeout_s)

    # -- discovery --------------------------------------------------------------------------
    def metadata(self):
        """The discovery document (kept METADATA_TTL_S); ProviderUnavailable without one."""
        if self._metadata is not None and time.monotonic() < self._until:
            return self._metadata
        if not (self.issuer and self.client_id and self.client_secret):
            log.error("FEDERATION.ISSUER, CLIENT_ID and CLIENT_SECRET must be set for candidates to sign in")
            raise ProviderUnavailable()
        url = f"{self.issuer}/.well-known/openid-configuration"
        try:
            response = requests.get(url, timeout=self.timeout)
            document = response.json() if response.status_code == 200 else None
        except (requests.RequestException, ValueError) as exc:
            log.warning("registration system discovery failed: %s", type(exc).__name__)
            raise ProviderUnavailable() from None
        if not isinstance(document, dict) or document.get("issuer") != self.issuer or not all(
                isinstance(document.get(k), str) for k in ("authorization_endpoint", "token_endpoint", "jwks_uri")):
            # OpenID Connect Discovery §4.3: the document must name the issuer we asked.
            log.error("registration system discovery document unusable (HTTP %s)", response.status_code)
            raise ProviderUnavailable()
        algorithms = tuple(a for a in document.get("id_token_signing_alg_values_supported") or ["RS256"]
                           if a in ASYMMETRIC)
        with self._lock:
            if self._keys is None or self._metadata.get("jwks_uri") != document["jwks_uri"]:
                self._keys = jwt.PyJWKClient(document["jwks_uri"], cache_keys=True, lifespan=METADATA_TTL_S,
                                             timeout=self.timeout)
            self._metadata, self._algorithms = document, algorithms
            self._until = time.monotonic() + METADATA_TTL_S
        return document

    def authorization_url(self, state, nonce, challenge):
        query = urlencode({"response_type": "code", "client_id": self.client_id,
                           "redirect_uri": self.redirect_uri, "scope": "openid", "state": state,
                           "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256"})
        return f"{self.metadata()['authorization_endpoint']}?{query}"

    # -- the answer -------------------------------------------------------------------------
    def exchange(self, code, verifier):
        """The token response for `code` (with its id_token)."""
        if not code:
            raise FederationRefused("报名系统未返回授权码，请重新登录")
        endpoint = self.metadata()["token_endpoint"]
        try:
            response = requests.post(endpoint, auth=(self.client_id, self.client_secret), timeout=self.timeout, data={
                "grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri,
                "code_verifier": verifier})
        except requests.RequestException as exc:
            log.warning("registration system token endpoint failed: %s", type(exc).__name__)
            raise ProviderUnavailable() from None
        if response.status_code >= 500:
            raise ProviderUnavailable()
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or not isinstance(body.get("id_token"), str):
            log.warning("registration system refused the code: HTTP %s %s", response.status_code,
                        str(body.get("error"))[:40] if isinstance(body, dict) else "")
            raise FederationRefused("授权码无效或已使用，请重新登录")
        return body

    def verify_id_token(self, id_token, nonce):
        """The ID token's claims, once signature, iss, aud, exp, iat, nonce and sub hold."""
        self.metadata()
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.InvalidTokenError:
            raise _refused("malformed") from None
        if header.get("alg") not in self._algorithms:
            raise _refused(f"alg {str(header.get('alg'))[:10]}")
        try:
            key = self._keys.get_signing_key_from_jwt(id_token)
        except jwt.PyJWKClientConnectionError:
            raise ProviderUnavailable() from None
        except (jwt.PyJWKClientError, jwt.InvalidTokenError):
            raise _refused("unknown key") from None
        try:
            claims = jwt.decode(id_token, key.key, algorithms=list(self._algorithms), audience=self.client_id,
                                issuer=self.issuer, leeway=domain.CLOCK_LEEWAY_S,
                                options={"require": REQUIRED_CLAIMS})
        except jwt.InvalidTokenError as exc:
            raise _refused(type(exc).__name__) from None
        problem = domain.id_token_problem(claims, nonce, self.client_id, time.time())
        if problem:
            raise _refused(problem)
        return claims


def _refused(reason):
    log.warning("ID token refused: %s", reason)  # the reason only: never the token or its subject
    return FederationRefused("报名系统的登录凭证无效或已过期，请重新登录")
