"""How the site meets its clients: uvicorn's settings, whose X-Forwarded-For counts, and the time limits
and connection cap that uvicorn does not enforce by itself.

uvicorn closes a keep-alive connection left idle between requests, but not one that never completes a
request: a client that sends nothing, or its headers or body a byte at a time, would hold its
connection (and a file descriptor) for ever, and a thousand of them stop the process. `TimedH11Protocol`
gives each request `[web] header_timeout` seconds for its headers and `body_timeout` for its body, and
answers connections beyond `max_connections` with a 503 as they arrive.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import h11
import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from newsletter.config.settings import WebSettings

log = logging.getLogger("newsletter.connections")
OVER_CAP = (b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\nretry-after: 5\r\n"
            b"connection: close\r\ncontent-length: 38\r\n\r\nToo many connections; try again soon.\n")
# A refused client gets this long to read the 503 before its connection is closed.
REFUSED_LINGER = 1.0
# Said at most this often while the cap is reached, so that a flood is one line a minute, not one per client.
WARN_EVERY = 60.0


@dataclass(frozen=True)
class Limits:
    """What a client gets: seconds for a request's headers, then for its body; connections at once."""

    header_timeout: float
    body_timeout: float
    max_connections: int


class SiteConfig(uvicorn.Config):
    """uvicorn's settings for the site, with the limits its protocol enforces."""

    def __init__(self, app: ASGIApp, *, limits: Limits, **options: Any) -> None:
        super().__init__(app, http=TimedH11Protocol, **options)
        self.limits = limits


def site_config(app: ASGIApp, web: WebSettings, *, host: str, port: int, **options: Any) -> SiteConfig:
    """The uvicorn settings `serve` and `run` share.

    X-Forwarded-For names the client only when the connection comes from one of `web.trusted_proxies`
    (none by default): otherwise any client could pick the address its rate limit is counted under.
    No access log: request lines carry confirm and unsubscribe tokens.
    """
    limits = Limits(web.header_timeout, web.body_timeout, web.max_connections)
    return SiteConfig(app, limits=limits, host=host, port=port, access_log=False, server_header=False,
                      proxy_headers=bool(web.trusted_proxies), forwarded_allow_ips=list(web.trusted_proxies),
                      lifespan="off", log_config=None, **options)


class TimedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, with a deadline for whatever part of a request the client still owes."""

    _last_warning = -WARN_EVERY

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        assert isinstance(self.config, SiteConfig)
        self.limits = self.config.limits
        self._deadline: asyncio.TimerHandle | None = None
        self._owed: str | None = None
        self._refused = len(self.server_state.connections) >= self.limits.max_connections
        if self._refused:
            self._refuse(transport)
            return
        super().connection_made(transport)
        self._watch()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # read and dropped, so that closing does not reset the 503 away
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        if not self._refused:
            super().connection_lost(exc)

    def _watch(self) -> None:
        """Set the deadline for what the client owes now: headers, a body, or nothing (it is our turn)."""
        state = self.conn.their_state
        owed = "headers" if state is h11.IDLE else "body" if state is h11.SEND_BODY else None
        if owed == self._owed or self.transport.is_closing():
            return
        self._cancel()
        self._owed = owed
        if owed is not None:
            seconds = self.limits.header_timeout if owed == "headers" else self.limits.body_timeout
            self._deadline = self.loop.call_later(seconds, self._too_slow, owed, seconds)

    def _too_slow(self, owed: str, seconds: float) -> None:
        self._deadline = None
        log.info("closed a connection whose request %s did not arrive within %s s", owed, f"{seconds:g}",
                 extra={"event": "http.too_slow", "waiting_for": owed})
        self.transport.close()

    def _cancel(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _refuse(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        transport.write(OVER_CAP)
        if transport.can_write_eof():
            transport.write_eof()
        self._deadline = self.loop.call_later(REFUSED_LINGER, transport.close)
        now = self.loop.time()
        if now - TimedH11Protocol._last_warning >= WARN_EVERY:
            TimedH11Protocol._last_warning = now
            log.warning("%d connections open, the most [web] max_connections allows: new ones get 503 until "
                        "some close", self.limits.max_connections, extra={"event": "http.over_cap"})
