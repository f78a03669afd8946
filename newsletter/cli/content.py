"""`newsletter ingest`: pages in (the week's choice out is `newsletter excerpts`, excerpts.py)."""

from __future__ import annotations

import json

import click
import httpx

from newsletter.cli.app import App, pass_app
from newsletter.cli.explain import explained_json, show_explained
from newsletter.content.ingest import SourceReport, explain_sources, ingest

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


COMMANDS = [ingest_command]
