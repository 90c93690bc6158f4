"""Auth rules, free of I/O: candidate records, profile changes, PKCE, throttling, claims."""
import base64
import hashlib
import hmac
import math
import re
import secrets
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date

from common import categories, idnumber
from common.events import CandidateProfileChanged

ACCESS_ROLES = ("candidate", "reviewer", "admin", "service", "registration")  # common.tokens.ROLES
# The national registration system's role (an OAuth client of its own, DESIGN §5): it
# feeds candidates of every region and reads region settings, nothing else.
REGISTRATION_ROLE = "registration"
STAFF_ROLES = ("reviewer", "admin")
PROFILE_FIELDS = ("region", "site", "category", "phone")
# Exam category codes a record may carry (common/categories.py, whose names materials'
# catalogue shows); a record may give the name instead, as the registration system's
# files write it.
CATEGORIES = frozenset(categories.NAMES)

FAILURE_WINDOW_S = 15 * 60
ACCOUNT_FAILURE_LIMIT = 5
ADDRESS_FAILURE_LIMIT = 20
CODE_TTL_S = 60

_REGISTRATION = re.compile(r"^\d{10,20}$")
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
_PHONE = re.compile(r"^1[3-9]\d{9}$")
_REGION = re.compile(r"^\d{2}$")
_SITE = re.compile(r"^\d{4}$")
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


class RecordInvalid(ValueError):
    """A record refused, with every reason found (`messages`), not only the first."""

    def __init__(self, *messages):
        self.messages = list(messages)
        super().__init__("；".join(self.messages))


def valid_id_number(value):
    return idnumber.is_valid(value)


@dataclass(frozen=True)
class CandidateRecord:
    registration_number: str
    name: str
    id_number: str
    phone: str
    region: str
    site: str
    category: str
    exam_year: int


# Candidates sign in at the registration system (DESIGN §1, §4 Auth): a record that carries
# a password of any kind is refused whole, so that no copy of one is ever stored here.
PASSWORD_FIELDS = ("password", "password_hash")
PASSWORD_REFUSED = "记录不得包含密码或密码哈希（password / password_hash）：考生使用报名系统账号授权登录，本系统不接收、不保存考生密码"


def parse_record(raw):
    """Validate one record of the registration system's feed."""
    if not isinstance(raw, dict):
        raise RecordInvalid("记录格式错误")
    if any(str(raw.get(key) or "").strip() for key in PASSWORD_FIELDS):
        raise RecordInvalid(PASSWORD_REFUSED)
    text = {key: str(raw.get(key) or "").strip() for key in (
        "registration_number", "name", "id_number", "phone", "region", "site", "category",
        "exam_year")}
    text["id_number"] = text["id_number"].upper()
    category = categories.code_of(text["category"])  # the code, or the name as files write it
    checks = [
        (_REGISTRATION.match(text["registration_number"]), "报名号格式错误"),
        (0 < len(text["name"]) <= 50, "姓名缺失或过长"),
        (valid_id_number(text["id_number"]), "身份证号格式错误"),
        (_PHONE.match(text["phone"]), "手机号格式错误"),
        (_REGION.match(text["region"]), "考区代码格式错误"),
        (_SITE.match(text["site"]) and text["site"].startswith(text["region"]), "考点代码格式错误"),
        (category in CATEGORIES,
         f"考试类别未知：{text['category'][:30] or '（空）'}（可填写：{categories.accepted()}）"),
        (text["exam_year"].isdigit() and 2000 < int(text["exam_year"]) < 2100, "考试年度错误"),
    ]
    failed = [message for ok, message in checks if not ok]
    if failed:
        raise RecordInvalid(*failed)
    return CandidateRecord(
        registration_number=text["registration_number"], name=text["name"],
        id_number=text["id_number"], phone=text["phone"], region=text["region"],
        site=text["site"], category=category, exam_year=int(text["exam_year"]))


def changed_profile_fields(stored, record, phone_hash):
    """Names of the profile fields the new record changes (phones compared by hash)."""
    new = {"region": record.region, "site": record.site, "category": record.category,
           "phone": phone_hash}
    old = {"region": stored["region"], "site": stored["site"], "category": stored["category"],
           "phone": stored["phone"]["hash"]}
    return [name for name in PROFILE_FIELDS if old[name] != new[name]]


def profile_changed_event(record, changed):
    return CandidateProfileChanged(candidate_id=record.registration_number, changed=changed,
                                   region=record.region, site=record.site,
                                   category=record.category)


# -- OAuth 2.0 with PKCE (RFC 6749, RFC 7636) ------------------------------------------
def s256(verifier):
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def pkce_matches(verifier, challenge):
    if not verifier or not _VERIFIER.match(verifier):
        return False
    return hmac.compare_digest(s256(verifier), challenge)


def valid_challenge(challenge):
    return bool(challenge) and re.fullmatch(r"[A-Za-z0-9\-_]{43}", challenge) is not None


def request_error(params):
    """What the client is told at its redirect URI about its authorization request
    (RFC 6749 §4.1.2.1) as (error, description), or None: code flow with PKCE S256 only."""
    if params["response_type"] != "code":
        return "unsupported_response_type", None
    if params["code_challenge_method"] != "S256" or not valid_challenge(params["code_challenge"]):
        return "invalid_request", "PKCE S256 required"
    return None


def csrf_matches(cookie, field):
    """The staff form's hidden token is its cookie's (login CSRF, RFC 9700 §4.7.1); any
    text, compared in constant time (hmac.compare_digest refuses non-ASCII str)."""
    return bool(cookie) and hmac.compare_digest(cookie.encode(), (field or "").encode())


