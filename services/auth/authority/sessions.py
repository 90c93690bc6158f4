"""Ending sessions: sign-out (RFC 7009), every session of an account whose scope changed
or was disabled, and the session a replayed authorization code began.

A session is a refresh-token family (its tokens rotate, the family stays); its access
tokens cannot be recalled, so they are revoked by `jti` or by subject until they expire,
and every service's verifier learns of it (Tokens.token_state)."""
import time

from common.errors import Unauthenticated
from services.auth import domain


class Sessions:
    def __init__(self, repo, access_ttl):
        self.repo = repo
        self.access_ttl = access_ttl  # a revocation is kept while a token it names may live

    def sign_out(self, principal, refresh_token=None, unreadable=None):
        """POST /auth/logout. `principal`: the Bearer token's, or None when it is missing or
        expired; `refresh_token`: the one the body names; `unreadable`: the ValidationError
        the body gave instead, raised after the header's session has ended."""
        if unreadable is not None:
            # The header's token names the session even when the body cannot be read:
            # end that session, then say what was wrong with the body.
            if principal is not None:
                self._end_signed_in(principal)
            raise unreadable
        if principal is None:
            # Holding the refresh token is proof enough to end its session (RFC 7009).
            if not (refresh_token and self._end_refresh_session(refresh_token)):
                raise Unauthenticated()
            return
        self._end_signed_in(principal, refresh_token)

    def end_all(self, sub):
        """Every session of `sub` (a staff account re-scoped, given a new second factor or
        disabled): the new scope applies from the next sign-in."""
        self.repo.drop_refresh_of_subject(sub)
        self._revoke_subject(sub)

    def end_stolen(self, family, sub):
        """The session a code presented twice began: the code may be stolen (RFC 6749
        §4.1.2), so neither its refresh tokens nor the subject's access tokens stay good."""
        self.repo.drop_refresh_family(family)
        self._revoke_subject(sub)

    def _end_signed_in(self, principal, refresh_token=None):
        self.repo.revoke(jti=principal.jti, expires_at=principal.exp)
        families = {principal.sid} if principal.sid else set()
        if refresh_token:
            record = self.repo.get_refresh(domain.secret_hash(refresh_token))
            if record is not None and record["sub"] == principal.sub:
                families.add(record["family"])
        for family in families:
            self.repo.drop_refresh_family(family)

    def _end_refresh_session(self, refresh_token):
        """End the session a refresh token belongs to; False if it names none."""
        record = self.repo.get_refresh(domain.secret_hash(refresh_token))
        if record is None:
            return False
        self.repo.drop_refresh_family(record["family"])
        return True

    def _revoke_subject(self, sub):
        now = time.time()
        self.repo.revoke(sub=sub, issued_before=now, expires_at=now + self.access_ttl)
