"""`newsletter status`: how far an issue's send has got, from the ledger's counts.

Kept apart from `send` so that asking for a few counts imports only the ledger, not the transports,
the renderer and premailer; its lines are plain, so it prints them with click, not Rich.
"""

from __future__ import annotations

import json

import click

from newsletter.cli.app import App, pass_app
from newsletter.delivery import ledger
from newsletter.delivery.tables import DeliveryState
from newsletter.errors import NewsletterError
from newsletter.inbound.rates import rates
from newsletter.issues import life
from newsletter.issues import store as issues
from newsletter.weeks import IsoWeek


@click.command()
@click.option("--week", help="ISO week of the issue (default: the most recent issue).")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
@pass_app
def status(app: App, week: str | None, as_json: bool) -> None:
    """How far an issue's send has got: recipients by state, and why any failed."""
    with app.sessions() as session:
        issue = (issues.find(session, IsoWeek.parse(week)) if week else
                 next(iter(issues.latest(session)), None))
        if issue is None:
            raise NewsletterError(f"no issue for {week}: `newsletter send --week {week}` starts it"
                                  if week else "no issue has been sent yet: `newsletter send` starts one")
        states = ledger.counts(session, issue.id)
        reasons = ledger.failure_reasons(session, issue.id)
        where = life.current(session, IsoWeek.parse(issue.week))
    came_back = rates(states)
    state = life.describe(None if where is None else where.state)
    report = {"week": issue.week, "subject": issue.subject, "state": state, **{s.value: n for s, n in states.items()},
              "total": sum(states.values()), "failures": [{"reason": r, "count": n} for r, n in reasons],
              "bounce_rate": round(came_back.bounce_rate, 6), "complaint_rate": round(came_back.complaint_rate, 6)}
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    click.echo(f"{issue.week}: {issue.subject} [{state}]")
    for state in DeliveryState:
        click.echo(f"  {state.value:<10} {states[state]:>10,}")
    for name, rate, count in (("bounces", came_back.bounce_rate, came_back.bounced),
                              ("complaints", came_back.complaint_rate, came_back.complained)):
        click.echo(f"  {name:<10} {rate:>10.2%}  ({count:,} of {came_back.delivered:,})")
    for reason, count in reasons:
        click.echo(f"  {count:,} × {reason}")



COMMANDS = [status]
