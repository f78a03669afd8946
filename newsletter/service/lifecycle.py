"""`serve`: the sign-up endpoint under uvicorn, with the outbox worker beside it in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Iterator

import uvicorn
from sqlalchemy import Engine

from newsletter.config.settings import Config
from newsletter.delivery.transports.base import Transport, make_transport
from subscribers.blocking import Blocking
from subscribers.confirmation import ConfirmationMail
from subscribers.pages import Pages
from subscribers.side import Subscribers
from subscribers.web import create_app
from subscribers.worker import OutboxWorker

log = logging.getLogger("subscribers.server")
WORKER_STOP_SECONDS = 10


class _Uvicorn(uvicorn.Server):
    """uvicorn, minus its habit of re-raising SIGTERM once HTTP has stopped: that would kill the process
    before the worker and the transport are shut down. Here the signal only starts the shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


class SignupServer:
    """One process: HTTP on `host:port`, and the worker that sends what sign-ups queue."""

    def __init__(self, config: Config, engine: Engine, *, host: str, port: int,
                 transport: Transport | None = None, poll_seconds: float = 5.0,
                 purge_every: float | None = 3600.0) -> None:
        self.side = Subscribers(config, engine)
        pages = Pages(config, self.side.signer, self.side.now)
        pages.check()
        self.transport = transport if transport is not None else make_transport(config)
        blocking = Blocking(engine)
        self.worker = OutboxWorker(self.side, self.transport, ConfirmationMail(config), blocking=blocking,
                                   poll_seconds=poll_seconds, purge_every=purge_every)
        app = create_app(self.side, pages, wake=self.worker.wake, blocking=blocking)
        # No access log: request lines carry confirm and unsubscribe tokens. Behind a proxy on this
        # host, X-Forwarded-For names the client, so rate limits see people and not the proxy.
        self.uvicorn = _Uvicorn(uvicorn.Config(
            app, host=host, port=port, access_log=False, proxy_headers=True, server_header=False,
            lifespan="off", timeout_graceful_shutdown=WORKER_STOP_SECONDS, log_config=None))

    @property
    def port(self) -> int:
        """The port it listens on (useful after asking for port 0)."""
        return int(self.uvicorn.servers[0].sockets[0].getsockname()[1])

    @property
    def started(self) -> bool:
        return bool(self.uvicorn.started)

    def stop(self) -> None:
        """Ask it to finish; safe from another thread."""
        self.uvicorn.should_exit = True

    async def run(self) -> None:
        """Serve until SIGINT/SIGTERM (or `stop()`); the worker finishes its current mail, then stops."""
        stop = asyncio.Event()
        worker = asyncio.create_task(self.worker.run(stop))
        try:
            await self.uvicorn.serve()
        finally:
            stop.set()
            try:
                await asyncio.wait_for(worker, WORKER_STOP_SECONDS)
            except TimeoutError:
                log.warning("outbox worker did not stop in %.0f s; unfinished mail is retried on restart",
                            WORKER_STOP_SECONDS)
            await self.transport.close()
