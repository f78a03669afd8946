"""`newsletter send` (with `--dry-run` and `--to`); how far it got is `newsletter status` (status.py)."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import func, select

from newsletter.cli import event_loop
from newsletter.cli.app import App, chosen_week, pass_app
from newsletter.cli.drain import SendDrain
from newsletter.cli.send_report import say_what_was_left
from newsletter.delivery import ledger
from newsletter.delivery import send_issue as sending
from newsletter.delivery.ledger import Outcome
from newsletter.delivery.tables import FINAL_STATES, DeliveryState
from newsletter.delivery.tally import Tally
from newsletter.delivery.transports.base import Outgoing
from newsletter.delivery.transports.configured import make_transport
from newsletter.errors import NewsletterError, SendStopped
from newsletter.issues.message_checks import OK, check_message
from newsletter.issues.prepare import PreparedIssue, prepare
from newsletter.issues.preview import sample_recipient, write_preview
from newsletter.mail.dkim import DkimSigner
from newsletter.mail.recipient import Recipient
from newsletter.service.proofs import tell_reviewers
from newsletter.weeks import IsoWeek
from subscribers.recipients import SubscriberRecipients

PROGRESS_SECONDS = 0.1


@click.command()
@click.option("--week", help="ISO week such as 2026-W47 (default: the last complete week).")
@click.option("--dry-run", is_flag=True, help="Check everything and report; connect to nothing, change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.option("--to", "to_address", metavar="ADDRESS", help="Send this issue to one address only (a test send).")
@click.option("--workers", type=click.IntRange(1, 64), help="Concurrent senders (default: smtp.connections).")
@pass_app
def send(app: App, week: str | None, dry_run: bool, as_json: bool, to_address: str | None,
         workers: int | None) -> None:
    """Send the week's issue to every confirmed subscriber; run it again to resume.

    The issue is created once per ISO week; its recipients are snapshotted into a ledger, so a second
    run (or a second machine) never sends anyone a second copy, and a crash loses nothing.
    """
    chosen = chosen_week(week)
    with app.sessions() as session:
        prepared = prepare(app.config, session, chosen)
    if not isinstance(prepared, PreparedIssue):
        _no_issue(app, chosen, as_json)
        return
    if dry_run:
        _dry_run(app, prepared, as_json)
    elif to_address:
        _send_to_one(app, prepared, to_address)
    else:
        _send(app, prepared, workers, as_json)


def _no_issue(app: App, week: IsoWeek, as_json: bool) -> None:
    message = f"no excerpts for {week}: no issue this week (ingest that week's pages first)"
    if as_json:
        click.echo(json.dumps({"week": str(week), "issue": None, "message": message}))
    else:
        app.console.print(message, markup=False)


def _dry_run(app: App, prepared: PreparedIssue, as_json: bool) -> None:
    recipients = SubscriberRecipients(app.config, app.engine)
    with app.sessions() as session:
        if prepared.existing is not None:
            states = ledger.counts(session, prepared.existing.id)
            waiting = sum(n for state, n in states.items() if state not in FINAL_STATES)
            already = states[DeliveryState.SENT]
        else:
            waiting = session.scalar(select(func.count()).select_from(recipients.confirmed_ids().subquery())) or 0
            already = 0
    sample = sample_recipient(app.config.web.base_url)
    message = prepared.template.personalise(sample)
    checks = check_message(app.config, prepared.rendered, message, sample.unsubscribe_url)
    paths = write_preview(app.config.path("preview"), prepared.rendered, sample, message)
    rate = app.config.smtp.rate_per_second if app.config.delivery.transport == "smtp" else 0
    report: dict[str, Any] = {
        "week": str(prepared.week),
        "subject": prepared.subject,
        "excerpts": [e.title for e in prepared.rendered.excerpts],
        "recipients": waiting,
        "already_sent": already,
        "html_bytes": prepared.rendered.html_bytes,
        "message_bytes": len(message),
        "estimated_seconds": round(waiting / rate, 1) if rate else None,
        "checks": checks,
        "preview": {name: str(path) for name, path in paths.items()},
    }
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    say = app.console.print
    say(f"[bold]{report['week']}[/]: {report['subject']}", markup=True)
    for title in report["excerpts"]:
        say(f"  • {title}", markup=False)
    say(f"would send to {waiting:,} subscriber(s); {already:,} already sent")
    say(f"HTML {report['html_bytes']:,} bytes, one message {report['message_bytes']:,} bytes")
    if rate:
        say(f"at {rate:g}/s that takes about {timedelta(seconds=round(waiting / rate))}")
    for name, outcome in checks.items():
        mark = "[green]ok[/]" if outcome == OK else "[yellow]problem[/]"
        say(f"  {mark} {name}" + ("" if outcome == OK else f": {outcome}"))
    say(f"preview written to {paths['issue.html'].parent}/ (open issue.html in a browser)")


def _send_to_one(app: App, prepared: PreparedIssue, address_text: str) -> None:
    from subscribers.addresses import parse as parse_address  # email-validator: for --to, not every send

    address = parse_address(address_text).deliver
    base = app.config.web.base_url.rstrip("/")
    recipient = Recipient(0, address, f"{base}/unsubscribe?token=test-send")
    message = prepared.template.personalise(recipient)
    signer = DkimSigner.from_config(app.config)
    if signer is not None:
        message = signer.sign(message)

    async def go() -> None:
        transport = make_transport(app.config)
        try:
            await transport.send(Outgoing(app.config.newsletter.from_address, address, message,
                                          prepared.template.message_id(0)))
        finally:
            await transport.close()

    event_loop.run(go())
    app.console.print(f"sent {prepared.week} to one address outside the ledger "
                      f"({app.config.delivery.transport})")


def _send(app: App, prepared: PreparedIssue, workers: int | None, as_json: bool) -> None:
    recipients = SubscriberRecipients(app.config, app.engine)
    started = sending.start(app.sessions, prepared, recipients, approval_needed=app.config.review.mode == "approve")
    if not as_json:
        app.console.print(f"{'created' if started.created else 'resuming'} issue {prepared.week}: "
                          f"{started.total:,} recipient(s), {started.todo:,} to send", markup=False)
    progress = Progress(TextColumn("sending"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[rate]}/s"), TimeRemainingColumn(),
                        console=app.errors, disable=as_json)
    task = progress.add_task("send", total=started.todo, rate="…")

    done = [0, 0.0]  # rows, and when the bar last moved: it is told of each row but redrawn 10 times a second

    def advance(outcomes: Sequence[Outcome]) -> None:
        done[0] += len(outcomes)
        now = time.monotonic()
        if now - done[1] >= PROGRESS_SECONDS:
            done[1] = now
            progress.update(task, completed=done[0])
            speed = progress.tasks[0].speed
            progress.update(task, rate=f"{speed:,.0f}" if speed else "…")

    tally = Tally()
    drain = SendDrain(app.config.delivery.drain_seconds, progress.console)

    async def tell(subject: str, body: str) -> None:
        notices = make_transport(app.config)
        try:
            await tell_reviewers(app.config, notices, subject, body)
        except NewsletterError as error:
            app.errors.print(f"could not tell the reviewers: {error}", markup=False)
        finally:
            await notices.close()

    async def go() -> SendStopped | None:
        transport = make_transport(app.config)
        try:
            return await drain.run(sending.deliver(app.config, app.sessions, prepared, started.issue_id,
                                                   recipients, transport, workers=workers, on_outcomes=advance,
                                                   stop=drain.stop, tally=tally, tell=tell))
        finally:
            await transport.close()

    with progress:
        stopped = event_loop.run(go())
        progress.update(task, completed=done[0])
    say_what_was_left(app, prepared.week, started.issue_id, tally, stopped=stopped, signalled=drain.signal,
                      as_json=as_json)


COMMANDS = [send]
