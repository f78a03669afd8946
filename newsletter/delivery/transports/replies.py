"""What a permanent SMTP refusal is about: the recipient (a bounce), or us (the relay will not send for us).

A refusal is about us when it says so: the reply codes of authentication (530, 534, 535, 538); the
enhanced status codes of RFC 3463's security class that concern the sender or the session (5.7.0 other
security status, 5.7.8-5.7.11 authentication and encryption, 5.7.14 trust, 5.7.23-5.7.27 SPF, reverse
DNS, DMARC and the sender's domain); or any other 5.7.x reply, or one with no enhanced code, whose words
name relaying, authentication or policy ("554 5.7.1 Relay access denied", "550 5.7.1 Client host
rejected: sender policy"). "550 5.1.1 No such user" stays a bounce, and so does a bare "550 5.7.1
Access denied", which servers also say of one recipient.
"""

from __future__ import annotations

import re

_AUTH_CODES = frozenset({530, 534, 535, 538})
_ABOUT_US = frozenset({"5.7.0", "5.7.8", "5.7.9", "5.7.10", "5.7.11", "5.7.14",
                       "5.7.23", "5.7.24", "5.7.25", "5.7.26", "5.7.27"})
_ENHANCED = re.compile(r"^\s*([245]\.\d{1,3}\.\d{1,3})\b")
_NAMES_US = re.compile(r"relay|authenticat|\bauth\b|polic(y|ies)", re.IGNORECASE)


def refuses_us(code: int, message: str) -> bool:
    """Whether the permanent refusal `code message` is about our relaying, login or policy, not the recipient."""
    if not 500 <= code < 600:
        return False
    if code in _AUTH_CODES:
        return True
    enhanced = _ENHANCED.match(message)
    status = enhanced.group(1) if enhanced else None
    if status in _ABOUT_US:
        return True
    return (status is None or status.startswith("5.7.")) and bool(_NAMES_US.search(message))
