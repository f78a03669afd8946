"""Engines for SQLite and PostgreSQL (SQLite with WAL, a busy timeout and foreign keys), and their sessions."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

from newsletter.errors import DatabaseError


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


def sqlite_file(engine: Engine) -> Path | None:
    """The file of a SQLite database on disk; None for PostgreSQL and for an in-memory SQLite."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def create_private_file(engine: Engine) -> None:
    """Create a missing SQLite file readable by its owner only; SQLite gives its WAL and index the same mode.

    Left to SQLite, the file would take the umask's mode (often 0644): sealed addresses and consent
    records readable by every user of the machine.
    """
    path = sqlite_file(engine)
    if path is None:
        return
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as error:
        raise DatabaseError(f"cannot create the database file {path} ({error.strerror}); check that its "
                            "folder exists and is writable, or change database.url") from None
    os.close(descriptor)


def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
