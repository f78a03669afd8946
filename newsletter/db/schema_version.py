"""Which schema a database is at, and whether this version can use it: plain SQL, no Alembic.

Every command that opens the database asks this once, so it must be cheap: importing Alembic costs more
CPU than most commands spend on their work. Alembic is for changing the schema (`migrate.py`, run by
`newsletter init`); here the revisions are read from the migration files' own `revision = "..."` lines
and the database's from Alembic's `alembic_version` table. A test checks both agree with Alembic's view.
SQLAlchemy is imported by the two functions that take an engine, so that the commands that read through
the driver alone (`db/reader.py`) can ask the same question (`require_revision`) without it.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.db.failures import explain
from newsletter.errors import DatabaseError

if TYPE_CHECKING:
    from sqlalchemy import Engine

VERSIONS = Path(__file__).parent / "migrations" / "versions"
_REVISION = re.compile(r'^revision = "([^"]+)"$', re.MULTILINE)
_DOWN_REVISION = re.compile(r'^down_revision = (?:"([^"]+)"|None)$', re.MULTILINE)


@cache
def _chain() -> dict[str, str | None]:
    """Each revision this version has a migration for, and the revision it follows (None for the first)."""
    chain: dict[str, str | None] = {}
    for path in VERSIONS.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN_REVISION.search(source)
        if revision is None or down is None:
            raise DatabaseError(f"migration {path.name} names no revision: this installation is damaged")
        chain[revision.group(1)] = down.group(1)
    return chain


def known_revisions() -> set[str]:
    """Every schema revision this version has a migration for."""
    return set(_chain())


def head_revision() -> str:
    """The schema this version works with: the revision no other migration follows."""
    followed = set(_chain().values())
    (head,) = (revision for revision in _chain() if revision not in followed)
    return head


def current_revision(engine: Engine) -> str | None:
    """The schema the database is at (None when it has none); a failure is one DatabaseError line."""
    from sqlalchemy import exc, inspect, text

    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            revision: str | None = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            return revision
    except exc.DBAPIError as error:
        raise explain(error, engine.url) from None


def refuse_newer(current: str | None) -> None:
    """Stop when the database was made by a newer version of newsletter than this one."""
    if current is not None and current not in known_revisions():
        raise DatabaseError(
            f"the database is at schema {current}, made by a newer version of newsletter (this one knows up "
            f"to {head_revision()}): upgrade newsletter to the version that made it, or restore a backup "
            "made with this one; nothing was changed")


def require_schema(engine: Engine) -> None:
    """Stop with a clear message when the database was not set up by this version's `newsletter init`.

    A SQLite file that does not exist is not created here: only `newsletter init` makes one.
    """
    from newsletter.db.engine import sqlite_file

    require_file(sqlite_file(engine))
    require_revision(current_revision(engine))


def require_file(path: Path | None) -> None:
    """Stop when the SQLite file `path` (None: not SQLite, or in memory) does not exist."""
    if path is not None and not path.exists():
        raise DatabaseError(f"there is no database at {path}: run `newsletter init` to create it")


def require_revision(current: str | None) -> None:
    """Stop unless `current` (the database's schema, None for none) is the one this version works with."""
    refuse_newer(current)
    if current != head_revision():
        found = "no schema" if current is None else f"schema {current}"
        raise DatabaseError(
            f"the database has {found}, this version needs {head_revision()}: run `newsletter init`"
        )
