"""Fixtures for the email tests: a week of sample excerpts (our own words) and a config on disk."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date

import pytest

from newsletter.content.excerpt import Excerpt, paragraph
from newsletter.weeks import IsoWeek
from tests.newsletter.smtp_server import Certificate, SmtpServer, self_signed_certificate, serve_in_thread

SAMPLE_WEEK = IsoWeek(2026, 47)  # Monday 16 November .. Sunday 22 November 2026

_PAGES: list[tuple[str, date, str, list[str]]] = [
    (
        "The Lamp in the Window",
        date(2026, 11, 16),
        "From the 1st part of the Daily Lesson 11/16/26, Letters of the Teacher",
        [
            "A traveller who sees one lit window on a dark road does not yet know who lives there, "
            "but he already walks faster. The light tells him that someone expects guests.",
            "Question: If nobody in the house knows that I am coming, why keep the lamp burning?",
            "Teacher's Answer: Because the lamp is not for the guest alone. The one who tends it keeps "
            "himself awake, and that is half of the work.",
            "The other half is harder: to leave the door unlatched even when the night is cold and "
            "it would be easier to go to sleep.",
        ],
    ),
    (
        "Two Kinds of Effort",
        date(2026, 11, 17),
        "From the 2nd part of the Daily Lesson 11/17/26, Articles on the Group",
        [
            "There is the effort that leaves a person proud of himself, and the effort that leaves "
            "him grateful to the others. Only the second one brings him closer to them.",
            "A group that measures its work by the hours spent will soon be tired. A group that "
            "measures it by how much each one thought about the rest will not notice the hours.",
        ],
    ),
    (
        "When the Lesson Feels Empty",
        date(2026, 11, 18),
        "From the 1st part of the Daily Lesson 11/18/26, Letters of the Teacher",
        [
            "Question: Some mornings I sit through the whole lesson and feel nothing at all. "
            "Is that time wasted?",
            "Teacher's Answer: No. An empty morning is like a field in winter: nothing grows on top, "
            "yet the roots go deeper because there is nothing to distract them.",
            "Write down what you expected to feel, and compare it with what you felt. The distance "
            "between the two is the most honest measurement you will take all week.",
            "Then ask the friends what they felt. Often the one who felt nothing hears that another "
            "was carried by his presence alone, and learns that he gave without knowing it.",
        ],
    ),
    (
        "The Order of the Words",
        date(2026, 11, 19),
        "From the 3rd part of the Daily Lesson 11/19/26, Commentary on the Psalms",
        [
            "An old text often says the same thing twice, first in a short line and then in a long "
            "one. The short line is the promise; the long line is the road that leads to it.",
            "Readers in a hurry skip the second line because it seems to repeat the first. They "
            "arrive at the end of the page knowing the promise and nothing of the road.",
        ],
    ),
    (
        "A Question Asked Together",
        date(2026, 11, 20),
        "From the 1st part of the Daily Lesson 11/20/26, Questions from Students",
        [
            "Question: Can a whole group ask one question, or does each person always ask his own?",
            "Teacher's Answer: Each person starts with his own. But when ten people care about one "
            "answer more than about being the one who gets it, the question changes its owner.",
            "You can hear the difference in a room. People stop waiting for their turn to speak "
            "and start listening for the moment when the answer arrives for all of them.",
        ],
    ),
]


def sample_excerpts() -> list[Excerpt]:
    """Five excerpts of 2026-W47, one a day from Monday to Friday, in page order."""
    return [
        Excerpt(title, day, source, tuple(paragraph(text) for text in texts), "sample.txt")
        for title, day, source, texts in _PAGES
    ]


@pytest.fixture
def excerpts() -> list[Excerpt]:
    return sample_excerpts()


# The DKIM key pair fixture (`key_pair`) is in tests/conftest.py: the confirmation email is signed too.


# SMTP: a real aiosmtpd server per test (faults in `server.faults`), see tests/newsletter/smtp_server.py.


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    """Async tests (pytest.mark.anyio) run on asyncio: the SMTP server and client are asyncio code."""
    return "asyncio"


@pytest.fixture
async def smtp_server() -> AsyncIterator[SmtpServer]:
    """An SMTP server in the test's own event loop, for async tests."""
    async with SmtpServer() as server:
        yield server


@pytest.fixture
def threaded_smtp_server() -> Iterator[SmtpServer]:
    """An SMTP server in a thread of its own, for sync tests whose code starts an event loop (the CLI)."""
    with serve_in_thread() as server:
        yield server


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for localhost and 127.0.0.1, generated once per test run."""
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))
