"""Checks for RPC arguments (DESIGN §5): whatever a caller sends, a wrong type becomes a
ValidationError with a Chinese message, never a TypeError from deep inside, and never a
dict that a repository would read as a MongoDB query operator."""
from common.errors import ValidationError

MAX_TEXT = 256


def text(value, what, max_len=MAX_TEXT):
    """A non-empty string of at most `max_len` characters."""
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise ValidationError(f"{what}须为不超过{max_len}字的文字")
    return value


def integer(value, what):
    """An int, or a string of digits (CLI callers send those)."""
    if isinstance(value, bool):
        raise ValidationError(f"{what}须为整数")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise ValidationError(f"{what}须为整数")


def number(value, what):
    """An int or float (not a bool, not a string)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(f"{what}须为数字")
    return value
