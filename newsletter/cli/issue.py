"""`newsletter issue ...`: the editor's desk. Show a week's issue and where it is in its life; approve,
hold, cancel or skip it; pause and resume its send.

Every command names the week (`--week`, default: the last complete week) and says what it did in one
line; a move the issue cannot make from where it is fails with one line that says why and what can be
done instead (exit 1), and changes nothing.
"""

from __future__ import annotations

import getpass
import json
from typing import Any

import click
from sqlalchemy.orm import Session

from newsletter.cli.app import App, chosen_week, pass_app
from newsletter.cli.lazy_group import Lazy, LazyGroup
from newsletter.db.schema import utcnow
from newsletter.delivery import ledger
from newsletter.issues import life, states
from newsletter.issues import store as issues
from newsletter.issues.tables import IssueState
from newsletter.weeks import IsoWeek

State = IssueState


def who() -> str:
    """Who moved the issue, as its history shows it: the admin's login on this machine."""
    try:
        return f"admin {getpass.getuser()}"
    except (OSError, KeyError):  # no login name (a container without a passwd entry)
        return "admin"


# Loaded only when one of them runs: they render the issue and mail the proof.
EDITS = {
    "freeze": Lazy("newsletter.cli.editing:freeze_command",
                   "Make the week's draft now (select, render, fix its excerpts) and mail the proof, as the "
                   "scheduled freeze does."),
    "note": Lazy("newsletter.cli.editing:note",
                 "Put an editor's note on top of the week's issue, or give it a subject of its own."),
}


@click.group(cls=LazyGroup, lazy=EDITS)
def issue() -> None:
    """The editor's desk: a week's issue, its state and its history; approve, hold, cancel, skip, pause, resume."""


@issue.command()
@click.option("--week", help="ISO week such as 2026-W47 (default: the last complete week).")
@click.option("--json", "as_json", is_flag=True, help="Print it as one JSON object.")
@pass_app
def show(app: App, week: str | None, as_json: bool) -> None:
    """Where the week's issue is: its state (who, when, why), its history, and its send's counts."""
    chosen = chosen_week(week)
    with app.sessions() as session:
        report = describe_issue(session, chosen)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    say = app.console.print
    said = f" by {report['changed_by']} at {report['changed_at']}" if report["changed_by"] else ""
    say(f"{chosen}: {report['state']}{said}" + (f" ({report['reason']})" if report["reason"] else ""), markup=False)
    if report["subject"]:
        say(f"  subject: {report['subject']}", markup=False)
    for state, count in (report["deliveries"] or {}).items():
        if count:
            say(f"  {state:<10} {count:>10,}", markup=False)
    for event in report["history"]:
        why = f": {event['reason']}" if event["reason"] else ""
        say(f"  {event['at']}  {event['state']:<9} by {event['by']}{why}", markup=False)


def describe_issue(session: Session, week: IsoWeek) -> dict[str, Any]:
    """The week's issue as `issue show --json` prints it."""
    status = life.current(session, week)
    found = issues.find(session, week)
    return {
        "week": str(week),
        "state": states.describe(None if status is None else status.state),
        "changed_by": status.changed_by if status else None,
        "changed_at": status.changed_at.isoformat() if status else None,
        "reason": status.reason if status else None,
        "subject": found.subject if found else None,
        "deliveries": {s.value: n for s, n in ledger.counts(session, found.id).items()} if found else None,
        "history": [{"state": e.state.value, "by": e.changed_by, "at": e.changed_at.isoformat(), "reason": e.reason}
                    for e in life.moves_of(session, week)],
    }


def _move(app: App, week: str | None, to: IssueState, reason: str | None,
          allowed_from: tuple[IssueState | None, ...] | None = None) -> IsoWeek:
    chosen = chosen_week(week)
    with app.sessions.begin() as session:
        life.move(session, chosen, to, by=who(), reason=reason, now=utcnow(), allowed_from=allowed_from)
        if to is State.CANCELLED and (found := issues.find(session, chosen)) is not None:
            ledger.skip_unsent(session, found.id, f"issue cancelled: {reason}" if reason else "issue cancelled")
    return chosen


_WEEK = click.option("--week", help="ISO week such as 2026-W47 (default: the last complete week).")
_REASON = click.option("--reason", help="Why, in a few words (kept in the issue's history).")


@issue.command()
@_WEEK
@_REASON
@pass_app
def approve(app: App, week: str | None, reason: str | None) -> None:
    """Let the week's draft go: it is sent at the cron time (or now, by `newsletter send`)."""
    chosen = _move(app, week, State.APPROVED, reason)
    app.console.print(f"{chosen} approved: it is sent at the next scheduled send, or by `newsletter send`",
                      markup=False)


@issue.command()
@_WEEK
@_REASON
@pass_app
def hold(app: App, week: str | None, reason: str | None) -> None:
    """Hold the week's issue: nobody sends it until it is approved."""
    chosen = _move(app, week, State.HELD, reason)
    app.console.print(f"{chosen} held: nobody sends it until `newsletter issue approve`", markup=False)


@issue.command("cancel")
@_WEEK
@_REASON
@pass_app
def cancel_issue(app: App, week: str | None, reason: str | None) -> None:
    """Cancel the week's issue for good; a send under way stops within seconds, its unsent rows skipped."""
    chosen = _move(app, week, State.CANCELLED, reason)
    app.console.print(f"{chosen} cancelled: it is never sent; a send under way stops within seconds", markup=False)


@issue.command()
@_WEEK
@_REASON
@pass_app
def skip(app: App, week: str | None, reason: str | None) -> None:
    """Skip the week: no issue is made or sent for it."""
    chosen = _move(app, week, State.SKIPPED, reason)
    app.console.print(f"{chosen} skipped: no issue this week", markup=False)


@issue.command()
@_WEEK
@_REASON
@pass_app
def pause(app: App, week: str | None, reason: str | None) -> None:
    """Pause the week's send: every sender stops within seconds, and the rows not sent wait."""
    chosen = _move(app, week, State.PAUSED, reason)
    app.console.print(f"{chosen} paused: every sender stops within seconds; `newsletter issue resume` continues",
                      markup=False)


@issue.command()
@_WEEK
@_REASON
@pass_app
def resume(app: App, week: str | None, reason: str | None) -> None:
    """Resume a paused send: `newsletter send` (or `newsletter run`'s retry) sends the rows left."""
    chosen = _move(app, week, State.SENDING, reason, allowed_from=(State.PAUSED,))
    app.console.print(f"{chosen} resumed: `newsletter send --week {chosen}` sends the rest now, "
                      "`newsletter run` at its next retry", markup=False)


COMMANDS = [issue]
