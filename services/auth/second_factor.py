"""Administrators' second factor: TOTP (RFC 6238: 30-second steps, 6 digits, SHA-1, as
every authenticator app reads it) and single-use recovery codes.

Pure functions over a base32 secret; the authority stores the secret encrypted, the last
step used (so a code cannot be replayed, not even within its own 30 seconds) and only
hashes of the recovery codes."""
import hmac
import secrets

import pyotp

STEP_S = 30
ISSUER = "医考材料审核"
RECOVERY_CODES = 10


def new_secret():
    return pyotp.random_base32()


def provisioning_uri(secret, username):
    """The otpauth:// URI an authenticator app scans (as a QR code) or accepts typed in."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def code_at(secret, step):
    return pyotp.TOTP(secret).at(step * STEP_S)


def matching_step(secret, code, now, drift_steps=1):
    """The time step whose code `code` is (the current one, or one step either side for a
    clock a little off), or None."""
    code = (code or "").strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    current = int(now // STEP_S)
    for step in range(current - drift_steps, current + drift_steps + 1):
        if hmac.compare_digest(code_at(secret, step), code):
            return step
    return None


def new_recovery_codes(count=RECOVERY_CODES):
    """`xxxx-xxxx-xxxx` codes (48 bits each; single use, and guesses are throttled like
    passwords), shown once at enrolment."""
    return ["-".join(secrets.token_hex(2) for _ in range(3)) for _ in range(count)]


def looks_like_recovery_code(value):
    value = (value or "").strip().lower()
    return len(value) == 14 and value.count("-") == 2
