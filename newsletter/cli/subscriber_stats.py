"""`newsletter subscribers stats`: the list's counts, read through the driver alone (`db/reader.py`).

Counting needs no address, so no key and no subscriber side: the statements are the subscriber side's
own read-only window (`subscribers/glance.py`).
"""

from __future__ import annotations

import json

import click

from newsletter.cli.app import App, pass_app
from subscribers import glance


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
@pass_app
def stats(app: App, as_json: bool) -> None:
    """How many subscribers are in each status, and how the confirmation emails are doing."""
    with app.reading() as reader:
        people, mail = glance.statuses(reader), glance.mail_states(reader)
        suppressed, imported = glance.suppressions(reader)
    if as_json:
        click.echo(json.dumps({"subscribers": {str(k): v for k, v in people.items()},
                               "suppressions": {**{str(k): v for k, v in suppressed.items()}, "imported": imported},
                               "confirmation_emails": {str(k): v for k, v in mail.items()}}, indent=2))
        return
    width = max(len(str(k)) for k in [*people, *mail])
    click.echo("subscribers")
    for status, count in people.items():
        click.echo(f"  {status:<{width}}  {count:>8}")
    click.echo("confirmation emails")
    for state, count in mail.items():
        click.echo(f"  {state:<{width}}  {count:>8}")
    click.echo("suppressions by reason")
    for status, count in suppressed.items():
        click.echo(f"  {status:<{width}}  {count:>8}")
    click.echo(f"  {imported} of them imported with `subscribers suppress` (no address kept)")
