"""The auth use cases: imports, sign-in, codes, tokens, revocation, staff.

Entrypoints in service.py validate transport details and call these methods; the rules
themselves live in domain.py, the database behind AuthRepository.
"""
import hmac
import logging
import os
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from eventlet import tpool
from eventlet.semaphore import Semaphore

from common.errors import Forbidden, NotFound, RateLimited, Unauthenticated, ValidationError
from services.auth import domain, second_factor
from services.auth.exceptions import InvalidClient, InvalidGrant, LoginFailed
from services.auth.repository import DuplicateIdNumber

log = logging.getLogger(__name__)

PREVIEW_LIMIT = 500  # changed rows listed in a preview (all are counted)

CANDIDATE_CLIENT, STAFF_CLIENT = "upload-web", "staff-web"


class Passwords:
    """argon2id off the event loop, at most `concurrency` at a time, at a lower CPU priority.

    argon2-cffi's defaults (RFC 9106: 64 MiB, 3 passes, 4 lanes) cost about 190 ms of CPU
    per sign-in here, by design. Unbounded, a burst of sign-ins would start a hash per
    request, each with 64 MiB and four threads, and take the cores from candidates who
    are uploading (tests/load/README.md). So hashes wait their turn, and their threads
    run at nice `NICE`: under load a sign-in waits longer, an upload does not; the cost
    of each guess for an attacker is unchanged."""

    NICE = 10

    def __init__(self, hasher=None, concurrency=2):
        self.hasher = hasher or PasswordHasher()
        self.slots = Semaphore(concurrency)
        # Verifying against this when the account does not exist keeps timing equal.
        self.dummy_hash = self.hasher.hash("timing-equaliser-not-a-password")

    def hash(self, password):
        return self._run(self.hasher.hash, password)

    def verify(self, password_hash, password):
        try:
            return self._run(self.hasher.verify, password_hash or self.dummy_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _run(self, function, *args):
        with self.slots:
            return tpool.execute(_at_lower_priority, self.NICE, function, *args)


def _at_lower_priority(nice, function, *args):
    """Run in a tpool thread. On Linux the nice value belongs to the thread (`who` 0 is
    the calling thread) and argon2's lane threads inherit it; it is only ever raised."""
    if os.getpriority(os.PRIO_PROCESS, 0) < nice:
        os.setpriority(os.PRIO_PROCESS, 0, nice)
    return function(*args)


class Authority:
    def __init__(self, repo, keyring, vault, passwords, settings):
        self.repo = repo
        self.keyring = keyring
        self.vault = vault
        self.passwords = passwords
        self.settings = settings

    # -- the registration system's feed ----------------------------------------------------
    def import_candidates(self, records, principal):
        summary = {"created": 0, "updated": 0, "unchanged": 0, "errors": []}
        for index, raw in enumerate(records):
            try:
                record = domain.parse_record(raw)
                self._check_import_scope(record, principal)
                summary[self._import_one(record)] += 1
            except domain.RecordInvalid as exc:
                summary["errors"].append({"index": index, "message": str(exc)})
            except DuplicateIdNumber:
                summary["errors"].append({"index": index, "message": "身份证号与其他报名号重复"})
        return summary

    def preview_import(self, rows, principal):
        """What importing `rows` [(row number, record)] would change, without changing it:
        per row created / updated (with the changed fields' names) / unchanged, or its
        error. Passwords are not compared (that costs a hash per row); ID numbers and
        phones are compared by their keyed hashes and never shown."""
        summary = {"rows": len(rows), "created": 0, "updated": 0, "unchanged": 0, "errors": [],
                   "changes": []}
        parsed, seen = [], set()
        for number, raw in rows:
            try:
                record = domain.parse_record(raw)
                self._check_import_scope(record, principal)
                if record.registration_number in seen:
                    raise domain.RecordInvalid("报名号在文件中重复")
                seen.add(record.registration_number)
                parsed.append((number, record))
            except domain.RecordInvalid as exc:
                summary["errors"].append(_row_error(number, raw, str(exc)))
        stored = self.repo.get_candidates([record.registration_number for _, record in parsed])
        for number, record in parsed:
            outcome = self._preview_one(record, stored.get(record.registration_number))
            if isinstance(outcome, str):
                summary["errors"].append(_row_error(number, {"registration_number": record.registration_number},
                                                    outcome))
                continue
            summary[outcome["action"]] += 1
            if outcome["action"] != "unchanged" and len(summary["changes"]) < PREVIEW_LIMIT:
                summary["changes"].append(dict(outcome, row=number,
                                               registration_number=record.registration_number))
        return summary

    def _preview_one(self, record, stored):
        id_hash = self.vault.lookup_hash("id_number", record.id_number)
        holder = self.repo.find_candidate_by_id_hash(id_hash)
        if holder is not None and holder["_id"] != record.registration_number:
            return "身份证号与其他报名号重复"
        if stored is None:
            return {"action": "created", "fields": [], "details": {}}
        fields = domain.changed_profile_fields(stored, record, self.vault.lookup_hash("phone", record.phone))
        details = {f: {"before": stored[f], "after": getattr(record, f)}
                   for f in ("region", "site", "category") if f in fields}
        for name in ("name", "exam_year"):
            if stored[name] != getattr(record, name):
                fields.append(name)
                details[name] = {"before": stored[name], "after": getattr(record, name)}
        if stored["id_number"]["hash"] != id_hash:
            fields.append("id_number")
        return {"action": "updated" if fields else "unchanged", "fields": fields, "details": details}

    def apply_import(self, rows, principal):
        """Import the rows through the feed's own path; errors name the file's rows."""
        summary = self.import_candidates([raw for _, raw in rows], principal)
        summary["errors"] = [_row_error(rows[e["index"]][0], rows[e["index"]][1], e["message"])
                             for e in summary["errors"]]
        return summary

    @staticmethod
    def _check_import_scope(record, principal):
        if principal.role != domain.REGISTRATION_ROLE and not principal.covers(record.region, record.site):
            raise domain.RecordInvalid("记录不属于您管理的考区或考点")

    def _import_one(self, record, attempts=3):
        for _ in range(attempts):
            stored = self.repo.get_candidate(record.registration_number)
            if stored is None:
                if self.repo.insert_candidate(self._new_candidate(record)):
                    return "created"
                continue
            changes, events = self._candidate_changes(stored, record)
            if not changes:
                return "unchanged"
            if self.repo.update_candidate(stored, changes, events):
                return "updated"
        raise domain.RecordInvalid("记录正被并发修改，请重试")

    def _new_candidate(self, record):
        rid = record.registration_number
        return {
            "_id": rid, "name": record.name, "region": record.region, "site": record.site,
            "category": record.category, "exam_year": record.exam_year,
            "id_number": self.vault.seal("id_number", record.id_number, rid),
            "phone": self.vault.seal("phone", record.phone, rid),
            "password_hash": record.password_hash or self.passwords.hash(record.password),
            "created_at": time.time(), "updated_at": time.time(), "outbox_n": 0}

    def _candidate_changes(self, stored, record):
        rid = record.registration_number
        phone_hash = self.vault.lookup_hash("phone", record.phone)
        changed = domain.changed_profile_fields(stored, record, phone_hash)
        changes = {field: getattr(record, field) for field in ("region", "site", "category")
                   if field in changed}
        if "phone" in changed:
            changes["phone"] = self.vault.seal("phone", record.phone, rid)
        if stored["name"] != record.name:
            changes["name"] = record.name
        if stored["exam_year"] != record.exam_year:
            changes["exam_year"] = record.exam_year
        if stored["id_number"]["hash"] != self.vault.lookup_hash("id_number", record.id_number):
            changes["id_number"] = self.vault.seal("id_number", record.id_number, rid)
        if record.password_hash and record.password_hash != stored["password_hash"]:
            changes["password_hash"] = record.password_hash
        elif record.password and not self.passwords.verify(stored["password_hash"], record.password):
            changes["password_hash"] = self.passwords.hash(record.password)
        events = [domain.profile_changed_event(record, changed)] if changed else []
        return changes, events

    # -- sign-in -------------------------------------------------------------------------
    def authenticate_candidate(self, username, password, address):
        username = (username or "").strip().upper()
        account = self.vault.lookup_hash("login", username)
        self._check_throttle(account, address)
        candidate = self.repo.get_candidate(username) or (
            self.repo.find_candidate_by_id_hash(self.vault.lookup_hash("id_number", username))
            if len(username) == 18 else None)
        return self._check_password(candidate, password, account, address)

    def authenticate_staff(self, username, password, otp, address):
        """A staff member's password and, for accounts with a second factor (every
        administrator), their current TOTP code or an unused recovery code. Throttled per
        account and per address like candidates' sign-in; a wrong code counts as a failure."""
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
        self._end_sessions(f"staff:{username}")
        return {"username": username, "secret": secret, "recovery_codes": codes,
                "otpauth_uri": second_factor.provisioning_uri(secret, username)}

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

    # -- staff administration ----------------------------------------------------------------
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
            self._end_sessions(f"staff:{username}")  # new scope applies from the next sign-in

    def second_factor_secret(self, username):
        """The stored TOTP secret (console use: the seed checks the demo admin's)."""
        staff = self.repo.get_staff(username) or {}
        enrolled = staff.get("otp")
        return self.vault.open("otp_secret", enrolled["secret"], username) if enrolled else None

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
        self._end_sessions(f"staff:{username}")

    def _end_sessions(self, sub):
        now = time.time()
        self.repo.drop_refresh_of_subject(sub)
        self.repo.revoke(sub=sub, issued_before=now, expires_at=now + self.settings["access_ttl"])

    # -- reads for other services ------------------------------------------------------------
    def contact(self, candidate_id):
        candidate = self._candidate(candidate_id)
        return {"candidate_id": candidate_id, "name": candidate["name"],
                "phone": self.vault.open("phone", candidate["phone"], candidate_id)}

    def profile(self, candidate_id):
        candidate = self._candidate(candidate_id)
        return {"candidate_id": candidate_id, "name": candidate["name"],
                "id_number_masked": candidate["id_number"]["masked"],
                "phone_masked": candidate["phone"]["masked"], "region": candidate["region"],
                "site": candidate["site"], "category": candidate["category"],
                "exam_year": candidate["exam_year"]}

    def _candidate(self, candidate_id):
        candidate = self.repo.get_candidate(str(candidate_id))
        if candidate is None:
            raise NotFound("没有该考生")
        return candidate


def _row_error(number, raw, message):
    """A per-row refusal that names the row and its registration number, never more."""
    rid = raw.get("registration_number") if isinstance(raw, dict) else None
    return {"row": number, "registration_number": str(rid or "")[:20], "message": message}


def _require_scope(principal, region):
    """A regional admin manages the staff of their own region only."""
    if principal is not None and not principal.is_national and (
            region != principal.region or not principal.whole_region):
        raise Forbidden("只能管理本考区的账号（须为全考区管理员）")


def _staff_view(staff):
    return {"username": staff["_id"], "role": staff["role"], "region": staff["region"],
            "sites": staff.get("sites") or [], "disabled": bool(staff.get("disabled")),
            "second_factor": bool(staff.get("otp"))}
