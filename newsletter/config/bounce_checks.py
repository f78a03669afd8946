"""The checks of `[bounces]`: the return addresses must fit in a local part, the listener and the IMAP
mailbox must be reachable as configured. Kept apart from checks.py, which covers the other sections."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from newsletter.config.header_rules import is_list_id

# A return token is this many base32 letters (subscribers/verp.py makes them), and a local part holds
# at most 64 octets (RFC 5321 4.5.3.1.1): what is left before the "+" is the configured local part's.
RETURN_TOKEN_CHARS = 44
MAX_LOCAL = 64 - 1 - RETURN_TOKEN_CHARS
_LOCAL = re.compile(r"[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?")
_HOST = re.compile(r"[^\s/]+")


def _local_part(value: Any) -> str | None:
    if _LOCAL.fullmatch(value) is None or ".." in value or len(value) > MAX_LOCAL:
        return (f"must be a plain lower-case local part of at most {MAX_LOCAL} characters without '+', "
                "such as bounces")
    return None


def _domain(value: Any) -> str | None:
    return None if value == "" or is_list_id(value) else "must be a domain such as news.example.org, or empty"


def _range(low: int, high: int) -> Any:
    def check(value: Any) -> str | None:
        return None if low <= value <= high else f"must be {low}..{high}"
    return check


def _host(value: Any) -> str | None:
    return None if _HOST.fullmatch(value) else "must be a host name or IP address, such as 127.0.0.1"


def _optional_host(value: Any) -> str | None:
    return None if value == "" else _host(value)


def _one_of(*choices: str) -> Any:
    def check(value: Any) -> str | None:
        return None if value in choices else "must be one of " + ", ".join(repr(c) for c in choices)
    return check


def _folder(value: Any) -> str | None:
    if not value.strip() or any(c in value for c in '\r\n\0"\\'):
        return "must be an IMAP folder name on one line, without quotes or backslashes"
    return None


def _one_line(value: Any) -> str | None:
    return "must be one line" if any(c in value for c in "\r\n\0") else None


def _not_empty(value: Any) -> str | None:
    return None if value.strip() else "must not be empty"


BOUNCE_CHECKS: dict[str, Any] = {
    "bounces.domain": _domain,
    "bounces.local_part": _local_part,
    "bounces.unsubscribe_local_part": _local_part,
    "bounces.token_days": _range(1, 3650),
    "bounces.soft_limit": _range(1, 1000),
    "bounces.soft_days": _range(1, 3650),
    "bounces.listen_host": _host,
    "bounces.listen_port": _range(0, 65535),
    "bounces.protocol": _one_of("smtp", "lmtp"),
    "bounces.max_message_bytes": _range(10_000, 100_000_000),
    "bounces.per_minute": _range(1, 1_000_000),
    "bounces.spool_dir": _not_empty,
    "bounces.imap_host": _optional_host,
    "bounces.imap_port": _range(1, 65535),
    "bounces.imap_security": _one_of("tls", "starttls", "none"),
    "bounces.imap_username": _one_line,
    "bounces.imap_folder": _folder,
    "bounces.imap_done_folder": _folder,
    "bounces.imap_minutes": _range(1, 1440),
}


def _password(value: Any, values: Mapping[str, Any]) -> str | None:
    if value and not values["bounces.imap_username"]:
        return "is set but bounces.imap_username is empty: set both"
    return None


def _distinct(value: Any, values: Mapping[str, Any]) -> str | None:
    if value == values["bounces.local_part"]:
        return "must differ from bounces.local_part: one address cannot mean both a bounce and an unsubscribe"
    return None


def _done_folder(value: Any, values: Mapping[str, Any]) -> str | None:
    if value == values["bounces.imap_folder"]:
        return "must differ from bounces.imap_folder, or handled mail would be read again"
    return None


BOUNCE_CONTEXT_CHECKS: dict[str, Any] = {
    "bounces.imap_password": _password,
    "bounces.unsubscribe_local_part": _distinct,
    "bounces.imap_done_folder": _done_folder,
}
