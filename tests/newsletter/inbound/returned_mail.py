"""Returned mail as the mail world writes it, built for tests: a Postfix-style DSN (RFC 3464), an older
qmail-style bounce, an ARF complaint (RFC 5965), an out-of-office reply and a plain unsubscribe."""

from __future__ import annotations

from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import SMTP

ORIGINAL_FROM = "letters@news.example.org"


def _bytes(message: Message) -> bytes:
    return message.as_bytes(policy=SMTP)


def original_headers(return_path: str, to: str, unsubscribe: str = "") -> str:
    """The headers of the message that went out, as a report quotes them back."""
    lines = [f"Return-Path: <{return_path}>", f"From: Weekly Lessons <{ORIGINAL_FROM}>", f"To: {to}",
             "Subject: Weekly Lessons - week of 16 November 2026",
             "Message-ID: <2026-W47.0123456789abcdef01234567@news.example.org>"]
    if unsubscribe:
        lines.append(f"List-Unsubscribe: <https://news.example.org/unsubscribe?token=x>, <mailto:{unsubscribe}>")
    return "\r\n".join(lines) + "\r\n"


def dsn(bounce_to: str, failed: str, *, status: str = "5.1.1", action: str = "failed",
        diagnostic: str = "smtp; 550 5.1.1 <{failed}>: Recipient address rejected: no such user",
        quoted_return_path: str = "") -> bytes:
    """A delivery status notification as Postfix writes it, sent to `bounce_to` about `failed`."""
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = "MAILER-DAEMON@relay.example.net (Mail Delivery System)"
    report["To"] = bounce_to
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Auto-Submitted"] = "auto-replied"
    report.attach(MIMEText("I'm sorry to have to inform you that your message could not be delivered.\n"))
    status_part = MIMEBase("message", "delivery-status")
    per_message = Message()
    per_message["Reporting-MTA"] = "dns; relay.example.net"
    per_recipient = Message()
    per_recipient["Final-Recipient"] = f"rfc822; {failed}"
    per_recipient["Original-Recipient"] = f"rfc822;{failed}"
    per_recipient["Action"] = action
    per_recipient["Status"] = status
    per_recipient["Diagnostic-Code"] = diagnostic.format(failed=failed)
    status_part.set_payload([per_message, per_recipient])
    report.attach(status_part)
    headers = MIMEBase("text", "rfc822-headers")
    headers.set_payload(original_headers(quoted_return_path or bounce_to, failed))
    report.attach(headers)
    return _bytes(report)


def qmail_bounce(bounce_to: str, failed: str) -> bytes:
    """A bounce in qmail's own format (no DSN): only flufl.bounce's heuristics read it."""
    message = EmailMessage()
    message["From"] = "MAILER-DAEMON@old.example.net"
    message["To"] = bounce_to
    message["Subject"] = "failure notice"
    message.set_content(
        "Hi. This is the qmail-send program at old.example.net.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        f"<{failed}>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n"
        "--- Below this line is a copy of the message.\n\n"
        f"Return-Path: <{bounce_to}>\nSubject: Weekly Lessons\n\nHello\n")
    return _bytes(message)


def arf(feedback_to: str, original_return_path: str, unsubscribe: str, *, feedback_type: str = "abuse") -> bytes:
    """A complaint report (RFC 5965) as a mailbox provider's feedback loop sends it."""
    report = MIMEMultipart("report", report_type="feedback-report")
    report["From"] = "feedback@fbl.example.net"
    report["To"] = feedback_to
    report["Subject"] = "Complaint about a message from news.example.org"
    report.attach(MIMEText("This is an email abuse report for a message received from news.example.org.\n"))
    feedback = MIMEBase("message", "feedback-report")
    feedback.set_payload(f"Feedback-Type: {feedback_type}\r\nUser-Agent: ExampleFBL/1.0\r\nVersion: 1\r\n")
    report.attach(feedback)
    original = MIMEBase("text", "rfc822-headers")
    original.set_payload(original_headers(original_return_path, "redacted@example.com", unsubscribe))
    report.attach(original)
    return _bytes(report)


def out_of_office(to: str) -> bytes:
    """An automatic reply (RFC 3834) to the envelope sender."""
    message = EmailMessage()
    message["From"] = "reader@example.com"
    message["To"] = to
    message["Subject"] = "Out of office: Weekly Lessons"
    message["Auto-Submitted"] = "auto-replied"
    message.set_content("I am away until Monday and will read your message then.\n")
    return _bytes(message)


def plain_mail(to: str, subject: str = "please take me off", body: str = "Thanks.\n") -> bytes:
    """A person's own mail, as a mail client sends it for a List-Unsubscribe mailto."""
    message = EmailMessage()
    message["From"] = "reader@example.com"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return _bytes(message)
