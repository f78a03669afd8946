"""`newsletter init`: create or upgrade the database (and, later, the key file)."""

from __future__ import annotations

import click

from newsletter.cli.app import App, pass_app
from newsletter.database import migrate
from newsletter.models import ExcerptRow  # noqa: F401  (registers the content tables)


@click.command()
@pass_app
def init(app: App) -> None:
    """Create the database, or upgrade it to this version's schema."""
    before, after = migrate(app.engine)
    if before is None:
        app.console.print(f"database created at schema {after}")
    elif before == after:
        app.console.print(f"database is up to date (schema {after})")
    else:
        app.console.print(f"database upgraded from schema {before} to {after}")


COMMANDS = [init]
