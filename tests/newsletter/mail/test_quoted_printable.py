"""Quoted-printable one line at a time: exact encodings by example, then the rules on generated text."""

from __future__ import annotations

import binascii

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsletter.mail.quoted_printable import MAX_LINE, LineTemplate, encode_line, escape


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


PLACEHOLDERS = ("ZZADDRESSQX", "ZZUNSUBSCRIBEQX", "ZZMANAGEQX")
_text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=200)
# Values as a recipient's are (addresses, URLs with "="), and anything else a line may hold.
_value = st.one_of(st.from_regex(r"[a-z0-9.+=?/:&;-]{0,120}", fullmatch=True), _text)


@given(st.lists(st.tuples(_text, st.sampled_from(PLACEHOLDERS)), min_size=1, max_size=4), _text,
       st.tuples(_value, _value, _value))
def test_a_line_template_filled_in_is_the_line_encoded_with_the_values_in_it(
        pieces: list[tuple[str, str]], tail: str, values: tuple[str, str, str]) -> None:
    line = "".join(text + placeholder for text, placeholder in pieces) + tail
    filled = line
    for placeholder, value in zip(PLACEHOLDERS, values, strict=True):
        filled = filled.replace(placeholder, value)
    template = LineTemplate(line, PLACEHOLDERS)
    assert template.fill({p: escape(v) for p, v in zip(PLACEHOLDERS, values, strict=True)}) == encode_line(filled)


def test_a_long_line_keeps_the_lines_before_its_placeholder_and_folds_the_rest_per_value() -> None:
    line = "x" * 150 + "<a href=3D'ZZUNSUBSCRIBEQX'>" + "y" * 10
    template = LineTemplate(line, PLACEHOLDERS)
    url = "https://example.org/u?token=" + "t" * 60
    assert template.fill({"ZZUNSUBSCRIBEQX": escape(url)}) == encode_line(line.replace("ZZUNSUBSCRIBEQX", url))


def test_a_line_template_needs_a_placeholder() -> None:
    with pytest.raises(ValueError, match="placeholder"):
        LineTemplate("no placeholder here", PLACEHOLDERS)


@pytest.mark.parametrize("special", ["", ".", "From ", "=", "é", " "])
def test_a_line_template_agrees_wherever_its_placeholder_falls_against_a_fold(special: str) -> None:
    # Every length of fixed text before the placeholder across three physical lines, with a character
    # that folding treats specially just before it: the carried-over line must be folded afresh.
    for length in range(60, 240):
        line = "x" * length + special + "ZZADDRESSQX" + ".tail " + special
        template = LineTemplate(line, PLACEHOLDERS)
        for value in ("", ".dot@example.org", "From reader@example.org", "a=b@example.org"):
            assert template.fill({"ZZADDRESSQX": escape(value)}) == encode_line(line.replace("ZZADDRESSQX", value)), \
                (length, special, value)
