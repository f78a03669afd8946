"""`newsletter status`: how far an issue's send has got, from the ledger's counts.

Kept apart from `send` so that asking for a few counts imports neither the transports, the renderer
nor premailer, nor SQLAlchemy: it reads through the driver alone (`db/reader.py`), with the ledger's and
the issue store's read-only windows (`delivery/glance.py`, `issues/glance.py`). Its lines are plain, so
it prints them with click, not Rich.
"""

from __future__ import annotations

import json

import click

from newsletter.cli.app import App, pass_app
from newsletter.delivery import glance as ledger_glance
from newsletter.delivery.states import DeliveryState
from newsletter.errors import NewsletterError
from newsletter.inbound.rates import rates
from newsletter.issues import glance as issue_glance
from newsletter.issues import states
from newsletter.weeks import IsoWeek


@click.command()
@click.option("--week", help="ISO week of the issue (default: the most recent issue).")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
@pass_app
def status(app: App, week: str | None, as_json: bool) -> None:
    """How far an issue's send has got: recipients by state, and why any failed."""
    with app.reading() as reader:
        issue = issue_glance.find(reader, IsoWeek.parse(week)) if week else issue_glance.latest(reader)
        if issue is None:
            raise NewsletterError(f"no issue for {week}: `newsletter send --week {week}` starts it"
                                  if week else "no issue has been sent yet: `newsletter send` starts one")
        rows = ledger_glance.counts(reader, issue.id)
        reasons = ledger_glance.failure_reasons(reader, issue.id)
        state = states.describe(issue_glance.state(reader, IsoWeek.parse(issue.week)))
    came_back = rates(rows)
    report = {"week": issue.week, "subject": issue.subject, "state": state, **{s.value: n for s, n in rows.items()},
              "total": sum(rows.values()), "failures": [{"reason": r, "count": n} for r, n in reasons],
              "bounce_rate": round(came_back.bounce_rate, 6), "complaint_rate": round(came_back.complaint_rate, 6)}
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    click.echo(f"{issue.week}: {issue.subject} [{state}]")
    for each in DeliveryState:
        click.echo(f"  {each.value:<10} {rows[each]:>10,}")
    for name, rate, count in (("bounces", came_back.bounce_rate, came_back.bounced),
                              ("complaints", came_back.complaint_rate, came_back.complained)):
        click.echo(f"  {name:<10} {rate:>10.2%}  ({count:,} of {came_back.delivered:,})")
    for reason, count in reasons:
        click.echo(f"  {count:,} × {reason}")



COMMANDS = [status]
