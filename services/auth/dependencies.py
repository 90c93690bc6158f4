"""Adapters of the auth service: the Authority with its database, keys and vault, and
the token verifier that reads auth's own state instead of calling itself over RPC."""
from common.mongo import MongoDependency
from common.security import TokenAuth
from common.wiring import sibling
from services.auth.authority import Authority, Passwords
from services.auth.keys import KeyRing
from services.auth.pii import PiiVault
from services.auth.provider import OpenIdProvider
from services.auth.provider import settings_from as provider_settings
from services.auth.repository import AuthRepository


def settings_from(config):
    tokens = config["TOKENS"]
    public_url = config.get("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
    redirects = [f"{public_url}/callback", *config.get("OAUTH_EXTRA_REDIRECTS", [])]
    staff_redirects = [f"{public_url}/staff/callback", *config.get("OAUTH_EXTRA_STAFF_REDIRECTS", [])]
    return {
        "issuer": tokens["ISSUER"], "audience": tokens["AUDIENCE"],
        "access_ttl": int(tokens["ACCESS_TTL"]), "refresh_ttl": int(tokens["REFRESH_TTL"]),
        "service_client": (tokens["SERVICE_CLIENT_ID"], tokens["SERVICE_CLIENT_SECRET"]),
        "clients": {"upload-web": redirects, "staff-web": staff_redirects},
        # Outside systems with client credentials; an empty secret leaves one disabled.
        "confidential_clients": {"registration-system": {
            "secret": str((config.get("CLIENTS") or {}).get("REGISTRATION_SYSTEM_SECRET") or ""),
            "role": "registration"}},
        # the card's end is judged against this month-day of the candidate's exam year
        "exam_day": str((config.get("AUTH") or {}).get("EXAM_DAY", "08-20")),
        # the registration system, our OpenID Provider (FEDERATION in config.yaml)
        "federation": provider_settings(config, public_url),
    }


class AuthorityProvider(MongoDependency):
    service = "auth"
    repository_class = AuthRepository

    def setup(self):
        super().setup()
        config = self.container.config
        self.keyring = KeyRing(config["TOKENS"]["KEYS_DIR"], config["TOKENS"]["ACTIVE_KID"])
        self.vault = PiiVault(config["PII"]["ENCRYPTION_KEY"], config["PII"]["HASH_KEY"])
        self.passwords = Passwords.from_config(config)
        self.settings = settings_from(config)
        # One per instance: its discovery document and the provider's keys are kept here.
        self.provider = OpenIdProvider(**self.settings["federation"])

    def make(self):
        return Authority(AuthRepository(self.db), self.keyring, self.vault, self.passwords,
                         self.settings, self.provider)

    def get_dependency(self, worker_ctx):
        return self.make()


class LocalTokenAuth(TokenAuth):
    def __init__(self, authority):
        self.authority = authority  # the AuthorityProvider (attribute name) it reads

    def setup(self):
        super().setup()
        self._provider = sibling(self, self.authority, AuthorityProvider)

    def _authority(self):
        return self._provider.make()

    def fetch_state(self, since):
        return self._authority().token_state(since)

    def issue_service_token(self):
        return self._authority().service_token(self._client_id, self._client_secret)
