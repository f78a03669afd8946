"""The migrations create exactly the schema the table classes describe, on SQLite and PostgreSQL, and the
subscriber table has no column that could hold an address in clear."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

import newsletter.content.tables
import newsletter.delivery.tables
import newsletter.issues.tables
import subscribers.tables
from newsletter.db.migrate import head_revision
from newsletter.db.schema import Base

TABLE_MODULES = (newsletter.content.tables, newsletter.issues.tables, newsletter.delivery.tables, subscribers.tables)


def test_every_table_class_is_in_the_metadata_the_test_compares() -> None:
    declared = {mapper.class_.__tablename__ for mapper in Base.registry.mappers}
    assert declared == set(Base.metadata.tables) == {
        "excerpts", "issues", "issue_excerpts", "deliveries", "subscribers", "signups", "outbox"}
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
    assert text_columns == {"blind_index", "status", "nonce", "consent_form", "consent_text_version",
                            "consent_note"}
    assert columns["address"] in {"BLOB", "BYTEA"}
