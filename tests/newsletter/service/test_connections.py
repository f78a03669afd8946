"""The sign-up site on real sockets: whose X-Forwarded-For counts, slow and idle clients cut off, a cap on
connections, and a client that hangs up mid-body logged as what it is."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
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

# How long a test waits for the server to act before it fails; the limits under test are far shorter.
PATIENCE = 30.0


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


def opened(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)))
    connection.settimeout(0.2)
    return connection


def cut_off(connection: socket.socket, dribble: bytes = b"") -> bool:
    """Send `dribble` a byte at a time until the server closes the connection; False if it never does."""
    deadline = time.monotonic() + PATIENCE
    position = 0
    while time.monotonic() < deadline:
        try:
            if position < len(dribble):
                connection.sendall(dribble[position:position + 1])
                position += 1
            if connection.recv(4096) == b"":
                return True
        except TimeoutError:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return True
    return False


HEADERS = b"GET / HTTP/1.1\r\nHost: example.org\r\n" + b"".join(b"X-Slow-%d: yes\r\n" % n for n in range(500))
BODY = (b"POST /subscribe HTTP/1.1\r\nHost: example.org\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 4000\r\n\r\n" + b"email=" + b"x" * 3994)


@pytest.mark.parametrize(("dribble", "limits"), [
    (b"", {"header_timeout": 1.0}),
    (HEADERS, {"header_timeout": 1.0}),
    (BODY, {"body_timeout": 1.0}),
], ids=["idle", "slow-headers", "slow-body"])
def test_a_client_too_slow_with_its_request_is_cut_off(tmp_path: Path, dribble: bytes,
                                                       limits: dict[str, float]) -> None:
    with serving(tmp_path, **limits) as url:
        connection = opened(url)
        try:
            assert cut_off(connection, dribble), f"still open after {PATIENCE:.0f} s"
        finally:
            connection.close()


def test_connections_over_the_cap_are_answered_503_and_the_cap_frees_as_they_go(tmp_path: Path) -> None:
    with serving(tmp_path, max_connections=3) as url:
        idle = [opened(url) for _ in range(3)]
        over = httpx.get(url + "/healthz")
        assert over.status_code == 503
        assert over.headers["retry-after"] == "5"
        for connection in idle:
            connection.close()
        wait_for(lambda: httpx.get(url + "/healthz").status_code == 200, "the cap to free up")


def test_a_client_that_hangs_up_mid_body_is_one_info_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO), serving(tmp_path) as url:
        connection = opened(url)
        connection.sendall(BODY[:300])
        connection.close()
        wait_for(lambda: any("went away" in r.getMessage() for r in caplog.records), "the line about it")
    [line] = [r for r in caplog.records if "went away" in r.getMessage()]
    assert (line.levelno, line.getMessage()) == (logging.INFO, "POST /subscribe: the client went away mid-request")
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


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
