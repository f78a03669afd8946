"""Database failures as one line for a person: the problem and the fix, never the statement or its values."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy import make_url
from sqlalchemy.exc import IntegrityError, InvalidRequestError, OperationalError, SQLAlchemyError

from newsletter.db.failures import explain

SQLITE = make_url("sqlite:////srv/news/newsletter.db")
POSTGRES = make_url("postgresql+psycopg://news:s3cret@db.example.org:6543/news")
STATEMENT = "INSERT INTO excerpts (title, paragraphs) VALUES (?, ?)"
VALUES = ("The Lamp in the Kitchen", "reader@example.org")


def failed(orig: Exception, kind: type[OperationalError | IntegrityError] = OperationalError) -> SQLAlchemyError:
    return kind(STATEMENT, VALUES, orig)


@pytest.mark.parametrize(("orig", "says"), [
    (sqlite3.OperationalError("database is locked"), "the database is locked: another program"),
    (sqlite3.OperationalError("database or disk is full"), "the disk that holds the database is full"),
    (sqlite3.OperationalError("disk I/O error"), "could not be read or written (disk I/O error)"),
    (sqlite3.OperationalError("attempt to write a readonly database"),
     "read-only for this user: check the permissions of /srv/news/newsletter.db"),
    (sqlite3.OperationalError("unable to open database file"), "cannot open the database file /srv/news/"),
    (sqlite3.DatabaseError("file is not a database"), "/srv/news/newsletter.db is not a SQLite database"),
    (sqlite3.OperationalError("no such column: subscribers.colour"), "refused an operation (OperationalError)"),
], ids=["locked", "disk-full", "io", "read-only", "cannot-open", "not-a-database", "other"])
def test_each_sqlite_failure_says_what_happened_and_what_to_do(orig: Exception, says: str) -> None:
    message = str(explain(failed(orig), SQLITE))
    assert says in message
    _shows_nothing_of_the_statement(message)


@pytest.mark.parametrize(("orig", "reason"), [
    (psycopg.OperationalError('connection failed: connection to server at "10.0.0.5", port 6543 failed: '
                              "Connection refused\n\tIs the server running on that host?"), "connection refused"),
    (psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly\n\tThis "
                              "probably means the server terminated abnormally"),
     "server closed the connection unexpectedly"),
    (psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
     "terminating connection due to administrator command"),
], ids=["refused", "closed", "restarted"])
def test_a_postgresql_server_out_of_reach_is_named_without_the_password(orig: Exception, reason: str) -> None:
    message = str(explain(failed(orig), POSTGRES))
    assert message.startswith(f"cannot reach the PostgreSQL server at db.example.org:6543 ({reason}): "
                              "check that it is running")
    assert "s3cret" not in message
    _shows_nothing_of_the_statement(message)


def test_a_refused_statement_names_only_the_kind_of_failure_never_the_values_in_the_drivers_detail() -> None:
    orig = psycopg.errors.UniqueViolation('duplicate key value violates unique constraint "uq_subscribers_'
                                          'blind_index"\nDETAIL:  Key (blind_index)=(9f2c) already exists.')
    message = str(explain(failed(orig, IntegrityError), POSTGRES))
    assert "(UniqueViolation)" in message
    assert "9f2c" not in message
    _shows_nothing_of_the_statement(message)


def test_a_failure_without_a_driver_error_is_still_one_line() -> None:
    message = str(explain(InvalidRequestError("This session is in 'inactive' state"), SQLITE))
    assert message.startswith("the database failed (InvalidRequestError); run the command again")


def _shows_nothing_of_the_statement(message: str) -> None:
    assert "\n" not in message
    for leak in ("INSERT", "excerpts", "Lamp", "reader@", "[SQL", "parameters"):
        assert leak not in message
