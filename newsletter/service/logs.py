"""Log lines for operators: one line per event, as key=value pairs or JSON, with addresses redacted.

A call such as `log.info("issue sent", extra={"week": "2026-W47", "sent": 1200})` becomes

    time=2026-11-23T07:00:04.512Z level=info logger=newsletter.schedule msg="issue sent" week=2026-W47 sent=1200

or the same fields as one JSON object. The message and every field pass through `redact_text`, so an
address that slips into a log call (an SMTP reply quoting it back, say) is shown as `j***@example.org`.
An exception is one field, `error="ValueError: ..."`: its type and message, redacted. Its traceback
(code paths, file names of this machine) is written only when `[logging] level` is "debug", redacted and on the
event's line (its line breaks escaped).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from newsletter.mail.redact import redact_text

FORMATS = ("keyvalue", "json")
LEVELS = ("debug", "info", "warning", "error")

# Attributes every LogRecord has; anything else on a record came in through `extra=` and is a field.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
# uvicorn repeats its message with terminal colour codes; the plain one is enough.
_DROPPED = frozenset({"color_message"})
_BARE = re.compile(r"^[^\s=\"\\]+$")
_KEY = re.compile(r"[^A-Za-z0-9_.]")
# Libraries whose INFO lines repeat what our own events say.
_QUIET = {"apscheduler": logging.WARNING, "httpx": logging.WARNING}


class EventFormatter(logging.Formatter):
    """Formats a record as one line: `time level logger msg`, then the record's extra fields."""

    def __init__(self, style: str = "keyvalue", *, tracebacks: bool = False) -> None:
        if style not in FORMATS:
            raise ValueError(f"log format must be one of {', '.join(FORMATS)} (got {style!r})")
        super().__init__()
        self.style = style
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        fields = self.fields(record)
        if self.style == "json":
            return json.dumps(fields, ensure_ascii=False, default=str)
        return " ".join(f"{key}={_quoted(value)}" for key, value in fields.items())

    def fields(self, record: logging.LogRecord) -> dict[str, Any]:
        """The event as ordered fields, every text redacted."""
        stamp = datetime.fromtimestamp(record.created, UTC)
        fields: dict[str, Any] = {
            "time": stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": _redacted(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in _DROPPED and not key.startswith("_"):
                fields[_KEY.sub("_", key)] = _clean(value)
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            told = self.formatException(record.exc_info) if self.tracebacks else f"{type(error).__name__}: {error}"
            fields["error"] = _redacted(told)
        return fields


def _clean(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    return _redacted(str(value))


def _redacted(text: str) -> str:
    # Line by line: redact_text turns control characters into "?", and line breaks are worth keeping
    # (escaped as \n on the one line) in a traceback.
    return "\n".join(redact_text(line) for line in text.splitlines()) if "\n" in text else redact_text(text)


def _quoted(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if _BARE.match(text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def install(style: str = "keyvalue", level: str = "info", stream: TextIO | None = None) -> logging.Handler:
    """Send every log record of the process, as one line each, to `stream` (stderr by default).

    Replaces the root logger's handlers, so nothing is printed twice; returns the handler so a caller
    (a test) can remove it again.
    """
    if level not in LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LEVELS)} (got {level!r})")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(EventFormatter(style, tracebacks=level == "debug"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name, quiet in _QUIET.items():
        logging.getLogger(name).setLevel(logging.DEBUG if level == "debug" else quiet)
    return handler
