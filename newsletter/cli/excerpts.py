"""`newsletter excerpts`: the excerpts chosen for a week's issue, why the others were left out, and the
editor's pins, exclusions and order (`excerpts pin|exclude|release|order`, in `cli/editing.py`).

Kept apart from `ingest` so that showing a week's choice does not import the fetcher and the parsers,
nor SQLAlchemy: it reads through the driver alone (`db/reader.py`, with the read-only windows
`content/glance.py` and `issues/glance.py`) and chooses with the same pure `selection.select` the send
uses. The editing subcommands are loaded only when one of them runs (they need the proof's mail).
"""

from __future__ import annotations

import json

import click
from rich.table import Table

from newsletter.cli.app import App, chosen_week
from newsletter.cli.lazy_group import Lazy, LazyGroup
from newsletter.content import glance as excerpt_glance
from newsletter.content.excerpt import Excerpt
from newsletter.issues import glance
from newsletter.issues.selection import Selection, select

KEY_LENGTH = 8

EDITS = {
    "pin": Lazy("newsletter.cli.editing:pin",
                "Keep an excerpt in the week's issue whatever the selection policy says."),
    "exclude": Lazy("newsletter.cli.editing:exclude", "Leave an excerpt out of the week's issue."),
    "release": Lazy("newsletter.cli.editing:release_command",
                    "Undo a pin or an exclusion: the selection policy decides again."),
    "order": Lazy("newsletter.cli.editing:order",
                  "Put the week's kept excerpts in this order (the ones not named follow)."),
}


@click.group(cls=LazyGroup, lazy=EDITS, invoke_without_command=True)
@click.option("--week", help="ISO week such as 2026-W47 (default: the last complete week).")
@click.option("--json", "as_json", is_flag=True, help="Print the kept excerpts as one JSON array.")
@click.pass_context
def excerpts(ctx: click.Context, week: str | None, as_json: bool) -> None:
    """Show the excerpts chosen for a week's issue, and why the others were left out; pin, exclude and
    order them (`newsletter excerpts pin --week W KEY`)."""
    if ctx.invoked_subcommand is not None:
        return
    app = ctx.find_object(App)
    assert app is not None
    chosen = chosen_week(week)
    with app.reading() as reader:
        sent_outside = excerpt_glance.hashes(reader, glance.excerpt_ids_sent_outside(reader, chosen))
        selection = select(excerpt_glance.in_week(reader, chosen), chosen, sent_outside, app.config.selection,
                           glance.choices(reader, chosen))
    if as_json:
        click.echo(json.dumps([{"key": key(e), "title": e.title, "date": e.lesson_date.isoformat(),
                                "source": e.source, "text": e.text, "words": e.words} for e in selection.kept],
                              ensure_ascii=False, indent=2))
        return
    _print_selection(app, selection)


def key(excerpt: Excerpt) -> str:
    """The short key the editor names an excerpt by: the start of its content hash."""
    return excerpt.content_hash[:KEY_LENGTH]


def _print_selection(app: App, selection: Selection) -> None:
    week = selection.week
    if not selection.decisions:
        app.console.print(f"No excerpts dated {week.monday} to {week.sunday} ({week}): nothing to send "
                          "this week. Ingest that week's pages first (`newsletter ingest PAGES`).")
        return
    table = Table(title=f"{week}: {week.monday:%d %b} – {week.sunday:%d %b %Y}", title_justify="left")
    for column in ("", "key", "date", "title", "words", "reason"):
        table.add_column(column)
    for decision in selection.decisions:
        excerpt = decision.excerpt
        table.add_row("[green]✓[/]" if decision.kept else "[dim]–[/]", key(excerpt), str(excerpt.lesson_date),
                      excerpt.title, str(excerpt.words), decision.reason,
                      style=None if decision.kept else "dim")
    app.console.print(table)
    kept = len(selection.kept)
    app.console.print(f"{kept} excerpt(s) kept, {selection.words} words; "
                      f"{len(selection.dropped)} left out." if kept else
                      "Every excerpt of this week was left out: no issue this week.")
