"""The stand-in's OpenID Provider, built on Authlib's authorization server: the
authorization code grant with PKCE required (RFC 7636) and OpenID Connect's code flow with
a required nonce. Our own code here is only what Authlib asks its user to supply: where
clients, codes and keys live, who the user is, and which claims the ID token carries.

Test misbehaviour: `Mischief` bends the next ID tokens the token endpoint answers with
(forged signature, expired, wrong audience, `alg: none`, a stale nonce), so that the
relying party's refusals are tested against the real flow (POST /_standin/mode).
"""
import base64
import json
import secrets
import threading
import time

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import jwt
from joserfc.jwk import RSAKey

ALG = "RS256"  # what OpenID Connect requires every provider to support
ID_TOKEN_TTL_S = 300
MISCHIEF = ("forged", "expired", "wrong_audience", "alg_none", "stale_nonce")


class Client(ClientMixin):
    """Our `auth` as a confidential client of the registration system."""

    def __init__(self, doc):
        self.doc = doc

    def get_client_id(self):
        return self.doc["_id"]

    def get_default_redirect_uri(self):
        return self.doc["redirect_uris"][0] if self.doc["redirect_uris"] else None

    def get_allowed_scope(self, scope):
        return " ".join(s for s in (scope or "").split() if s in ("openid", "profile"))

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.doc["redirect_uris"]

    def check_client_secret(self, client_secret):
        return bool(self.doc["secret"]) and secrets.compare_digest(str(client_secret), self.doc["secret"])

    def check_endpoint_auth_method(self, method, endpoint):
        return endpoint != "token" or method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


class Code:
    """A stored authorization code as Authlib's grant and extensions read it."""

    def __init__(self, doc):
        self.doc = doc
        self.code_challenge = doc.get("code_challenge")
        self.code_challenge_method = doc.get("code_challenge_method")

    def get_redirect_uri(self):
        return self.doc["redirect_uri"]

    def get_scope(self):
        return self.doc["scope"]

    def get_nonce(self):
        return self.doc.get("nonce")

    def get_auth_time(self):
        return self.doc.get("auth_time")

    def get_acr(self):
        return None

    def get_amr(self):
        return ["pwd"]

    def is_expired(self):
        return self.doc["expires_at"] < time.time()


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def validate_authorization_request(self):
        # DESIGN §4: PKCE on every request, also from a confidential client (Authlib's
        # CodeChallenge(required=True) insists only for public ones).
        if not self.request.payload.data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge'")
        return super().validate_authorization_request()

    def save_authorization_code(self, code, request):
        payload = request.payload
        self.server.standin.store.save_code(code, {
            "client_id": request.client.get_client_id(), "redirect_uri": payload.redirect_uri,
            "scope": request.scope, "user": request.user["_id"], "nonce": payload.data.get("nonce"),
            "code_challenge": payload.data.get("code_challenge"),
            "code_challenge_method": payload.data.get("code_challenge_method"),
            "auth_time": int(request.user.get("auth_time") or time.time())})

    def query_authorization_code(self, code, client):
        found = self.server.standin.store.take_code(code, client.get_client_id())
        return Code(found) if found else None

    def delete_authorization_code(self, authorization_code):
        pass  # taken (removed) when it was looked up: a code is good once

    def authenticate_user(self, authorization_code):
        return self.server.standin.store.account(authorization_code.doc["user"])


class IdTokens(OpenIDCode):
    """ID tokens: the 报名号 as `sub`, signed with the stand-in's key."""

    def __init__(self, standin):
        super().__init__(require_nonce=True)
        self.standin = standin

    def exists_nonce(self, nonce, request):
        return self.standin.store.nonce_used(request.payload.client_id, nonce)

    def resolve_client_private_key(self, client):
        return self.standin.key

    def get_client_algorithm(self, client):
        return ALG

    def get_encode_header(self, client):
        return {"alg": ALG, "kid": self.standin.key.kid, "typ": "JWT"}

    def get_client_claims(self, client):
        now = int(time.time())
        return {"iss": self.standin.issuer, "aud": [client.get_client_id()], "iat": now,
                "exp": now + ID_TOKEN_TTL_S}

    def generate_user_info(self, user, scope):
        info = UserInfo(sub=user["_id"])
        if "profile" in scope.split():
            info["name"] = user["name"]
        return info

    def process_token(self, grant, response):
        token = super().process_token(grant, response)
        nonce = grant.request.authorization_code.get_nonce()
        if nonce:
            self.standin.store.spend_nonce(grant.request.client.get_client_id(), nonce)
        if "id_token" in token:
            token["id_token"] = self.standin.mischief.bend(token["id_token"], self.standin.key)
        return token


class Mischief:
    """What the next ID tokens should get wrong (tests only; "ok" when nothing)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.kind, self.remaining = "ok", 0
        self.last_nonce = None

    def set(self, kind, times=1):
        if kind != "ok" and kind not in MISCHIEF:
            raise ValueError(kind)
        with self._lock:
            self.kind, self.remaining = kind, int(times)

    def describe(self):
        return {"id_token": self.kind, "remaining": self.remaining}

    def _take(self):
        with self._lock:
            if self.kind == "ok" or self.remaining <= 0:
                return "ok"
            self.remaining -= 1
            kind = self.kind
            if not self.remaining:
                self.kind = "ok"
            return kind

    def bend(self, id_token, key):
        header = json.loads(_b64d(id_token.split(".")[0]))
        claims = json.loads(_b64d(id_token.split(".")[1]))
        stale, self.last_nonce = self.last_nonce, claims.get("nonce")
        kind = self._take()
        if kind == "ok":
            return id_token
        now = int(time.time())
        if kind == "forged":  # the right kid, another key's signature
            key = RSAKey.generate_key(2048, private=True)
        elif kind == "expired":
            claims.update(iat=now - 900, exp=now - 600)
        elif kind == "wrong_audience":
            claims["aud"] = ["another-client"]
        elif kind == "stale_nonce":
            claims["nonce"] = stale or "never-issued"
        elif kind == "alg_none":
            unsigned = dict(header, alg="none")
            return f"{_b64e(json.dumps(unsigned))}.{_b64e(json.dumps(claims))}."
        return jwt.encode(header, claims, key, algorithms=[ALG])


def _b64d(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _b64e(text):
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def make_server(app, standin):
    def query_client(client_id):
        doc = standin.store.client(client_id)
        return Client(doc) if doc else None

    server = AuthorizationServer(app, query_client=query_client, save_token=lambda token, request: None)
    server.standin = standin
    server.register_grant(CodeGrant, [CodeChallenge(required=True), IdTokens(standin)])
    return server


def signing_key(store):
    doc = store.signing_key(lambda: RSAKey.generate_key(
        2048, parameters={"use": "sig", "alg": ALG}, private=True, auto_kid=True).as_dict(private=True))
    return RSAKey.import_key(doc)


def discovery(issuer):
    metadata = OpenIDProviderMetadata({
        "issuer": issuer, "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token", "jwks_uri": f"{issuer}/jwks.json",
        "response_types_supported": ["code"], "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ALG], "scopes_supported": ["openid", "profile"],
        "grant_types_supported": ["authorization_code"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"], "claims_supported": ["sub", "name"],
        "ui_locales_supported": ["zh-CN"]})
    metadata.validate()
    return dict(metadata)
