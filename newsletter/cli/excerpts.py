"""`newsletter excerpts`: the excerpts chosen for a week's issue, and why the others were left out.

Kept apart from `ingest` so that showing a week's choice does not import the fetcher and the parsers.
"""

from __future__ import annotations

import json

import click
from rich.table import Table

from newsletter.cli.app import App, chosen_week, pass_app
from newsletter.content import store as excerpt_store
from newsletter.issues import store as issues
from newsletter.issues.selection import Selection, select


@click.command()
@click.option("--week", help="ISO week such as 2026-W47 (default: the last complete week).")
@click.option("--json", "as_json", is_flag=True, help="Print the kept excerpts as one JSON array.")
@pass_app
def excerpts(app: App, week: str | None, as_json: bool) -> None:
    """Show the excerpts chosen for a week's issue, and why the others were left out."""
    chosen = chosen_week(week)
    with app.sessions() as session:
        candidates = excerpt_store.in_week(session, chosen)
        sent = issues.hashes_sent_outside(session, chosen)
    selection = select(candidates, chosen, sent, app.config.selection)
    if as_json:
        click.echo(json.dumps([{"title": e.title, "date": e.lesson_date.isoformat(), "source": e.source,
                                "text": e.text, "words": e.words} for e in selection.kept],
                              ensure_ascii=False, indent=2))
        return
    _print_selection(app, selection)


def _print_selection(app: App, selection: Selection) -> None:
    week = selection.week
    if not selection.decisions:
        app.console.print(f"No excerpts dated {week.monday} to {week.sunday} ({week}): nothing to send "
                          "this week. Ingest that week's pages first (`newsletter ingest PAGES`).")
        return
    table = Table(title=f"{week}: {week.monday:%d %b} – {week.sunday:%d %b %Y}", title_justify="left")
    for column in ("", "date", "title", "words", "reason"):
        table.add_column(column)
    for decision in selection.decisions:
        excerpt = decision.excerpt
        table.add_row("[green]✓[/]" if decision.kept else "[dim]–[/]", str(excerpt.lesson_date),
                      excerpt.title, str(excerpt.words), decision.reason,
                      style=None if decision.kept else "dim")
    app.console.print(table)
    kept = len(selection.kept)
    app.console.print(f"{kept} excerpt(s) kept, {selection.words} words; "
                      f"{len(selection.dropped)} left out." if kept else
                      "Every excerpt of this week was left out: no issue this week.")



COMMANDS = [excerpts]
