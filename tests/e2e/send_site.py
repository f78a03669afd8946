"""A newsletter set up on disk for the send journeys, and `newsletter` run against it as a real process.

The database holds the sample week (2026-W47) and confirmed subscribers added through the subscriber
store, so their addresses are sealed exactly as an import seals them. Commands run as child processes
(`python -c "from newsletter.cli import main; main()"`), so a test can SIGKILL one mid-send.
"""

from __future__ import annotations

import email
import json
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from newsletter.config import settings
from newsletter.content import store as excerpt_store
from newsletter.db.engine import connect
from newsletter.db.engine import sessions as make_sessions
from newsletter.db.migrate import migrate
from subscribers.side import Subscribers
from subscribers.store import Consent
from subscribers.tables import SubscriberRow
from tests.conftest import REPO, write_config
from tests.newsletter.conftest import SAMPLE_WEEK, sample_excerpts
from tests.processes import MAIN

WEEK = str(SAMPLE_WEEK)
CONSENT = Consent(form="import-confirmed", text_version="consent-given-elsewhere", note="test list")


@dataclass(frozen=True)
class Subscriber:
    """A confirmed subscriber: what the test needs to recognise their mail and to unsubscribe them."""

    id: int
    address: str
    nonce: str


@dataclass
class Site:
    """A config file, its database and key, and the subscribers in it."""

    folder: Path
    config: Path
    engine: Engine
    subscribers: list[Subscriber]

    @property
    def addresses(self) -> list[str]:
        return [s.address for s in self.subscribers]

    def command(self, *args: str) -> list[str]:
        return [*MAIN, "--config", str(self.config),
                *args]

    def start(self, *args: str) -> subprocess.Popen[str]:
        """`newsletter ARGS` started in the background, its output captured."""
        return subprocess.Popen(self.command(*args), cwd=REPO, env=child_environment(), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """`newsletter ARGS` run to its end."""
        return subprocess.run(self.command(*args), cwd=REPO, env=child_environment(), text=True,
                              capture_output=True, timeout=timeout, check=False)

    def status(self) -> dict[str, Any]:
        """`newsletter status --week WEEK --json`, parsed."""
        done = self.run("status", "--week", WEEK, "--json")
        assert done.returncode == 0, done.stderr
        report: dict[str, Any] = json.loads(done.stdout)
        return report

    def side(self) -> Subscribers:
        return Subscribers(settings.load(self.config, environ={}), self.engine)


def child_environment() -> dict[str, str]:
    """This process's environment without NEWSLETTER_* settings: the site's config file decides."""
    return {key: value for key, value in os.environ.items() if not key.startswith("NEWSLETTER_")}


def make_site(folder: Path, database_url: str, smtp_port: int, subscribers: int, *,
              delivery: str = "", smtp: str = "") -> Site:
    """A newsletter in `folder` that sends over SMTP to 127.0.0.1:`smtp_port`.

    `delivery` and `smtp` are extra TOML lines for those sections.
    """
    config = write_config(folder, database_url)
    with config.open("a", encoding="utf-8") as toml:
        toml.write(f'[delivery]\ntransport = "smtp"\n{delivery}\n'
                   f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\n{smtp}\n')
    engine = connect(database_url)
    migrate(engine)
    with make_sessions(engine).begin() as session:
        excerpt_store.add(session, sample_excerpts())
    side = Subscribers(settings.load(config, environ={}), engine)
    for n in range(subscribers):
        side.store.add_confirmed(side.parse(f"reader{n}@example.net"), CONSENT)
    with engine.connect() as conn:
        rows = conn.execute(select(SubscriberRow.id, SubscriberRow.nonce).order_by(SubscriberRow.id)).all()
    people = [Subscriber(row.id, f"reader{n}@example.net", row.nonce) for n, row in enumerate(rows)]
    return Site(folder, config, engine, people)


def message_ids(messages: Sequence[bytes]) -> set[str]:
    """The Message-ID headers of `messages`."""
    return {str(email.message_from_bytes(data)["Message-ID"]) for data in messages}
