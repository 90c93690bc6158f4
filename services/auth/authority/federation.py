"""Federated candidate sign-in (DESIGN §4 Auth): `auth` is the registration system's
relying party. The page's own OAuth request (client upload-web, PKCE) is kept while the
candidate signs in and consents there; when the provider's answer holds up, the page gets
one of our authorization codes, exactly as a sign-in here used to give it."""
import hmac
import time
from urllib.parse import urlencode

from services.auth import domain
from services.auth.exceptions import FederationRefused, NotArrived, ProviderUnavailable

KEPT_S = 3600  # how long an answered or expired flow is kept, to recognise a replayed state


class FederatedSignIn:
    def __init__(self, repo, provider, codes):
        self.repo = repo
        self.provider = provider  # OpenIdProvider: the registration system (provider.py)
        self.codes = codes        # AuthorizationCodes: what the page gets in the end

    def begin(self, page, browser):
        """(the provider's authorization URL for the page's request `page`, its validated
        OAuth parameters; the secret of the browser's cookie, which must come back with the
        answer: `browser` if it had one, else a new one). ProviderUnavailable when the
        provider cannot be asked."""
        self.provider.metadata()
        browser = browser or domain.new_secret()
        state, nonce, verifier = domain.new_secret(), domain.new_secret(), domain.new_secret()
        now = time.time()
        self.repo.save_flow(domain.secret_hash(state), {
            "nonce": nonce, "verifier": verifier, "browser": domain.secret_hash(browser),
            "page": {key: page[key] for key in ("client_id", "redirect_uri", "state", "code_challenge")},
            "created_at": now, "expires_at": now + domain.FLOW_TTL_S})
        return self.provider.authorization_url(state, nonce, domain.s256(verifier)), browser

    def finish(self, state, code, error, browser):
        """Where the browser goes next: the page's redirect URI with our code and its state
        (or the provider's refusal as an OAuth error). Each flow is answered once."""
        flow = self.repo.use_flow(domain.secret_hash(state or ""), time.time())
        if flow is None:
            raise FederationRefused("登录请求无效或已使用，请回到材料上传页面重新登录")
        if flow["expires_at"] < time.time():
            raise FederationRefused("登录请求已过期，请回到材料上传页面重新登录")
        if not browser or not hmac.compare_digest(flow["browser"], domain.secret_hash(browser)):
            raise FederationRefused("登录请求与当前浏览器不符，请回到材料上传页面重新登录")
        page = flow["page"]
        if error:
            return _to_page(page, error=domain.provider_error(error))
        try:
            tokens = self.provider.exchange(code, flow["verifier"])
            claims = self.provider.verify_id_token(tokens["id_token"], flow["nonce"])
        except ProviderUnavailable as exc:
            exc.retry = retry_url(page)  # this flow is spent; the page's own request is not
            raise
        candidate = self.repo.get_candidate(claims["sub"])
        if candidate is None:
            raise NotArrived()
        code = self.codes.issue(candidate, page["client_id"], page["redirect_uri"], page["code_challenge"])
        return _to_page(page, code=code)

    def purge_expired(self):
        self.repo.purge_flows(time.time() - KEPT_S)


def retry_url(page):
    """Our authorization endpoint again with the page's own request (its PKCE and state)."""
    return "/auth/authorize?" + urlencode({
        "response_type": "code", "client_id": page["client_id"], "redirect_uri": page["redirect_uri"],
        "state": page["state"], "code_challenge": page["code_challenge"], "code_challenge_method": "S256"})


def _to_page(page, **query):
    return f"{page['redirect_uri']}?{urlencode(dict(query, state=page['state']))}"
