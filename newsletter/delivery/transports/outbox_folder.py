"""The embedded transport: one `.eml` file per message in a Maildir-style folder, written atomically."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
from pathlib import Path
from urllib.parse import quote

from newsletter.delivery.transports.base import Outgoing, dot_unstuff
from newsletter.errors import TemporaryFailure
from newsletter.mail.redact import redact

SUFFIX = ".eml"
_LONGEST_STEM = 180  # file systems allow 255 bytes; leave room for the temporary suffix


def file_name(message_id: str) -> str:
    """The file a message id is written to: one id, one name, so a re-send overwrites its first copy."""
    core = message_id.strip().removeprefix("<").removesuffix(">")
    if not core:
        raise ValueError("an outgoing message needs a Message-ID to be filed by (got an empty one)")
    # Percent-quoting is reversible, so two ids never share a file; ":" is quoted because Maildir
    # readers append ":2,FLAGS" to names, "/" because it separates folders.
    stem = quote(core, safe="@+=-_.")
    if stem.startswith("."):
        stem = "%2E" + stem[1:]
    if len(stem) > _LONGEST_STEM:
        digest = hashlib.sha256(core.encode("utf-8", errors="surrogateescape")).hexdigest()[:16]
        stem = f"{stem[:_LONGEST_STEM - 17]}.{digest}"
    return stem + SUFFIX


class OutboxTransport:
    """Writes each message to `folder/new/`, through `folder/tmp/`, so a crash never leaves half a file.

    The folder is a Maildir (tmp/, new/, cur/), so any mail client can open it. Files (0600) and the
    folders it creates (0700) are open to their owner only: each file holds a subscriber's address.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._serial = itertools.count()

    async def send(self, message: Outgoing) -> None:
        """File the message; a file-system error is a TemporaryFailure (disk full, no permission)."""
        if message.ready is not None:
            await message.ready
        await asyncio.to_thread(self.write, message)

    def share(self, senders: int) -> None:
        """Files have no rate to share."""

    async def close(self) -> None:
        """Nothing stays open between messages."""

    def path_for(self, message_id: str) -> Path:
        """Where the message with this id ends up."""
        return self.folder / "new" / file_name(message_id)

    def write(self, message: Outgoing) -> Path:
        """The blocking part of `send`: write to tmp/, fsync, rename into new/, fsync new/."""
        final = self.path_for(message.message_id)
        data = dot_unstuff(message.data) if message.dot_stuffed else message.data
        # pid and serial keep concurrent writers of the same message out of each other's way.
        temporary = self.folder / "tmp" / f"{final.name}.{os.getpid()}.{next(self._serial)}"
        try:
            # The folder itself too: created as a parent it would get the umask's 0755, and its
            # file names (Message-IDs) and sizes would be open to every user of the machine.
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            for sub in ("tmp", "new", "cur"):
                (self.folder / sub).mkdir(mode=0o700, exist_ok=True)
            self._write_synced(temporary, data)
            try:
                os.replace(temporary, final)
            except OSError:
                temporary.unlink(missing_ok=True)
                raise
            sync_folder(final.parent)
        except OSError as exc:
            raise TemporaryFailure(
                f"cannot write {final}: {exc.strerror or exc}; check that [outbox] dir "
                f"({self.folder}) is a writable folder with free space",
                recipient=redact(message.recipient),
            ) from exc
        return final

    @staticmethod
    def _write_synced(path: Path, data: bytes) -> None:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with open(descriptor, "wb", closefd=True) as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError:
            path.unlink(missing_ok=True)
            raise


def sync_folder(folder: Path) -> None:
    """Make the rename itself durable: it lives in the folder's entry table."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
