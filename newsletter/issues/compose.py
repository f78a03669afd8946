"""One MIME message per issue, personalised for each recipient by substitution in the encoded bytes.

Every message has this shape (CRLF line endings; body lines at most 76 octets; header lines folded
to 78 columns, except that a long unsubscribe URL keeps its line whole, at most 921 octets):

    From, To, Subject, Date, Message-ID, List-Unsubscribe, [Reply-To], List-Id, Feedback-ID,
    List-Unsubscribe-Post, MIME-Version, Content-Type: multipart/alternative
        text/plain; charset="utf-8", quoted-printable
        text/html; charset="utf-8", quoted-printable

Subject: `[newsletter] subject` filled with {title}, {date} (the week's Monday, "16 November 2026"),
{week} ("2026-W47"), {first} (the first excerpt's title) and {count} (how many excerpts).
Message-ID: `<WEEK.DIGEST@DOMAIN>`, DIGEST being 24 hex digits of
SHA-256 over (list_id, week, subscriber_id) and DOMAIN that of from_address: every attempt to send
one issue to one subscriber carries the same id, so a resend after a crash is recognisably the same
message. List-Unsubscribe carries the recipient's https URL and a mailto: the recipient's own
`unsubscribe+TOKEN@` address when `[bounces] domain` is set (any mail to it unsubscribes them), else
`FROM_ADDRESS?subject=unsubscribe` (a person reading that mailbox acts on it). The https URL is the
one-click path mail providers use.

Feedback-ID, for Gmail's feedback loop (which reports complaint rates per value of each field):
`WEEK:issue:newsletter:LIST_ID`, e.g. `2026-W47:issue:newsletter:weekly.example.org`. The fields are
the issue (so each issue's complaint rate shows), the kind of mail (the weekly issue, as against
transactional mail), the product, and, last, the sender id Gmail requires to be the same on all of a
sender's mail: the list's `list_id`. It is the same for every recipient of an issue (no field may
identify a person) and DKIM signs it, as Gmail asks.

No line of a personalised message begins with "." (the encoder writes it as =2E), so SMTP
dot-stuffing leaves the bytes unchanged. That holds for the per-recipient lines too: a body line
holding a placeholder is encoded for each recipient by the same encoder, from the physical line its
first placeholder falls in (`quoted_printable.LineTemplate` keeps the ones before, which no value changes).
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

from newsletter.config.header_rules import is_address, is_list_id, subject_fields
from newsletter.config.settings import Config
from newsletter.content.excerpt import Excerpt
from newsletter.errors import ConfigError, PermanentFailure
from newsletter.issues.render import Placeholders, RenderedIssue
from newsletter.mail.headers import address_domain, address_header, header, one_line
from newsletter.mail.quoted_printable import LineTemplate, encode_line
from newsletter.mail.recipient import Recipient
from newsletter.translations import N_, day_month_year, translations
from newsletter.weeks import IsoWeek

# newsletter.subject's default, marked here so that each catalog gives it in its language.
DEFAULT_SUBJECT = N_("{title} — week of {date}")

CRLF = b"\r\n"
MAX_URL = 900  # keeps "List-Unsubscribe: <URL>," inside one 998-octet line
# What a URL in a header may hold: printable ASCII but the space and <, > and ", which would end it.
_HTML_SPECIAL = re.compile(r"[&<>\"']")  # what html.escape changes
_PLAIN_URL = re.compile(r'[!#-;=?-~]*')


@dataclass(frozen=True)
class _Line:
    """A logical line of a body part that holds placeholders; its template encodes it per recipient."""

    template: LineTemplate
    is_html: bool


class MessageTemplate:
    """The issue's message with the recipient left out; built once by `compose`, used for everyone."""

    def __init__(self, week: IsoWeek, subject: str, list_id: str, domain: str, mailto: str,
                 top: bytes, middle: bytes, tail: bytes, body: Sequence[bytes | _Line],
                 placeholders: Placeholders, manage_fallback: str = "") -> None:
        self.week = week
        self.subject = subject
        self._list_id = list_id
        self._domain = domain
        self._mailto = mailto.encode()
        self._top, self._middle, self._tail = top, middle, tail
        self._body = tuple(body)
        self._placeholders = placeholders
        self._manage_fallback = manage_fallback
        # Per message, only the subscriber id and the second change: the rest is worked out once.
        self._id_key = f"{list_id}\0{week}\0".encode()
        self._id_head, self._id_tail = f"<{week}.", f"@{domain}>"
        self._dated: tuple[int, bytes] = (-1, b"")

    def message_id(self, subscriber_id: int) -> str:
        """`<2026-W47.DIGEST@domain>`: the same for every attempt at this issue for this subscriber."""
        digest = hashlib.sha256(self._id_key + str(subscriber_id).encode()).hexdigest()[:24]
        return self._id_head + digest + self._id_tail

    def personalise(self, recipient: Recipient, *, date: datetime | None = None,
                    message_id: str | None = None) -> bytes:
        """The complete message for one recipient, CRLF line endings; `date` defaults to now, `message_id`
        to `self.message_id(recipient.subscriber_id)` (a caller that has it already saves the hashing).

        Raises:
            PermanentFailure: the address cannot be written in a header (not a plain ASCII address).
            ValueError: the unsubscribe or manage URL is not a plain http(s) URL of at most 900 characters.
        """
        address = _checked_address(recipient)
        url = _checked_url(recipient.unsubscribe_url)
        # A recipient without a page of their own (a test send) gets the page that explains where it is.
        manage = _checked_url(recipient.manage_url or self._manage_fallback, "manage")
        plain = self._placeholders.escaped(address, url, manage)
        # Most readers' values hold nothing HTML escapes: then the HTML part's values are the same.
        values = {False: plain, True: plain if not _HTML_SPECIAL.search(address + url + manage) else
                  self._placeholders.escaped(html.escape(address), html.escape(url), html.escape(manage))}
        parts = [
            self._top,
            b"To: ", address.encode(), CRLF,
            self._middle,
            b"Date: ", self._date_line(date or datetime.now(UTC)), CRLF,
            b"Message-ID: ", (message_id or self.message_id(recipient.subscriber_id)).encode(), CRLF,
            _list_unsubscribe(url.encode(), _mailto(recipient) or self._mailto),
            self._tail,
        ]
        for chunk in self._body:
            parts.append(chunk if isinstance(chunk, bytes) else chunk.template.fill(values[chunk.is_html]))
        return b"".join(parts)

    def _date_line(self, when: datetime) -> bytes:
        """The Date header's value; the header counts whole seconds, so it is formatted once a second."""
        second = int(when.timestamp())
        if when.tzinfo is UTC and self._dated[0] == second:
            return self._dated[1]
        formatted = format_datetime(when).encode()
        if when.tzinfo is UTC:
            self._dated = (second, formatted)
        return formatted