def new_secret():
    return secrets.token_urlsafe(32)


def secret_hash(secret):
    """Codes and refresh tokens are stored hashed: a database dump yields no token."""
    return hashlib.sha256(secret.encode()).hexdigest()


# -- federated sign-in: the registration system's ID token (DESIGN §4 Auth) --------------
FLOW_TTL_S = 600          # from our redirect to the provider until its answer comes back
ID_TOKEN_MAX_AGE_S = 600  # an ID token issued longer ago than this is not a fresh sign-in
CLOCK_LEEWAY_S = 60
PROVIDER_ERRORS = {"access_denied": "access_denied"}  # what the page is told; anything else: server_error


def id_token_problem(claims, nonce, client_id, now):
    """Why the ID token's claims cannot sign anyone in (None when they can), beyond what
    the JWT library checked (signature, iss, aud, exp, iat's form): our nonce, a fresh iat,
    the authorised party when there are several audiences, and a 报名号 as sub."""
    if not isinstance(claims.get("nonce"), str) or not hmac.compare_digest(claims["nonce"], nonce):
        return "nonce"
    iat = claims.get("iat")
    if not isinstance(iat, (int, float)) or iat < now - ID_TOKEN_MAX_AGE_S or iat > now + CLOCK_LEEWAY_S:
        return "iat"
    audiences = claims["aud"] if isinstance(claims.get("aud"), list) else [claims.get("aud")]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        return "azp"
    if not isinstance(claims.get("sub"), str) or not _REGISTRATION.match(claims["sub"]):
        return "sub"
    return None


def provider_error(error):
    """The OAuth error the page is told when the provider refused (RFC 6749 §4.1.2.1)."""
    return PROVIDER_ERRORS.get(error, "server_error")


# -- throttling -------------------------------------------------------------------------
def throttled(account_failures, address_failures):
    return (account_failures >= ACCOUNT_FAILURE_LIMIT
            or address_failures >= ADDRESS_FAILURE_LIMIT)


# -- access-token claims ----------------------------------------------------------------
def claims(*, sub, role, issuer, audience, now, ttl, region=None, sites=(), **extra):
    # iat to the millisecond (RFC 7519 allows a fractional NumericDate): "tokens issued
    # before T are revoked" must not catch a token issued later within the same second.
    # Rounded down, so a token issued before T never appears to come after it.
    body = {"iss": issuer, "aud": audience, "iat": math.floor(now * 1000) / 1000, "nbf": int(now),
            "exp": int(now) + int(ttl), "jti": uuid.uuid4().hex, "sub": sub, "role": role,
            "region": region, "sites": list(sites)}
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def candidate_claims(candidate, **common):
    return claims(sub=candidate["_id"], role="candidate", region=candidate["region"],
                  sites=[candidate["site"]], name=candidate["name"],
                  category=candidate["category"], exam_year=candidate["exam_year"], **common)


def token_subject(kind, subject_id):
    """The `sub` of the tokens of a candidate (the 报名号) or (kind "staff") a staff member,
    whose name is kept apart from any 报名号."""
    return f"staff:{subject_id}" if kind == "staff" else subject_id


def staff_claims(staff, **common):
    return claims(sub=token_subject("staff", staff["_id"]), role=staff["role"], region=staff["region"],
                  sites=staff.get("sites") or [], name=staff["_id"], **common)


def validate_staff_scope(role, region, sites):
    if role not in STAFF_ROLES:
        raise RecordInvalid("角色须为reviewer或admin")
    if role == "admin":
        if region != "*" and not _REGION.match(region or ""):
            raise RecordInvalid("管理员须指定考区或全国(*)")
        if region == "*" and sites:
            raise RecordInvalid("全国管理员不限考点")
        _check_sites(region, sites)  # none: the whole region; some: those sites only
        return
    if not _REGION.match(region or ""):
        raise RecordInvalid("审核员须指定考区")
    if not sites:
        raise RecordInvalid("审核员须指定考点或整个考区(*)")
    _check_sites(region, sites)


def _check_sites(region, sites):
    for site in sites:
        if site != "*" and not (_SITE.match(site) and site.startswith(region)):
            raise RecordInvalid(f"考点{site}不属于考区{region}")


# -- the ID card cross-check (review's reader asks; issue 21) ---------------------------------
MATCH, MISMATCH, UNREADABLE = "match", "mismatch", "unreadable"
LONG_TERM = "long_term"


def _name_key(name):
    # Full-width forms and the dots of minority names vary between systems; spaces never count.
    text = unicodedata.normalize("NFKC", name or "")
    return re.sub(r"[\s·.•・]", "", text)


def number_verdict(read, same_as_registered):
    """A number without a right check character was not read; the reader sends no doubtful one."""
    if not read or not idnumber.is_valid(read):
        return UNREADABLE
    return MATCH if same_as_registered else MISMATCH


def name_verdict(read, registered):
    if not _name_key(read):
        return UNREADABLE
    return MATCH if _name_key(read) == _name_key(registered) else MISMATCH


def exam_date(exam_year, exam_day):
    """The exam's date in `exam_year`; `exam_day` is its month-day, "MM-DD" (AUTH.EXAM_DAY)."""
    month, day = (int(part) for part in exam_day.split("-"))
    return date(int(exam_year), month, day)


def expired_by(expires, exam_on):
    """Whether the card ends before the exam (None: the validity period was not read)."""
    if expires == LONG_TERM:
        return False
    try:
        return date.fromisoformat(expires) < exam_on if expires else None
    except (TypeError, ValueError):
        return None
