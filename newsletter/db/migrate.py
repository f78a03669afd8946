"""Create or upgrade the database with Alembic (reading which schema it is at is `schema_version.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, Engine, exc

from newsletter.db.engine import create_private_file
from newsletter.db.failures import explain
from newsletter.db.schema_version import current_revision, head_revision, refuse_newer

MIGRATIONS = Path(__file__).parent / "migrations"


def _alembic() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine, target: str = "head") -> tuple[str | None, str]:
    """Create or upgrade the schema to this version's head (or `target`); returns (before, after).

    A database at a schema this version does not know (made by a newer version) is left as it is.
    """
    create_private_file(engine)
    before = current_revision(engine)
    refuse_newer(before)
    try:
        with engine.connect() as connection, _foreign_keys_off(connection), connection.begin():
            config = _alembic()
            config.attributes["connection"] = connection
            command.upgrade(config, target)
    except exc.DBAPIError as error:
        raise explain(error, engine.url) from None
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
