"""Why an upload is refused: DESIGN §4 codes and the Chinese messages that say how to fix it."""

FILE_TOO_LARGE = "file_too_large"
UNSUPPORTED_FORMAT = "unsupported_format"
IMAGE_CORRUPT = "image_corrupt"
IMAGE_ROTATED = "image_rotated"
IMAGE_TOO_SMALL = "image_too_small"
IMAGE_UNCLEAR = "image_unclear"


class IntakeRefused(Exception):
    """The upload is refused; ``code`` is a DESIGN §4 code, ``message`` says how to fix it."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# -- messages -------------------------------------------------------------------------
MSG_EMPTY = "上传的文件是空的，请重新选择JPG或PNG格式的图片"
MSG_FORMAT = "仅支持JPG、JPEG、PNG格式的图片，请将图片另存为JPG或PNG格式后重新上传"
MSG_NOT_IMAGE = "所选文件不是有效的图片（文件内容不是照片或扫描件），请重新选择JPG或PNG格式的图片"
MSG_JPEG_PROCESS = ("该JPG图片使用了浏览器无法显示的特殊编码，"
                    "请用图片编辑工具另存为普通JPG或PNG格式后重新上传")
MSG_BROKEN = "图片文件不完整或已损坏，无法打开，请重新保存或重新拍摄后上传"
MSG_BOMB = "图片尺寸异常（超过{limit}像素），请将图片缩小后重新上传"
MSG_MEMORY = "图片尺寸过大，打开它需要的内存超出上限，请将图片缩小（例如长边不超过3000像素）后重新上传"
MSG_TRAILING = ("图片文件末尾附带了图片以外的数据（例如手机照片的附加图像或被附加的文件），"
                "请用图片编辑工具另存为JPG或PNG格式后重新上传")
MSG_ANIMATED = "不支持动态图片，请上传单张静态的JPG或PNG图片"
MSG_ROTATED = "图片方向不正（带有旋转或镜像标记），请在图片编辑工具中将图片旋转为正向并保存后重新上传"
MSG_TOO_SMALL = ("图片分辨率过低（{width}×{height}像素），较短一边至少需要{minimum}像素，"
                 "请重新扫描或拍摄后上传")
MSG_UNCLEAR = "图片模糊不清，请在光线充足处对准焦点重新拍摄（手机与材料保持平稳），或重新扫描后上传"


def too_large_message(max_bytes):
    # Round the KB figure down: compressing to the stated size then always passes.
    return f"图片大小超过{max_bytes // 1024}KB，请压缩后重新上传"


def pixel_count_text(pixels):
    return f"{pixels // 10_000}万" if pixels % 10_000 == 0 else f"{pixels:,}"


def corrupt(message=MSG_BROKEN):
    return IntakeRefused(IMAGE_CORRUPT, message)

