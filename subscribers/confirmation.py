"""The confirmation email (of a sign-up, or of a new address a reader asked for): rendered, CSS-inlined and
encoded once; per message only the address, the date,
the Message-ID and the link change. When `[dkim]` is set, each message is signed as the issue's are
(`newsletter.mail.dkim`): the composition root passes the signer's `sign`.

Nothing the visitor typed goes into it except the address, and that only in the To: header.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from email.utils import format_datetime
from html import escape

from newsletter.config.settings import Config
from newsletter.delivery.transports.base import Outgoing
from newsletter.mail.headers import address_header, header
from newsletter.mail.quoted_printable import encode_line
from newsletter.templating import email_environment, inline, render_template
from newsletter.translations import translations

HTML_TEMPLATE = "email/confirm.html"
TEXT_TEMPLATE = "email/confirm.txt"
CHANGE_TEMPLATES = ("email/change.html", "email/change.txt")
# Letters only, so escaping, premailer and text wrapping leave it as it is.
_LINK = "NLPLACEHOLDERCONFIRMURL"
Body = list[bytes | str]  # encoded lines, and lines still holding the link (encoded per message)


class ConfirmationMail:
    """Builds one confirmation message per sign-up from templates rendered at start-up."""

    def __init__(self, config: Config, *, sign: Callable[[bytes], bytes] | None = None,
                 change: bool = False) -> None:
        self._config = config
        self._sign = sign
        html_template, text_template = CHANGE_TEMPLATES if change else (HTML_TEMPLATE, TEXT_TEMPLATE)
        env = email_environment(config)
        values = {"newsletter": config.newsletter, "confirm_url": _LINK,
                  "pending_days": config.subscribers.pending_days,
                  "base_url": config.web.base_url.rstrip("/")}
        settings = config.newsletter
        self._sender = settings.from_address
        self._domain = settings.from_address.rpartition("@")[2]
        # Random per process and absent from the parts (they are quoted-printable: no "=_" run in them).
        self._boundary = "=_confirm_" + secrets.token_hex(12)
        top = [address_header("From", settings.from_name, settings.from_address)]
        if settings.reply_to:
            top.append(address_header("Reply-To", "", settings.reply_to))
        words = translations(settings.language)
        subject = (words.gettext("Please confirm your new address for %(title)s") if change
                   else words.gettext("Please confirm your subscription to %(title)s"))
        top += [header("Subject", subject % {"title": settings.title}),
                b"MIME-Version: 1.0\r\n",
                # RFC 3834: stops out-of-office robots from answering a message no person wrote.
                b"Auto-Submitted: auto-generated\r\n",
                f'Content-Type: multipart/alternative; boundary="{self._boundary}"\r\n'.encode()]
        self._top = b"".join(top)
        self._text = _encoded(render_template(env, text_template, values))
        self._html = _encoded(inline(render_template(env, html_template, values)))

    def for_change(self) -> ConfirmationMail:
        """The twin that confirms a new address, signed the same way."""
        return ConfirmationMail(self._config, sign=self._sign, change=True)

    def build(self, address: str, confirm_url: str, now: datetime, *, envelope_sender: str = "") -> Outgoing:
        """The message for `address`, a normalised address from `subscribers.addresses` (one line, no
        brackets); a non-ASCII one goes in as UTF-8, for servers that take SMTPUTF8. `envelope_sender`,
        when given, is its bounce address (a bounce then cancels the sign-up), else from_address."""
        message_id = f"<confirm.{secrets.token_hex(12)}@{self._domain}>"
        boundary = self._boundary.encode()
        data = b"".join([
            f"To: {address}\r\n".encode(),
            f"Date: {format_datetime(now)}\r\nMessage-ID: {message_id}\r\n".encode(),
            self._top, b"\r\n",
            b"--", boundary, b"\r\n", _part("text/plain", self._text, confirm_url),
            b"--", boundary, b"\r\n", _part("text/html", self._html, escape(confirm_url)),
            b"--", boundary, b"--\r\n",
        ])
        if self._sign is not None:
            data = self._sign(data)
        return Outgoing(sender=envelope_sender or self._sender, recipient=address, data=data, message_id=message_id)


def _encoded(text: str) -> Body:
    return [line if _LINK in line else encode_line(line) for line in text.splitlines()]


def _part(content_type: str, body: Body, link: str) -> bytes:
    lines = [line if isinstance(line, bytes) else encode_line(line.replace(_LINK, link)) for line in body]
    return b"".join([f"Content-Type: {content_type}; charset=utf-8\r\n".encode(),
                     b"Content-Transfer-Encoding: quoted-printable\r\n\r\n", *lines, b"\r\n"])
