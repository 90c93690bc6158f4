"""OAuth 2.0 authorization codes with PKCE (RFC 6749 §4.1, RFC 7636): issued to a staff
member signed in here or a candidate signed in at the registration system, exchanged
once for tokens."""
import time

from services.auth import domain
from services.auth.exceptions import InvalidGrant

KEPT_S = 3600  # how long a spent or expired code is kept, to recognise it presented again


class AuthorizationCodes:
    def __init__(self, repo, tokens, sessions):
        self.repo = repo
        self.tokens = tokens      # Tokens: the pair a code is exchanged for
        self.sessions = sessions  # Sessions: a code presented twice ends what it began

    def issue(self, subject, client_id, redirect_uri, challenge, kind="candidate"):
        """A code for a signed-in candidate or (kind "staff") staff member."""
        code = domain.new_secret()
        now = time.time()
        self.repo.save_code(domain.secret_hash(code), {
            "client_id": client_id, "redirect_uri": redirect_uri, "challenge": challenge,
            "sub": subject["_id"], "kind": kind, "expires_at": now + domain.CODE_TTL_S,
            "created_at": now})
        return code

    def exchange(self, code, client_id, redirect_uri, verifier):
        """The token pair for a code, once; its client, redirect URI and PKCE verifier
        must be those it was issued for."""
        now = time.time()
        code_hash = domain.secret_hash(code or "")
        grant = self.repo.redeem_code(code_hash, now)
        if grant is None:
            self._void_reused(code_hash)
            raise InvalidGrant("授权码无效或已使用")
        if grant["expires_at"] < now:
            raise InvalidGrant("授权码已过期")
        if grant["client_id"] != client_id or grant["redirect_uri"] != redirect_uri:
            raise InvalidGrant("授权码与客户端不匹配")
        if not domain.pkce_matches(verifier, grant["challenge"]):
            raise InvalidGrant("code_verifier 校验失败")
        if grant.get("kind") == "staff":
            staff = self.repo.get_staff(grant["sub"])
            if staff is None or staff.get("disabled"):
                raise InvalidGrant("账号已停用")
            return self.tokens.staff_pair(staff, family=code_hash)
        candidate = self.repo.get_candidate(grant["sub"])
        if candidate is None:
            raise InvalidGrant("账号不存在")
        return self.tokens.candidate_pair(candidate, client_id, family=code_hash)

    def purge_expired(self):
        self.repo.purge_codes(time.time() - KEPT_S)

    def _void_reused(self, code_hash):
        grant = self.repo.get_code(code_hash)
        if grant is not None and grant.get("used"):
            self.sessions.end_stolen(code_hash, domain.token_subject(grant.get("kind"), grant["sub"]))
