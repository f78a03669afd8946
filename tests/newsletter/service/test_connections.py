"""The sign-up site on real sockets: whose X-Forwarded-For counts."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from newsletter.config import settings
from newsletter.db.engine import connect
from newsletter.db.migrate import migrate
from newsletter.errors import ConfigError
from newsletter.service.lifecycle import SignupServer
from tests.conftest import write_config
from tests.processes import wait_for


@contextmanager
def serving(folder: Path, **web: object) -> Iterator[str]:
    """`newsletter serve`'s server in a thread, with `[web]` settings changed; yields its URL."""
    path = write_config(folder, f"sqlite:///{folder / 'newsletter.db'}", web=web)
    config = settings.load(path, environ={})
    engine = connect(config.database_url)
    migrate(engine)
    server = SignupServer(config, engine, host="127.0.0.1", port=0)
    thread = threading.Thread(target=lambda: asyncio.run(server.run()), name="serve", daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, "the server to start")
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()
        thread.join(timeout=20)
        engine.dispose()


@pytest.mark.parametrize(("trusted", "second"), [([], 429), (["127.0.0.1"], 400), (["127.0.0.0/8", "::1"], 400)],
                         ids=["nobody-trusted", "proxy-trusted", "proxy-network-trusted"])
def test_x_forwarded_for_names_the_client_only_from_a_trusted_proxy(tmp_path: Path, trusted: list[str],
                                                                    second: int) -> None:
    # One sign-up a minute per client: a second one from the same client is 429, from another (even
    # without a form token) gets as far as the token check, 400.
    with serving(tmp_path, signups_per_client=1, trusted_proxies=trusted) as url:
        codes = [httpx.post(url + "/subscribe", data={}, headers={"x-forwarded-for": client}).status_code
                 for client in ("198.51.100.1", "198.51.100.2")]
    assert codes == [400, second]


@pytest.mark.parametrize("value", [["*"], ["proxy.example.org"], ["10.0.0.300"]], ids=["star", "name", "bad-ip"])
def test_trusted_proxies_must_be_addresses_or_networks(tmp_path: Path, value: list[str]) -> None:
    path = write_config(tmp_path, "sqlite:///x.db", web={"trusted_proxies": value})
    with pytest.raises(ConfigError, match=r"web.trusted_proxies must list IP addresses or networks"):
        settings.load(path, environ={})
