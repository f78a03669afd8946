"""Schema versions: create or upgrade the database with Alembic, and refuse one at another version (or none)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, exc

from newsletter.db.engine import create_private_file, sqlite_file
from newsletter.db.failures import explain
from newsletter.errors import DatabaseError

MIGRATIONS = Path(__file__).parent / "migrations"


def _alembic() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    """Every schema revision this version has a migration for."""
    return {script.revision for script in ScriptDirectory.from_config(_alembic()).walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    """The schema the database is at (None when it has none); a failure is one DatabaseError line."""
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except exc.DBAPIError as error:
        raise explain(error, engine.url) from None


def migrate(engine: Engine, target: str = "head") -> tuple[str | None, str]:
    """Create or upgrade the schema to this version's head (or `target`); returns (before, after).

    A database at a schema this version does not know (made by a newer version) is left as it is.
    """
    create_private_file(engine)
    before = current_revision(engine)
    _refuse_newer(before)
    try:
        with engine.connect() as connection, _foreign_keys_off(connection), connection.begin():
            config = _alembic()
            config.attributes["connection"] = connection
            command.upgrade(config, target)
    except exc.DBAPIError as error:
        raise explain(error, engine.url) from None
    return before, head_revision() if target == "head" else target


def _refuse_newer(current: str | None) -> None:
    if current is not None and current not in known_revisions():
        raise DatabaseError(
            f"the database is at schema {current}, made by a newer version of newsletter (this one knows up "
            f"to {head_revision()}): upgrade newsletter to the version that made it, or restore a backup "
            "made with this one; nothing was changed")


@contextmanager
def _foreign_keys_off(connection: Connection) -> Iterator[None]:
    """SQLite: foreign keys off while tables are rebuilt (SQLite's own recipe for changing a table), so
    dropping the old copy of a table does not cascade into the tables that refer to it."""
    if connection.dialect.name != "sqlite":
        yield
        return
    # PRAGMA foreign_keys is ignored inside a transaction: set it, and set it back, outside one.
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    connection.commit()
    try:
        yield
    finally:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()


def require_schema(engine: Engine) -> None:
    """Stop with a clear message when the database was not set up by this version's `newsletter init`.

    A SQLite file that does not exist is not created here: only `newsletter init` makes one.
    """
    path = sqlite_file(engine)
    if path is not None and not path.exists():
        raise DatabaseError(f"there is no database at {path}: run `newsletter init` to create it")
    current = current_revision(engine)
    _refuse_newer(current)
    if current != head_revision():
        found = "no schema" if current is None else f"schema {current}"
        raise DatabaseError(
            f"the database has {found}, this version needs {head_revision()}: run `newsletter init`"
        )
