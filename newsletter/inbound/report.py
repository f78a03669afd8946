"""What one returned message is: a bounce, a complaint, an unsubscribe, an auto-reply, or none of these.

Bounces are recognised by flufl.bounce, Mailman's detectors for RFC 3464 delivery status notifications
and the common formats that predate it (Postfix, Exim, qmail, Exchange, Yahoo, ...): years of real
bounces went into them, which no set of patterns written here could match. Whom a bounce is about is
never taken from it: the return address (the VERP token) names the issue and the subscriber. The report
is read only for the reason (its Status and Diagnostic-Code, redacted) and whether the failure is
permanent: a 5.x.x Status is, a 4.x.x one is not (even when the relay gave up on it), and without a
Status flufl.bounce's own verdict decides. Complaints are ARF reports (RFC 5965); auto-replies are
recognised by their headers (RFC 3834 Auto-Submitted, and the common vendor ones).
"""

from __future__ import annotations

import email
import email.policy
import enum
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.message import Message

from flufl.bounce import all_failures

from newsletter.mail.redact import redact_text

# The detectors log each step at INFO; that is noise in the service's log.
logging.getLogger("flufl.bounce").setLevel(logging.WARNING)

MAX_REASON = 200
_AUTO_SUBJECT = re.compile(r"^\s*(out of (the )?office|automatic reply|auto(matic)?[- ]?reply|autoreply|"
                           r"away from (my|the) (desk|office)|vacation)", re.IGNORECASE)


class ReportKind(enum.StrEnum):
    BOUNCE = "bounce"
    COMPLAINT = "complaint"
    UNSUBSCRIBE = "unsubscribe"
    AUTO_REPLY = "auto-reply"
    OTHER = "other"


@dataclass(frozen=True)
class Report:
    """What a returned message says, without the message: the return addresses of ours it carries
    (best first), whether a bounce is permanent, and a redacted reason."""

    kind: ReportKind
    return_addresses: tuple[str, ...]
    permanent: bool = False
    reason: str = ""


@dataclass(frozen=True)
class ReturnPattern:
    """Our return addresses' shape: `local+TOKEN@domain` for the configured local parts and domain."""

    domain: str
    bounce_local: str
    unsubscribe_local: str
    token_chars: int

    def _pattern(self, local: str) -> re.Pattern[str]:
        return re.compile(rf"(?<![\w.+-]){re.escape(local)}\+[a-z2-7]{{{self.token_chars}}}@{re.escape(self.domain)}"
                          r"(?![\w-])", re.IGNORECASE)

    def find(self, text: str, *, unsubscribe: bool) -> list[str]:
        local = self.unsubscribe_local if unsubscribe else self.bounce_local
        return [match.group(0).lower() for match in self._pattern(local).finditer(text)]

    def accepts(self, address: str) -> bool:
        """Whether `address` is, whole, a return address of ours, or the bare bounce address (`bounces@DOMAIN`,
        the one to give a mailbox provider's feedback loop): the listener takes mail for no other."""
        text = address.strip().strip("<>")
        if text.lower() == f"{self.bounce_local}@{self.domain}":
            return True
        return any(self._pattern(local).fullmatch(text) for local in (self.bounce_local, self.unsubscribe_local))

    def is_unsubscribe(self, address: str) -> bool:
        return address.lower().startswith(self.unsubscribe_local + "+")


