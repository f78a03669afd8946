"""Received messages kept durably until they are handled: one file each (0600, in folders 0700), written to
`tmp/`, flushed to disk, then renamed into `new/`, Maildir's recipe, so that the listener answers 250
only for a message that survives a crash, and a half-written file is never read as a message.

The first line of a file holds the envelope recipients (JSON), the rest is the message as received.
A file is deleted once its message is handled: the raw bounce is kept no longer than that.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Sequence
from pathlib import Path

from newsletter.delivery.transports.outbox_folder import sync_folder


class Spool:
    """A folder of messages waiting to be handled."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._tmp = folder / "tmp"
        self._new = folder / "new"

    def create(self) -> None:
        for path in (self.folder, self._tmp, self._new):
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
            path.chmod(0o700)

    def put(self, data: bytes, envelope_to: Sequence[str]) -> Path:
        """Store one message on disk (flushed) and return its file; OSError when the disk refuses."""
        name = f"{time.time_ns()}.{secrets.token_hex(6)}.msg"
        temporary = self._tmp / name
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(json.dumps(list(envelope_to)).encode() + b"\n")
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            final = self._new / name
            temporary.rename(final)
            sync_folder(self._new)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return final

    def waiting(self) -> list[Path]:
        """The stored messages not yet handled, oldest first."""
        return sorted(self._new.glob("*.msg"))

    @staticmethod
    def read(path: Path) -> tuple[bytes, list[str]]:
        """One stored message and its envelope recipients."""
        head, _, data = path.read_bytes().partition(b"\n")
        try:
            recipients = [str(r) for r in json.loads(head)]
        except ValueError:
            recipients = []
        return data, recipients

    @staticmethod
    def done(path: Path) -> None:
        """Forget a handled message."""
        path.unlink(missing_ok=True)

