"""What the service assembles from the config: the confirmation emails its worker sends are DKIM-signed
when `[dkim]` is set, and not otherwise."""

from __future__ import annotations

from pathlib import Path

import dkim  # type: ignore[import-untyped]
import pytest

from newsletter.config import settings
from newsletter.config.settings import SmtpSettings
from newsletter.db.engine import connect
from newsletter.db.migrate import migrate
from newsletter.delivery.transports.smtp import SmtpTransport
from newsletter.service.lifecycle import SignupServer
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
