"""Staff sign-in (passwords, the second factor, throttling) and OAuth 2.0 authorization
codes with PKCE (issue and exchange), for staff and for candidates signed in at the
registration system (authority/federation.py)."""
import time

from common.errors import RateLimited
from services.auth import domain, second_factor
from services.auth.exceptions import InvalidGrant, LoginFailed


class SignIn:
    """Part of Authority (its repo, vault, passwords and settings; tokens from `Tokens`)."""

    # -- sign-in -------------------------------------------------------------------------
    def authenticate_staff(self, username, password, otp, address):
        """A staff member's password and, for accounts with a second factor (every
        administrator), their current TOTP code or an unused recovery code. Throttled per
        account and per address; a wrong code counts as a failure."""
        username = (username or "").strip()
        account = self.vault.lookup_hash("login", f"staff:{username}")
        self._check_throttle(account, address)
        staff = self.repo.get_staff(username)
        if staff is not None and staff.get("disabled"):
            staff = None
        staff = self._check_password(staff, password, account, address)
        if staff["role"] == "admin" or staff.get("otp"):
            self._check_second_factor(staff, otp, account, address)
        return staff

    def _check_second_factor(self, staff, otp, account, address):
        enrolled = staff.get("otp")
        if not enrolled:
            raise LoginFailed("管理员账号须先绑定动态验证码，请联系上级管理员")
        if not otp:
            raise LoginFailed("请输入动态验证码")
        secret = self.vault.open("otp_secret", enrolled["secret"], staff["_id"])
        step = second_factor.matching_step(secret, otp, time.time())
        if step is not None:
            if self.repo.use_otp_step(staff["_id"], step):
                return
        elif second_factor.looks_like_recovery_code(otp):
            if self.repo.use_recovery_code(staff["_id"], domain.secret_hash(otp.strip().lower())):
                return
        self.repo.add_failure(account, address, time.time())
        raise LoginFailed("动态验证码错误或已使用")


    def _check_throttle(self, account, address):
        since = time.time() - domain.FAILURE_WINDOW_S
        if domain.throttled(self.repo.count_failures("account", account, since),
                            self.repo.count_failures("address", address, since)):
            raise RateLimited("登录失败次数过多，请15分钟后再试", retry_after=domain.FAILURE_WINDOW_S)

    def _check_password(self, subject, password, account, address):
        # The same work whether or not the account exists: no oracle by answer or time.
        ok = self.passwords.verify(subject["password_hash"] if subject else None, password or "")
        if not ok or subject is None:
            self.repo.add_failure(account, address, time.time())
            raise LoginFailed()
        self.repo.clear_failures(account)
        return subject

    # -- authorization codes ---------------------------------------------------------------
    def client_redirects(self, client_id):
        return self.settings["clients"].get(client_id)

    def issue_code(self, subject, client_id, redirect_uri, challenge, kind="candidate"):
        """A code for a signed-in candidate or (kind "staff") staff member."""
        code = domain.new_secret()
        now = time.time()
        self.repo.save_code(domain.secret_hash(code), {
            "client_id": client_id, "redirect_uri": redirect_uri, "challenge": challenge,
            "sub": subject["_id"], "kind": kind, "expires_at": now + domain.CODE_TTL_S,
            "created_at": now})
        return code

    def exchange_code(self, code, client_id, redirect_uri, verifier):
        now = time.time()
        code_hash = domain.secret_hash(code or "")
        grant = self.repo.redeem_code(code_hash, now)
        if grant is None:
            self._void_reused_code(code_hash)
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
            return self._staff_pair(staff, family=code_hash)
        candidate = self.repo.get_candidate(grant["sub"])
        if candidate is None:
            raise InvalidGrant("账号不存在")
        return self._candidate_pair(candidate, client_id, family=code_hash)

    def _void_reused_code(self, code_hash):
        """A code presented twice may be stolen: end the session it started (RFC 6749 §4.1.2)."""
        grant = self.repo.get_code(code_hash)
        if grant is not None and grant.get("used"):
            self.repo.drop_refresh_family(code_hash)
            self.repo.revoke(sub=grant["sub"], issued_before=time.time(),
                             expires_at=time.time() + self.settings["access_ttl"])
