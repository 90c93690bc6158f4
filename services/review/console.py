"""Terminal helpers for the reviewer's command line: aligned tables with Chinese text,
local times, and the sign-in kept in a file only its owner can read."""
import json
import os
import time
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path

BEIJING = timezone(timedelta(hours=8))


# -- tables ------------------------------------------------------------------------------------
def width(text):
    """Columns a string takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text, columns):
    return text + " " * (columns - width(text))


def table(headers, rows):
    cells = [[str(value) if value is not None else "-" for value in row] for row in rows]
    widths = [max([width(h)] + [width(row[i]) for row in cells]) for i, h in enumerate(headers)]

    def line(values):
        return "  ".join(pad(v, w) for v, w in zip(values, widths)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule] + [line(row) for row in cells])


def local_time(value):
    """An ISO UTC instant as Beijing wall-clock time, the way reviewers read it."""
    if not value:
        return "-"
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def staff_name(sub):
    return (sub or "-").removeprefix("staff:")


# -- the stored sign-in ----------------------------------------------------------------------------
class TokenStore:
    """~/.config/exam-review/token.json, mode 600 in a mode 700 directory.

    `EXAM_REVIEW_TOKEN` (an access token) takes precedence, for scripts."""

    def __init__(self, directory=None):
        base = directory or os.environ.get("EXAM_REVIEW_HOME") or Path.home() / ".config" / "exam-review"
        self.path = Path(base) / "token.json"

    def load(self):
        if os.environ.get("EXAM_REVIEW_TOKEN"):
            return {"access_token": os.environ["EXAM_REVIEW_TOKEN"], "expires_at": None}
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def save(self, username, tokens):
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        record = {"username": username, "access_token": tokens["access_token"],
                  "refresh_token": tokens.get("refresh_token"),
                  "expires_at": time.time() + int(tokens.get("expires_in", 900))}
        # Created with 600 from the start: the token is never readable by others, not even briefly.
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(record, handle)
        os.chmod(self.path, 0o600)
        return record

    def clear(self):
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    @staticmethod
    def fresh(record, margin_s=30):
        expires_at = record.get("expires_at")
        return expires_at is None or expires_at - margin_s > time.time()
