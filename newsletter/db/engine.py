"""The database: engine set-up for SQLite and PostgreSQL, the declarative base, and migrations."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, Enum, MetaData, create_engine, event, exc
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from newsletter.errors import DatabaseError

MIGRATIONS = Path(__file__).parent / "migrations"

# Stable constraint names, so migrations can refer to them on every backend.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def str_enum(kind: type[enum.StrEnum], name: str) -> Enum:
    """A StrEnum column stored as its lower-case value in a VARCHAR with a CHECK, alike on every backend."""
    return Enum(kind, name=name, native_enum=False, create_constraint=True, length=16,
                values_callable=lambda members: [m.value for m in members])


def connect(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and enforced foreign keys."""
    try:
        engine = create_engine(url, pool_pre_ping=not url.startswith("sqlite"))
    except (exc.ArgumentError, exc.NoSuchModuleError, ValueError) as error:
        raise DatabaseError(f"database.url cannot be used ({error}); see config.example.toml") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


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


def migrate(engine: Engine) -> tuple[str | None, str]:
    """Create or upgrade the schema to this version's head; returns (before, after) revisions."""
    try:
        before = current_revision(engine)
        with engine.begin() as connection:
            config = _alembic()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except exc.OperationalError as error:
        raise DatabaseError(f"cannot open the database: {error.orig}") from None
    return before, head_revision()


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
