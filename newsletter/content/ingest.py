"""Ingest: read each source, parse it by kind, and store its excerpts once."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import httpx
from sqlalchemy.orm import Session, sessionmaker

from newsletter.content import store as excerpt_store
from newsletter.content.excerpt import Excerpt
from newsletter.content.feeds import parse_feed
from newsletter.content.html_pages import parse_html_page
from newsletter.content.sources import Document, Kind, expand, read
from newsletter.content.text_pages import parse_text_page
from newsletter.errors import SourceError


@dataclass(frozen=True)
class SourceReport:
    """What ingesting one document did; `error` is set when it could not be read or parsed."""

    name: str
    found: int = 0
    new: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def parse_document(document: Document) -> list[Excerpt]:
    """The excerpts of one document, by its kind."""
    if document.kind is Kind.FEED:
        return parse_feed(document.data, document.name)
    if document.kind is Kind.HTML:
        return parse_html_page(document.text(), document.name)
    return parse_text_page(document.text(), document.name)


def ingest(sources: Iterable[str], sessions: sessionmaker[Session], client: httpx.Client,
           on_outcome: Callable[[SourceReport], None] = lambda _: None) -> list[SourceReport]:
    """Ingest every source; one that fails is reported and the others still go in.

    Each document is stored in its own transaction, so a failure later on loses nothing already read.
    """
    outcomes = []
    for name in _names(sources):
        try:
            excerpts = parse_document(read(name, client))
        except SourceError as error:
            outcome = SourceReport(name, error=error.reason)
        else:
            with sessions.begin() as session:
                added = excerpt_store.add(session, excerpts)
            outcome = SourceReport(name, found=len(excerpts), new=added.new)
        outcomes.append(outcome)
        on_outcome(outcome)
    return outcomes


def _names(sources: Iterable[str]) -> Iterator[str]:
    for source in sources:
        names = list(expand(source))
        if not names:
            raise SourceError(source, "the folder holds no pages (.txt, .html) or feeds (.xml, .rss, .atom)")
        yield from names
