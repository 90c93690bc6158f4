"""Errors particular to auth, each a flavour of a shared kind (common.errors)."""
from common.errors import Unauthenticated, Unavailable, ValidationError


class LoginFailed(Unauthenticated):
    """Same answer for an unknown account and a wrong password."""
    code, message = "login_failed", "账号或密码错误"


class InvalidGrant(ValidationError):
    """RFC 6749 §5.2 `invalid_grant`, in DESIGN's error envelope."""
    code, message = "invalid_grant", "授权无效，请重新登录"


class InvalidClient(ValidationError):
    code, message = "invalid_client", "客户端或回调地址无效"


class InvalidRequest(ValidationError):
    code, message = "invalid_request", "请求参数有误"


class FederationRefused(ValidationError):
    """The registration system's answer did not hold up (a forged, expired or misaddressed
    ID token, a replayed state, nonce or code): no session, a Chinese error page."""
    code, message = "federation_refused", "报名系统的授权无效，请重新登录"


class NotArrived(ValidationError):
    """A valid sign-in for a 报名号 our directory does not hold (yet)."""
    code, message = "registration_not_arrived", "您的报名信息尚未同步到材料上传系统"


class ProviderUnavailable(Unavailable):
    """The registration system did not answer: a 503 page offering to try again."""
    message = "报名系统暂时无法访问，请稍后重试"
    retry_after = 5


# -- the authorization endpoint (authority/oauth.py): pages, not JSON ----------------------
class BackToClient(ValidationError):
    """A fault the client is told of at its own redirect URI (RFC 6749 §4.1.2.1): the
    browser goes to `location`, which carries `error` and the client's state."""
    code = "invalid_request"

    def __init__(self, location):
        super().__init__()
        self.location = location


class FormExpired(ValidationError):
    """The staff form came back without the CSRF token its cookie holds (RFC 9700 §4.7.1)."""
    code, message = "form_expired", "页面已过期，请重新登录"


class StaffFormOnly(ValidationError):
    """A candidate's client posted to the staff form: candidates sign in at the
    registration system."""
    code, message = "staff_only", "考生请使用报名系统账号授权登录：请回到材料上传页面重新登录"
