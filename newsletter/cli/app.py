"""What every command shares: the settings, the database and the console, made when first used.

The libraries behind them (SQLAlchemy, Alembic's schema check, Jinja2, Rich) are imported by the property
that needs them, not by this module: `newsletter --help` and a command that never opens the database do
not load them (see `lazy_group.py`).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import click

from newsletter.weeks import IsoWeek

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from newsletter.config.settings import Config
    from newsletter.db.reader import Reader


class App:
    def __init__(self, config_path: Path | None) -> None:
        self._config_path = config_path

    @cached_property
    def config(self) -> Config:
        """Every setting, checked: the loader's checks, then the templates compiled (a layer above config)."""
        from newsletter.config import settings

        config = settings.load(self._config_path)
        if config.templates_dir:  # only an admin's templates need compiling here (and Jinja2 loading)
            from newsletter.templating import check_templates

            check_templates(config)
        return config

    @cached_property
    def engine(self) -> Engine:
        from newsletter.db.engine import connect

        return connect(self.config.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        """Sessions on a database that `newsletter init` has set up (checked once)."""
        from newsletter.db.engine import sessions
        from newsletter.db.schema_version import require_schema

        require_schema(self.engine)
        return sessions(self.engine)

    def reading(self) -> AbstractContextManager[Reader]:
        """A read-only transaction through the driver alone, for a command that only looks (`db/reader.py`):
        no SQLAlchemy, checked as `sessions` is that `newsletter init` has set the database up."""
        from newsletter.db.reader import reading

        return reading(self.config.database_url)

    @cached_property
    def console(self) -> Console:
        from rich.console import Console

        return Console(highlight=False, soft_wrap=True)

    @cached_property
    def errors(self) -> Console:
        from rich.console import Console

        return Console(stderr=True, highlight=False, soft_wrap=True)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


pass_app = click.make_pass_decorator(App)


def chosen_week(value: str | None) -> IsoWeek:
    """The week a `--week` option names, or the last complete ISO week when it names none."""
    return IsoWeek.parse(value) if value else IsoWeek.last_complete(date.today())
