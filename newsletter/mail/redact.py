"""Addresses as logs and errors may show them: `j***@example.org`, never the whole local part."""

from __future__ import annotations

import re

HIDDEN = "***"
_MAX_DOMAIN = 255
# Angle brackets mark the address in "Name <addr>" forms; the name is personal data too and is dropped.
_BRACKETED = re.compile(r"<([^<>]*)>")
# Anything that looks like an address inside free text, such as an SMTP server's reply.
_IN_TEXT = re.compile(r"[^\s<>()\[\]\"',;:@]+@[^\s<>()\[\]\"',;:@]+")
# Control characters would let a crafted address forge log lines.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def redact(address: str | bytes | None) -> str:
    """`john@example.org` -> `j***@example.org`; never raises, whatever it is given."""
    if address is None:
        return HIDDEN
    if isinstance(address, bytes):
        address = address.decode("utf-8", errors="replace")
    text = address.strip()
    bracketed = _BRACKETED.search(text)
    if bracketed:
        text = bracketed.group(1).strip()
    local, at, domain = text.rpartition("@")
    if not at:
        # No "@" at all: treat the whole text as a local part and show no more of it.
        local, domain = text, ""
    shown = _UNPRINTABLE.sub("?", local[:1]) + HIDDEN if local else HIDDEN
    return f"{shown}@{_UNPRINTABLE.sub('?', domain.lower())[:_MAX_DOMAIN]}" if at else shown


def redact_text(text: str) -> str:
    """Every address inside `text` redacted; for server replies that quote the recipient back."""
    return _UNPRINTABLE.sub("?", _IN_TEXT.sub(lambda match: redact(match.group(0)), text))
