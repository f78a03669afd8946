"""Fixtures for the subscriber side: a config on disk with its key file, a clock tests can move, the side."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from newsletter import config as settings
from newsletter.config import Config
from subscribers.keys import ensure_key_file
from subscribers.service import Subscribers
from tests.subscribers.web_client import Wakes, client_for

START = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    """A clock that stands still until a test moves it."""

    now: datetime = field(default=START)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def write_config(folder: Path, database_url: str, **sections: dict[str, object]) -> Path:
    """A newsletter.toml in `folder` using `database_url`, plus any extra section values."""
    values: dict[str, dict[str, object]] = {"database": {"url": database_url},
                                            "web": {"base_url": "https://news.example.org"},
                                            "outbox": {"dir": str(folder / "outbox")}}
    for section, items in sections.items():
        values.setdefault(section, {}).update(items)
    lines = []
    for section, items in values.items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {_toml(value)}" for key, value in items.items())
    path = folder / "newsletter.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ensure_key_file(folder / "newsletter.key")
    return path


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture
def config_path(tmp_path: Path, database_url: str) -> Path:
    return write_config(tmp_path, database_url)


@pytest.fixture
def config(config_path: Path) -> Config:
    return settings.load(config_path, environ={})


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def side(config: Config, engine: Engine, clock: Clock) -> Subscribers:
    return Subscribers(config, engine, now=clock)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def wakes() -> Wakes:
    return Wakes()


@pytest.fixture
def client(side: Subscribers, config: Config, wakes: Wakes) -> Iterator[TestClient]:
    with client_for(side, config, wakes) as test_client:
        yield test_client
