"""Every key of the configuration auth reads, declared once with its type and default
(common/settings.py; `load(AuthSettings, config)`). config.yaml says which environment variable sets each; a key left
out or empty takes the default here. The providers load this in setup(); nothing else
in auth reads the configuration (common/ reads MONGO, AMQP_URI and TOKENS for every
service alike)."""
from dataclasses import dataclass

from common.settings import SettingError, setting
from services.auth import domain

# The OAuth clients that are pages of ours: their only redirect is on our own origin
# (DESIGN §4 Auth: the page's redirect is /callback).
CANDIDATE_CLIENT, STAFF_CLIENT = "upload-web", "staff-web"
REDIRECT_PATHS = {CANDIDATE_CLIENT: "/callback", STAFF_CLIENT: "/staff/callback"}


@dataclass(frozen=True)
class AuthSettings:
    public_url: str = setting("PUBLIC_URL", str, "http://127.0.0.1:8000")

    # Access tokens (ES256 with the key ACTIVE_KID of KEYS_DIR) and refresh tokens.
    issuer: str = setting("TOKENS.ISSUER", str, "https://exam.local/auth")
    audience: str = setting("TOKENS.AUDIENCE", str, "exam-materials")
    keys_dir: str = setting("TOKENS.KEYS_DIR", str, "var/keys")
    active_kid: str = setting("TOKENS.ACTIVE_KID", str, "dev-1")
    access_ttl: int = setting("TOKENS.ACCESS_TTL", int, 900, minimum=1)
    refresh_ttl: int = setting("TOKENS.REFRESH_TTL", int, 1_209_600, minimum=1)
    # The services' own identity (client credentials); empty: no service tokens at all.
    service_client_id: str = setting("TOKENS.SERVICE_CLIENT_ID", str, "services")
    service_client_secret: str = setting("TOKENS.SERVICE_CLIENT_SECRET", str, "")

    # The national registration system as an OAuth client; empty: no such client.
    registration_system_secret: str = setting("CLIENTS.REGISTRATION_SYSTEM_SECRET", str, "")

    # The registration system as the candidates' OpenID Provider (provider.py).
    federation_issuer: str = setting("FEDERATION.ISSUER", str, "")
    federation_client_id: str = setting("FEDERATION.CLIENT_ID", str, "")
    federation_client_secret: str = setting("FEDERATION.CLIENT_SECRET", str, "")
    # Empty: <PUBLIC_URL>/auth/federation/callback (federation_redirect_uri below).
    federation_callback: str = setting("FEDERATION.REDIRECT_URI", str, "")
    federation_timeout_s: float = setting("FEDERATION.TIMEOUT_S", float, 5.0, minimum=0.1)

    # ID numbers and phones at rest (pii.py); no usable default: production injects them.
    pii_encryption_key: str = setting("PII.ENCRYPTION_KEY", str, "")
    pii_hash_key: str = setting("PII.HASH_KEY", str, "")

    # argon2id (passwords.py): hashes at once per instance, and each one's cost (RFC
    # 9106's low-memory choice, argon2-cffi's own default; the tests set the cheapest).
    hash_concurrency: int = setting("AUTH.HASH_CONCURRENCY", int, 2, minimum=1)
    hash_time_cost: int = setting("AUTH.HASH_TIME_COST", int, 3, minimum=1)
    hash_memory_kib: int = setting("AUTH.HASH_MEMORY_KIB", int, 65_536, minimum=8)
    hash_parallelism: int = setting("AUTH.HASH_PARALLELISM", int, 4, minimum=1)
    # The written exam's month-day: an ID card ending before it is flagged (review's check).
    exam_day: str = setting("AUTH.EXAM_DAY", str, "08-20")

    def __post_init__(self):
        # A month-day that is no date would fail every ID card comparison: fail the start.
        try:
            domain.exam_date(2000, self.exam_day)
        except (TypeError, ValueError):
            raise SettingError(f"AUTH.EXAM_DAY must be MM-DD, not {self.exam_day!r}") from None

    @property
    def redirects(self):
        """{client_id: [redirect URI]}: each of our pages' one callback on our origin."""
        origin = self.public_url.rstrip("/")
        return {client: [origin + path] for client, path in REDIRECT_PATHS.items()}

    @property
    def confidential_clients(self):
        """Outside systems with client credentials: {client_id: {secret, role}}."""
        return {"registration-system": {"secret": self.registration_system_secret,
                                        "role": domain.REGISTRATION_ROLE}}

    @property
    def federation_redirect_uri(self):
        return self.federation_callback or f"{self.public_url.rstrip('/')}/auth/federation/callback"
