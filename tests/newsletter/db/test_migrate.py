"""The migrations create exactly the schema the table classes describe, on SQLite and PostgreSQL, and the
subscriber table has no column that could hold an address in clear."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, inspect, text

import newsletter.content.tables
import newsletter.delivery.tables
import newsletter.inbound.tables
import newsletter.issues.tables
import subscribers.tables
from newsletter.db.engine import connect
from newsletter.db.migrate import migrate
from newsletter.db.schema import Base
from newsletter.db.schema_version import head_revision

TABLE_MODULES = (newsletter.content.tables, newsletter.issues.tables, newsletter.delivery.tables,
                 newsletter.inbound.tables, subscribers.tables)


@pytest.fixture
def engine_at_0003(database_url: str) -> Iterator[Engine]:
    """A database as version 0.2 left it: schema 0003."""
    engine = connect(database_url)
    migrate(engine, "0003")
    yield engine
    engine.dispose()


def test_every_table_class_is_in_the_metadata_the_test_compares() -> None:
    declared = {mapper.class_.__tablename__ for mapper in Base.registry.mappers}
    assert declared == set(Base.metadata.tables) == {
        "excerpts", "issues", "issue_excerpts", "deliveries", "subscribers", "signups", "outbox", "key_check",
        "returned_mail", "consent_events", "issue_states", "issue_events", "issue_edits"}
    assert {mapper.class_.__module__ for mapper in Base.registry.mappers} == {m.__name__ for m in TABLE_MODULES}


def test_the_migrated_schema_matches_every_table_class(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "include_name": _not_alembics})
        assert context.get_current_revision() == head_revision()
        assert compare_metadata(context, Base.metadata) == []


def _not_alembics(name: str | None, kind: str, parents: dict[str, str | None]) -> bool:
    return not (kind == "table" and name == "alembic_version")


def test_no_column_could_hold_an_address_in_clear(engine: Engine) -> None:
    columns = {c["name"]: str(c["type"]) for c in inspect(engine).get_columns("subscribers")}
    text_columns = {name for name, kind in columns.items() if "CHAR" in kind or "TEXT" in kind}
    # blind_index is hex, nonce is hex, the consent fields are form names and an admin's checked note.
    assert text_columns == {"blind_index", "new_blind_index", "status", "nonce", "consent_form",
                            "consent_text_version", "consent_note"}
    assert columns["address"] in {"BLOB", "BYTEA"}
    assert columns["new_address"] in {"BLOB", "BYTEA"}


def test_the_privacy_upgrade_keeps_every_subscriber_and_their_mail_and_forgets_the_erased_ones_ledger(
        engine_at_0003: Engine) -> None:
    engine = engine_at_0003
    with engine.begin() as conn:
        for n in (1, 2, 3):
            assert _subscriber(conn, f"{n:064x}", bytes([n]) * 40) == n
        conn.execute(text("INSERT INTO outbox (subscriber_id, kind, state, attempts, next_attempt_at, created_at) "
                          "VALUES (2, 'confirm', 'pending', 0, :at, :at)"), {"at": MOMENT})
        conn.execute(text("INSERT INTO issues (week, subject, created_at) VALUES ('2026-W47', 's', :at)"),
                     {"at": MOMENT})
        for subscriber in (1, 2, 3):
            conn.execute(text("INSERT INTO deliveries (issue_id, subscriber_id, state, attempts) "
                              "VALUES (1, :s, 'sent', 1)"), {"s": subscriber})
        conn.execute(text("DELETE FROM subscribers WHERE id = 3"))  # erased by 0.2: its ledger row stayed
    assert migrate(engine) == ("0003", head_revision())
    with engine.begin() as conn:
        assert conn.execute(text("SELECT id, address FROM subscribers ORDER BY id")).all() == [
            (1, b"\x01" * 40), (2, b"\x02" * 40)]
        assert conn.execute(text("SELECT subscriber_id FROM outbox")).scalars().all() == [2]
        assert conn.execute(text("SELECT subscriber_id FROM deliveries ORDER BY 1")).scalars().all() == [1, 2]
        conn.execute(text("DELETE FROM subscribers WHERE id = 2"))
        assert conn.execute(text("SELECT count(*) FROM outbox")).scalar() == 0  # the cascade still holds
        newest = _subscriber(conn, "e" * 64, None)
        conn.execute(text("DELETE FROM subscribers WHERE id = :id"), {"id": newest})
        assert _subscriber(conn, "f" * 64, None) > newest  # the highest id, once erased, is not reused


MOMENT = "2026-11-16 09:00:00"


def _subscriber(conn: Connection, index: str, address: bytes | None) -> int:
    return int(conn.execute(text(
        "INSERT INTO subscribers (blind_index, address, status, nonce, consent_form, consent_text_version, "
        "signed_up_at, created_at, updated_at) VALUES (:index, :address, 'confirmed', 'n', 'web', 'v1', "
        ":at, :at, :at) RETURNING id"), {"index": index, "address": address, "at": MOMENT}).scalar_one())
