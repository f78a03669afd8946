"""The intake: spooled messages handed to the processor and deleted once handled; one that cannot be
handled stays for the next pass without holding up the others."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from newsletter.inbound.intake import Intake
from newsletter.inbound.process import Handled
from newsletter.inbound.spool import Spool
from newsletter.inbound.tables import Handling

pytestmark = pytest.mark.anyio
BOUNCE = "bounces+" + "a" * 44 + "@bounces.news.example.org"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_a_message_that_cannot_be_handled_stays_spooled_and_the_others_go_on(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    spool = Spool(tmp_path / "spool")
    spool.create()
    for text in (b"first", b"poison", b"third"):
        spool.put(text, [BOUNCE])

    class Processor:
        def handle(self, raw: bytes, envelope_to: list[str]) -> Handled:
            if raw == b"poison":
                raise RuntimeError("a bug")
            return Handled(Handling.OTHER)

    intake = Intake(spool, Processor(), None)  # type: ignore[arg-type]  # no issue is named: no rates read
    with caplog.at_level(logging.WARNING):
        assert len(await intake.handle_waiting()) == 2
    [left] = spool.waiting()
    assert spool.read(left)[0] == b"poison"
    assert [r.getMessage() for r in caplog.records] == [
        "inbound: 1 received message(s) could not be handled yet (RuntimeError); they are kept and tried again"]
