"""Shared fixtures: a migrated database on SQLite and (when configured) PostgreSQL, a config on disk with its
key file, a clock tests can move, the subscriber side, and a CLI runner."""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import Engine, create_engine, text

from newsletter.config import settings
from newsletter.config.settings import Config
from newsletter.db.engine import connect
from newsletter.db.migrate import migrate
from subscribers import key_check
from subscribers.keys import ensure_key_file, load_keys
from subscribers.settings import SubscriberSettings
from subscribers.side import Subscribers

POSTGRES_ENV = "NEWSLETTER_TEST_POSTGRES_URL"
REPO = Path(__file__).resolve().parents[1]
SEED = REPO.parent / "shared" / "seeds" / "000_4f178ffae56ea031.txt"
EXAMPLES = REPO / "examples"


def write_config(folder: Path, database_url: str, **sections: dict[str, object]) -> Path:
    """A newsletter.toml (and key file) in `folder` for the sample newsletter on `database_url`.

    `sections` change or add values, e.g. `smtp={"port": 2525}`.
    """
    values: dict[str, dict[str, object]] = {
        "newsletter": {"title": "Weekly Lessons", "from_address": "letters@news.example.org",
                       "from_name": "Weekly Lessons", "list_id": "weekly.news.example.org",
                       "postal_address": "Weekly Lessons, 12 Harbour Lane, Example Town EX1 2AB"},
        "database": {"url": database_url},
        "web": {"base_url": "https://news.example.org"},
        "outbox": {"dir": str(folder / "outbox")},
    }
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
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/e2e/ is `e2e`: `scripts/test -m "not e2e"` runs without Debian's tools."""
    e2e = REPO / "tests" / "e2e"
    for item in items:
        if item.path.is_relative_to(e2e):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'newsletter.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throw-away schema in the test PostgreSQL, as a URL whose search_path points at it."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} is not set: CI runs every PostgreSQL test (.ci/run sets it)")
        pytest.skip(f"{POSTGRES_ENV} is not set (.ci/run sets it)")
    schema = "t_" + secrets.token_hex(6)
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test that takes this runs once on SQLite and once on PostgreSQL."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = connect(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def key_pair() -> tuple[bytes, str]:
    """A fresh RSA key as PEM, and the DNS TXT record that publishes its public half."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem, f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


START = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    """A clock that stands still until a test moves it."""

    now: datetime = field(default=START)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


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
    """The subscriber side on a database whose key is recorded, as `newsletter init` leaves it."""
    settings = SubscriberSettings.from_config(config)
    key_check.remember(engine, load_keys(settings.key_file, settings.key), f"in {settings.key_file}")
    return Subscribers(config, engine, now=clock)
