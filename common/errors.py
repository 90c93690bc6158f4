"""The error vocabulary of DESIGN §4 and §5, in one place.

Every refusal a user can see is one of these classes. Each carries its HTTP status,
its stable `code` and a Chinese message that says what to do. Over RPC, nameko reports
the class name as `exc_type`, and DESIGN §5 fixes that name to one of seven, so every
HTTP-specific error subclasses one of the RPC kinds and `for_rpc()` maps it back.
"""
import math


class AppError(Exception):
    status = 500
    code = "internal_error"
    message = "系统繁忙，请稍后再试"
    retry_after = None  # seconds a client should wait before trying again (HTTP Retry-After)

    def __init__(self, message=None, retry_after=None, **details):
        self.message = message or self.message
        self.details = details
        if retry_after is not None:
            self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(self.message)

    def to_body(self):
        body = {"code": self.code, "message": self.message}
        body.update(self.details)
        return {"error": body}


# -- the kinds that cross RPC (DESIGN §5; Unavailable is defined below) ---------
class Unauthenticated(AppError):
    status, code, message = 401, "unauthenticated", "登录已失效，请重新登录"


class Forbidden(AppError):
    status, code, message = 403, "forbidden", "无权访问"


class NotFound(AppError):
    status, code, message = 404, "not_found", "未找到"


class Conflict(AppError):
    status, code, message = 409, "conflict", "操作冲突，请刷新后重试"


class InvalidTransition(AppError):
    status, code, message = 409, "invalid_transition", "当前状态不允许此操作"


class ValidationError(AppError):
    status, code, message = 400, "bad_request", "请求参数有误"




# -- HTTP refusals of DESIGN §4, each a flavour of an RPC kind --------------------
class UploadDisabled(Forbidden):
    code, message = "upload_disabled", "本考区未开通网上上传材料"


class UploadClosed(Forbidden):
    code, message = "upload_closed", "当前不在本考区的材料上传时间内"


class ConsentRequired(Forbidden):
    code, message = "consent_required", "请先阅读并同意《个人信息处理告知书》后再上传"


class PackageLocked(InvalidTransition):
    code, message = "package_locked", "材料已提交审核，内容已锁定，不能修改"


class ItemLocked(InvalidTransition):
    code, message = "item_locked", "该类材料已锁定，不能修改"


class SlotFull(Conflict):
    code, message = "slot_full", "该类材料已达到上传数量上限，请先删除再上传"


class FileTooLarge(ValidationError):
    status, code, message = 413, "file_too_large", "图片大小超过200KB，请压缩后重新上传"


class UnsupportedFormat(ValidationError):
    status, code, message = 415, "unsupported_format", "仅支持jpg、jpeg、png格式的图片"


class ImageCorrupt(ValidationError):
    status, code, message = 422, "image_corrupt", "图片已损坏或无法识别，请重新拍摄或扫描后上传"


class ImageRotated(ValidationError):
    status, code, message = 422, "image_rotated", "图片方向不正，请将图片摆正（不得旋转或翻转）后上传"


class ImageTooSmall(ValidationError):
    status, code, message = 422, "image_too_small", "图片分辨率过低，请上传更清晰的图片"


class ImageUnclear(ValidationError):
    status, code, message = 422, "image_unclear", "图片模糊不清，请重新拍摄清晰的图片后上传"


class MissingMaterials(ValidationError):
    status, code, message = 422, "missing_materials", "还有必传材料未上传，请补齐后再提交"


class MethodNotAllowed(ValidationError):
    status, code, message = 405, "method_not_allowed", "该地址不支持此请求方法"


class ReturnedUnchanged(ValidationError):
    status, code, message = 422, "returned_unchanged", "退回修改的材料尚未更换，请更换后再提交"


class RateLimited(AppError):
    status, code, message = 429, "rate_limited", "操作过于频繁，请稍后再试"
    retry_after = 60


class Unavailable(AppError):
    status, code, message = 503, "unavailable", "服务暂时不可用，请稍后再试"
    # Long enough that clients retrying in step do not pile onto a recovering server.
    retry_after = 5


# An outage is not a conflict: a client must tell "someone else holds this case" from
# "try again later" (DESIGN §5).
RPC_KINDS = (Unauthenticated, Forbidden, NotFound, Conflict, InvalidTransition, ValidationError,
             Unavailable)

HTTP_CODES = {cls.code: cls for cls in (
    Unauthenticated, Forbidden, NotFound, Conflict, InvalidTransition, ValidationError,
    UploadDisabled, UploadClosed, ConsentRequired, PackageLocked, ItemLocked, SlotFull,
    FileTooLarge, UnsupportedFormat, ImageCorrupt, ImageRotated, ImageTooSmall,
    ImageUnclear, MissingMaterials, ReturnedUnchanged, MethodNotAllowed, RateLimited, Unavailable)}


def for_rpc(exc):
    """The DESIGN §5 kind of `exc`, carrying its message (and code in the text)."""
    for kind in RPC_KINDS:
        if isinstance(exc, kind):
            if type(exc) is kind:
                return exc
            return kind(exc.message, code=exc.code, **exc.details)
    if isinstance(exc, RateLimited):
        # Not an RPC kind in DESIGN §5: the caller must wait, as for an outage.
        return Unavailable(exc.message, code=exc.code)
    return exc
