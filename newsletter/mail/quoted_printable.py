"""Quoted-printable (RFC 2045) for one line at a time, so a line can be encoded again per recipient.

Besides the RFC's rules (at most 76 octets a line, "=" written "=3D", no bare trailing space),
a line that would begin with "." or "From " gets its first character escaped: then SMTP
dot-stuffing and mbox "From " quoting never need to touch the encoded text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

MAX_LINE = 76

# Everything but printable ASCII (less "="), space and tab is escaped.
_ESCAPE = re.compile(rb"[^\x21-\x3c\x3e-\x7e \t]")


def _escaped(match: re.Match[bytes]) -> bytes:
    return b"=%02X" % match[0][0]


def encode_line(line: str) -> bytes:
    """One logical line (no line break inside) as quoted-printable physical lines, each ending in CRLF."""
    encoded = _ESCAPE.sub(_escaped, line.encode()).decode("ascii")
    if encoded.endswith((" ", "\t")):
        encoded = f"{encoded[:-1]}={ord(encoded[-1]):02X}"
    return ("=\r\n".join(_folded(encoded)) + "\r\n").encode("ascii")


def _folded(encoded: str) -> Iterator[str]:
    start, end = 0, len(encoded)
    while True:
        prefix = ""
        if encoded.startswith(".", start):
            prefix, start = "=2E", start + 1
        elif encoded.startswith("From ", start):
            prefix, start = "=46", start + 1
        room = MAX_LINE - len(prefix)
        if end - start <= room:
            yield prefix + encoded[start:]
            return
        cut = start + room - 1  # one column for the soft line break "="
        # Every "=" here starts a three-character escape, which must not be split across lines.
        if encoded[cut - 1] == "=":
            cut -= 1
        elif encoded[cut - 2] == "=":
            cut -= 2
        yield prefix + encoded[start:cut]
        start = cut
