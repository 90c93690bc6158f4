"""The auth use cases: imports, sign-in, codes, tokens, revocation, staff.

Entrypoints in service.py validate transport details and call these methods; the rules
themselves live in domain.py, the database behind AuthRepository. One concern a module,
combined into one `Authority` over the same repository, keys, vault and settings:
`candidates` (the registration system's feed, reads for other services), `federation`
(candidates sign in at the registration system, our OpenID Provider), `sign_in` (staff
passwords, second factor, throttling, authorization codes), `tokens` (pairs, refresh,
client and service tokens, revocation), `staff` (administration), `passwords` (argon2id,
staff only: no candidate password is kept here).
"""
from services.auth.authority.candidates import CandidateDirectory
from services.auth.authority.federation import FederatedSignIn
from services.auth.authority.passwords import Passwords  # noqa: F401 (authority.Passwords)
from services.auth.authority.sign_in import SignIn
from services.auth.authority.staff import StaffAdministration
from services.auth.authority.tokens import CANDIDATE_CLIENT, STAFF_CLIENT, Tokens  # noqa: F401


class Authority(CandidateDirectory, FederatedSignIn, SignIn, Tokens, StaffAdministration):
    def __init__(self, repo, keyring, vault, passwords, settings, provider=None):
        self.repo = repo
        self.keyring = keyring
        self.vault = vault
        self.passwords = passwords
        self.settings = settings
        self.provider = provider  # the registration system (services/auth/provider.py)
