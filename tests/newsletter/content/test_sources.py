"""Sources: files, folders and URLs read into documents of the right kind, failures named."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from newsletter.content.sources import Kind, expand, read, sniff
from newsletter.errors import SourceError
from tests.newsletter.http_server import serve_folder


@pytest.mark.parametrize(
    ("data", "kind"),
    [(b'<?xml version="1.0"?><rss version="2.0"></rss>', Kind.FEED),
     (b'\xef\xbb\xbf  <feed xmlns="http://www.w3.org/2005/Atom">', Kind.FEED),
     (b"<!DOCTYPE html><html><body></body></html>", Kind.HTML),
     (b"<div><article><h2>T</h2></article></div>", Kind.HTML),
     (b"Daily Study Lesson\n\nThe Daily Page - 16-11-26\n", Kind.TEXT)],
    ids=["rss", "atom-with-bom", "html5", "html-fragment", "text-page"],
)
def test_documents_are_told_apart_by_their_first_bytes(data: bytes, kind: Kind) -> None:
    assert sniff(data) is kind


def test_a_folder_expands_to_its_pages_and_feeds_in_name_order(tmp_path: Path) -> None:
    for name in ["b.html", "a.txt", "c.xml", "notes.md", ".hidden.txt"]:
        (tmp_path / name).write_text("x")
    (tmp_path / "sub").mkdir()
    assert [Path(p).name for p in expand(str(tmp_path))] == ["a.txt", "b.html", "c.xml"]


def test_a_file_is_read_with_its_kind_from_the_suffix(tmp_path: Path) -> None:
    page = tmp_path / "page.htm"
    page.write_bytes(b"no markup at all")
    with httpx.Client() as client:
        document = read(str(page), client)
    assert (document.kind, document.data) == (Kind.HTML, b"no markup at all")


def test_text_is_decoded_as_utf8_or_else_windows_1252(tmp_path: Path) -> None:
    (tmp_path / "utf8.txt").write_bytes("\ufeffIt’s".encode())
    (tmp_path / "old.txt").write_bytes("It’s".encode("cp1252"))
    with httpx.Client() as client:
        assert read(str(tmp_path / "utf8.txt"), client).text() == "It’s"
        assert read(str(tmp_path / "old.txt"), client).text() == "It’s"


def test_a_missing_file_is_named_with_the_reason(tmp_path: Path) -> None:
    with httpx.Client() as client, pytest.raises(SourceError) as caught:
        read(str(tmp_path / "nope.txt"), client)
    assert caught.value.source == str(tmp_path / "nope.txt")
    assert caught.value.reason == "no such file or folder"


def test_a_url_is_fetched_and_typed_by_its_content_type(tmp_path: Path) -> None:
    (tmp_path / "feed").write_bytes(b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>')
    (tmp_path / "page.html").write_bytes(b"<html><body><h2>T</h2></body></html>")
    with serve_folder(tmp_path) as base, httpx.Client() as client:
        assert read(f"{base}/page.html", client).kind is Kind.HTML
        assert read(f"{base}/feed", client).kind is Kind.FEED


def test_an_http_error_is_named_with_the_status(tmp_path: Path) -> None:
    with serve_folder(tmp_path) as base, httpx.Client() as client, pytest.raises(SourceError) as caught:
        read(f"{base}/missing.html", client)
    assert caught.value.reason == "the server answered HTTP 404"


def test_an_unreachable_server_is_a_source_error_not_a_trace() -> None:
    with httpx.Client(timeout=2) as client, pytest.raises(SourceError, match="cannot be fetched"):
        read("http://127.0.0.1:9/page.html", client)


def test_a_file_without_end_is_cut_at_the_size_limit() -> None:
    zero = Path("/dev/zero")
    if not zero.exists():
        pytest.skip("no /dev/zero on this system")
    with pytest.raises(SourceError, match="larger than 10 MB") as caught, httpx.Client() as client:
        read(str(zero), client)
    assert caught.value.source == str(zero)


class _Trickle(BaseHTTPRequestHandler):
    """Answers 200 and then one byte at a time, never finishing: no read timeout ever trips."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        try:
            while True:
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.02)
        except OSError:
            return  # the client hung up, as it should

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_url_that_trickles_forever_is_cut_at_the_deadline() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/page.txt"
    try:
        with httpx.Client(timeout=5) as client, pytest.raises(SourceError, match=r"still arriving after 0\.5 s"):
            read(url, client, deadline=0.5)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_url_that_trickles_its_headers_forever_is_cut_at_the_deadline() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def trickle_headers() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(4096)
            connection.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            while not stop.is_set():
                try:
                    connection.sendall(b"x")
                except OSError:
                    return
                stop.wait(0.02)

    server = threading.Thread(target=trickle_headers, daemon=True)
    server.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/feed.xml"
    try:
        with httpx.Client(timeout=5) as client, pytest.raises(SourceError, match=r"still arriving after 0\.5 s"):
            read(url, client, deadline=0.5)
    finally:
        stop.set()
        server.join()
        listener.close()
