"""JSON logs, with personal data masked on the way out (DESIGN §8).

Code never logs ID numbers or phones on purpose; the filter is the safety net for the
day somebody does by accident (an exception message echoing input, say)."""
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from common.privacy import mask_text


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
