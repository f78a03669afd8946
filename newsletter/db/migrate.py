"""Schema versions: create or upgrade the database with Alembic, and refuse one at another version."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, exc

from newsletter.db.engine import create_private_file
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


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine, target: str = "head") -> tuple[str | None, str]:
    """Create or upgrade the schema to this version's head (or `target`); returns (before, after)."""
    create_private_file(engine)
    try:
        before = current_revision(engine)
        with engine.connect() as connection, _foreign_keys_off(connection), connection.begin():
            config = _alembic()
            config.attributes["connection"] = connection
            command.upgrade(config, target)
    except exc.OperationalError as error:
        raise DatabaseError(f"cannot open the database: {error.orig}") from None
    return before, head_revision() if target == "head" else target


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
    """Stop with a clear message when the database was not set up by `newsletter init`."""
    try:
        current = current_revision(engine)
    except exc.OperationalError as error:
        raise DatabaseError(f"cannot open the database: {error.orig}") from None
    if current != head_revision():
        found = "no schema" if current is None else f"schema {current}"
        raise DatabaseError(
            f"the database has {found}, this version needs {head_revision()}: run `newsletter init`"
        )
