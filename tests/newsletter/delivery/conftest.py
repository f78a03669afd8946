"""What the delivery tests share: a real SMTP server (aiosmtpd, in-process) for each test, and both event
loops a send may run on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from newsletter.cli import event_loop
from tests.newsletter.smtp_server import SmtpServer


@pytest.fixture(scope="module", params=["asyncio", "uvloop"])
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    """Every async delivery test runs twice: on asyncio's own loop (the tests' default) and on the loop
    the commands run on (`newsletter/cli/event_loop.py`: uvloop's where it is installed). Pipelining,
    write order and the group commits' timers must not depend on which one it is."""
    if request.param == "asyncio":
        return "asyncio", {}
    factory = event_loop.loop_factory()
    if factory is None:
        pytest.skip("uvloop is not installed here (it is a dependency everywhere but on Windows)")
    return "asyncio", {"loop_factory": factory}


@pytest.fixture
async def server() -> AsyncIterator[SmtpServer]:
    async with SmtpServer() as server:
        yield server
