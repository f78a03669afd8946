"""`newsletter init`: create or upgrade the database, create the subscriber key file, and record which key
seals the list."""

from __future__ import annotations

import click

from newsletter.cli.app import App, pass_app
from newsletter.db.migrate import migrate
from subscribers import key_check
from subscribers.errors import KeyFileError
from subscribers.keys import Keys, ensure_key_file, load_keys


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
    keys, origin = _keys(app)
    known = key_check.remember(app.engine, keys, origin)
    app.console.print(f"key fingerprint {known.fingerprint} (the only key this database accepts)")


def _keys(app: App) -> tuple[Keys, str]:
    if app.config.privacy.key:
        app.console.print("key: from NEWSLETTER_PRIVACY_KEY (no key file needed)")
        return load_keys(app.config.path(app.config.privacy.key_file), app.config.privacy.key), \
            "from NEWSLETTER_PRIVACY_KEY"
    key_file = app.config.path(app.config.privacy.key_file)
    if not key_file.exists():
        # A new key would seal nothing that is stored: the list's own key is what is missing.
        existing = key_check.list_key(app.engine)
        if existing is not None:
            raise KeyFileError(str(key_file), f"does not exist, and this list is sealed with {existing}: "
                               "restore that key file from your backup (init makes no new key for a list "
                               "that has one)")
    if ensure_key_file(key_file):
        app.console.print(f"key file created at {key_file} (mode 0600): keep a backup of it; "
                          "without it no stored address can be read")
    return load_keys(key_file), f"in {key_file}"


COMMANDS = [init]
