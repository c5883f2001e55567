"""Log records to stdout, one per line: JSON for a collector (production) or plain text (embedded)."""

import datetime as dt
import json
import logging
import sys

# Attributes every LogRecord has; anything else was passed with extra= and is worth keeping.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class StdoutHandler(logging.StreamHandler):
    """A StreamHandler on whatever sys.stdout is at the moment of writing (gunicorn and pytest replace it)."""

    def __init__(self):
        super().__init__(stream=sys.stdout)

    def emit(self, record):
        self.stream = sys.stdout
        super().emit(record)


class LineFormatter(logging.Formatter):
    def __init__(self, json: bool = True):
        super().__init__()
        self.as_json = json

    def format(self, record: logging.LogRecord) -> str:
        at = dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(timespec="milliseconds")
        message = record.getMessage()
        traceback = self.formatException(record.exc_info) if record.exc_info else ""
        request = getattr(record, "request", None)
        fields = {
            key: value
            for key, value in vars(record).items()
            if key not in _STANDARD and key != "request" and not key.startswith("_")
        }
        if request is not None and hasattr(request, "path"):
            # never the query string or body: they may carry personal data
            fields["method"] = request.method
            fields["path"] = request.path
        if not self.as_json:
            extra = " ".join(f"{key}={value}" for key, value in fields.items())
            line = f"{at} {record.levelname} {record.name} {message}" + (f" [{extra}]" if extra else "")
            return line + ("\n" + traceback if traceback else "")
        entry = {
            "time": at,
            "level": record.levelname,
            "logger": record.name,
            "message": message,
            "process": record.process,
            **fields,
        }
        if traceback:
            entry["traceback"] = traceback
        return json.dumps(entry, ensure_ascii=False, default=str)
