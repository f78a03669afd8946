"""What an address, a list id or a subject template written into a message header may be: the composer's
rules, kept here so the settings are checked by the very same ones when they load (config sits below mail/
and issues/)."""

from __future__ import annotations

import re

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{LABEL}(?:\.{LABEL})+")
_DOMAIN = re.compile(rf"{LABEL}(?:\.{LABEL})+")

# The fields `[newsletter] subject` may name: the newsletter's title, the week's Monday, the ISO week,
# the title of the first excerpt and how many excerpts it has.
SUBJECT_FIELDS = ("title", "date", "week", "first", "count")


def is_address(text: str) -> bool:
    """A plain ASCII addr-spec (local@domain), the only kind written into headers here."""
    return _ADDRESS.fullmatch(text) is not None


def is_list_id(text: str) -> bool:
    """A domain-like list identifier, as RFC 2919 asks for (and a DKIM signing domain)."""
    return _DOMAIN.fullmatch(text) is not None


def subject_fields() -> str:
    """The subject's fields in words, for messages: "{title}, {date}, ... and {count}"."""
    named = [f"{{{name}}}" for name in SUBJECT_FIELDS]
    return ", ".join(named[:-1]) + " and " + named[-1]
