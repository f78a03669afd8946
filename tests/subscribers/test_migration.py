"""Migration 0002 creates exactly the tables the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, MetaData, inspect

from newsletter.db.schema import Base
from subscribers.tables import OutboxRow, SubscriberRow

OURS = {SubscriberRow.__tablename__, OutboxRow.__tablename__}


def test_the_migrated_schema_matches_the_models(engine: Engine) -> None:
    ours = MetaData(naming_convention=Base.metadata.naming_convention)
    for name in OURS:
        Base.metadata.tables[name].to_metadata(ours)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "include_name": _only_ours})
        assert compare_metadata(context, ours) == []


def _only_ours(name: str | None, kind: str, parents: dict[str, str | None]) -> bool:
    if kind == "schema":
        return True
    if kind == "table":
        return name in OURS
    return parents.get("table_name") in OURS


def test_no_column_could_hold_an_address_in_clear(engine: Engine) -> None:
    columns = {c["name"]: str(c["type"]) for c in inspect(engine).get_columns("subscribers")}
    text_columns = {name for name, kind in columns.items() if "CHAR" in kind or "TEXT" in kind}
    # blind_index is hex, nonce is hex, the consent fields are form names and an admin's checked note.
    assert text_columns == {"blind_index", "status", "nonce", "consent_form", "consent_text_version",
                            "consent_note"}
    assert columns["address"] in {"BLOB", "BYTEA"}
