"""The commands of one SMTP transaction (MAIL with its options, RCPT, DATA) for one `Outgoing`, and the
check that its addresses can be carried on a command line at all. Pure functions: `smtp.py` writes them.
"""

from __future__ import annotations

import re

from newsletter.delivery.transports.base import Outgoing, dot_stuff
from newsletter.delivery.transports.smtp_session import SmtpSession
from newsletter.errors import PermanentFailure, SessionFailure
from newsletter.mail.redact import redact

# Spaces, brackets and control characters would break the command line or smuggle another command in.
_UNSENDABLE = re.compile(r"[\x00-\x20<>\x7f]")


def envelope_commands(message: Outgoing) -> bytes:
    """MAIL, RCPT and DATA for `message`, as written together; raises for an address SMTP cannot carry."""
    sender = _address(message.sender, message.recipient, sender=True)
    recipient = _address(message.recipient, message.recipient, sender=False)
    return _mail_rcpt_data(sender, recipient, message)


def _mail_rcpt_data(sender: bytes, recipient: bytes, message: Outgoing) -> bytes:
    options = b""
    if not (sender.isascii() and recipient.isascii()):
        options += b" SMTPUTF8"
    # SIZE and BODY=8BITMIME are declared to every server: the ones that do not offer them are the rare
    # old ones, and `fit_options` takes them out for those.
    options += b" SIZE=%d BODY=8BITMIME" % len(stuffed_data(message))
    return b"MAIL FROM:<" + sender + b">" + options + b"\r\nRCPT TO:<" + recipient + b">\r\nDATA\r\n"


def stuffed_data(message: Outgoing) -> bytes:
    return message.data if message.dot_stuffed else dot_stuff(message.data)


def needs_smtputf8(message: Outgoing) -> bool:
    return not (message.sender.isascii() and message.recipient.isascii())


def fit_options(commands: bytes, session: SmtpSession) -> bytes:
    """Drop the MAIL options the server does not offer."""
    if not session.offers("SIZE"):
        commands = re.sub(rb" SIZE=\d+", b"", commands, count=1)
    if not session.offers("8BITMIME"):
        commands = commands.replace(b" BODY=8BITMIME", b"", 1)
    return commands


def _address(address: str, recipient: str, *, sender: bool) -> bytes:
    if "@" in address and not _UNSENDABLE.search(address):
        return address.encode("utf-8")
    problem = (f"{redact(address)} cannot be used in SMTP: "
               "it needs an @ and no spaces, <> or control characters")
    if sender:
        raise SessionFailure(problem + "; check [newsletter] from_address", recipient=redact(recipient))
    raise PermanentFailure(problem, recipient=redact(recipient))
