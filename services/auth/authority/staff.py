"""Staff administration: accounts, their scope, second-factor enrolment, disabling."""
import time

from common.errors import Forbidden, NotFound, ValidationError
from services.auth import domain, second_factor


class StaffAdministration:
    def __init__(self, repo, vault, passwords, sessions):
        self.repo = repo
        self.vault = vault          # PiiVault: TOTP secrets are kept sealed
        self.passwords = passwords  # Passwords: argon2id
        self.sessions = sessions    # Sessions: a changed or disabled account is signed out

    def save_staff(self, username, role, region, sites, password=None, principal=None):
        """`principal` None here and below: an operator at the console (auth's CLI, the
        seed), who may manage any account."""
        _require_scope(principal, region)
        if not username or not username.replace(".", "").replace("_", "").isalnum():
            raise ValidationError("用户名只能包含字母、数字、点和下划线")
        try:
            domain.validate_staff_scope(role, region, sites)
        except domain.RecordInvalid as exc:
            raise ValidationError(str(exc)) from None
        existing = self.repo.get_staff(username)
        if existing is not None:
            _require_scope(principal, existing["region"])  # nor take over another region's account
        fields = {"role": role, "region": region, "sites": list(sites), "disabled": False,
                  "updated_at": time.time()}
        if password:
            fields["password_hash"] = self.passwords.hash(password)
        elif existing is None:
            raise ValidationError("新建账号须设置密码")
        self.repo.save_staff(username, fields)
        if existing is not None and (existing["role"], existing["region"], existing["sites"]) != (
                role, region, list(sites)):
            self.sessions.end_all(domain.token_subject("staff", username))

    def enrol_second_factor(self, username, principal=None, secret=None):
        """A new TOTP secret and recovery codes for `username`, replacing any before; the
        secret and codes are returned once (for the otpauth URI / QR code) and stored
        encrypted and hashed. (`secret`: the console's choice, for the demo admin.)"""
        staff = self.repo.get_staff(username)
        if staff is None:
            raise NotFound("没有该账号")
        _require_scope(principal, staff["region"])
        secret = secret or second_factor.new_secret()
        codes = second_factor.new_recovery_codes()
        self.repo.save_staff(username, {"otp": {
            "secret": self.vault.seal("otp_secret", secret, username), "last_step": 0,
            "recovery": {domain.secret_hash(code): True for code in codes}}})
        self.sessions.end_all(domain.token_subject("staff", username))
        return {"username": username, "secret": secret, "recovery_codes": codes,
                "otpauth_uri": second_factor.provisioning_uri(secret, username)}

    def list_staff(self, principal=None):
        """Accounts the principal may manage (a regional admin: their region's)."""
        return [_staff_view(s) for s in self.repo.list_staff()
                if principal is None or principal.is_national
                or (principal.whole_region and s["region"] == principal.region)]

    def disable_staff(self, username, principal=None):
        staff = self.repo.get_staff(username)
        if staff is None:
            raise NotFound("没有该账号")
        _require_scope(principal, staff["region"])
        self.repo.save_staff(username, {"disabled": True, "updated_at": time.time()})
        self.sessions.end_all(domain.token_subject("staff", username))

    # -- at the console (the seed, the test harness): no entrypoint offers these ------------
    def account(self, username):
        """The account as list_staff shows it, or None."""
        staff = self.repo.get_staff(username)
        return _staff_view(staff) if staff is not None else None

    def password_matches(self, username, password):
        staff = self.repo.get_staff(username) or {}
        return self.passwords.verify(staff.get("password_hash"), password)

    def second_factor_secret(self, username):
        """The stored TOTP secret (the seed checks the demo admin's)."""
        staff = self.repo.get_staff(username) or {}
        enrolled = staff.get("otp")
        return self.vault.open("otp_secret", enrolled["secret"], username) if enrolled else None


def _require_scope(principal, region):
    """A regional admin manages the staff of their own region only."""
    if principal is not None and not principal.is_national and (
            region != principal.region or not principal.whole_region):
        raise Forbidden("只能管理本考区的账号（须为全考区管理员）")


def _staff_view(staff):
    return {"username": staff["_id"], "role": staff["role"], "region": staff["region"],
            "sites": staff.get("sites") or [], "disabled": bool(staff.get("disabled")),
            "second_factor": bool(staff.get("otp"))}
