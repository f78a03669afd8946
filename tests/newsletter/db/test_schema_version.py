"""The schema check every command makes reads the same revisions Alembic does, without importing it."""

from __future__ import annotations

from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from newsletter.db.engine import connect
from newsletter.db.migrate import MIGRATIONS, migrate
from newsletter.db.schema_version import current_revision, head_revision, known_revisions


def _scripts() -> ScriptDirectory:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def test_the_migration_files_are_read_as_alembic_reads_them() -> None:
    assert head_revision() == _scripts().get_current_head()
    assert known_revisions() == {script.revision for script in _scripts().walk_revisions()}


def test_the_database_revision_is_the_one_alembic_records(database_url: str) -> None:
    engine = connect(database_url)
    try:
        assert current_revision(engine) is None
        migrate(engine, "0003")
        assert current_revision(engine) == "0003"
        migrate(engine)
        with engine.connect() as connection:
            assert current_revision(engine) == MigrationContext.configure(connection).get_current_revision()
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()

