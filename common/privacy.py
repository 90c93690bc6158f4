"""Masks for the personal numbers DESIGN §8 protects (pure functions).

`mask_text` finds mainland ID numbers and mobile numbers in free text however a person
typed them: full-width or other-script digits, zero-width characters inside, digits in
groups joined by spaces, dashes, dots, commas or slashes (`320401 19900101 1234`,
`138-0000-0001`). It reads a normalised copy of the text, and masks only the spans of
the original that hold a number, so the rest stays exactly as written (`第2页不清晰`).

A number must be made of whole groups: `2026-05-20 13800000001` masks the phone and
keeps the date, and digits glued to more digits (`813800000001`) are not a number.
"""
import re
import unicodedata

# ID number: region (first digit 1-9), birth date (18xx-20xx, month, day), sequence, check
# character (not verified: a mistyped check digit still leaves the rest of the number).
_ID_NUMBER = re.compile(r"[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
                        r"[0-9]{3}[0-9Xx]")
# Mobile number, optionally after the country code (which stays readable).
_PHONE = re.compile(r"(?:0086|86)?(?P<phone>1[3-9][0-9]{9})")
# Up to three of these between two groups of digits join them into one number.
_BRIDGE = r"[\s\-.·・•‧∙⋅。,，、/_]"
# A group is digits, and an ID number's check X may end one or stand alone after a gap.
_DIGITS = r"[0-9]+[Xx]?"
_GROUP = re.compile(rf"{_DIGITS}|[Xx]")
_CHAIN = re.compile(rf"{_DIGITS}(?:{_BRIDGE}{{1,3}}(?:{_DIGITS}|[Xx]))*")
_SHORTEST, _LONGEST = 11, 18  # a phone's digits, an ID number's
_COUNTRY_CODES = ("+86", "0086", "86")


def mask_text(text):
    """Every ID number and mobile number inside free text, masked (logs, reviewers' words)."""
    normal, origin = _normalised(text)
    spans = [span for chain in _CHAIN.finditer(normal) if len(chain.group()) >= _SHORTEST
             for span in _numbers_in(chain, origin)]
    limit = len(text)
    for start, end, masked in reversed(spans):
        # Two spans can share a character only when one character expanded into both
        # (NFKC: "⒛" is "20."); masking it once is enough.
        text = text[:start] + masked + text[min(end, limit):]
        limit = start
    return text


def _normalised(text):
    """(normalised text, index in `text` of each of its characters): NFKC, decimal digits
    of any script as ASCII, every dash as "-", format characters (zero-width space,
    joiners, soft hyphen) dropped."""
    if text.isascii():
        return text, range(len(text))
    chars, origin = [], []
    for index, char in enumerate(text):
        if unicodedata.category(char) == "Cf":
            continue
        for part in unicodedata.normalize("NFKC", char):
            if part.isdecimal():
                part = str(unicodedata.decimal(part))
            elif unicodedata.category(part) == "Pd" or part == "\u2212":
                part = "-"
            chars.append(part)
            origin.append(index)
    return "".join(chars), origin


def _numbers_in(chain, origin):
    """(start, end, masked) in the original text for each number in one chain of groups."""
    digits, where, starts, ends = "", [], [], set()
    for group in _GROUP.finditer(chain.group()):
        starts.append(len(digits))
        digits += group.group()
        where += [origin[chain.start() + i] for i in range(group.start(), group.end())]
        ends.add(len(digits))
        if digits.endswith(("X", "x")):  # a phone may end just before a stray X
            ends.add(len(digits) - 1)
    taken = 0
    for start in starts:
        if start < taken:
            continue
        found = _number_at(digits, start, ends)
        if found:
            first, end, masked = found
            yield where[first], where[end - 1] + 1, masked
            taken = end


def _number_at(digits, start, ends):
    """(first, end, masked) of the number starting at group boundary `start`, if its
    end is a group boundary too; an ID number wins over a phone at the same place."""
    id_number = _ID_NUMBER.match(digits, start, start + _LONGEST)
    if id_number and id_number.end() in ends:
        return start, id_number.end(), mask_id_number(id_number.group())
    phone = _PHONE.match(digits, start)
    if phone and phone.end() in ends:
        return phone.start("phone"), phone.end(), mask_phone(phone.group("phone"))
    return None


def mask_id_number(id_number):
    """`320402199001011234` -> `3204**********1234`."""
    if not id_number or len(id_number) < 8:
        return "*" * len(id_number or "")
    return f"{id_number[:4]}{'*' * (len(id_number) - 8)}{id_number[-4:]}"


def mask_phone(phone):
    """`13800000001` -> `138****0001`; a country code stays readable (`+86138****0001`),
    and anything too short to be a phone is `****` whatever its length."""
    phone = str(phone or "")
    for lead in _COUNTRY_CODES:
        if phone.startswith(lead) and len(phone) == len(lead) + 11:
            return lead + mask_phone(phone[len(lead):])
    if not phone:
        return ""
    if len(phone) < 8:
        return "****"
    return f"{phone[:3]}{'*' * (len(phone) - 7)}{phone[-4:]}"
