"""Tokens: access and refresh pairs, their rotation, client and service tokens, and
revocation (logout, the token state every service syncs)."""
import hmac
import time

from common.errors import NotFound, Unauthenticated
from services.auth import domain
from services.auth.exceptions import InvalidClient, InvalidGrant

CANDIDATE_CLIENT, STAFF_CLIENT = "upload-web", "staff-web"


class Tokens:
    """Part of Authority (its repo, keyring and settings; staff sign-in from `SignIn`)."""

    def refresh(self, refresh_token, client_id):
        now = time.time()
        token_hash = domain.secret_hash(refresh_token or "")
        record = self.repo.use_refresh(token_hash, now)
        if record is None:
            reused = self.repo.get_refresh(token_hash)
            if reused is not None:  # rotation broken: someone replayed an old token
                self.repo.drop_refresh_family(reused["family"])
            raise InvalidGrant("刷新令牌无效")
        if record["expires_at"] < now or record["client_id"] != client_id:
            raise InvalidGrant("刷新令牌无效")
        if record["kind"] == "candidate":
            candidate = self.repo.get_candidate(record["sub"])
            if candidate is None:
                raise InvalidGrant("账号不存在")
            return self._candidate_pair(candidate, client_id, family=record["family"])
        staff = self.repo.get_staff(record["sub"].removeprefix("staff:"))
        if staff is None or staff.get("disabled"):
            raise InvalidGrant("账号已停用")
        return self._staff_pair(staff, family=record["family"])

    # -- token pairs -----------------------------------------------------------------------
    def _common_claims(self):
        return {"issuer": self.settings["issuer"], "audience": self.settings["audience"],
                "now": time.time(), "ttl": self.settings["access_ttl"]}

    def _candidate_pair(self, candidate, client_id, family):
        body = domain.candidate_claims(candidate, sid=family, **self._common_claims())
        return self._pair(body, "candidate", client_id, family)

    def _staff_pair(self, staff, family=None):
        """Staff tokens belong to the client `staff-web` (the staff pages; the CLI and
        scripts refresh through it too)."""
        family = family or domain.secret_hash(domain.new_secret())
        body = domain.staff_claims(staff, sid=family, **self._common_claims())
        return self._pair(body, "staff", STAFF_CLIENT, family)

    def _pair(self, body, kind, client_id, family):
        refresh = domain.new_secret()
        self.repo.save_refresh(domain.secret_hash(refresh), {
            "family": family, "sub": body["sub"], "kind": kind, "client_id": client_id,
            "expires_at": time.time() + self.settings["refresh_ttl"]})
        return {"access_token": self.keyring.sign(body), "token_type": "Bearer",
                "expires_in": self.settings["access_ttl"], "refresh_token": refresh}

    def login_staff(self, username, password, otp, address):
        return self._staff_pair(self.authenticate_staff(username, password, otp, address))

    def console_staff_tokens(self, username):
        """Tokens for a staff account without signing in: the operator console's and the
        test harness's (it takes auth's database; no entrypoint offers it)."""
        staff = self.repo.get_staff(username)
        if staff is None or staff.get("disabled"):
            raise NotFound("没有该账号")
        return self._staff_pair(staff)

    def client_token(self, client_id, client_secret):
        """An outside system's access token (OAuth 2.0 client credentials, RFC 6749 §4.4):
        no refresh token, no user; the role its registration gives it."""
        client = self.settings["confidential_clients"].get(str(client_id))
        if client is None or not client["secret"] or not hmac.compare_digest(
                str(client_secret or ""), client["secret"]):
            raise InvalidClient("客户端凭据无效")
        body = domain.claims(sub=f"client:{client_id}", role=client["role"], region="*",
                             **self._common_claims())
        return {"access_token": self.keyring.sign(body), "token_type": "Bearer",
                "expires_in": self.settings["access_ttl"]}

    def service_token(self, client_id, client_secret):
        expected_id, expected_secret = self.settings["service_client"]
        if not expected_secret or not (hmac.compare_digest(str(client_id), expected_id)
                and hmac.compare_digest(str(client_secret), expected_secret)):
            raise Unauthenticated("服务凭据无效")
        body = domain.claims(sub=f"svc:{client_id}", role="service", **self._common_claims())
        return {"access_token": self.keyring.sign(body), "token_type": "Bearer",
                "expires_in": self.settings["access_ttl"]}

    # -- revocation ------------------------------------------------------------------------
    def logout(self, principal, refresh_token=None):
        self.repo.revoke(jti=principal.jti, expires_at=principal.exp)
        families = set()
        if refresh_token:
            record = self.repo.get_refresh(domain.secret_hash(refresh_token))
            if record is not None and record["sub"] == principal.sub:
                families.add(record["family"])
        if principal.sid:
            families.add(principal.sid)
        for family in families:
            self.repo.drop_refresh_family(family)

    def end_refresh_session(self, refresh_token):
        """End the session a refresh token belongs to; False if it names none."""
        record = self.repo.get_refresh(domain.secret_hash(refresh_token))
        if record is None:
            return False
        self.repo.drop_refresh_family(record["family"])
        return True

    def token_state(self, since):
        now = time.time()
        return {"jwks": self.keyring.jwks(), "revoked": self.repo.revocations_since(since, now),
                "now": now}

