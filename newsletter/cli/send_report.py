"""What a `newsletter send` did and what it left: it never ends quietly with work left.

Deferred rows waiting for their retry time are normal: it says when, and exits 0. Rows other senders hold
are named (host/pid, until when) and end it with exit 1, as do rows nobody tried; a send stopped for a
reason all messages share says why, in one line, with exit 1. A send stopped by a signal says what it
handed back and exits 0, as `newsletter run` does.
"""

from __future__ import annotations

import json

import click

from newsletter.cli.app import App
from newsletter.delivery import ledger
from newsletter.delivery import send_issue as sending
from newsletter.delivery.ledger import Holding
from newsletter.delivery.owners import Owner
from newsletter.delivery.tables import SEND_OUTCOMES, DeliveryState
from newsletter.delivery.tally import Tally
from newsletter.errors import NewsletterError, SendCancelled, SendPaused, SendStopped
from newsletter.weeks import IsoWeek


def say_what_was_left(app: App, week: IsoWeek, issue_id: int, tally: Tally, *, stopped: SendStopped | None,
                      signalled: str | None, as_json: bool) -> None:
    """Print what this run did and what is left; raise NewsletterError when the send is not finished."""
    with app.sessions() as session:
        totals = ledger.counts(session, issue_id)
    left = sending.remaining(app.sessions, issue_id)
    me = str(Owner.this_process())
    own = sum(h.rows for h in left.held if h.owner == me)  # outcomes the database was away for
    others = [h for h in left.held if h.owner != me]
    run = {s.value: tally.states[s] for s in (*SEND_OUTCOMES, DeliveryState.DEFERRED)}
    resume = f"`newsletter send --week {week}`"
    if as_json:
        click.echo(json.dumps({
            "week": str(week), "this_run": run, "totals": {s.value: n for s, n in totals.items()},
            "held": [{"by": _holder(h), "rows": h.rows, "until": h.until.isoformat()} for h in others],
            "next_retry": left.next_retry.isoformat() if left.next_retry else None,
            "stopped": stopped.reason if stopped else signalled,
        }))
    else:
        say = app.console.print
        say(f"sent {run['sent']:,}, deferred {run['deferred']:,}, failed {run['failed']:,}, "
            f"skipped {run['skipped']:,}")
        for reason, count in tally.reasons.most_common(5):
            say(f"  {count:,} × {reason}", markup=False)
        for holding in others:
            say(f"  {holding.rows:,} row(s) held by {_holder(holding)} until {holding.until:%Y-%m-%d %H:%M:%S} "
                "UTC (its lease, renewed while it runs)", markup=False)
        if own:
            say(f"  {own:,} row(s) this run could not hand back; the next run on this host takes them at once",
                markup=False)
        if left.deferred and left.next_retry is not None:
            say(f"{left.deferred:,} deferred: retried from {left.next_retry:%Y-%m-%d %H:%M} UTC by `newsletter "
                f"run`, or run {resume} again then", markup=False)
        if signalled and not stopped:
            say(f"stopped by {signalled}: {left.pending:,} row(s) not sent yet; run {resume} to finish",
                markup=False)
    if isinstance(stopped, SendPaused | SendCancelled):
        raise NewsletterError(stopped.reason)  # it says what comes next (resume, or nothing)
    if stopped is not None:
        raise NewsletterError(f"{stopped.reason}; then run {resume} again")
    if signalled:
        return
    if others:
        rows = sum(h.rows for h in others)
        raise NewsletterError(f"the send is not finished: {rows:,} row(s) are held by another sender, which "
                              f"renews its lease while it works; if it has stopped, run {resume} again once "
                              "its lease has ended")
    if left.pending or own:
        raise NewsletterError(f"the send is not finished: {left.pending + own:,} row(s) are not done; run "
                              f"{resume} again")


def _holder(holding: Holding) -> str:
    owner = Owner.parse(holding.owner or "")
    return owner.shown if owner is not None else "a sender of an older version"
