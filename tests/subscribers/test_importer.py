"""Reading import files: one address a line or a CSV with an email column; bad files named clearly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from subscribers.errors import ImportFileError
from subscribers.importer import check_note, import_file, lines
from subscribers.side import Subscribers
from subscribers.store import SignUp


def write(tmp_path: Path, content: str | bytes, name: str = "list.txt") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_a_plain_file_gives_one_entry_a_line_with_its_number(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeff# exported from the old list\nalice@example.org\n\n  bob@example.org  \r\n")
    assert list(lines(path)) == [(2, "alice@example.org"), (4, "bob@example.org")]


@pytest.mark.parametrize(("content", "expected"), [
    ("name,email\nAlice,alice@example.org\nBob,bob@example.org\n",
     [(2, "alice@example.org"), (3, "bob@example.org")]),
    ("Email;Name\nalice@example.org;Alice\n\n;Nobody\n", [(2, "alice@example.org"), (4, "")]),
    ("E-Mail\tjoined\nalice@example.org\t2024\n", [(2, "alice@example.org")]),
    ('name,email\n"Smith, Alice",alice@example.org\nshort\n', [(2, "alice@example.org"), (3, "")]),
], ids=["comma", "semicolon", "tab", "quoted-and-short-row"])
def test_a_csv_file_gives_its_email_column(tmp_path: Path, content: str,
                                           expected: list[tuple[int, str]]) -> None:
    assert list(lines(write(tmp_path, content, "list.csv"))) == expected


def test_a_csv_without_an_email_column_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "name,joined\nAlice,2024\n")
    with pytest.raises(ImportFileError, match="line 1 looks like a CSV header without an email column"):
        list(lines(path))


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, b"alice@example.org\nb\xf6b@example.org\n")
    with pytest.raises(ImportFileError, match="line 2 is not UTF-8 text"):
        list(lines(path))


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match=r"list.txt: does not exist"):
        list(lines(tmp_path / "list.txt"))


@pytest.mark.parametrize(("note", "problem"), [
    ("   ", "must say where and when consent was given"),
    ("signed by alice@example.org at the fair", "must not contain an email address"),
    ("x" * 501, "is too long (at most 500 characters)"),
], ids=["blank", "address", "long"])
def test_a_consent_note_must_describe_the_source_without_addresses(note: str, problem: str) -> None:
    with pytest.raises(ImportFileError, match=re.escape(problem)):
        check_note(note)


def test_a_consent_note_is_kept_on_one_line() -> None:
    assert check_note("  Paper forms,\n spring fair 2026 ") == "Paper forms, spring fair 2026"


def test_an_import_applies_the_sign_up_rule_for_addresses_that_need_smtputf8(tmp_path: Path,
                                                                            side: Subscribers) -> None:
    path = write(tmp_path, "alice@example.org\njö@example.org\n" + "x" * 65 + "@example.org\n")
    report = import_file(side, path, consent_note="Signed up on paper at the 2026 fair")
    assert report.outcomes == {SignUp.CONFIRMED: 1}
    assert [number for number, _ in report.invalid] == [2, 3]
    assert "our mail server cannot deliver to such addresses" in report.invalid[0][1]
