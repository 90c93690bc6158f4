"""Adapters of the auth service, one provider per resource, each built in setup() from
AuthSettings: its database, its signing keys, the PII vault, the password hasher, the
registration system. AuthUseCases builds the use cases over them for every worker
(bootstrap.build), and LocalTokenAuth reads auth's own token state through them instead
of calling itself over RPC."""
from nameko.extensions import DependencyProvider

from common.mongo import MongoDependency
from common.security import TokenAuth
from common.settings import load
from common.wiring import sibling
from services.auth import bootstrap
from services.auth.keys import KeyRing
from services.auth.passwords import Passwords
from services.auth.pii import PiiVault
from services.auth.provider import OpenIdProvider
from services.auth.repository import AuthRepository
from services.auth.settings import AuthSettings


class AuthDatabase(MongoDependency):
    """The `auth` database, as an AuthRepository."""
    service = "auth"
    repository_class = AuthRepository


class Resource(DependencyProvider):
    """A client made once per container from AuthSettings by `make(settings)`."""

    def setup(self):
        self.client = self.make(load(AuthSettings, self.container.config))

    def get_dependency(self, worker_ctx):
        return self.client


class SigningKeys(Resource):
    """The keys access tokens are signed with (TOKENS.KEYS_DIR, ACTIVE_KID)."""
    make = staticmethod(KeyRing.from_settings)


class Vault(Resource):
    """ID numbers, phones and TOTP secrets at rest (PII.*)."""
    make = staticmethod(PiiVault.from_settings)


class PasswordHashing(Resource):
    """argon2id, at most AUTH.HASH_CONCURRENCY at once per instance: one per container."""
    make = staticmethod(Passwords.from_settings)


class RegistrationSystem(Resource):
    """The candidates' OpenID Provider (FEDERATION.*); it keeps its discovery document
    and keys between requests, so one per container."""
    make = staticmethod(OpenIdProvider.from_settings)


class AuthUseCases(DependencyProvider):
    """bootstrap.UseCases for each worker, over the resources the service declares (each
    argument: the attribute name of the sibling provider, common/wiring.py)."""

    def __init__(self, database, keys, vault, passwords, registration_system):
        self.database, self.keys, self.vault = database, keys, vault
        self.passwords, self.registration_system = passwords, registration_system

    def setup(self):
        self.settings = load(AuthSettings, self.container.config)
        self._database = sibling(self, self.database, AuthDatabase)
        self._keys = sibling(self, self.keys, SigningKeys)
        self._vault = sibling(self, self.vault, Vault)
        self._passwords = sibling(self, self.passwords, PasswordHashing)
        self._registration_system = sibling(self, self.registration_system, RegistrationSystem)

    def build(self, worker_ctx=None):
        return bootstrap.build(self._database.get_dependency(worker_ctx), self._keys.client,
                               self._vault.client, self._passwords.client,
                               self._registration_system.client, self.settings)

    def get_dependency(self, worker_ctx):
        return self.build(worker_ctx)


class LocalTokenAuth(TokenAuth):
    def __init__(self, use_cases):
        self.use_cases = use_cases  # the AuthUseCases (attribute name) whose tokens it reads

    def setup(self):
        super().setup()
        self._use_cases = sibling(self, self.use_cases, AuthUseCases)

    def fetch_state(self, since):
        return self._use_cases.build().tokens.token_state(since)

    def issue_service_token(self):
        return self._use_cases.build().tokens.service_token(self._client_id, self._client_secret)
