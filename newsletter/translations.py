"""The reader's language: gettext catalogs, and dates and numbers formatted by Babel.

Babel does the hard parts (reading `.po` files, compiling them, checking placeholders, the date forms
and month names of every language from the CLDR), so nothing here spells a month or a plural rule.

The catalogs are `locale/<lang>/LC_MESSAGES/messages.po` inside the package. They are compiled in memory
the first time a language is used, so no compiled `.mo` file is kept in git or needs a build step, and
`pip install -e .` works from a fresh clone. A string a catalog lacks (or translates with broken
placeholders) falls back to the English of the templates and code, never to a key name.
"""

from __future__ import annotations

import io
import re
from datetime import date
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
RIGHT_TO_LEFT = frozenset({"he", "ar", "fa", "yi", "ur", "ps", "sd", "ug", "dv", "ckb"})


def N_(message: str) -> str:
    """Mark a string for the catalog where it is written; it is translated where it is shown."""
    return message


def locale(tag: str) -> Locale:
    """The Babel locale of a BCP 47 tag (`he`, `ru`, `pt-BR`). Raises ValueError for an unknown tag."""
    return Locale.parse(tag, sep="-")


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(path: Path, language: str) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=language, domain=DOMAIN)


def catalog_problems(catalog: Catalog) -> list[str]:
    """One line per translation whose placeholders differ from its English (Babel's own checks)."""
    problems = []
    for message, errors in catalog.check():
        for error in errors:
            problems.append(f"line {message.lineno}: {message.id!r}: {error}")
    return problems


def catalog_source(tag: str) -> str:
    """The text of the catalog `tag` is read from; empty for English, which the templates spell."""
    found = locale(tag)
    for name in (str(found), found.language):
        path = catalog_path(name)
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return ""


@lru_cache(maxsize=16)
def translations(tag: str) -> NullTranslations:
    """The translations for `tag`: its own catalog, else its language's (`pt-BR` -> `pt`), else English."""
    found = locale(tag)
    for name in (str(found), found.language):
        path = catalog_path(name)
        if path.is_file():
            return compiled(read_catalog(path, name))
    return NullTranslations()


def compiled(catalog: Catalog) -> Translations:
    """The catalog as gettext translations; a string whose placeholders differ from its English stays English."""
    broken = {message.id for message, _ in catalog.check()}
    for message_id in broken:  # a send never fails on a translator's slip: those strings stay English
        catalog[message_id].string = "" if isinstance(message_id, str) else ("",) * len(message_id)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def direction(tag: str) -> str:
    """`rtl` for a right-to-left language, else `ltr`; what `dir` on `<html>` says."""
    return "rtl" if locale(tag).language in RIGHT_TO_LEFT else "ltr"


def dates_locale(tag: str) -> Locale:
    """The locale dates are written in: plain `en` writes them the European way (16 November 2026), as
    this project always has; `en-US` and every other tag as their own CLDR data says."""
    found = locale(tag)
    return Locale("en", "150") if str(found) == "en" else found


def long_date(day: date, tag: str) -> str:
    """Monday, 16 November 2026 in the reader's language (Babel's full date form)."""
    return format_date(day, "full", locale=dates_locale(tag))


def day_month_year(day: date, tag: str) -> str:
    """16 November 2026 in the reader's language (Babel's long date form)."""
    return format_date(day, "long", locale=dates_locale(tag))


_SHORT_MONTH = re.compile(r"(?<![ML])([ML])\1\1(?![ML])")


def date_range(first: date, last: date, tag: str) -> str:
    """16–22 November 2026, and its counterpart in the reader's language.

    The language's own interval pattern (CLDR `yMMMd`: which parts repeat, the dash, the order), with the
    month written in full as in a long date.
    """
    where = dates_locale(tag)
    field = "y" if first.year != last.year else "M" if first.month != last.month else "d"
    patterns = where.interval_formats.get("yMMMd", {}).get(field) if first != last else None
    if not patterns:
        return " – ".join(dict.fromkeys(format_date(day, "long", locale=where) for day in (first, last)))
    return "".join(format_date(day, _SHORT_MONTH.sub(r"\1\1\1\1", pattern), locale=where)
                   for day, pattern in zip((first, last), patterns, strict=True))
