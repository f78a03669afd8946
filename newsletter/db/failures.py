"""What a database failure means for the person at the terminal: one line naming the problem and the fix.

SQLAlchemy's own message carries the statement and its parameters (excerpt text, subscriber ids, sealed
addresses), and the driver's text for a refused statement can quote values too (PostgreSQL's DETAIL). So
the line is built from the kind of failure: the driver's first line only for connection-level failures,
which name no data, and otherwise the class of the error alone.

The meaning is read from the driver's own error (`explain_driver`), so the commands that read through
the driver without SQLAlchemy (`db/reader.py`) say the same lines; SQLAlchemy is only imported for
typing here, as whoever passes one of its errors has loaded it already.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from newsletter.errors import DatabaseError

if TYPE_CHECKING:
    from sqlalchemy import URL
    from sqlalchemy.exc import SQLAlchemyError

AGAIN = "run the command again"
BUSY_SECONDS = 10  # the engine's busy_timeout: how long SQLite waited before it gave up

# Words in a PostgreSQL driver's message that say the server could not be reached, or went away.
_UNREACHABLE = ("connection", "server closed", "could not translate host", "timeout expired",
                "terminating connection", "the database system is")

# SQLite's messages (they never quote values) and what they mean here.
_SQLITE = {
    "database is locked": (f"the database is locked: another program (a `newsletter` command, the service, a "
                           f"backup) has been writing to it for more than {BUSY_SECONDS} s; wait for it to "
                           f"finish, or stop it, and {AGAIN}"),
    "database table is locked": f"the database is busy with another command; wait for it to finish and {AGAIN}",
    "database or disk is full": f"the disk that holds the database is full: free some space and {AGAIN}",
    "disk i/o error": f"the database file could not be read or written (disk I/O error): check the disk, then {AGAIN}",
    "attempt to write a readonly database": ("the database is read-only for this user: check the permissions "
                                             "of {path} and of its folder"),
    "unable to open database file": ("cannot open the database file {path}: check that its folder exists and "
                                     "that this user may read and write it (database.url)"),
    "file is not a database": ("{path} is not a SQLite database: check database.url (or move that file away "
                               "and run `newsletter init` to create one there)"),
    "file is encrypted or is not a database": ("{path} is not a SQLite database: check database.url (or move "
                                               "that file away and run `newsletter init` to create one there)"),
}


def explain(error: SQLAlchemyError, url: URL) -> DatabaseError:
    """The DatabaseError to show for `error`, raised while using the database at `url`."""
    from sqlalchemy.exc import DBAPIError

    if not isinstance(error, DBAPIError) or error.orig is None:
        return DatabaseError(f"the database failed ({type(error).__name__}); {AGAIN}, and if it fails again "
                             "check database.url and that `newsletter init` has run")
    where = Where(url.get_backend_name(), url.database, url.host, url.port)
    return explain_driver(error.orig, where, invalidated=error.connection_invalidated)


@dataclass(frozen=True)
class Where:
    """The database a failure happened on, as far as its line names it: no user, no password."""

    backend: str  # "sqlite" or "postgresql"
    database: str | None  # SQLite's file
    host: str | None
    port: int | None


def explain_driver(orig: BaseException, where: Where, *, invalidated: bool = False) -> DatabaseError:
    """The DatabaseError to show for the driver's own error `orig` (sqlite3's or psycopg's)."""
    first_line = (str(orig).strip().splitlines() or [""])[0]
    if where.backend == "sqlite":
        for known, meaning in _SQLITE.items():
            if known in first_line.lower():
                return DatabaseError(meaning.format(path=where.database))
    elif invalidated or _cannot_connect(orig):
        reason = first_line.rpartition(": ")[2] or type(orig).__name__
        return DatabaseError(f"cannot reach the PostgreSQL server at {where.host or 'localhost'}:"
                             f"{where.port or 5432} ({_short(reason)}): check that it is running and that "
                             f"database.url is right, then {AGAIN}")
    kind = type(orig).__name__
    return DatabaseError(f"the database refused an operation ({kind}); {AGAIN}, and if it fails again check "
                         "that `newsletter init` has run with this version")


def _cannot_connect(orig: BaseException) -> bool:
    """Whether the driver says the server could not be reached (DB-API's OperationalError, by name, so
    that neither driver has to be imported to ask)."""
    operational = any(kind.__name__ == "OperationalError" for kind in type(orig).__mro__)
    return operational and any(sign in str(orig).lower() for sign in _UNREACHABLE)


def _short(reason: str) -> str:
    reason = " ".join(reason.split()).rstrip(".")
    return reason[:1].lower() + reason[1:120]
