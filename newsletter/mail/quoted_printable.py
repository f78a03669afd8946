"""Quoted-printable (RFC 2045) for one line at a time, so a line can be encoded again per recipient.

Besides the RFC's rules (at most 76 octets a line, "=" written "=3D", no bare trailing space),
a line that would begin with "." or "From " gets its first character escaped: then SMTP
dot-stuffing and mbox "From " quoting never need to touch the encoded text.

A line that holds placeholders is encoded for every recipient; `LineTemplate` does once the part of
that work that is the same for everyone (the escaping of the fixed text, and the physical lines
before the first placeholder), so a message costs only the folding from there on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

MAX_LINE = 76

# Everything but printable ASCII (less "="), space and tab is escaped.
_ESCAPE = re.compile(rb"[^\x21-\x3c\x3e-\x7e \t]")


def _escaped(match: re.Match[bytes]) -> bytes:
    return b"=%02X" % match[0][0]


def escape(text: str) -> str:
    """`text` with every octet that needs it escaped, not yet folded into lines."""
    return _ESCAPE.sub(_escaped, text.encode()).decode("ascii")


def encode_line(line: str) -> bytes:
    """One logical line (no line break inside) as quoted-printable physical lines, each ending in CRLF."""
    return _finished(escape(line))


def _finished(encoded: str) -> bytes:
    """An escaped logical line, its trailing blank escaped, folded into physical lines."""
    if encoded.endswith((" ", "\t")):
        encoded = f"{encoded[:-1]}={ord(encoded[-1]):02X}"
    if len(encoded) <= MAX_LINE and not encoded.startswith((".", "From ")):
        return (encoded + "\r\n").encode("ascii")  # most lines: one physical line as it is
    lines = [prefix + encoded[start:end] for prefix, start, end in _cuts(encoded)]
    return ("=\r\n".join(lines) + "\r\n").encode("ascii")


def _cuts(encoded: str) -> list[tuple[str, int, int]]:
    """The physical lines of an escaped line: (escape of its first character, or "", start, end)."""
    cuts = []
    start, end = 0, len(encoded)
    while True:
        prefix = ""
        if encoded.startswith(".", start):
            prefix, start = "=2E", start + 1
        elif encoded.startswith("From ", start):
            prefix, start = "=46", start + 1
        room = MAX_LINE - len(prefix)
        if end - start <= room:
            cuts.append((prefix, start, end))
            return cuts
        cut = start + room - 1  # one column for the soft line break "="
        # Every "=" here starts a three-character escape, which must not be split across lines.
        if encoded[cut - 1] == "=":
            cut -= 1
        elif encoded[cut - 2] == "=":
            cut -= 2
        cuts.append((prefix, start, cut))
        start = cut


class LineTemplate:
    """A logical line holding placeholders, encoded once as far as the recipient does not change it.

    `fill(values)` gives exactly `encode_line` of the line with each placeholder replaced by its value.
    The physical lines that end before the first placeholder are the same for every value: a cut
    depends only on the text from its line's start to the cut, and a line ends there only because more
    than a line's room was left after its start, whatever the value. The line the placeholder falls in
    is folded afresh for each recipient, with everything after it.
    """

    def __init__(self, line: str, placeholders: Sequence[str]) -> None:
        present = [p for p in placeholders if p in line]
        if not present:
            raise ValueError("a line template needs a placeholder in its line")
        first = min(line.index(p) for p in present)
        head = escape(line[:first])
        *done, (escaped, start, _) = _cuts(head)
        carried = head[start - 1 if escaped else start:]  # from its first character, escaped or not
        self._head = "".join(prefix + head[start:end] + "=\r\n" for prefix, start, end in done).encode("ascii")
        pieces = re.split("(" + "|".join(map(re.escape, present)) + ")", line[first:])
        # Even places: fixed text, escaped once; odd places: the placeholders, filled per recipient.
        self._pieces = [piece if index % 2 else escape(piece) for index, piece in enumerate(pieces)]
        self._pieces[0] = carried + self._pieces[0]

    def fill(self, values: Mapping[str, str]) -> bytes:
        """The encoded line with each placeholder replaced by `values[placeholder]`, already `escape`d."""
        pieces = self._pieces
        text = "".join([piece if index % 2 == 0 else values[piece] for index, piece in enumerate(pieces)])
        return self._head + _finished(text)
