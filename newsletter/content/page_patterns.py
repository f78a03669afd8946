"""What a daily page says in the language of its edition: source lines, question/answer labels and chrome.

The English patterns are code (`lesson_dates`, `chrome`, `excerpt`), because the parser was built and
tested on them; every other language is data, `page_languages.toml` beside this module, so a language or
a widget is added without code, and an admin adds more in `[ingest] patterns_file`. A page is read with
the English patterns plus its language's: a site may keep English chrome around pages in another
language.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from newsletter.content import chrome, lesson_dates
from newsletter.content.excerpt import Paragraph, ParagraphKind, paragraph
from newsletter.errors import ConfigError

SHIPPED = Path(__file__).with_name("page_languages.toml")


@dataclass(frozen=True)
class PagePatterns:
    """The patterns one language adds to the English ones; `PagePatterns()` is English alone."""

    source_lines: tuple[re.Pattern[str], ...] = ()
    questions: tuple[str, ...] = ()
    answers: tuple[str, ...] = ()
    chrome: tuple[tuple[re.Pattern[str], str], ...] = ()

    def is_source_line(self, line: str) -> bool:
        squashed = " ".join(line.split())
        return lesson_dates.is_source_line(line) or any(p.match(squashed) for p in self.source_lines)

    def source_line_date(self, line: str) -> date | None:
        found = lesson_dates.source_line_date(line)
        squashed = " ".join(line.split())
        for pattern in self.source_lines:
            match = pattern.match(squashed)
            if found is None and match is not None and "year" in pattern.groupindex:
                found = lesson_dates.made(match["year"], match["month"], match["day"])
        return found

    def chrome_rule(self, text: str) -> str:
        squashed = " ".join(text.split())
        return chrome.chrome_rule(text) or next(
            (name for pattern, name in self.chrome if len(squashed.split()) <= 30 and pattern.fullmatch(squashed)),
            "")

    def paragraph(self, text: str) -> Paragraph:
        """The paragraph, with this language's question or answer label lifted as English ones are."""
        made = paragraph(text)
        if made.kind is not ParagraphKind.TEXT:
            return made
        for labels, kind in ((self.questions, ParagraphKind.QUESTION), (self.answers, ParagraphKind.ANSWER)):
            for label in sorted(labels, key=len, reverse=True):
                head, colon, rest = made.text.partition(":")
                if colon and head.strip() == label and rest.strip():
                    return Paragraph(rest.strip(), kind, label)
        return made


ENGLISH = PagePatterns()


def page_patterns(language: str, extra_file: Path | None = None) -> PagePatterns:
    """The patterns of `language` (a BCP 47 tag; `pt-BR` falls back to `pt`): shipped, plus the admin's.

    Raises:
        ConfigError: the admin's file cannot be read or holds a pattern that does not compile.
    """
    tables = [_table(SHIPPED, "ingest.language")]
    if extra_file is not None:
        tables.append(_table(extra_file, "ingest.patterns_file"))
    names = (language, language.split("-", maxsplit=1)[0])
    found: dict[str, list[Any]] = {"source_lines": [], "questions": [], "answers": [], "chrome": []}
    for table in tables:
        section: dict[str, Any] = next((table[name] for name in names if isinstance(table.get(name), dict)), {})
        for key, items in found.items():
            items.extend(section.get(key, []))
    try:
        return PagePatterns(
            source_lines=tuple(re.compile(p, re.IGNORECASE) for p in found["source_lines"]),
            questions=tuple(str(q) for q in found["questions"]),
            answers=tuple(str(a) for a in found["answers"]),
            chrome=tuple((re.compile(p, re.IGNORECASE), str(name)) for p, name in found["chrome"]),
        )
    except (re.error, TypeError, ValueError) as error:
        raise ConfigError("ingest.patterns_file", f"holds a pattern for {language!r} that is not valid: {error}; "
                          "fix the regular expression") from None


def _table(path: Path, key: str) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(key, f"cannot read {path.name}: {error}") from None
