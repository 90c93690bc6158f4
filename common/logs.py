"""JSON logs, with personal data masked on the way out (DESIGN §8).

Code never logs ID numbers or phones on purpose; the filter is the safety net for the
day somebody does by accident (an exception message echoing input, say)."""
import re

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

# Mainland ID numbers (18 chars, last may be X) and mobile numbers (11 digits from 1[3-9]).
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
_PHONE = re.compile(r"(?:(?<=\+86)|(?<!\d))(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_text(text):
    text = _ID_NUMBER.sub(lambda m: f"{m.group(1)[:4]}**********{m.group(2)[-4:]}", text)
    return _PHONE.sub(r"\1****\2", text)


class JsonFormatter(_JsonFormatter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(message)s")
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        super().__init__(*args, **kwargs)

    def process_log_record(self, log_record):
        for key, value in list(log_record.items()):
            if isinstance(value, str):
                log_record[key] = mask_text(value)
        return super().process_log_record(log_record)
