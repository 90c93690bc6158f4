"""Resident ID numbers (GB 11643-1999): 17 digits and a check character.

Pure and shared: auth validates the registration system's records with it, review's ID
card reader accepts only a number whose check character is right (a misread digit almost
always breaks it, so a doubtful read is `unreadable`, never a wrong number)."""
import re

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # 2^(17-i) mod 11
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


def check_character(first17):
    """The check character of the first 17 digits."""
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS)) % 11]


def is_valid(value):
    """An 18-character number (upper-case X) whose check character is right."""
    return bool(_SHAPE.match(value or "")) and check_character(value[:17]) == value[17]