def compose(config: Config, issue: RenderedIssue) -> MessageTemplate:
    """Build the issue's message template: headers and both parts, encoded once."""
    settings = config.newsletter
    _require(is_address(settings.from_address), "newsletter.from_address", "an email address")
    _require(is_list_id(settings.list_id), "newsletter.list_id", "a domain-like name")
    _require(not settings.reply_to or is_address(settings.reply_to), "newsletter.reply_to",
             "an email address")
    subject = issue.subject or subject_line(config, issue.week, issue.excerpts)
    domain = address_domain(settings.from_address)
    boundary = "=_" + hashlib.sha256(f"{settings.list_id}\0{issue.week}".encode()).hexdigest()[:32]
    top = address_header("From", settings.from_name, settings.from_address)
    middle = header("Subject", subject)
    tail = b"".join([
        address_header("Reply-To", "", settings.reply_to) if settings.reply_to else b"",
        address_header("List-Id", settings.title, settings.list_id),
        feedback_id(issue.week, settings.list_id),
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
        b"MIME-Version: 1.0\r\n",
        # "=_" cannot occur in quoted-printable text, so the boundary can never clash with a body.
        f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"\r\n'.encode(),
        CRLF,
    ])
    body = [*_part(boundary, "text/plain", issue.text, issue.placeholders, is_html=False),
            *_part(boundary, "text/html", issue.html, issue.placeholders, is_html=True),
            f"--{boundary}--\r\n".encode()]
    mailto = f"mailto:{settings.from_address}?subject=unsubscribe"
    return MessageTemplate(issue.week, subject, settings.list_id, domain, mailto, top, middle, tail,
                           _merged(body), issue.placeholders, f"{config.web.base_url.rstrip('/')}/manage")


