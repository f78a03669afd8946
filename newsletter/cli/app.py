"""What every command shares: the settings, the database and the console, made when first used."""

from __future__ import annotations

from datetime import date
from functools import cached_property
from pathlib import Path

import click
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from newsletter.config import settings
from newsletter.db.engine import connect, sessions
from newsletter.db.migrate import require_schema
from newsletter.templating import check_templates
from newsletter.weeks import IsoWeek


class App:
    def __init__(self, config_path: Path | None) -> None:
        self._config_path = config_path

    @cached_property
    def config(self) -> settings.Config:
        """Every setting, checked: the loader's checks, then the templates compiled (a layer above config)."""
        config = settings.load(self._config_path)
        check_templates(config)
        return config

    @cached_property
    def engine(self) -> Engine:
        return connect(self.config.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        """Sessions on a database that `newsletter init` has set up (checked once)."""
        require_schema(self.engine)
        return sessions(self.engine)

    @cached_property
    def console(self) -> Console:
        return Console(highlight=False, soft_wrap=True)

    @cached_property
    def errors(self) -> Console:
        return Console(stderr=True, highlight=False, soft_wrap=True)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


pass_app = click.make_pass_decorator(App)


def chosen_week(value: str | None) -> IsoWeek:
    """The week a `--week` option names, or the last complete ISO week when it names none."""
    return IsoWeek.parse(value) if value else IsoWeek.last_complete(date.today())