def read_report(raw: bytes, pattern: ReturnPattern, envelope_to: Sequence[str] = ()) -> Report:
    """Classify one returned message; `envelope_to` are the RCPT TO addresses when it came over SMTP."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    text = raw.decode("ascii", errors="replace")
    addressed = list(_ours(pattern, envelope_to)) or _ours_in_headers(pattern, message)
    if _report_type(message) == "feedback-report":
        return _complaint(message, text, pattern)
    temporary, permanent = _failures(message)
    if temporary or permanent or _report_type(message) == "delivery-status":
        return _bounce(message, text, pattern, addressed, bool(permanent))
    # Any mail to an unsubscribe address counts, whatever it says (out-of-office robots answer the
    # envelope sender, never the List-Unsubscribe mailto).
    unsubscribes = [a for a in addressed if pattern.is_unsubscribe(a)]
    if unsubscribes:
        return Report(ReportKind.UNSUBSCRIBE, tuple(unsubscribes))
    if _auto_reply(message):
        return Report(ReportKind.AUTO_REPLY, ())
    return Report(ReportKind.OTHER, ())


def _ours(pattern: ReturnPattern, addresses: Iterable[str]) -> list[str]:
    found: list[str] = []
    for address in addresses:
        for unsubscribe in (False, True):
            found += pattern.find(address, unsubscribe=unsubscribe)
    return found


def _ours_in_headers(pattern: ReturnPattern, message: Message) -> list[str]:
    # A mailbox hands the message on without its envelope; these say where it was delivered.
    values = [str(value) for name in ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To", "Cc")
              for value in message.get_all(name, [])]
    return _ours(pattern, values)


def _report_type(message: Message) -> str:
    if message.get_content_type() != "multipart/report":
        return ""
    return str(message.get_param("report-type", "") or "").lower()


def _failures(message: Message) -> tuple[frozenset[bytes], frozenset[bytes]]:
    try:
        return all_failures(message)
    except Exception:  # a detector that trips over a malformed message: then it is not a bounce we can read
        return frozenset(), frozenset()


def _bounce(message: Message, text: str, pattern: ReturnPattern, addressed: list[str], flufl_permanent: bool
            ) -> Report:
    statuses, diagnostics = _delivery_status(message)
    # flufl.bounce decides only where the report has no Status (the older, non-standard formats).
    permanent = any(status.startswith("5") for status in statuses) if statuses else flufl_permanent
    reason = " ".join([*statuses[:1], *diagnostics[:1]]) or ("permanent failure" if permanent
                                                             else "temporary failure")
    # The bounce address the relay wrote the report to comes first; one quoted in the returned
    # headers (Return-Path) next.
    bounces = [a for a in addressed if not pattern.is_unsubscribe(a)] + pattern.find(text, unsubscribe=False)
    return Report(ReportKind.BOUNCE, tuple(dict.fromkeys(bounces)), permanent, _redacted(reason))


def _complaint(message: Message, text: str, pattern: ReturnPattern) -> Report:
    feedback = ""
    for part in message.walk():
        if part.get_content_type() == "message/feedback-report":
            fields = _fields(part)
            feedback = fields.get("feedback-type", "")
    # The complained-of message is inside: its Return-Path names issue and subscriber, its
    # List-Unsubscribe the subscriber.
    found = pattern.find(text, unsubscribe=False) + pattern.find(text, unsubscribe=True)
    if feedback and feedback.lower() not in {"abuse", "fraud", "virus"}:
        return Report(ReportKind.OTHER, ())
    return Report(ReportKind.COMPLAINT, tuple(dict.fromkeys(found)), True,
                  _redacted(f"complaint ({feedback or 'abuse'})"))


def _delivery_status(message: Message) -> tuple[list[str], list[str]]:
    statuses: list[str] = []
    diagnostics: list[str] = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in _blocks(part)[1:]:  # the first block is per message, the others per recipient
            status = str(block.get("Status", "")).strip()
            if re.fullmatch(r"[245]\.\d{1,3}\.\d{1,3}", status):
                statuses.append(status)
            diagnostic = str(block.get("Diagnostic-Code", "")).strip()
            if diagnostic:
                diagnostics.append(diagnostic.partition(";")[2].strip() or diagnostic)
    return statuses, diagnostics


def _blocks(part: Message) -> list[Message]:
    """The header blocks of a message/delivery-status or message/feedback-report part."""
    payload = part.get_payload()
    return [block for block in payload if isinstance(block, Message)] if isinstance(payload, list) else []


def _fields(part: Message) -> dict[str, str]:
    blocks = _blocks(part)
    if blocks:
        return {key.lower(): str(value).strip() for block in blocks for key, value in block.items()}
    payload = part.get_payload()
    body = payload if isinstance(payload, str) else ""
    return {key.strip().lower(): value.strip() for key, _, value in
            (line.partition(":") for line in body.splitlines()) if value}


def _auto_reply(message: Message) -> bool:
    submitted = str(message.get("Auto-Submitted", "")).strip().lower()
    if submitted and submitted != "no":
        return True
    if any(message.get(name) for name in ("X-Autoreply", "X-Autorespond")):
        return True
    if str(message.get("Precedence", "")).strip().lower() in {"auto_reply", "auto-reply"}:
        return True
    return bool(_AUTO_SUBJECT.match(str(message.get("Subject", ""))))


def _redacted(reason: str) -> str:
    one_line = " ".join(reason.split())
    return redact_text(one_line)[:MAX_REASON]