def subject_line(config: Config, week: IsoWeek, excerpts: Sequence[Excerpt]) -> str:
    """The configured subject with its fields (`header_rules.SUBJECT_FIELDS`) filled in, on one line."""
    language = config.newsletter.language
    fields = {"title": one_line(config.newsletter.title), "date": day_month_year(week.monday, language),
              "week": str(week), "first": one_line(excerpts[0].title) if excerpts else "",
              "count": str(len(excerpts))}
    template = config.newsletter.subject
    if template == DEFAULT_SUBJECT:  # the default speaks the readers' language; an admin's own is kept as is
        template = translations(language).gettext(DEFAULT_SUBJECT)
    try:
        # Only the bare names: "{title.__class__}" and the like must not reach str.format.
        unknown = [name for _, name, _, _ in string.Formatter().parse(template)
                   if name is not None and name not in fields]
        if unknown:
            raise KeyError(unknown[0])
        return one_line(template.format_map(fields))
    except (KeyError, ValueError) as error:
        raise ConfigError("newsletter.subject", f"cannot be filled in ({error!r}); "
                          f"use only {subject_fields()}") from None


def feedback_id(week: IsoWeek, list_id: str) -> bytes:
    """The Feedback-ID header line; `list_id` is domain-like (checked), so no field holds a colon."""
    return f"Feedback-ID: {week}:issue:newsletter:{list_id}\r\n".encode()


def _part(boundary: str, content_type: str, content: str, placeholders: Placeholders, *,
          is_html: bool) -> list[bytes | _Line]:
    chunks: list[bytes | _Line] = [
        f"--{boundary}\r\nContent-Type: {content_type}; charset=\"utf-8\"\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n".encode()
    ]
    lines = content.replace("\r\n", "\n").replace("\r", "\n").removesuffix("\n").split("\n")
    for line in lines:
        if placeholders.held_by(line):
            chunks.append(_Line(LineTemplate(line, placeholders.names), is_html))
        else:
            chunks.append(encode_line(line))
    # The CRLF before a boundary belongs to the boundary: this one ends the part's last line.
    chunks.append(CRLF)
    return chunks


def _merged(chunks: Sequence[bytes | _Line]) -> list[bytes | _Line]:
    """Join neighbouring static chunks, so personalising copies a handful of large pieces."""
    merged: list[bytes | _Line] = []
    for chunk in chunks:
        if isinstance(chunk, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] += chunk
        else:
            merged.append(chunk)
    return merged


def _list_unsubscribe(url: bytes, mailto: bytes) -> bytes:
    # A long URL cannot be folded: its line may pass 78 columns, never 998 (MAX_URL sees to that).
    return b"List-Unsubscribe: <" + url + b">,\r\n <" + mailto + b">\r\n"


def _mailto(recipient: Recipient) -> bytes:
    """The recipient's own unsubscribe address as a mailto, when they have one."""
    if not recipient.unsubscribe_mailto:
        return b""
    if not is_address(recipient.unsubscribe_mailto):
        raise ValueError("the unsubscribe address must be a plain ASCII address")
    return f"mailto:{recipient.unsubscribe_mailto}?subject=unsubscribe".encode()


def _require(ok: bool, key: str, what: str) -> None:
    # The config loader checks these too; a Config built in code must not reach a header unchecked.
    if not ok:
        raise ConfigError(key, f"must be {what} on one line, as config.example.toml shows")


def _checked_address(recipient: Recipient) -> str:
    address = recipient.address
    local, _, domain = address.rpartition("@")
    if not domain.isascii():
        with contextlib.suppress(UnicodeError):
            address = f"{local}@{domain.encode('idna').decode('ascii')}"
    if not is_address(address):
        raise PermanentFailure(f"subscriber {recipient.subscriber_id}: the address cannot be written in a "
                               "message header (only plain ASCII addresses are supported)")
    return address


def _checked_url(url: str, kind: str = "unsubscribe") -> str:
    if not url.startswith(("https://", "http://")) or len(url) > MAX_URL or not _PLAIN_URL.fullmatch(url):
        raise ValueError(f"{kind} URL must be a plain http(s) URL of at most {MAX_URL} characters")
    return url
