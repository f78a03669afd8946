"""Checks a dry run makes of one personalised message before anyone gets it."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage

from newsletter.config.settings import Config
from newsletter.issues.render import CLIP_LIMIT, RenderedIssue

OK = "ok"
REQUIRED_HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe",
                    "List-Unsubscribe-Post")
PLACEHOLDER_DEFAULTS = {"newsletter.from_address": "newsletter@example.org",
                        "newsletter.postal_address": "Example Org, 1 Example Street, Example City"}


def check_message(config: Config, rendered: RenderedIssue, message: bytes, unsubscribe_url: str) -> dict[str, str]:
    """Each check's name with "ok" or what is wrong; the message is one recipient's complete bytes."""
    parsed = message_from_bytes(message, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return {
        "size": _size(rendered),
        "headers": _headers(parsed),
        "unsubscribe_link": _unsubscribe(config, parsed, unsubscribe_url),
        "text_part": _text_part(parsed),
        "line_length": _lines(message),
        "settings": _settings(config),
    }


def _size(rendered: RenderedIssue) -> str:
    if rendered.clipped:
        titles = ", ".join(repr(e.title) for e in rendered.clipped)
        return f"left out to stay under Gmail's clipping size: {titles}"
    return OK if rendered.html_bytes <= CLIP_LIMIT else f"HTML is {rendered.html_bytes:,} bytes"


def _headers(parsed: EmailMessage) -> str:
    missing = [name for name in REQUIRED_HEADERS if parsed[name] is None]
    if missing:
        return "missing " + ", ".join(missing)
    defects = [type(d).__name__ for part in parsed.walk() for d in part.defects]
    if defects:
        return "the message does not parse cleanly: " + ", ".join(sorted(set(defects)))
    if len(parsed.get_all("To", [])) != 1 or parsed["Cc"] or parsed["Bcc"]:
        return "a message must have exactly one To and no Cc or Bcc"
    return OK


def _unsubscribe(config: Config, parsed: EmailMessage, url: str) -> str:
    header = str(parsed["List-Unsubscribe"] or "")
    if f"<{url}>" not in header or "mailto:" not in header:
        return "List-Unsubscribe lacks the recipient's URL or the mailto"
    if str(parsed["List-Unsubscribe-Post"] or "") != "List-Unsubscribe=One-Click":
        return "List-Unsubscribe-Post is not List-Unsubscribe=One-Click"
    bodies = [part.get_content() for part in parsed.walk() if part.get_content_maintype() == "text"]
    if not all(url in body or url.replace("&", "&amp;") in body for body in bodies):
        return "the unsubscribe link is missing from a body part"
    if not url.startswith("https://"):
        return (f"links start with {config.web.base_url}: mail providers want https for one-click "
                "unsubscribe; set web.base_url to your public https URL")
    return OK


def _text_part(parsed: EmailMessage) -> str:
    kinds = [part.get_content_type() for part in parsed.iter_parts()]
    if kinds != ["text/plain", "text/html"]:
        return f"parts are {kinds}, expected text/plain then text/html"
    text = next(parsed.iter_parts()).get_content()
    long_lines = [line for line in text.splitlines() if len(line) > 78 and "://" not in line]
    if len(text.split()) < 20:
        return "the text part is nearly empty"
    return OK if not long_lines else f"{len(long_lines)} text line(s) are longer than 78 characters"


def _lines(message: bytes) -> str:
    longest = max(len(line) for line in message.split(b"\r\n"))
    if re.search(rb"(?<!\r)\n", message):
        return "bare LF line endings"
    return OK if longest <= 998 else f"a line is {longest} octets; SMTP allows 998"


def _settings(config: Config) -> str:
    left = [name for name, default in PLACEHOLDER_DEFAULTS.items()
            if _value(config, name) == default]
    return OK if not left else "still the example value: " + ", ".join(left)


def _value(config: Config, name: str) -> str:
    section, key = name.split(".")
    return str(getattr(getattr(config, section), key))
