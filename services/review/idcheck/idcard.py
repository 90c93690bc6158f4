"""Reading a resident ID card photo, and what the reads of a package's card add up to
(pure, stdlib only).

`read(boxes)` turns an OCR engine's text boxes (text, score, box corners) into the
fields the cross-check needs: the 18-character number (only with a right GB 11643 check
character), the name (2-6 Chinese characters after 姓名) and the end of the validity
period (有效期限 on the back). A doubtful field is left out (None), so auth answers
`unreadable` for it rather than `mismatch`: a wrong digit breaks the check character,
and a low score drops the field. The text itself leaves this module only as those
fields, and they go to auth alone; nothing here is stored or logged.

`summary(checks)` combines the per-image verdicts of a package's ID card images into the
`id_check` reviewers see, and `flags(id_check)` into the queue's flags."""
import re
import unicodedata
from datetime import date

from common.idnumber import is_valid

MIN_SCORE = 0.80  # below it an engine's line is a guess; measured: benchmarks/README.md
NAME_MIN_SCORE = 0.90
NUMBER = re.compile(r"(?<![0-9X])[0-9]{17}[0-9X](?![0-9X])")
NAME = re.compile(r"^[\u4e00-\u9fff][\u4e00-\u9fff·]{1,5}$")
VALIDITY = re.compile(r"(\d{4})\.(\d{2})\.(\d{2})-(?:(\d{4})\.(\d{2})\.(\d{2})|(长期))")
FRONT_MARKS = ("公民身份号码", "姓名", "出生", "住址")
BACK_MARKS = ("有效期限", "签发机关", "居民身份证")
LONG_TERM = "long_term"

MATCH, MISMATCH, UNREADABLE = "match", "mismatch", "unreadable"
FLAG_NUMBER = "证件号与报名信息不一致"
FLAG_NAME = "姓名与报名信息不一致"
FLAG_EXPIRED = "证件已过期"
FLAG_UNREADABLE = "无法识别"


def _clean(text):
    # Full-width digits and letters to ASCII; OCR puts spaces inside numbers and labels.
    text = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"\s+", "", text).replace("x", "X")


def _center_y(box):
    return sum(point[1] for point in box) / len(box)


def _left_x(box):
    return min(point[0] for point in box)


def _height(box):
    ys = [point[1] for point in box]
    return max(ys) - min(ys)


def read_number(lines):
    found = {m.group() for text, score in lines if score >= MIN_SCORE
             for m in NUMBER.finditer(text) if is_valid(m.group())}
    if len(found) != 1:  # none, or two different valid numbers: doubtful either way
        return None, None
    number = found.pop()
    return number, min(score for text, score in lines if number in text)


def read_name(boxes):
    """The value after the 姓名 label: in the label's own box or the next one to its right."""
    for text, score, box in boxes:
        if not text.startswith("姓名"):
            continue
        rest = text[2:]
        if rest:
            return _name(rest, score)
        row = [(_left_x(b), t, s) for t, s, b in boxes
               if b is not box and _left_x(b) > _left_x(box)
               and abs(_center_y(b) - _center_y(box)) < max(_height(box), 1)]
        if row:
            _, value, value_score = min(row)
            return _name(value, value_score)
    return None, None


def _name(text, score):
    if score < NAME_MIN_SCORE or not NAME.match(text):
        return None, None
    return text, score


def read_expiry(lines):
    """(ISO end date or LONG_TERM, score) of the validity period, or (None, None)."""
    for text, score in lines:
        m = VALIDITY.search(text)
        if not m or score < MIN_SCORE:
            continue
        try:
            start = date(int(m[1]), int(m[2]), int(m[3]))
            if m[7]:
                return LONG_TERM, score
            end = date(int(m[4]), int(m[5]), int(m[6]))
        except ValueError:
            return None, None
        return (end.isoformat(), score) if end > start else (None, None)
    return None, None


def read(boxes):
    """The fields of one photo: {side, id_number, name, expires, confidence}."""
    boxes = [(_clean(text), float(score), box) for box, text, score in boxes]
    lines = [(text, score) for text, score, _ in boxes]
    number, number_score = read_number(lines)
    name, name_score = read_name(boxes)
    expires, expires_score = read_expiry(lines)
    joined = "".join(text for text, _ in lines)
    if number or any(mark in joined for mark in FRONT_MARKS):
        side = "front"
    elif expires or any(mark in joined for mark in BACK_MARKS):
        side = "back"
    else:
        side = "unknown"
    scores = [s for s in (number_score, name_score, expires_score) if s is not None]
    return {"side": side, "id_number": number, "name": name, "expires": expires,
            "confidence": round(min(scores), 3) if scores else None}


# -- what the reads of a package's ID card images add up to ----------------------------------
def _worst(verdicts):
    """A mismatch anywhere counts; else a match; else nothing was readable."""
    verdicts = set(verdicts)
    for verdict in (MISMATCH, MATCH):
        if verdict in verdicts:
            return verdict
    return UNREADABLE


def summary(checks):
    """The package's `id_check` from its images' checks, or None before any was read."""
    checks = [c for c in checks if c]
    if not checks:
        return None
    backs = [c for c in checks if c.get("expires")]
    expired = [c["expired"] for c in checks if c.get("expired") is not None]
    confidences = [c["confidence"] for c in checks if c.get("confidence") is not None]
    expires = next((c["expires"] for c in backs if c["expires"] != LONG_TERM), None)
    return {
        "id_number": _worst(c.get("id_number") for c in checks),
        "name": _worst(c.get("name") for c in checks),
        "expires": expires,
        "long_term": any(c["expires"] == LONG_TERM for c in backs),
        "expired": any(expired) if expired else None,
        "engine": checks[0].get("engine"),
        "confidence": min(confidences) if confidences else None,
        "images": len(checks),
    }


def flags(id_check):
    """The queue's flags for reviewers; a flag never decides anything by itself."""
    if not id_check:
        return []
    found = []
    if id_check["id_number"] == MISMATCH:
        found.append(FLAG_NUMBER)
    if id_check["name"] == MISMATCH:
        found.append(FLAG_NAME)
    if id_check["expired"]:
        found.append(FLAG_EXPIRED)
    if id_check["id_number"] == UNREADABLE:
        found.append(FLAG_UNREADABLE)
    return found
