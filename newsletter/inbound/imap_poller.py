"""Polling a hosted mailbox for returned mail, for operators who cannot point an MX at `newsletter run`.

Each poll logs in, reads every message in `[bounces] imap_folder`, hands it to the processor and then
moves it to `imap_done_folder` (RFC 6851 MOVE, else COPY then delete): a message is never deleted
unprocessed, and one whose handling failed stays where it was for the next poll. The stdlib's imaplib
does the protocol; it is blocking, so a poll runs in a thread.
"""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field

from newsletter.config.settings import BouncesSettings
from newsletter.errors import MailboxError
from newsletter.inbound.process import Handled
from newsletter.mail.redact import redact_text

log = logging.getLogger(__name__)
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


@dataclass
class Poll:
    """What one poll did."""

    handled: list[Handled] = field(default_factory=list)
    too_large: int = 0
    failed: int = 0


class ImapPoller:
    """Polls one folder; `handle` is the processor's `handle` (bytes in, what was done out)."""

    def __init__(self, settings: BouncesSettings, handle: Callable[[bytes], Handled],
                 context: ssl.SSLContext | None = None) -> None:
        self._settings = settings
        self._handle = handle
        self._context = context or ssl.create_default_context()

    def poll(self) -> Poll:
        """Handle every message waiting in the folder and move each handled one away."""
        done = Poll()
        try:
            client = self._connect()
        except (OSError, imaplib.IMAP4.error) as error:
            raise MailboxError(f"cannot connect or log in ({_why(error)})") from None
        try:
            self._ensure_folder(client, self._settings.imap_done_folder)
            status, _ = client.select(_quoted(self._settings.imap_folder))
            if status != "OK":
                raise MailboxError(f"folder {self._settings.imap_folder!r} cannot be opened")
            _, found = client.uid("SEARCH", "ALL")
            for uid in (found[0] or b"").split():
                self._one(client, uid.decode("ascii"), done)
        except (OSError, imaplib.IMAP4.error) as error:
            raise MailboxError(f"the connection failed ({_why(error)})") from None
        finally:
            _close(client)
        if done.handled or done.too_large or done.failed:
            log.info("IMAP poll: %d handled, %d too large (moved unread), %d left for the next poll",
                     len(done.handled), done.too_large, done.failed,
                     extra={"event": "inbound.imap_poll", "handled": len(done.handled)})
        return done

    def _one(self, client: imaplib.IMAP4, uid: str, done: Poll) -> None:
        _, sized = client.uid("FETCH", uid, "(RFC822.SIZE)")
        size = _SIZE.search(b" ".join(part if isinstance(part, bytes) else part[0] for part in sized if part))
        if size is not None and int(size.group(1)) > self._settings.max_message_bytes:
            log.warning("IMAP: a message larger than bounces.max_message_bytes was moved to %s without being "
                        "read", self._settings.imap_done_folder, extra={"event": "inbound.too_large"})
            self._move(client, uid)
            done.too_large += 1
            return
        _, fetched = client.uid("FETCH", uid, "(BODY.PEEK[])")
        raw = next((part[1] for part in fetched if isinstance(part, tuple)), None)
        if raw is None:
            done.failed += 1
            return
        try:
            handled = self._handle(raw)
        except Exception as error:  # left in the folder, and tried again next poll
            log.warning("IMAP: a message could not be handled yet (%s); it stays in %s", type(error).__name__,
                        self._settings.imap_folder, extra={"event": "inbound.retry"})
            done.failed += 1
            return
        self._move(client, uid)
        done.handled.append(handled)

    def _connect(self) -> imaplib.IMAP4:
        settings = self._settings
        client: imaplib.IMAP4
        if settings.imap_security == "tls":
            client = imaplib.IMAP4_SSL(settings.imap_host, settings.imap_port, ssl_context=self._context,
                                       timeout=30)
        else:
            client = imaplib.IMAP4(settings.imap_host, settings.imap_port, timeout=30)
        try:
            if settings.imap_security == "starttls":
                client.starttls(self._context)
            client.login(settings.imap_username, settings.imap_password)
        except BaseException:
            client.shutdown()
            raise
        # Servers offer more once logged in (MOVE among it); imaplib keeps the list it read at greeting.
        status, answer = client.capability()
        if status == "OK" and answer and isinstance(answer[0], bytes):
            client.capabilities = tuple(answer[0].decode("ascii", "replace").upper().split())
        return client

    def _ensure_folder(self, client: imaplib.IMAP4, folder: str) -> None:
        status, listed = client.list('""', _quoted(folder))
        if status == "OK" and any(item for item in listed if item):
            return
        status, _ = client.create(_quoted(folder))
        if status != "OK":
            raise MailboxError(f"folder {folder!r} is missing and cannot be created")

    def _move(self, client: imaplib.IMAP4, uid: str) -> None:
        target = _quoted(self._settings.imap_done_folder)
        if "MOVE" in client.capabilities:
            status, _ = client.uid("MOVE", uid, target)
            if status == "OK":
                return
        status, _ = client.uid("COPY", uid, target)
        if status != "OK":
            raise MailboxError(f"a handled message cannot be copied to {self._settings.imap_done_folder!r}")
        client.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)")
        client.expunge()


def _quoted(folder: str) -> str:
    # The settings check refuses quotes and backslashes in folder names, so quoting is enough.
    return f'"{folder}"'


def _why(error: BaseException) -> str:
    return redact_text(str(error).strip() or type(error).__name__)[:200]


def _close(client: imaplib.IMAP4) -> None:
    try:
        if client.state == "SELECTED":
            client.close()
        client.logout()
    except (OSError, imaplib.IMAP4.error):
        pass
