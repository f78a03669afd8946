"""Ingest: read each source, parse it by kind, and store its excerpts once; or explain, storing nothing.

Every document is read before any is parsed, so that the lines a site repeats on its pages (the signal
`chrome.Repeats` keeps) are known when each page is classified. A site is a URL's host, or a file's
folder, for each kind of document.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from sqlalchemy.orm import Session, sessionmaker

from newsletter.config.settings import IngestSettings
from newsletter.content import store as excerpt_store
from newsletter.content.chrome import Repeats
from newsletter.content.feeds import read_feed
from newsletter.content.html_pages import read_html_page
from newsletter.content.page_patterns import PagePatterns, page_patterns
from newsletter.content.reading import Reading
from newsletter.content.sanitise import blocks, parse_fragment
from newsletter.content.sources import Document, Kind, expand, is_url, read
from newsletter.content.text_pages import read_text_page, text_blocks
from newsletter.errors import SourceError


@dataclass(frozen=True)
class SourceReport:
    """What ingesting one document did; `error` is set when it could not be read or parsed."""

    name: str
    found: int = 0
    new: int = 0
    dropped: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass(frozen=True)
class Explained:
    """One source as `--explain` shows it: its reading, or the reason it could not be read."""

    name: str
    reading: Reading | None = None
    error: str = ""


def read_document(document: Document, repeats: Repeats | None = None,
                  settings: IngestSettings | None = None) -> Reading:
    """The reading of one document, by its kind."""
    settings = settings or IngestSettings()
    if document.kind is Kind.FEED:
        return read_feed(document.data, document.name, frozenset(settings.categories))
    if document.kind is Kind.HTML:
        return read_html_page(document.text(), document.name, repeats)
    return read_text_page(document.text(), document.name, repeats, patterns_of(settings))


def patterns_of(settings: IngestSettings) -> PagePatterns:
    """The page patterns of the settings' language, with the admin's file when there is one."""
    extra = Path(settings.patterns_file).expanduser() if settings.patterns_file else None
    return page_patterns(settings.language or "en", extra)


def _site(document: Document) -> tuple[str, Kind]:
    where = urlsplit(document.name).netloc if is_url(document.name) else str(Path(document.name).parent)
    return (where, document.kind)


def _lines(document: Document) -> list[str]:
    if document.kind is Kind.TEXT:
        return text_blocks(document.text())
    if document.kind is Kind.HTML:
        return [block.text for block in blocks(parse_fragment(document.text()))]
    return []  # a feed's items are its pages: read_feed compares them with each other


def _readings(sources: Iterable[str], client: httpx.Client,
              settings: IngestSettings) -> Iterator[tuple[str, Reading | SourceError]]:
    documents: list[tuple[str, Document | SourceError]] = []
    for name in _names(sources):
        try:
            documents.append((name, read(name, client, settings.deadline_seconds)))
        except SourceError as error:
            documents.append((name, error))
    sites: defaultdict[tuple[str, Kind], Repeats] = defaultdict(Repeats)
    learnt: set[bytes] = set()
    for name, document in documents:
        # The same bytes twice (a page given twice, a copy) are one page: their lines do not repeat.
        if isinstance(document, Document) and (digest := hashlib.sha256(document.data).digest()) not in learnt:
            learnt.add(digest)
            sites[_site(document)].learn(name, _lines(document))
    for name, document in documents:
        if isinstance(document, SourceError):
            yield name, document
            continue
        try:
            yield name, read_document(document, sites[_site(document)], settings)
        except SourceError as error:
            yield name, error


def ingest(sources: Iterable[str], sessions: sessionmaker[Session], client: httpx.Client,
           on_outcome: Callable[[SourceReport], None] = lambda _: None,
           settings: IngestSettings | None = None) -> list[SourceReport]:
    """Ingest every source; one that fails is reported and the others still go in.

    Each document is stored in its own transaction, so a failure later on loses nothing already read.
    """
    outcomes = []
    for name, reading in _readings(sources, client, settings or IngestSettings()):
        if isinstance(reading, SourceError):
            outcome = SourceReport(name, error=reading.reason)
        else:
            with sessions.begin() as session:
                added = excerpt_store.add(session, reading.excerpts)
            outcome = SourceReport(name, found=len(reading.found), new=added.new, dropped=len(reading.dropped))
        outcomes.append(outcome)
        on_outcome(outcome)
    return outcomes


def explain_sources(sources: Iterable[str], client: httpx.Client,
                    settings: IngestSettings | None = None) -> list[Explained]:
    """Read every source as ingest would, and store nothing: what each gives and what it drops."""
    return [Explained(name, error=reading.reason) if isinstance(reading, SourceError) else Explained(name, reading)
            for name, reading in _readings(sources, client, settings or IngestSettings())]


def _names(sources: Iterable[str]) -> Iterator[str]:
    for source in sources:
        names = list(expand(source))
        if not names:
            raise SourceError(source, "the folder holds no pages (.txt, .html) or feeds (.xml, .rss, .atom)")
        yield from names
