"""Header lines that no input can break out of: one line of text, folded, RFC 2047-encoded when needed.

Which addresses and list ids may be written at all is `newsletter.config.header_rules`.
"""

from __future__ import annotations

import re
import unicodedata
from email.header import Header

MAX_COLUMNS = 78

_PHRASE = re.compile(r"[A-Za-z0-9!#$%&'*+/?^_`{|}~ -]+")


def one_line(text: str) -> str:
    """The text with every control character and line or paragraph separator turned into a space."""
    cleaned = "".join(" " if unicodedata.category(c) in {"Cc", "Zl", "Zp"} else c for c in text)
    return " ".join(cleaned.split())


def address_domain(address: str) -> str:
    return address.rpartition("@")[2]


def header(name: str, value: str) -> bytes:
    """`Name: value` with CRLF, folded; encoded words when the value is not plain, short-worded ASCII.

    A value that merely looks like an encoded word ("=?utf-8?q?...?=") is itself encoded, so a reader
    decodes it back to the same literal text rather than to whatever it claims to contain.
    """
    value = one_line(value)
    if value.isascii() and "=?" not in value:
        folded = Header(value, "us-ascii", header_name=name).encode(linesep="\r\n", maxlinelen=MAX_COLUMNS)
        if _fits(f"{name}: {folded}"):
            return f"{name}: {folded}\r\n".encode()
    return f"{name}: {_encoded_words(name, value)}\r\n".encode()


def address_header(name: str, display: str, address: str) -> bytes:
    """`Name: display <address>`; the display name is quoted or encoded, the address never is."""
    display = one_line(display)
    if not display:
        return f"{name}: {address}\r\n".encode()
    phrase = _plain_phrase(display)
    if phrase is not None and _fits(f"{name}: {phrase} <{address}>"):
        return f"{name}: {phrase} <{address}>\r\n".encode()
    return f"{name}: {_encoded_words(name, display)}\r\n <{address}>\r\n".encode()


def _plain_phrase(display: str) -> str | None:
    """The display name as an RFC 5322 phrase without encoding, or None when it needs encoding."""
    if not display.isascii() or "=?" in display:
        return None
    if _PHRASE.fullmatch(display):
        return display
    return '"' + display.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _encoded_words(name: str, value: str) -> str:
    return Header(value, "utf-8", header_name=name).encode(linesep="\r\n", maxlinelen=MAX_COLUMNS - 2)


def _fits(lines: str) -> bool:
    return all(len(line) <= MAX_COLUMNS for line in lines.split("\r\n"))
