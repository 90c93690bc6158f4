"""Tokens: access and refresh pairs and their rotation, client and service tokens, and the
public keys and revocations every service's verifier syncs."""
import hmac
import time

from common.errors import NotFound, Unauthenticated
from services.auth import domain
from services.auth.exceptions import InvalidClient, InvalidGrant
from services.auth.settings import STAFF_CLIENT


class Tokens:
    def __init__(self, repo, keyring, settings):
        self.repo = repo
        self.keyring = keyring
        self.settings = settings  # AuthSettings: issuer, audience, lifetimes, clients

    # -- pairs -----------------------------------------------------------------------------
    def candidate_pair(self, candidate, client_id, family):
        """Tokens of a candidate signed in at the registration system; `family` names the
        session (the code that began it), which every rotated refresh token keeps."""
        body = domain.candidate_claims(candidate, sid=family, **self._claims())
        return self._pair(body, "candidate", client_id, family)

    def staff_pair(self, staff, family=None):
        """Staff tokens belong to the client `staff-web` (the staff pages; the CLI and
        scripts refresh through it too)."""
        family = family or domain.secret_hash(domain.new_secret())
        body = domain.staff_claims(staff, sid=family, **self._claims())
        return self._pair(body, "staff", STAFF_CLIENT, family)

    def refresh(self, refresh_token, client_id):
        """A new pair for a refresh token, used once: presenting a used one again means
        the rotation was broken (a copy was replayed), and its whole session ends."""
        now = time.time()
        token_hash = domain.secret_hash(refresh_token or "")
        record = self.repo.use_refresh(token_hash, now)
        if record is None:
            reused = self.repo.get_refresh(token_hash)
            if reused is not None:
                self.repo.drop_refresh_family(reused["family"])
            raise InvalidGrant("刷新令牌无效")
        if record["expires_at"] < now or record["client_id"] != client_id:
            raise InvalidGrant("刷新令牌无效")
        if record["kind"] == "candidate":
            candidate = self.repo.get_candidate(record["sub"])
            if candidate is None:
                raise InvalidGrant("账号不存在")
            return self.candidate_pair(candidate, client_id, family=record["family"])
        staff = self.repo.get_staff(record["sub"].removeprefix("staff:"))
        if staff is None or staff.get("disabled"):
            raise InvalidGrant("账号已停用")
        return self.staff_pair(staff, family=record["family"])

    def console_staff_tokens(self, username):
        """Tokens for a staff account without signing in: the operator console's and the
        test harness's (it takes auth's database; no entrypoint offers it)."""
        staff = self.repo.get_staff(username)
        if staff is None or staff.get("disabled"):
            raise NotFound("没有该账号")
        return self.staff_pair(staff)

    # -- tokens without a user ---------------------------------------------------------------
    def client_token(self, client_id, client_secret):
        """An outside system's access token (OAuth 2.0 client credentials, RFC 6749 §4.4):
        no refresh token, no user; the role its registration gives it."""
        client = self.settings.confidential_clients.get(str(client_id))
        if client is None or not client["secret"] or not hmac.compare_digest(
                str(client_secret or ""), client["secret"]):
            raise InvalidClient("客户端凭据无效")
        body = domain.claims(sub=f"client:{client_id}", role=client["role"], region="*", **self._claims())
        return self._access_only(body)

    def service_token(self, client_id, client_secret):
        expected_secret = self.settings.service_client_secret
        if not expected_secret or not (hmac.compare_digest(str(client_id), self.settings.service_client_id)
                                       and hmac.compare_digest(str(client_secret), expected_secret)):
            raise Unauthenticated("服务凭据无效")
        return self._access_only(domain.claims(sub=f"svc:{client_id}", role="service", **self._claims()))

    # -- what verifiers sync ---------------------------------------------------------------
    def jwks(self):
        return self.keyring.jwks()

    def token_state(self, since):
        now = time.time()
        return {"jwks": self.keyring.jwks(), "revoked": self.repo.revocations_since(since, now),
                "now": now}

    def _claims(self):
        return {"issuer": self.settings.issuer, "audience": self.settings.audience,
                "now": time.time(), "ttl": self.settings.access_ttl}

    def _pair(self, body, kind, client_id, family):
        refresh = domain.new_secret()
        self.repo.save_refresh(domain.secret_hash(refresh), {
            "family": family, "sub": body["sub"], "kind": kind, "client_id": client_id,
            "expires_at": time.time() + self.settings.refresh_ttl})
        return dict(self._access_only(body), refresh_token=refresh)

    def _access_only(self, body):
        return {"access_token": self.keyring.sign(body), "token_type": "Bearer",
                "expires_in": self.settings.access_ttl}
