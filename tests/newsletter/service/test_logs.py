"""Log lines: one per event, key=value or JSON, every address redacted."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from newsletter.service.logs import EventFormatter, install

AT = datetime(2026, 11, 23, 7, 0, 4, 512_000, tzinfo=UTC)


def record(message: str, *args: object, exc_info: Any = None, level: int = logging.INFO,
           **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("newsletter.schedule", level, __file__, 1, message, args or None, exc_info)
    made.__dict__.update(extra)
    made.created = AT.timestamp()
    return made


def failure() -> Any:
    try:
        raise ValueError("550 5.1.1 <john.smith@example.org>: no such user")
    except ValueError:
        return sys.exc_info()


@pytest.fixture
def root_handlers() -> Iterator[None]:
    """Puts back the root logger as it was after a test installs its own handler."""
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in ("apscheduler", "httpx")}
    yield
    root.handlers[:] = saved
    root.setLevel(level)
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)


def test_an_event_is_one_key_value_line_with_its_fields_after_the_message() -> None:
    line = EventFormatter("keyvalue").format(record("issue %s sent", "2026-W47", week="2026-W47", sent=1200,
                                                    stopped=False, reason=None))
    assert line == ('time=2026-11-23T07:00:04.512Z level=info logger=newsletter.schedule '
                    'msg="issue 2026-W47 sent" week=2026-W47 sent=1200 stopped=false reason=null')


def test_the_same_event_as_json_keeps_the_field_types() -> None:
    line = EventFormatter("json").format(record("issue sent", week="2026-W47", sent=1200, stopped=False))
    assert json.loads(line) == {"time": "2026-11-23T07:00:04.512Z", "level": "info",
                                "logger": "newsletter.schedule", "msg": "issue sent", "week": "2026-W47",
                                "sent": 1200, "stopped": False}


@pytest.mark.parametrize(("value", "shown"), [
    ("plain", "plain"),
    ("two words", '"two words"'),
    ("", '""'),
    ('say "hi"', '"say \\"hi\\""'),
    ("a=b", '"a=b"'),
    ("C:\\path", '"C:\\\\path"'),
], ids=["bare", "space", "empty", "quotes", "equals", "backslash"])
def test_values_are_quoted_only_when_they_must_be(value: str, shown: str) -> None:
    line = EventFormatter("keyvalue").format(record("x", value=value))
    assert line.endswith(f" value={shown}")


@pytest.mark.parametrize("style", ["keyvalue", "json"])
def test_addresses_are_redacted_in_the_message_the_fields_and_the_error(style: str) -> None:
    line = EventFormatter(style).format(record("refused by %s", "mail.example.org: john.smith@example.org gone",
                                               recipient="<john.smith@example.org>", exc_info=failure(),
                                               level=logging.ERROR))
    assert "john.smith" not in line
    # The message, the field, and the error.
    assert line.count("j***@example.org") == 3
    assert "\n" not in line


def test_an_error_is_its_type_and_message_without_a_traceback() -> None:
    line = EventFormatter("keyvalue").format(record("send failed", exc_info=failure(), level=logging.ERROR))
    error = line.split(" error=", 1)[1]
    assert error == '"ValueError: 550 5.1.1 <j***@example.org>: no such user"'
    assert "Traceback" not in line
    assert __file__ not in line


@pytest.mark.parametrize("style", ["keyvalue", "json"])
@pytest.mark.usefixtures("root_handlers")
def test_at_debug_level_the_traceback_is_kept_redacted_on_the_events_line(style: str) -> None:
    stream = io.StringIO()
    install(style, "debug", stream)
    try:
        raise ValueError("550 5.1.1 <john.smith@example.org>: no such user")
    except ValueError:
        logging.getLogger("newsletter.schedule").exception("send failed")
    [only] = stream.getvalue().splitlines()
    assert "Traceback (most recent call last):" in only
    assert "john.smith" not in only
    assert only.count("j***@example.org") == 2  # the line that raised, and the error itself


def test_a_line_break_in_a_message_cannot_forge_a_second_log_line() -> None:
    line = EventFormatter("keyvalue").format(record("name: x\ntime=2026 level=info msg=forged"))
    assert line.splitlines() == [line]
    assert 'msg="name: x\\ntime=2026 level=info msg=forged"' in line


def test_uvicorns_coloured_copy_of_the_message_is_left_out() -> None:
    line = EventFormatter("keyvalue").format(record("Started server process", color_message="\x1b[36mx\x1b[0m"))
    assert line.endswith('msg="Started server process"')


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="log format must be one of keyvalue, json"):
        EventFormatter("xml")


@pytest.mark.usefixtures("root_handlers")
def test_install_sends_every_logger_to_one_stream_and_quiets_chatty_libraries() -> None:
    stream = io.StringIO()
    logging.getLogger().addHandler(logging.StreamHandler(io.StringIO()))  # an earlier handler goes away
    handler = install("json", "info", stream)
    logging.getLogger("subscribers.worker").info("sent", extra={"sent": 2})
    logging.getLogger("apscheduler.scheduler").info("Added job")
    logging.getLogger("newsletter.schedule").debug("not at info level")
    assert logging.getLogger().handlers == [handler]
    [line] = stream.getvalue().splitlines()
    assert json.loads(line)["logger"] == "subscribers.worker"
    assert json.loads(line)["sent"] == 2
