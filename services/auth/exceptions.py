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
