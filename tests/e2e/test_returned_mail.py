"""The loop with the mail world, end to end: `newsletter send` hands an issue to a real Postfix relay,
Postfix delivers to a "remote" server that refuses some readers only after Postfix accepted their
messages, Postfix writes real delivery status notifications to the messages' bounce addresses and
delivers them to the listener of `newsletter run`, and those readers end `bounced` while the others stay
`confirmed`. A complaint (ARF) and an unsubscribe by email travel the same way."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config.settings import load
from newsletter.db.engine import connect
from newsletter.delivery.tables import DeliveryRow, DeliveryState
from subscribers.addresses import parse
from subscribers.side import Subscribers
from subscribers.tables import Status
from tests.conftest import EXAMPLES, write_config
from tests.e2e.postfix_relay import PostfixRelay, postfix_relay
from tests.newsletter.cli.service_process import ServiceProcess, newsletter
from tests.newsletter.inbound.returned_mail import arf, plain_mail
from tests.newsletter.smtp_server import SmtpServer, serve_in_thread
from tests.processes import free_port, wait_for

DOMAIN = "bounces.news.example.org"
READERS = [f"reader{n}@example.com" for n in range(6)]
GONE, FULL, LEAVING, COMPLAINING = READERS[1], READERS[2], READERS[3], READERS[4]


@pytest.fixture
def remote() -> Iterator[SmtpServer]:
    """The readers' mail server: it takes every recipient Postfix names, but two of them not for good."""
    with serve_in_thread() as server:
        server.faults.rcpt = {GONE: f"550 5.1.1 <{GONE}>: Recipient address rejected: no such user",
                              FULL: "452 4.2.2 <reader2@example.com>: Mailbox full"}
        yield server


@pytest.mark.parametrize("protocol", ["smtp", "lmtp"])
def test_a_real_relays_bounces_and_complaints_come_back_and_suppress_only_their_readers(
        tmp_path: Path, sqlite_url: str, remote: SmtpServer, protocol: str) -> None:
    listener_port = free_port()
    to_listener = listener_port if protocol == "smtp" else f"lmtp:inet:127.0.0.1:{listener_port}"
    with postfix_relay({"example.com": remote.port, DOMAIN: to_listener}) as relay:
        config_path = write_config(
            tmp_path, sqlite_url, delivery={"transport": "smtp"}, smtp={"host": "127.0.0.1", "port": relay.port},
            bounces={"domain": DOMAIN, "listen_host": "127.0.0.1", "listen_port": listener_port, "soft_limit": 1,
                     "protocol": protocol})
        for args in (["init"], ["ingest", str(EXAMPLES / "pages")]):
            assert newsletter(config_path, *args).returncode == 0
        (tmp_path / "readers.txt").write_text("\n".join(READERS) + "\n")
        assert newsletter(config_path, "subscribers", "import", str(tmp_path / "readers.txt"), "--confirmed",
                          "--consent-note", "test readers").returncode == 0
        service = ServiceProcess(config_path, free_port())
        try:
            service.wait_until_serving()
            sent = newsletter(config_path, "send", "--week", "2026-W47", "--json")
            assert sent.returncode == 0, sent.stderr
            assert '"sent": 6' in sent.stdout  # Postfix took every message: the refusals come later
            wait_for(lambda: len(remote.received) == len(READERS) - 2, "Postfix to deliver the accepted", 60)
            complain_and_leave(relay, remote)
            side = Subscribers(load(config_path, environ={}), connect(sqlite_url))
            expected = dict.fromkeys(READERS, Status.CONFIRMED) | {
                GONE: Status.BOUNCED, FULL: Status.BOUNCED, LEAVING: Status.UNSUBSCRIBED,
                COMPLAINING: Status.COMPLAINED}
            wait_for(lambda: statuses(side) == expected, "the returned mail to be handled", 60)
        finally:
            assert service.stop() == 0
        postfix_log = relay.log()
    # Postfix itself wrote both notifications: the 550 bounced, the 452 expired after its one try.
    assert postfix_log.count("status=bounced") == 1
    assert postfix_log.count("status=expired, returned to sender") == 1
    assert postfix_log.count("sender non-delivery notification") == 2
    # Four messages reached the listener (two notifications, the complaint, the unsubscribe), by `protocol`.
    assert postfix_log.count(f"postfix/{protocol}[") >= 4
    assert postfix_log.count("status=sent (250 2.0.0 Stored)") == 4
    rows = ledger_rows(side)
    assert rows[GONE][0] is DeliveryState.BOUNCED
    assert "5.1.1" in rows[GONE][1]
    assert "reader1" not in rows[GONE][1]
    assert rows[FULL][0] is DeliveryState.BOUNCED
    assert "4.2.2" in rows[FULL][1]
    assert rows[COMPLAINING][0] is DeliveryState.COMPLAINED
    assert {rows[r][0] for r in (READERS[0], READERS[5], LEAVING)} == {DeliveryState.SENT}
    log = service.log()
    assert "returned mail: bounced" in log
    assert not any(reader in log for reader in READERS)
    assert not list((tmp_path / "bounces" / "new").glob("*"))  # handled, and not kept


def complain_and_leave(relay: PostfixRelay, remote: SmtpServer) -> None:
    """Through Postfix to the listener: one reader's unsubscribe email, another's provider's complaint."""
    by_reader = {message.recipients[0]: message for message in remote.received}
    leaving = by_reader[LEAVING].data.decode()
    mailto = leaving.split("<mailto:")[1].split("?")[0]
    complained = by_reader[COMPLAINING]
    unsubscribe = complained.data.decode().split("<mailto:")[1].split("?")[0]
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=30) as client:
        client.sendmail("reader@example.com", [mailto], plain_mail(mailto, "unsubscribe"))
        client.sendmail("feedback@fbl.example.net", [f"bounces@{DOMAIN}"],
                        arf(f"bounces@{DOMAIN}", complained.sender, unsubscribe))


def statuses(side: Subscribers) -> dict[str, Status | None]:
    return {reader: side.store.lookup(parse(reader)) for reader in READERS}


def ledger_rows(side: Subscribers) -> dict[str, tuple[DeliveryState, str]]:
    ids = {reader: side.store.identify(parse(reader)) for reader in READERS}
    with Session(side.engine) as session:
        rows = {s: (state, reason or "") for s, state, reason in session.execute(
            select(DeliveryRow.subscriber_id, DeliveryRow.state, DeliveryRow.reason))}
    return {reader: rows[subscriber] for reader, subscriber in ids.items() if subscriber is not None}
