"""A send to a server that pipelines (RFC 2920), with faults inside the pipelined groups: every outcome
is the one the server gave, nobody is lost, and nobody is marked sent whom the server did not accept."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from newsletter.delivery.sender import Policy
from tests.newsletter.delivery.sends import make_send, readers
from tests.newsletter.smtp_server import SmtpServer

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("connections", [1, 3], ids=["one-connection", "three-connections"])
async def test_faults_inside_pipelined_groups_give_each_reader_the_servers_verdict(
        tmp_path: Path, engine: Engine, database_url: str, connections: int) -> None:
    send = make_send(tmp_path, engine, database_url, readers(30))
    async with SmtpServer() as server:
        server.faults.rcpt["reader1@example.com"] = "550 5.1.1 No such user here"
        server.faults.rcpt["reader4@example.com"] = "421 4.3.2 Shutting down"
        server.faults.rcpt["reader5@example.com"] = "450 4.2.1 Mailbox busy"
        server.faults.drop_in_data.add("reader7@example.com")
        server.faults.data["reader9@example.com"] = "554 5.7.1 Message rejected as spam"
        # linger 0: deferred rows wait for a later run, so this run's verdicts stay visible.
        await send.run(server, Policy(workers=connections, batch_size=10, linger_seconds=0),
                       connections=connections)

    states = send.states()
    assert {address: state for address, state in states.items() if state != "sent"} == {
        "reader1@example.com": "failed",
        "reader4@example.com": "deferred",
        "reader5@example.com": "deferred",
        "reader7@example.com": "deferred",
        "reader9@example.com": "failed",
    }
    sent = {address for address, state in states.items() if state == "sent"}
    assert server.recipients() == dict.fromkeys(sent, 1)
    # The messages really were pipelined: a message's end and the next one's MAIL went in one write.
    assert any(b"\r\n.\r\nMAIL FROM:<" in read for read in server.reads)


async def test_a_server_without_pipelining_gets_the_same_verdicts_in_lock_step(
        tmp_path: Path, engine: Engine, database_url: str) -> None:
    send = make_send(tmp_path, engine, database_url, readers(12))
    async with SmtpServer(pipelining=False) as server:
        server.faults.rcpt["reader1@example.com"] = "550 5.1.1 No such user here"
        server.faults.drop_in_data.add("reader7@example.com")
        await send.run(server, Policy(workers=1, batch_size=12, linger_seconds=0))

    states = send.states()
    assert {address: state for address, state in states.items() if state != "sent"} == {
        "reader1@example.com": "failed", "reader7@example.com": "deferred",
    }
    assert server.recipients() == dict.fromkeys([a for a, s in states.items() if s == "sent"], 1)
    assert not any(b"MAIL FROM:<" in read and b"RCPT TO:<" in read for read in server.reads)
