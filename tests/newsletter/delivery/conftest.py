"""What the delivery tests share: a real SMTP server (aiosmtpd, in-process) for each test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.newsletter.smtp_server import SmtpServer


@pytest.fixture
async def server() -> AsyncIterator[SmtpServer]:
    async with SmtpServer() as server:
        yield server
