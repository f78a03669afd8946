"""What the service assembles from the config: the confirmation emails its worker sends are DKIM-signed
when `[dkim]` is set, and not otherwise; while it serves, what start-up made is out of the garbage
collector's way, and its worker waits for quiet moments on its site."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import dkim  # type: ignore[import-untyped]
import pytest

from newsletter.config import settings
from newsletter.config.settings import SmtpSettings
from newsletter.db.engine import connect
from newsletter.db.migrate import migrate
from newsletter.delivery.transports.smtp import SmtpTransport
from newsletter.service.lifecycle import SignupServer, frozen_heap
from subscribers.addresses import parse
from subscribers.store import Consent
from tests.conftest import write_config
from tests.newsletter.smtp_server import SmtpServer

pytestmark = pytest.mark.anyio

DKIM: dict[str, object] = {"domain": "news.example.org", "selector": "weekly", "key_file": "dkim.pem"}


async def confirmation_sent(folder: Path, server: SmtpServer, **sections: dict[str, object]) -> bytes:
    """Sign up through `newsletter serve`'s server and return the confirmation email the relay received."""
    config = settings.load(write_config(folder, f"sqlite:///{folder / 'newsletter.db'}", **sections),
                           environ={})
    engine = connect(config.database_url)
    migrate(engine)
    transport = SmtpTransport(SmtpSettings(host=server.host, port=server.port, timeout=5.0))
    try:
        signup = SignupServer(config, engine, host="127.0.0.1", port=0, transport=transport)
        signup.side.store.sign_up(parse("alice@example.org"), Consent("web-signup", "signup-test"))
        assert await signup.worker.run_once() == 1
    finally:
        await transport.close()
        engine.dispose()
    [received] = server.received
    return received.data


async def test_confirmation_emails_are_dkim_signed_when_dkim_is_set(
    tmp_path: Path, smtp_server: SmtpServer, key_pair: tuple[bytes, str],
) -> None:
    (tmp_path / "dkim.pem").write_bytes(key_pair[0])
    data = await confirmation_sent(tmp_path, smtp_server, dkim=DKIM)

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"weekly._domainkey.news.example.org."
        return key_pair[1].encode()

    assert data.startswith(b"DKIM-Signature: ")
    assert dkim.verify(data, dnsfunc=dns)


async def test_confirmation_emails_are_not_signed_without_dkim(tmp_path: Path, smtp_server: SmtpServer) -> None:
    data = await confirmation_sent(tmp_path, smtp_server)
    assert b"DKIM-Signature" not in data
    assert b"Subject: Please confirm your subscription" in data


def test_while_serving_what_start_up_made_is_left_out_of_garbage_collection_and_let_go_after() -> None:
    gc.unfreeze()
    with frozen_heap():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


async def test_the_server_freezes_its_heap_while_it_serves_and_its_worker_watches_its_site(tmp_path: Path) -> None:
    config = settings.load(write_config(tmp_path, f"sqlite:///{tmp_path / 'newsletter.db'}"), environ={})
    engine = connect(config.database_url)
    migrate(engine)
    try:
        signup = SignupServer(config, engine, host="127.0.0.1", port=0)
        assert signup.worker.traffic is not None
        serving = asyncio.create_task(signup.run())
        while not signup.started:
            await asyncio.sleep(0.01)
        assert gc.get_freeze_count() > 0
        signup.stop()
        await serving
        assert gc.get_freeze_count() == 0
    finally:
        engine.dispose()
