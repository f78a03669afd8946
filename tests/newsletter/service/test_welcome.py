"""The welcome mail: with `[subscribers] welcome = "latest"` a reader who confirms is sent the latest issue
that went out, through the durable outbox, with their own unsubscribe link; "none" sends nothing."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from newsletter.cli import cli
from newsletter.config.settings import SmtpSettings, load
from newsletter.db.engine import sessions
from newsletter.delivery.transports.smtp import SmtpTransport
from newsletter.service.welcome import WelcomeIssue
from subscribers.addresses import parse
from subscribers.confirmation import ConfirmationMail
from subscribers.recipients import SubscriberRecipients
from subscribers.side import Subscribers
from subscribers.store import Consent
from subscribers.tables import MailState
from subscribers.tokens import Purpose
from subscribers.worker import OutboxWorker
from tests.conftest import EXAMPLES, write_config
from tests.newsletter.smtp_server import SmtpServer
from tests.subscribers.test_worker import confirm_token

pytestmark = pytest.mark.anyio
NEWCOMER = "newcomer@example.org"


@pytest.fixture
async def smtp_server() -> AsyncIterator[SmtpServer]:
    async with SmtpServer() as server:
        yield server


@pytest.fixture
def newsletter(request: pytest.FixtureRequest, tmp_path: Path, database_url: str, engine: Engine) -> Path:
    """A newsletter whose `welcome` and whether 2026-W47 was sent come from the test's parameter."""
    welcome, send = request.param
    path = write_config(tmp_path, database_url, subscribers={"welcome": welcome})
    runner = CliRunner()
    steps = [["init"], ["ingest", str(EXAMPLES / "pages")], ["subscribers", "import", str(tmp_path / "list.txt"),
                                                             "--confirmed", "--consent-note", "test"]]
    (tmp_path / "list.txt").write_text("old.reader@example.org\n", encoding="utf-8")
    if send:
        steps.append(["send", "--week", "2026-W47"])
    for args in steps:
        done = runner.invoke(cli, ["--config", str(path), *args])
        assert done.exit_code == 0, done.output
    return path


async def confirm_newcomer(path: Path, engine: Engine, server: SmtpServer) -> tuple[Subscribers, int]:
    """The newcomer signs up and confirms; the worker sends what that queues. Returns the side and their id."""
    config = load(path, environ={})
    side = Subscribers(config, engine)
    welcome = WelcomeIssue(config, sessions(engine), SubscriberRecipients(config, engine, side=side))
    transport = SmtpTransport(SmtpSettings(host=server.host, port=server.port, timeout=5.0))
    worker = OutboxWorker(side, transport, ConfirmationMail(config),
                          welcome=welcome if side.settings.welcome else None)
    side.store.sign_up(parse(NEWCOMER), Consent("web-signup", "test"))
    await worker.run_once()
    [confirmation] = server.received
    claims = side.signer.verify(confirm_token(confirmation.data), Purpose.CONFIRM, side.now())
    side.store.confirm(claims.subscriber_id, claims.nonce)
    await worker.run_once()
    await transport.close()
    return side, claims.subscriber_id


def parsed(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


@pytest.mark.parametrize("newsletter", [("latest", True)], indirect=True, ids=["latest"])
async def test_a_reader_who_confirms_gets_the_latest_issue_with_their_own_unsubscribe_link(
        newsletter: Path, engine: Engine, smtp_server: SmtpServer) -> None:
    side, newcomer = await confirm_newcomer(newsletter, engine, smtp_server)
    [_, welcome] = smtp_server.received
    assert welcome.recipients == (NEWCOMER,)
    message = parsed(welcome.data)
    assert message["Subject"] == "Weekly Lessons — week of 16 November 2026"
    [one_click] = re.findall(r"<(https?://[^>]+)>", message["List-Unsubscribe"])
    claims = side.signer.verify(one_click.split("token=")[1], Purpose.UNSUBSCRIBE, side.now())
    assert claims.subscriber_id == newcomer
    text = message.get_body(("plain",))
    assert text is not None
    assert "The Lamp in the Kitchen" in text.get_content()
    assert side.outbox.counts()[MailState.SENT] == 2


@pytest.mark.parametrize("newsletter", [("none", True)], indirect=True, ids=["none"])
async def test_welcome_none_sends_nothing_after_the_confirmation(newsletter: Path, engine: Engine,
                                                                 smtp_server: SmtpServer) -> None:
    side, _ = await confirm_newcomer(newsletter, engine, smtp_server)
    assert len(smtp_server.received) == 1
    assert side.outbox.counts()[MailState.SENT] == 1


@pytest.mark.parametrize("newsletter", [("latest", False)], indirect=True, ids=["nothing-sent"])
async def test_with_no_issue_sent_yet_the_welcome_is_dropped_not_retried(newsletter: Path, engine: Engine,
                                                                         smtp_server: SmtpServer) -> None:
    side, _ = await confirm_newcomer(newsletter, engine, smtp_server)
    assert len(smtp_server.received) == 1
    assert side.outbox.counts()[MailState.CANCELLED] == 1
