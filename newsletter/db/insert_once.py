"""INSERT ... ON CONFLICT DO NOTHING, in the dialect of the database in use.

SQLite and PostgreSQL spell it alike, but SQLAlchemy offers it per dialect. The dialect's module is
imported for the database in use only: PostgreSQL's brings the modules of its four drivers (about 3 MiB
and a twentieth of a second), which a SQLite deployment's every command would otherwise pay for.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert


def insert_once(session: Session, entity: Any, key: Sequence[str]) -> Insert:
    """An INSERT into `entity` that skips a row whose `key` columns are already taken (no error)."""
    dialect = importlib.import_module(f"sqlalchemy.dialects.{session.get_bind().dialect.name}")
    statement: Insert = dialect.insert(entity).on_conflict_do_nothing(index_elements=list(key))
    return statement
