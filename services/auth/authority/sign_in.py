"""Staff sign-in: passwords, the second factor, throttling per account and per address.
(Candidates sign in at the registration system: authority/federation.py.)"""
import time

from common.errors import RateLimited
from services.auth import domain, second_factor
from services.auth.exceptions import LoginFailed


class StaffSignIn:
    def __init__(self, repo, vault, passwords, tokens):
        self.repo = repo
        self.vault = vault          # PiiVault: accounts' keyed hashes, sealed TOTP secrets
        self.passwords = passwords  # Passwords: argon2id, bounded
        self.tokens = tokens        # Tokens: the pair of POST /auth/staff/login

    def login(self, username, password, otp, address):
        """POST /auth/staff/login (scripts and the CLI): tokens straight away."""
        return self.tokens.staff_pair(self.authenticate(username, password, otp, address))

    def authenticate(self, username, password, otp, address):
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

    def purge_expired(self):
        self.repo.purge_failures(time.time() - domain.FAILURE_WINDOW_S)

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
