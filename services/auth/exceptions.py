"""Errors particular to auth, each a flavour of a shared kind (common.errors)."""
from common.errors import Unauthenticated, ValidationError


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
