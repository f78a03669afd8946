"""Saved messages as an operator hands them in: an mbox file (as `formail`, mutt or a mail archive
writes it) or a single message (.eml). The stdlib's `mailbox` reads mbox, "From " quoting included."""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from pathlib import Path

from newsletter.errors import SourceError


def messages_in(path: Path, max_bytes: int) -> Iterator[bytes | None]:
    """Each message in the file, as bytes; None for one larger than `max_bytes` (left unread, and the file
    is never changed). Raises SourceError when the file cannot be read."""
    try:
        with path.open("rb") as handle:
            start = handle.read(5)
        size = path.stat().st_size
    except OSError as error:
        raise SourceError(str(path), f"cannot be read ({error.strerror})") from None
    if start != b"From ":
        if size > max_bytes:
            yield None
            return
        yield path.read_bytes()
        return
    box = mailbox.mbox(path, create=False)
    try:
        for key in box.iterkeys():
            # Read no more than the cap plus one byte: a huge message is never held in memory whole.
            with box.get_file(key) as handle:
                data = handle.read(max_bytes + 1)
            yield None if len(data) > max_bytes else data
    finally:
        box.close()
