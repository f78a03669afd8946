"""`newsletter init`: create or upgrade the database, and create the subscriber key file."""

from __future__ import annotations

import click

from newsletter.cli.app import App, pass_app
from newsletter.db.migrate import migrate
from subscribers.keys import ensure_key_file


@click.command()
@pass_app
def init(app: App) -> None:
    """Create the database (or upgrade it to this version's schema) and the key file when missing."""
    before, after = migrate(app.engine)
    if before is None:
        app.console.print(f"database created at schema {after}")
    elif before == after:
        app.console.print(f"database is up to date (schema {after})")
    else:
        app.console.print(f"database upgraded from schema {before} to {after}")
    if app.config.privacy.key:
        app.console.print("key: from NEWSLETTER_PRIVACY_KEY (no key file needed)")
        return
    key_file = app.config.path(app.config.privacy.key_file)
    if ensure_key_file(key_file):
        app.console.print(f"key file created at {key_file} (mode 0600): keep a backup of it; "
                          "without it no stored address can be read")


COMMANDS = [init]
