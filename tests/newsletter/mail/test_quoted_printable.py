"""Quoted-printable one line at a time: exact encodings by example, then the rules on generated text."""

from __future__ import annotations

import binascii

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsletter.mail.quoted_printable import MAX_LINE, encode_line


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("plain words", b"plain words\r\n"),
        ("token=abc==", b"token=3Dabc=3D=3D\r\n"),
        ("ends with a space ", b"ends with a space=20\r\n"),
        ("ends with a tab\t", b"ends with a tab=09\r\n"),
        ("week · 16–22", b"week =C2=B7 16=E2=80=9322\r\n"),
        (".", b"=2E\r\n"),
        (".hidden", b"=2Ehidden\r\n"),
        ("From the lesson", b"=46rom the lesson\r\n"),
        ("Fromage", b"Fromage\r\n"),
        ("", b"\r\n"),
    ],
    ids=["plain", "equals", "trailing-space", "trailing-tab", "utf-8", "lone-dot", "leading-dot",
         "mbox-from", "from-inside-a-word", "empty"],
)
def test_a_line_is_encoded_exactly(line: str, expected: bytes) -> None:
    assert encode_line(line) == expected


def test_a_long_line_is_cut_with_soft_breaks_at_76_octets() -> None:
    encoded = encode_line("x" * 80)
    assert encoded == b"x" * 75 + b"=\r\n" + b"x" * 5 + b"\r\n"


def test_an_escape_is_never_split_across_lines() -> None:
    encoded = encode_line("x" * 74 + "=" + "y")
    assert encoded == b"x" * 74 + b"=\r\n=3Dy\r\n"


def test_a_continuation_line_that_would_start_with_a_dot_escapes_it() -> None:
    encoded = encode_line("x" * 75 + ".tail")
    assert encoded == b"x" * 75 + b"=\r\n=2Etail\r\n"


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r\n")))
def test_any_line_decodes_back_and_keeps_to_the_rules(line: str) -> None:
    encoded = encode_line(line)
    physical = encoded.split(b"\r\n")[:-1]
    assert binascii.a2b_qp(encoded.replace(b"\r\n", b"\n")) == line.encode() + b"\n"
    assert all(len(row) <= MAX_LINE for row in physical)
    assert not any(row.startswith((b".", b"From ")) for row in physical)
    assert not any(row.endswith((b" ", b"\t")) for row in physical)
