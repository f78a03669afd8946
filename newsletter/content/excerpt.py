"""The excerpt: one titled passage of a daily page, the unit every later stage works on."""

from __future__ import annotations

import enum
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date


class ParagraphKind(enum.StrEnum):
    TEXT = "text"
    QUESTION = "question"
    ANSWER = "answer"


@dataclass(frozen=True)
class Paragraph:
    """One paragraph; a question or answer keeps its label ("Question", "Teacher's Answer")."""

    text: str
    kind: ParagraphKind = ParagraphKind.TEXT
    label: str = ""

    def plain(self) -> str:
        """The paragraph as it reads in print, label included."""
        return f"{self.label}: {self.text}" if self.label else self.text


# Characters XML 1.0 forbids (the Atom feed) or that only a broken page carries: C0 and C1 controls, DEL,
# lone surrogates and the two non-characters. Those that are whitespace become a space; \t \n \r stay.
_SPACE_CONTROLS = re.compile("[\x0b\x0c\x1c-\x1f\x85]")
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")


def printable(text: str) -> str:
    """The text without control characters, so that every page, email and feed built from it is valid."""
    return _CONTROLS.sub("", _SPACE_CONTROLS.sub(" ", text))


# "Question: ...", "Answer: ...", "Dr. Smith's Answer: ..." at the start of a paragraph.
_LABEL = re.compile(r"^(?P<label>Question|(?:[^\W\d][\w.'’ -]{0,40}?)?Answer)\s*:\s*(?P<rest>\S.*)$",
                    re.DOTALL)


def paragraph(text: str) -> Paragraph:
    """Build a paragraph from printed text, lifting a leading Question/Answer label into structure."""
    text = " ".join(printable(text).split())
    match = _LABEL.match(text)
    if match is None:
        return Paragraph(text)
    label = match["label"]
    kind = ParagraphKind.QUESTION if label == "Question" else ParagraphKind.ANSWER
    return Paragraph(match["rest"], kind, label)


@dataclass(frozen=True)
class Excerpt:
    """A titled excerpt as parsed from a source; `origin` says where it was read.

    Control characters are stripped from every field when it is made, before the content hash: what
    ingest stores is printable, and the same words with or without stray controls are one excerpt.
    """

    title: str
    lesson_date: date
    source: str
    paragraphs: tuple[Paragraph, ...]
    origin: str = ""
    content_hash: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "title", printable(self.title))
        object.__setattr__(self, "source", printable(self.source))
        object.__setattr__(self, "paragraphs", tuple(
            replace(p, text=printable(p.text), label=printable(p.label)) for p in self.paragraphs))
        object.__setattr__(self, "content_hash", content_hash(self.title, self.paragraphs))

    @property
    def text(self) -> str:
        """The body as plain text, paragraphs separated by a blank line."""
        return "\n\n".join(p.plain() for p in self.paragraphs)

    @property
    def words(self) -> int:
        return sum(len(p.plain().split()) for p in self.paragraphs)


_FOLD = str.maketrans({"‘": "'", "’": "'", "‚": "'", "′": "'", "“": '"', "”": '"',
                       "„": '"', "″": '"', "–": "-", "—": "-", "…": "...", "\u00a0": " "})


def normalise(text: str) -> str:
    """Fold the differences publishing adds (quotes, dashes, spacing, case) away."""
    folded = unicodedata.normalize("NFKC", text).translate(_FOLD)
    return " ".join(folded.split()).casefold()


def content_hash(title: str, paragraphs: tuple[Paragraph, ...]) -> str:
    """Identity of an excerpt across sources: the same words from a text page, a web page or a feed."""
    parts = [normalise(title), *(normalise(p.plain()) for p in paragraphs)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()
