"""Returned mail from a hosted mailbox: `newsletter bounces poll` against a real Dovecot IMAP server on
loopback handles a bounce, a complaint, an unsubscribe, an auto-reply and a forged bounce, moves each
to the done folder, never deletes anything unprocessed, and changes only whom it should."""

from __future__ import annotations

import imaplib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from newsletter.cli import cli
from subscribers.tables import Status
from tests.conftest import Clock
from tests.e2e.dovecot_imap import PASSWORD, USER, ImapServer, dovecot_imap
from tests.newsletter.inbound.conftest import DOMAIN, READERS, SentIssue, send_issue_to
from tests.newsletter.inbound.returned_mail import arf, dsn, out_of_office, plain_mail

BOUNCING, COMPLAINING, LEAVING, FORGED = READERS


@pytest.fixture
def imap() -> Iterator[ImapServer]:
    with dovecot_imap() as server:
        yield server


def deliver(server: ImapServer, messages: list[bytes]) -> None:
    """Put messages in the INBOX as the mailbox provider's delivery would."""
    client = server.client()
    for message in messages:
        status, _ = client.append("INBOX", "", imaplib.Time2Internaldate(time.time()), message)
        assert status == "OK"
    client.logout()


def folder_count(server: ImapServer, folder: str) -> int:
    client = server.client()
    status, data = client.select(f'"{folder}"', readonly=True)
    client.logout()
    return int(data[0] or 0) if status == "OK" else -1


def poll(runner: CliRunner, tmp_path: Path, password: str = PASSWORD) -> tuple[int, str, str]:
    result = runner.invoke(cli, ["--config", str(tmp_path / "newsletter.toml"), "bounces", "poll"],
                           env={"NEWSLETTER_BOUNCES_IMAP_PASSWORD": password})
    return result.exit_code, result.stdout, result.stderr


def test_polling_a_real_imap_mailbox_acts_on_each_message_and_moves_it_to_the_done_folder(
        tmp_path: Path, engine: Engine, database_url: str, clock: Clock, imap: ImapServer,
        runner: CliRunner) -> None:
    sent: SentIssue = send_issue_to(tmp_path, engine, database_url, clock, READERS, bounces={
        "imap_host": "127.0.0.1", "imap_port": imap.port, "imap_security": "none", "imap_username": USER,
        "max_message_bytes": 50_000})
    genuine = sent.bounce_address(FORGED)
    forged = genuine[:-len(DOMAIN) - 4] + ("aaa" if genuine[-len(DOMAIN) - 4:-len(DOMAIN) - 1] != "aaa"
                                           else "bbb") + "@" + DOMAIN
    deliver(imap, [
        dsn(sent.bounce_address(BOUNCING), BOUNCING),
        arf(f"bounces@{DOMAIN}", sent.bounce_address(COMPLAINING), sent.unsubscribe_address(COMPLAINING)),
        plain_mail(sent.unsubscribe_address(LEAVING), "unsubscribe"),
        out_of_office(sent.bounce_address(LEAVING)),
        dsn(forged, FORGED),
        plain_mail(sent.bounce_address(FORGED), body="x" * 60_000),
    ])
    code, _, err = poll(runner, tmp_path, "wrong password")
    assert code == 1
    assert err.startswith("error: IMAP mailbox: cannot connect or log in")
    assert folder_count(imap, "INBOX") == 6  # nothing touched

    code, out, err = poll(runner, tmp_path)
    assert code == 0, err
    assert out.strip() == "1 auto-reply, 1 bounced, 1 complained, 1 refused, 1 too-large, 1 unsubscribed"
    assert [sent.status(r) for r in READERS] == [Status.BOUNCED, Status.COMPLAINED, Status.UNSUBSCRIBED,
                                                Status.CONFIRMED]
    assert (folder_count(imap, "INBOX"), folder_count(imap, "Processed")) == (0, 6)
    assert poll(runner, tmp_path)[1].strip() == "no messages"
