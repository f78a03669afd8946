"""Header lines: one line whatever the input, folded, and encoded only where plain text will not do."""

from __future__ import annotations

import email
import email.policy

import pytest

from newsletter.mail.headers import address_header, header, one_line


def read(line: bytes, name: str) -> str:
    parsed = email.message_from_bytes(line + b"\r\n", policy=email.policy.default)
    return str(parsed[name])


@pytest.mark.parametrize(
    ("text", "expected"),
    [("a\r\nb", "a b"), ("a\u2028b\u2029c", "a b c"), ("a\x00\x1bb", "a b"), ("  a   b  ", "a b")],
    ids=["crlf", "unicode-separators", "control-characters", "spacing"],
)
def test_one_line_turns_breaks_and_controls_into_single_spaces(text: str, expected: str) -> None:
    assert one_line(text) == expected


def test_a_short_ascii_header_is_written_as_it_is() -> None:
    assert header("Subject", "Weekly Lessons, week 47") == b"Subject: Weekly Lessons, week 47\r\n"


def test_a_long_ascii_header_is_folded_at_spaces() -> None:
    value = " ".join(["lesson"] * 20)
    written = header("Subject", value)
    assert written == (b"Subject: lesson lesson lesson lesson lesson lesson lesson lesson lesson lesson\r\n"
                       b" lesson lesson lesson lesson lesson lesson lesson lesson lesson lesson\r\n")
    assert read(written, "Subject") == value


@pytest.mark.parametrize(
    "value",
    ["Leçons — semaine 47", "=?utf-8?q?looks_encoded?=", "x" * 200, "Ünïcödé " * 30],
    ids=["non-ascii", "looks-like-an-encoded-word", "one-long-word", "long-non-ascii"],
)
def test_other_values_are_encoded_and_read_back_literally(value: str) -> None:
    written = header("Subject", value)
    assert written.isascii()
    assert all(len(line) <= 78 for line in written.split(b"\r\n"))
    assert read(written, "Subject") == " ".join(value.split())


@pytest.mark.parametrize(
    ("display", "expected"),
    [
        ("Weekly Lessons", b"From: Weekly Lessons <news@example.org>\r\n"),
        ("Lessons, Weekly", b'From: "Lessons, Weekly" <news@example.org>\r\n'),
        ('Say "hi"', b'From: "Say \\"hi\\"" <news@example.org>\r\n'),
        ("", b"From: news@example.org\r\n"),
        ("Leçons", b"From: =?utf-8?q?Le=C3=A7ons?=\r\n <news@example.org>\r\n"),
    ],
    ids=["atoms", "comma-quoted", "quotes-escaped", "no-name", "non-ascii-encoded"],
)
def test_a_display_name_is_quoted_or_encoded_and_the_address_never_is(display: str, expected: bytes) -> None:
    written = address_header("From", display, "news@example.org")
    assert written == expected
    parsed = email.message_from_bytes(written + b"\r\n", policy=email.policy.default)
    assert parsed["From"].addresses[0].display_name == display
    assert parsed["From"].addresses[0].addr_spec == "news@example.org"
