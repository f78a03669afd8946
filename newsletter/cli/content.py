"""`newsletter ingest` and `newsletter excerpts`: pages in, the week's choice out."""

from __future__ import annotations

import json

import click
import httpx
from rich.table import Table

from newsletter.cli.app import App, chosen_week, pass_app
from newsletter.cli.explain import explained_json, show_explained
from newsletter.content.excerpt import Excerpt
from newsletter.content.ingest import SourceReport, explain_sources, ingest
from newsletter.issues import edits
from newsletter.issues.prepare import choose
from newsletter.issues.selection import Selection

KEY_LENGTH = 8

FETCH_TIMEOUT = httpx.Timeout(20.0, connect=10.0)


@click.command("ingest")
@click.argument("sources", nargs=-1, required=True)
@click.option("--explain", is_flag=True,
              help="Store nothing: show each excerpt found, where its date came from, and every dropped block.")
@click.option("--json", "as_json", is_flag=True, help="With --explain: print one JSON array, for scripts.")
@pass_app
def ingest_command(app: App, sources: tuple[str, ...], explain: bool, as_json: bool) -> None:
    """Read daily pages (text, HTML) and feeds (RSS, Atom) from files, folders or URLs.

    Each excerpt is stored once, however many sources carry it. A source that cannot be read is
    reported with the reason; the others still go in, and the exit code is 1.
    """
    if as_json and not explain:
        raise click.UsageError("--json goes with --explain (ingest --explain --json SOURCE...)")
    headers = {"User-Agent": "newsletter-ingest/1.0"}
    with httpx.Client(timeout=FETCH_TIMEOUT, follow_redirects=True, headers=headers) as client:
        if explain:
            explained = explain_sources(sources, client, app.config.ingest_settings())
            if as_json:
                click.echo(json.dumps([explained_json(item) for item in explained], ensure_ascii=False, indent=2))
            else:
                for item in explained:
                    show_explained(app, item)
            if any(item.error for item in explained):
                raise SystemExit(1)
            return
        outcomes = ingest(sources, app.sessions, client, on_outcome=lambda o: _show(app, o),
                          settings=app.config.ingest_settings())
    failed = [o for o in outcomes if not o.ok]
    found = sum(o.found for o in outcomes)
    new = sum(o.new for o in outcomes)
    dropped = sum(o.dropped for o in outcomes)
    app.console.print(f"{len(outcomes)} source(s): {found} excerpt(s) found, {new} new, "
                      f"{found - new} already stored, {dropped} block(s) dropped"
                      + (f", {len(failed)} failed" if failed else ""))
    if failed:
        raise SystemExit(1)


def _show(app: App, outcome: SourceReport) -> None:
    if outcome.ok:
        app.console.print(f"  {outcome.name}: {outcome.found} excerpt(s), {outcome.new} new, "
                          f"{outcome.dropped} block(s) dropped")
    else:
        app.errors.print(f"  {outcome.name}: [bold red]failed[/]: {outcome.error}")


@click.group(invoke_without_command=True)
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
    with app.sessions() as session:
        selection = choose(app.config, session, chosen, edits.choices(session, chosen))
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


COMMANDS: list[click.Command] = [ingest_command, excerpts]
