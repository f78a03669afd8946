"""`subscribers import`: addresses from a file, one a line or a CSV with an email column.

A line that holds no address is reported by its number (never its text) and skipped.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from subscribers.errors import AddressError, ImportFileError
from subscribers.side import Subscribers
from subscribers.store import Consent, SignUp
from subscribers.tables import Status

EMAIL_COLUMNS = ("email", "e-mail", "email address", "email_address", "mail")
_CSV_MARKS = (",", ";", "\t")
_LOOKS_LIKE_ADDRESS = re.compile(r"\S@\S")
MAX_NOTE = 500


@dataclass
class ImportReport:
    """What an import did, in counts; `invalid` holds (line number, reason) pairs."""

    outcomes: Counter[SignUp] = field(default_factory=Counter)
    invalid: list[tuple[int, str]] = field(default_factory=list)

    @property
    def read(self) -> int:
        return sum(self.outcomes.values()) + len(self.invalid)


def check_note(note: str) -> str:
    """A consent note fit to store: one short line that names no address."""
    text = " ".join(note.split())
    if not text:
        raise ImportFileError("--consent-note", "must say where and when consent was given")
    if len(text) > MAX_NOTE:
        raise ImportFileError("--consent-note", f"is too long (at most {MAX_NOTE} characters)")
    if _LOOKS_LIKE_ADDRESS.search(text):
        raise ImportFileError("--consent-note", "must not contain an email address; describe the source")
    return text


def lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, candidate address) for every non-blank, non-comment entry of the file."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise ImportFileError(str(path), "does not exist") from None
    except IsADirectoryError:
        raise ImportFileError(str(path), "is a folder; give one file") from None
    except PermissionError:
        raise ImportFileError(str(path), "cannot be read (permission denied)") from None
    with handle:
        decoded = _decoded(path, handle)
        for number, line in decoded:
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if any(mark in stripped for mark in _CSV_MARKS):
                yield from _csv(path, decoded, line, number)
                return
            yield number, stripped


def _decoded(path: Path, handle: Iterable[bytes]) -> Iterator[tuple[int, str]]:
    # Decoded line by line, so an encoding problem is reported at its own line.
    for number, raw in enumerate(handle, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ImportFileError(str(path), f"line {number} is not UTF-8 text; "
                                  "save the file as UTF-8 and run the import again") from None
        yield number, text.removeprefix("\ufeff") if number == 1 else text


def _csv(path: Path, decoded: Iterator[tuple[int, str]], header: str,
         header_number: int) -> Iterator[tuple[int, str]]:
    delimiter = max(_CSV_MARKS, key=header.count)
    names = [name.strip().lower() for name in next(csv.reader([header], delimiter=delimiter))]
    column = next((names.index(n) for n in EMAIL_COLUMNS if n in names), None)
    if column is None:
        raise ImportFileError(str(path), f"line {header_number} looks like a CSV header without an email "
                              "column; name one column email (or give one address a line)")
    current = header_number

    def texts() -> Iterator[str]:
        nonlocal current
        for current, text in decoded:  # noqa: B007  (`current` is read by the loop below)
            yield text

    for row in csv.reader(texts(), delimiter=delimiter):
        if not any(cell.strip() for cell in row):
            continue
        yield current, row[column].strip() if column < len(row) else ""


def import_file(side: Subscribers, path: Path, *, consent_note: str | None,
                on_invalid: Callable[[int, str], None] = lambda number, reason: None) -> ImportReport:
    """Add the file's addresses: pending with a confirmation email, or confirmed when `consent_note`.

    Unsubscribed and bounced addresses stay suppressed either way: only their owner can sign up again.
    """
    report = ImportReport()
    if consent_note is None:
        consent = Consent(form="import", text_version="confirmation-email")
    else:
        consent = Consent(form="import-confirmed", text_version="consent-given-elsewhere",
                          note=check_note(consent_note))
    for number, text in lines(path):
        try:
            address = side.parse(text, new=True)
        except AddressError as error:
            report.invalid.append((number, error.reason))
            on_invalid(number, error.reason)
            continue
        if consent_note is None:
            report.outcomes[side.store.sign_up(address, consent, restart_suppressed=False)] += 1
        else:
            report.outcomes[side.store.add_confirmed(address, consent)] += 1
    return report


@dataclass
class SuppressReport:
    """What `subscribers suppress` did: newly suppressed, already suppressed, and invalid lines."""

    suppressed: int = 0
    already: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)

    @property
    def read(self) -> int:
        return self.suppressed + self.already + len(self.invalid)


def suppress_file(side: Subscribers, path: Path, status: Status,
                  on_invalid: Callable[[int, str], None] = lambda number, reason: None) -> SuppressReport:
    """Keep the file's addresses as suppressions only (a list moved from another provider): never mailed,
    and left alone by a later import; each can come back only by signing up again and confirming."""
    report = SuppressReport()
    for number, text in lines(path):
        try:
            address = side.parse(text)
        except AddressError as error:
            report.invalid.append((number, error.reason))
            on_invalid(number, error.reason)
            continue
        if side.store.suppress(address, status):
            report.suppressed += 1
        else:
            report.already += 1
    return report
