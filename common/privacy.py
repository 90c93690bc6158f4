"""Masks for the personal numbers DESIGN §8 protects (pure functions)."""
import re

# Mainland ID numbers (18 chars, last may be X) and mobile numbers (11 digits from 1[3-9]).
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
_PHONE = re.compile(r"(?:(?<=\+86)|(?<!\d))(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_text(text):
    """Every ID number and mobile number inside free text, masked (logs, reviewers' words)."""
    text = _ID_NUMBER.sub(lambda m: f"{m.group(1)[:4]}**********{m.group(2)[-4:]}", text)
    return _PHONE.sub(r"\1****\2", text)


def mask_id_number(id_number):
    """`320402199001011234` -> `3204**********1234`."""
    if not id_number or len(id_number) < 8:
        return "*" * len(id_number or "")
    return f"{id_number[:4]}{'*' * (len(id_number) - 8)}{id_number[-4:]}"


def mask_phone(phone):
    """`13800000001` -> `138****0001`."""
    if not phone or len(phone) < 7:
        return "*" * len(phone or "")
    return f"{phone[:3]}{'*' * (len(phone) - 7)}{phone[-4:]}"
