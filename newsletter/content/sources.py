"""Where pages come from: files, folders and http(s) URLs, each read into a Document of a known kind."""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from newsletter.errors import SourceError

MAX_BYTES = 10 * 1024 * 1024
DEADLINE_SECONDS = 120.0  # [ingest] deadline_seconds
SUFFIXES = {".txt": "text", ".text": "text", ".html": "html", ".htm": "html",
            ".xml": "feed", ".rss": "feed", ".atom": "feed"}


class Kind(enum.StrEnum):
    TEXT = "text"
    HTML = "html"
    FEED = "feed"


@dataclass(frozen=True)
class Document:
    """The raw bytes of one page or feed, and what kind of thing they are."""

    name: str
    kind: Kind
    data: bytes

    def text(self) -> str:
        """The document decoded: UTF-8 (with or without BOM), else Windows-1252 as old pages often are."""
        try:
            return self.data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return self.data.decode("cp1252", errors="replace")


def sniff(data: bytes) -> Kind:
    """Tell a feed, an HTML page and a text page apart by their first bytes."""
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<?xml") or head.startswith((b"<rss", b"<feed", b"<rdf")):
        return Kind.FEED
    if head.startswith((b"<!doctype html", b"<html", b"<!--")) or b"<body" in head or b"<article" in head:
        return Kind.HTML
    return Kind.TEXT


def is_url(source: str) -> bool:
    return urlsplit(source).scheme in {"http", "https"}


def _kind_of(name: str, data: bytes, content_type: str = "") -> Kind:
    if "html" in content_type:
        return Kind.HTML
    if any(word in content_type for word in ("xml", "rss", "atom")):
        return Kind.FEED
    suffix = SUFFIXES.get(Path(urlsplit(name).path).suffix.lower())
    return Kind(suffix) if suffix else sniff(data)


def read_file(path: Path) -> Document:
    too_big = f"larger than {MAX_BYTES // 2**20} MB; split it into pages"
    try:
        if path.stat().st_size > MAX_BYTES:
            raise SourceError(str(path), too_big)
        # Read at most one byte past the limit: a device or a growing file (/dev/zero) has no size to check.
        with path.open("rb") as file:
            data = file.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise SourceError(str(path), too_big)
    except FileNotFoundError:
        raise SourceError(str(path), "no such file or folder") from None
    except OSError as error:
        raise SourceError(str(path), f"cannot be read ({error.strerror})") from None
    return Document(str(path), _kind_of(path.name, data), data)


def fetch(url: str, client: httpx.Client, deadline: float = DEADLINE_SECONDS) -> Document:
    """GET a page or feed; network trouble and HTTP errors become a SourceError naming the URL.

    A body larger than MAX_BYTES, or a response still arriving `deadline` seconds after the request began,
    is cut off: a server that trickles a byte at a time, even in its headers, never trips a read timeout,
    so the download runs in a thread of its own that is waited for no longer than the deadline (a thread
    left waiting on headers ends when the server gives up or the headers outgrow h11's limit).
    """
    outcome: list[Document | BaseException] = []

    def download() -> None:
        try:
            outcome.append(_download(url, client, time.monotonic() + deadline, deadline))
        except BaseException as error:  # handed over to the caller's thread, raised there
            outcome.append(error)

    worker = threading.Thread(target=download, name="ingest-fetch", daemon=True)
    worker.start()
    worker.join(deadline)
    if not outcome:
        raise _too_slow(url, deadline)
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def _too_slow(url: str, deadline: float) -> SourceError:
    return SourceError(url, f"still arriving after {deadline:g} s; cut off (raise [ingest] deadline_seconds "
                       "for a slow server)")


def _download(url: str, client: httpx.Client, until: float, deadline: float) -> Document:
    try:
        with client.stream("GET", url) as response:
            if response.status_code != 200:
                raise SourceError(url, f"the server answered HTTP {response.status_code}")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    raise SourceError(url, f"larger than {MAX_BYTES // 2**20} MB")
                if time.monotonic() > until:
                    raise _too_slow(url, deadline)
                chunks.append(chunk)
            content_type = response.headers.get("content-type", "").lower()
    except httpx.TimeoutException:
        raise SourceError(url, "timed out; try again later") from None
    except httpx.HTTPError as error:
        raise SourceError(url, f"cannot be fetched ({type(error).__name__})") from None
    data = b"".join(chunks)
    return Document(url, _kind_of(url, data, content_type), data)


def expand(source: str) -> Iterator[str]:
    """A folder becomes its page and feed files in name order; anything else is itself."""
    path = Path(source)
    if is_url(source) or not path.is_dir():
        yield source
        return
    for child in sorted(path.iterdir()):
        if child.is_file() and not child.name.startswith(".") and child.suffix.lower() in SUFFIXES:
            yield str(child)


def read(source: str, client: httpx.Client, deadline: float = DEADLINE_SECONDS) -> Document:
    return fetch(source, client, deadline) if is_url(source) else read_file(Path(source))
