"""Masks for the personal numbers DESIGN §8 protects (pure functions)."""


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
