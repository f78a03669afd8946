from __future__ import annotations

import dataclasses

import pytest
from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings
from hypothesis import given
from hypothesis import strategies as st

from newsletter.delivery.transports.base import Outgoing, dot_stuff, dot_unstuff

# Lines as a composer writes them: any text without line breaks, often starting with a dot.
line = st.text(alphabet=st.sampled_from(".a \t:é"), max_size=6).map(str.encode)
lines = st.lists(line, min_size=1, max_size=12)


@pytest.mark.parametrize(
    ("data", "stuffed"),
    [
        (b"Subject: x\r\n\r\nbody\r\n", b"Subject: x\r\n\r\nbody\r\n"),
        (b"a\r\n.\r\nb\r\n", b"a\r\n..\r\nb\r\n"),
        (b"a\r\n.b\r\n..c\r\n", b"a\r\n..b\r\n...c\r\n"),
        (b".first\r\n", b"..first\r\n"),
        (b"mid . dot\r\n", b"mid . dot\r\n"),
        (b"no final line break", b"no final line break\r\n"),
        (b"", b"\r\n"),
    ],
    ids=["no-dots", "lone-dot-line", "dot-and-dots", "first-line", "dot-inside-a-line", "final-crlf",
         "empty"],
)
def test_dot_stuff_doubles_every_leading_dot_and_ends_with_crlf(data: bytes, stuffed: bytes) -> None:
    assert dot_stuff(data) == stuffed


@given(lines)
def test_dot_stuff_matches_what_aiosmtplib_sends_for_crlf_messages(body: list[bytes]) -> None:
    data = b"".join(line + b"\r\n" for line in body)

    assert dot_stuff(data) == PERIOD_REGEX.sub(b"..", normalize_message_line_endings(data))


@given(lines)
def test_dot_unstuff_gives_back_the_message(body: list[bytes]) -> None:
    data = b"".join(line + b"\r\n" for line in body)

    assert dot_unstuff(dot_stuff(data)) == data


def test_a_stuffed_template_stays_stuffed_when_values_are_spliced_inside_lines() -> None:
    template = dot_stuff(b"To: {to}\r\n\r\n.Unsubscribe: {link}\r\n")

    spliced = template.replace(b"{to}", b"reader@example.org").replace(b"{link}", b"https://x.example/u/1")

    assert spliced == dot_stuff(b"To: reader@example.org\r\n\r\n.Unsubscribe: https://x.example/u/1\r\n")


def test_outgoing_is_immutable_and_not_stuffed_unless_it_says_so() -> None:
    message = Outgoing("letters@example.org", "reader@example.org", b"x\r\n", "<1@example.org>")

    assert message.dot_stuffed is False
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.recipient = "other@example.org"  # type: ignore[misc]
