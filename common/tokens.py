"""Access-token verification every service does locally (DESIGN §5).

Tokens are ES256 JWTs signed by `auth`. A service verifies them with public keys it
fetched from `auth` once (refetched when an unknown `kid` shows up, so keys can rotate
without downtime) and checks revocations it polls every couple of seconds, so a logout
stops a token everywhere within about two poll intervals, with no RPC per request.

Refused outright: any algorithm but ES256 (so `alg: none` and HS256-with-the-public-key
confusion fail), unknown `kid`, wrong `iss`/`aud`, missing claims, expiry. The `jku`,
`x5u` and `jwk` headers are never consulted: keys only ever come from `auth`.
"""
import logging
import time
from dataclasses import dataclass, field

import jwt

from common.errors import Forbidden, Unauthenticated, Unavailable

log = logging.getLogger(__name__)

ALGORITHMS = ["ES256"]
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "jti", "sub", "role"]
ROLES = ("candidate", "reviewer", "admin", "service", "registration")
LEEWAY_S = 5


@dataclass(frozen=True)
class Principal:
    sub: str
    role: str
    jti: str
    exp: int
    iat: float
    region: str | None = None
    sites: tuple = field(default_factory=tuple)
    name: str | None = None
    sid: str | None = None
    claims: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_national(self):
        return self.role == "admin" and self.region in (None, "*")

    def covers(self, region, site):
        """Whether this staff member may act on a package at (region, site)."""
        if self.role == "service":
            return True
        if self.is_national:
            return True
        if self.role not in ("reviewer", "admin") or self.region != region:
            return False
        return self.whole_region or site in self.sites

    def area(self):
        """What this staff member sees, as a filter on documents that carry `region` and
        `site` (review's cases, notify's messages): everything for the nation, their
        region, or only their sites of it; so a list never shows what `covers` would
        refuse to open."""
        if self.is_national:
            return {}
        if self.whole_region:
            return {"region": self.region}
        return {"region": self.region, "site": {"$in": list(self.sites)}}

    @property
    def whole_region(self):
        """Staff of a whole region: "*" for sites, or an administrator named no sites
        (an administrator with sites administers those sites only)."""
        return self.is_national or "*" in self.sites or (self.role == "admin" and not self.sites)


class KeySet:
    """Public keys by kid, built from a JWKS document."""

    def __init__(self, jwks=None):
        self.keys = {}
        if jwks:
            self.load(jwks)

    def load(self, jwks):
        keys = {}
        for jwk in jwks.get("keys", []):
            if jwk.get("kty") != "EC" or jwk.get("alg", "ES256") not in ALGORITHMS:
                continue
            keys[jwk["kid"]] = jwt.PyJWK(jwk, algorithm="ES256").key
        self.keys = keys

    def get(self, kid):
        return self.keys.get(kid)


class RevocationSet:
    """Revoked token ids and subjects, each remembered until the tokens it kills expire."""

    def __init__(self):
        self._jti = {}      # jti -> expires_at
        self._subject = {}  # sub -> tokens issued at or before this instant are dead

    def add(self, entry):
        expires = entry.get("expires_at", time.time() + 3600)
        if entry.get("jti"):
            self._jti[entry["jti"]] = expires
        if entry.get("sub"):
            before = entry.get("issued_before", time.time())
            self._subject[entry["sub"]] = max(before, self._subject.get(entry["sub"], 0))

    def is_revoked(self, claims):
        if claims.get("jti") in self._jti:
            return True
        before = self._subject.get(claims.get("sub"))
        return before is not None and claims.get("iat", 0) <= before

    def prune(self, now=None):
        now = now or time.time()
        self._jti = {k: v for k, v in self._jti.items() if v > now}


def decode(token, keys, issuer, audience, revocations=None, now=None):
    """Verify `token` and return its Principal, or raise Unauthenticated."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Unauthenticated() from None
    if header.get("alg") not in ALGORITHMS:
        raise Unauthenticated()
    key = keys.get(header.get("kid"))
    if key is None:
        raise Unauthenticated()
    try:
        claims = jwt.decode(
            token, key, algorithms=ALGORITHMS, audience=audience, issuer=issuer,
            leeway=LEEWAY_S, options={"require": REQUIRED_CLAIMS})
    except jwt.PyJWTError:
        raise Unauthenticated() from None
    if claims["role"] not in ROLES:
        raise Unauthenticated()
    if revocations is not None and revocations.is_revoked(claims):
        raise Unauthenticated()
    return Principal(
        sub=claims["sub"], role=claims["role"], jti=claims["jti"], exp=claims["exp"],
        iat=claims["iat"], region=claims.get("region"), sites=tuple(claims.get("sites") or ()),
        name=claims.get("name"), sid=claims.get("sid"), claims=claims)


def bearer(value):
    """The token of an `Authorization: Bearer …` value, or None."""
    if not value or not isinstance(value, str):
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def require_role(principal, *roles):
    if roles and principal.role not in roles:
        raise Forbidden()
    return principal


class TokenState:
    """What a verifier knows: keys, revocations, and when it last heard from auth."""

    def __init__(self, issuer, audience):
        self.issuer = issuer
        self.audience = audience
        self.keys = KeySet()
        self.revocations = RevocationSet()
        self.synced_at = None
        self.cursor = 0.0

    def apply(self, state):
        if state.get("jwks"):
            self.keys.load(state["jwks"])
        for entry in state.get("revoked", []):
            self.revocations.add(entry)
        self.revocations.prune()
        self.cursor = state.get("now", self.cursor)
        self.synced_at = time.time()

    def verify(self, token):
        if token is None:
            raise Unauthenticated()
        if self.synced_at is None:
            # Never heard from auth since start: cannot tell good tokens from bad.
            raise Unavailable("身份认证服务暂时不可用，请稍后再试")
        return decode(token, self.keys, self.issuer, self.audience, self.revocations)
