"""The one place auth's use cases are built (cosmicpython's bootstrap): each gets what it
uses as an argument, so what calls what is read here. The service's AuthUseCases provider
builds them for every worker from the resources its providers hold; the operator console
(cli.py: bootstrap, the seed, the test harness) builds them the same way."""
from dataclasses import dataclass

from services.auth.authority.candidates import CandidateDirectory
from services.auth.authority.codes import AuthorizationCodes
from services.auth.authority.federation import FederatedSignIn
from services.auth.authority.oauth import AuthorizationRequests, TokenRequests
from services.auth.authority.sessions import Sessions
from services.auth.authority.sign_in import StaffSignIn
from services.auth.authority.staff import StaffAdministration
from services.auth.authority.tokens import Tokens


@dataclass(frozen=True)
class UseCases:
    candidates: CandidateDirectory
    federation: FederatedSignIn
    authorization: AuthorizationRequests
    token_requests: TokenRequests
    sign_in: StaffSignIn
    codes: AuthorizationCodes
    tokens: Tokens
    sessions: Sessions
    staff: StaffAdministration


def build(repo, keyring, vault, passwords, provider, settings):
    """auth's use cases over its database (AuthRepository), signing keys (KeyRing), PII
    vault (PiiVault), password hasher (Passwords), the registration system
    (OpenIdProvider) and its AuthSettings."""
    tokens = Tokens(repo, keyring, settings)
    sessions = Sessions(repo, settings.access_ttl)
    codes = AuthorizationCodes(repo, tokens, sessions)
    sign_in = StaffSignIn(repo, vault, passwords, tokens)
    return UseCases(
        candidates=CandidateDirectory(repo, vault, settings.exam_day),
        federation=FederatedSignIn(repo, provider, codes),
        authorization=AuthorizationRequests(settings.redirects, sign_in, codes),
        token_requests=TokenRequests(codes, tokens),
        sign_in=sign_in, codes=codes, tokens=tokens, sessions=sessions,
        staff=StaffAdministration(repo, vault, passwords, sessions))
