"""The proof: what the reviewers get when a week's draft is frozen or changed.

One message per reviewer (staff addresses from `[review] reviewers`, never subscribers): first the dry
run's report (the excerpts, how many readers, the checks, how long the send takes) with Approve and Hold
links, then the issue exactly as a reader gets it, attached as a message of its own (message/rfc822) so
that nothing in it differs from the real one but the sample reader's address and links.

The links carry a signed token (`subscribers.tokens`, purpose REVIEW) naming the week and a fingerprint of
the draft (its excerpts, note and subject): a proof of an older draft cannot approve a newer one. They
expire after `[review] link_hours`. Opening one shows a page; only its button (a POST) acts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from html import escape as _escape

from newsletter.config.settings import Config
from newsletter.delivery.transports.base import Outgoing, Transport
from newsletter.issues.message_checks import OK, check_message
from newsletter.issues.prepare import PreparedIssue
from newsletter.issues.preview import sample_recipient
from newsletter.weeks import IsoWeek
from subscribers.tokens import Purpose, TokenSigner


def draft_fingerprint(prepared: PreparedIssue) -> str:
    """16 hex digits that change whenever the draft's content does (excerpts, note, subject)."""
    rendered = prepared.rendered
    parts = [e.content_hash for e in rendered.excerpts]
    parts += [rendered.note.text if rendered.note else "", prepared.subject]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def week_number(week: IsoWeek) -> int:
    return week.year * 100 + week.week


@dataclass(frozen=True)
class ReviewLinks:
    """Makes the Approve and Hold links of a proof."""

    signer: TokenSigner
    base_url: str
    hours: int

    def token(self, prepared: PreparedIssue, now: datetime) -> str:
        return self.signer.issue(Purpose.REVIEW, week_number(prepared.week), draft_fingerprint(prepared),
                                 now + timedelta(hours=self.hours))

    def urls(self, prepared: PreparedIssue, now: datetime) -> dict[str, str]:
        token = self.token(prepared, now)
        base = self.base_url.rstrip("/")
        return {action: f"{base}/review/{action}?token={token}" for action in ("approve", "hold")}


@dataclass(frozen=True)
class DryRun:
    """What the proof's report says about the send."""

    recipients: int
    checks: dict[str, str]
    seconds: float | None

    def lines(self, prepared: PreparedIssue) -> list[str]:
        said = [f"{prepared.week}: {prepared.subject}", ""]
        said += [f"  {n}. {e.title}" for n, e in enumerate(prepared.rendered.excerpts, 1)]
        said += ["", f"Recipients: {self.recipients:,} confirmed reader(s) now"]
        if self.seconds is not None:
            said.append(f"Estimated time: about {timedelta(seconds=round(self.seconds))}")
        said += [f"Check {name}: {outcome}" for name, outcome in self.checks.items()]
        return said


def dry_run(config: Config, prepared: PreparedIssue, recipients: int) -> DryRun:
    sample = sample_recipient(config.web.base_url)
    checks = check_message(config, prepared.rendered, prepared.template.personalise(sample), sample.unsubscribe_url)
    rate = config.smtp.rate_per_second if config.delivery.transport == "smtp" else 0
    return DryRun(recipients, checks, recipients / rate if rate else None)


def proof_message(config: Config, prepared: PreparedIssue, report: DryRun, urls: dict[str, str],
                  reviewer: str, message_id: str) -> bytes:
    """The proof for one reviewer: the report with the links, then the reader's email attached."""
    sample = sample_recipient(config.web.base_url)
    reader_copy = prepared.template.personalise(sample)
    problems = [name for name, outcome in report.checks.items() if outcome != OK]
    message = EmailMessage(policy=SMTP)
    message["From"] = config.newsletter.from_address
    message["To"] = reviewer
    message["Subject"] = f"Proof: {prepared.subject}" + (f" ({len(problems)} check(s) failed)" if problems else "")
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    lines = report.lines(prepared)
    actions = [f"Approve: {urls['approve']}", f"Hold: {urls['hold']}",
               f"(The links work for {config.review.link_hours} hours; each opens a page with a button.)"]
    message.set_content("\n".join([*lines, "", *actions, "", "The issue as readers get it is attached."]) + "\n")
    html_lines = "".join(f"<p>{_escape(line)}</p>" for line in lines if line)
    message.add_alternative(
        f"<!doctype html><html><body>{html_lines}<p><a href=\"{_escape(urls['approve'])}\">Approve</a> · "
        f"<a href=\"{_escape(urls['hold'])}\">Hold</a></p><p>The issue as readers get it is attached.</p>"
        "</body></html>", subtype="html")
    # Attached as a message (message/rfc822 may not be base64: RFC 2046 5.2.1), so clients show it inline.
    message.add_attachment(message_from_bytes(reader_copy, policy=SMTP), filename=f"{prepared.week}.eml")
    return message.as_bytes()


async def send_proofs(config: Config, prepared: PreparedIssue, report: DryRun, links: ReviewLinks,
                      transport: Transport, now: datetime) -> int:
    """Mail the proof to every reviewer; how many were sent (none without reviewers)."""
    urls = links.urls(prepared, now)
    for reviewer in config.review.reviewers:
        message_id = make_msgid("proof", domain=config.newsletter.from_address.rpartition("@")[2])
        data = proof_message(config, prepared, report, urls, reviewer, message_id)
        await transport.send(Outgoing(config.newsletter.from_address, reviewer, data, message_id))
    return len(config.review.reviewers)


async def tell_reviewers(config: Config, transport: Transport, subject: str, body: str) -> None:
    """A short plain-text notice to every reviewer (a send paused itself, a draft awaits approval)."""
    for reviewer in config.review.reviewers:
        message = EmailMessage(policy=SMTP)
        message["From"] = config.newsletter.from_address
        message["To"] = reviewer
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid("notice", domain=config.newsletter.from_address.rpartition("@")[2])
        message.set_content(body)
        await transport.send(Outgoing(config.newsletter.from_address, reviewer, message.as_bytes(),
                                      str(message["Message-ID"])))
