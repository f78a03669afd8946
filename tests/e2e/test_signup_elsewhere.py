"""The sign-up box on the publisher's own site, in Debian's Chromium: a second local server (another port,
so another origin) serves the README's snippet; a third serves the same page from an origin that is not
allowed. `serve` runs with the first in `[web] allowed_origins`."""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext
from sqlalchemy import Engine, func, select

from subscribers.addresses import parse
from subscribers.side import Subscribers
from subscribers.tables import SignupRow, Status
from tests.conftest import REPO, write_config
from tests.e2e.conftest import serious_violations
from tests.e2e.test_signup_in_browser import serving
from tests.newsletter.smtp_server import serve_in_thread
from tests.processes import free_port, wait_for

READER = "reader.from.the.daily.page@example.org"
SNIPPET = re.compile(r"```html\n(<form .*?</script>)\n```", re.DOTALL)


@dataclass
class Sites:
    endpoint: str
    publisher: str
    stranger: str
    engine: Engine
    side: Subscribers

    def queued(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(SignupRow)).scalar_one()


def snippet(endpoint: str, publisher: str) -> str:
    """The README's snippet, pointed at this endpoint and this publisher."""
    found = SNIPPET.search((REPO / "README.md").read_text(encoding="utf-8"))
    assert found is not None
    return (found.group(1).replace("https://news.example.org", endpoint)
            .replace("https://www.example.org", publisher))


def publisher_page(endpoint: str, origin: str) -> str:
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>The Daily Page</title></head>"
            f"<body><main><h1>The Daily Page</h1>{snippet(endpoint, origin)}</main></body></html>")


class QuietHandler(SimpleHTTPRequestHandler):
    """Serves files without writing a line to stderr for each request."""

    def log_message(self, format: str, *args: object) -> None:
        pass


def static_site(folder: Path, port: int) -> ThreadingHTTPServer:
    """A plain static web server for `folder` on 127.0.0.1:`port`, in a thread."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, name=f"static-{port}", daemon=True).start()
    return server


@pytest.fixture
def sites(tmp_path: Path) -> Iterator[Sites]:
    port, publisher_port, stranger_port = free_port(), free_port(), free_port()
    endpoint = f"http://127.0.0.1:{port}"
    publisher, stranger = f"http://127.0.0.1:{publisher_port}", f"http://127.0.0.1:{stranger_port}"
    static = []
    for origin, folder_port in ((publisher, publisher_port), (stranger, stranger_port)):
        folder = tmp_path / f"site-{folder_port}"
        folder.mkdir()
        (folder / "daily-page.html").write_text(publisher_page(endpoint, origin), encoding="utf-8")
        (folder / "thank-you.html").write_text("<!DOCTYPE html><html lang=\"en\"><head><title>Thank you</title>"
                                               "</head><body><h1>Thank you for signing up</h1></body></html>",
                                               encoding="utf-8")
        static.append(static_site(folder, folder_port))
    with serve_in_thread() as smtp:
        path = write_config(tmp_path, f"sqlite:///{tmp_path / 'newsletter.db'}",
                            web={"base_url": endpoint, "allowed_origins": [publisher]},
                            delivery={"transport": "smtp"}, smtp={"host": smtp.host, "port": smtp.port})
        try:
            with serving(path, port) as (config, engine):
                yield Sites(endpoint, publisher, stranger, engine, Subscribers(config, engine))
        finally:
            for running in static:
                running.shutdown()
                running.server_close()


def test_a_sign_up_from_the_publishers_page_lands_on_its_thank_you_page(sites: Sites,
                                                                        axe_context: BrowserContext) -> None:
    page = axe_context.new_page()
    with page.expect_response(lambda answer: answer.url.endswith("/form-token")):
        page.goto(sites.publisher + "/daily-page.html")
    wait_for(lambda: page.locator("[name=form_token]").input_value() != "", "the form token to arrive")
    page.get_by_label("Your email address").fill(READER)
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url(sites.publisher + "/thank-you.html")
    assert page.get_by_role("heading", level=1).inner_text() == "Thank you for signing up"
    wait_for(lambda: sites.side.store.lookup(parse(READER)) is Status.PENDING, "the sign-up to be acted on")


def test_the_same_page_on_another_origin_is_refused_and_keeps_nothing(sites: Sites,
                                                                     axe_context: BrowserContext) -> None:
    page = axe_context.new_page()
    with page.expect_console_message(lambda message: "CORS" in message.text) as refusal:
        page.goto(sites.stranger + "/daily-page.html")
    assert refusal.value.type == "error"  # the browser kept the form token from the other origin's script
    assert page.locator("[name=form_token]").input_value() == ""
    page.get_by_label("Your email address").fill(READER)
    page.get_by_role("button", name="Subscribe").click()
    assert page.url == sites.endpoint + "/subscribe"
    assert "can only be sent from its own page" in page.get_by_role("alert").inner_text()
    assert serious_violations(page) == []
    assert sites.queued() == 0
    assert sites.side.store.lookup(parse(READER)) is None
