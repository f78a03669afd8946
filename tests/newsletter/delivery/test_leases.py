"""Claims have an owner and a short lease the owner renews while it works: nobody takes a live sender's rows,
and the rows of a sender that died on this host are taken at once."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from newsletter.delivery import ledger
from newsletter.delivery.owners import Owner
from newsletter.delivery.sender import Policy
from tests.newsletter.delivery.sends import Send, make_send, readers, smtp_transport
from tests.newsletter.smtp_server import SmtpServer

pytestmark = pytest.mark.anyio


@pytest.fixture
def send(tmp_path: Path, engine: Engine, database_url: str) -> Send:
    return make_send(tmp_path, engine, database_url, readers(20))


async def test_a_batch_that_outlasts_its_lease_stays_with_its_live_sender_and_nobody_gets_two_copies(
        send: Send, server: SmtpServer) -> None:
    # Two workers share 5 messages a second, so each batch of 5 takes about two seconds: twice its lease.
    # (A lease of a second, renewed every third of it, leaves a busy test machine room for a late renewal.)
    policy = Policy(workers=2, batch_size=5, lease_seconds=1.0, retry_seconds=0.05, linger_seconds=5)
    await send.run(server, policy, rate_per_second=5)
    assert server.recipients() == dict.fromkeys(send.addresses, 1)
    assert send.counts() == {"sent": 20}


NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
HERE = Owner.this_process()
ELSEWHERE = Owner("another-host.example", 4242, "boot-1-99")
needs_proc = pytest.mark.skipif(not HERE.stamp, reason="telling a dead process here needs Linux's /proc")


def claim_as(send: Send, owner: Owner, *, limit: int = 5, now: datetime = NOW, lease: float = 60,
             takeover: tuple[str, ...] = ()) -> list[int]:
    with send.sessions.begin() as session:
        claims = ledger.claim(session, send.issue_id, limit=limit, lease_seconds=lease, now=now,
                              owner=str(owner), takeover=takeover)
    return [c.delivery_id for c in claims]


def holdings(send: Send) -> dict[str | None, int]:
    with send.sessions() as session:
        return {h.owner: h.rows for h in ledger.holdings(session, send.issue_id)}


def test_claims_carry_their_owner_and_a_live_owners_rows_wait_for_their_lease(send: Send) -> None:
    mine = claim_as(send, ELSEWHERE, limit=20)
    assert holdings(send) == {str(ELSEWHERE): 20}
    assert claim_as(send, HERE, now=NOW + timedelta(seconds=59)) == []
    assert claim_as(send, HERE, limit=20, now=NOW + timedelta(seconds=61)) == mine


def test_rows_of_an_owner_named_gone_are_taken_at_once_whatever_their_lease(send: Send) -> None:
    dead = Owner(HERE.host, 99_999_999, HERE.stamp)
    held = claim_as(send, dead, limit=3, lease=300)
    assert claim_as(send, HERE, limit=3, takeover=(str(dead),)) == held
    assert holdings(send) == {str(HERE): 3}


def test_taking_over_a_dead_owners_rows_still_takes_the_rows_whose_lease_ran_out(send: Send) -> None:
    dead = Owner(HERE.host, 99_999_999, HERE.stamp)
    lapsed = claim_as(send, ELSEWHERE, limit=2, lease=10)
    held = claim_as(send, dead, limit=2, lease=300)
    live = claim_as(send, Owner("third-host.example", 7, "boot-3-1"), limit=2, lease=300)
    taken = claim_as(send, HERE, limit=20, now=NOW + timedelta(seconds=60), takeover=(str(dead),))
    assert set(lapsed) | set(held) <= set(taken)
    assert set(live).isdisjoint(taken)  # a live owner's lease has not run out
    assert len(taken) == 20 - len(live)


def test_a_renewal_extends_only_the_rows_the_owner_still_holds(send: Send) -> None:
    held = claim_as(send, HERE, limit=4, lease=10)
    with send.sessions.begin() as session:
        ledger.release(session, held[:1])
    with send.sessions.begin() as session:
        kept = ledger.renew(session, send.issue_id, str(HERE), held, NOW + timedelta(seconds=100))
    assert kept == set(held[1:])
    # Forty seconds after the lease first ran out, only the renewed rows are still held.
    taken = claim_as(send, ELSEWHERE, limit=20, now=NOW + timedelta(seconds=50))
    assert set(held[1:]).isdisjoint(taken)
    assert held[0] in taken
    assert len(taken) == 17


async def test_two_senders_of_one_issue_never_take_each_others_rows_however_long_a_batch_takes(
        send: Send, server: SmtpServer) -> None:
    # Each sender has 3 messages a second and a lease of a second: every batch outlasts its lease.
    policy = Policy(workers=1, batch_size=5, lease_seconds=1.0, linger_seconds=0)
    first, second = smtp_transport(server, rate_per_second=3), smtp_transport(server, rate_per_second=3)
    try:
        await asyncio.gather(send.sender(first, policy, owner=HERE).run(send.issue_id),
                             send.sender(second, policy, owner=ELSEWHERE).run(send.issue_id))
    finally:
        await first.close()
        await second.close()
    assert server.recipients() == dict.fromkeys(send.addresses, 1)
    assert send.counts() == {"sent": 20}


@needs_proc
async def test_a_sender_takes_the_rows_of_a_sender_that_died_on_this_host_at_once(
        send: Send, server: SmtpServer) -> None:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                           text=True, check=True)
    dead = Owner(HERE.host, int(child.stdout), HERE.stamp)
    claim_as(send, dead, limit=10, now=datetime.now(UTC), lease=3600)
    await send.run(server, Policy(workers=2, batch_size=5, linger_seconds=0))
    assert send.counts() == {"sent": 20}
