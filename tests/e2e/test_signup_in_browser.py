"""A person's whole journey in Debian's Chromium against `serve`: sign up, get the email from a real SMTP
server, confirm with the button, then leave by RFC 8058 one-click. axe-core checks every page on the way.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext
from sqlalchemy import Engine

from newsletter.config import settings
from newsletter.config.settings import Config
from newsletter.db.engine import connect
from newsletter.db.migrate import migrate
from newsletter.service.lifecycle import SignupServer
from subscribers.addresses import parse
from subscribers.recipients import confirmed_recipients
from subscribers.side import Subscribers
from subscribers.tables import Status
from tests.conftest import write_config
from tests.e2e.conftest import serious_violations
from tests.newsletter.smtp_server import SmtpServer, serve_in_thread
from tests.processes import free_port, wait_for
from tests.subscribers.test_worker import confirm_token

READER = "reader.one@example.org"


@dataclass
class Site:
    """A running `serve` with its SMTP server, database and settings."""

    url: str
    config: Config
    engine: Engine
    smtp: SmtpServer

    def status(self, address: str) -> Status | None:
        return Subscribers(self.config, self.engine).store.lookup(parse(address))


@pytest.fixture
def site(tmp_path: Path, database_url: str) -> Iterator[Site]:
    with serve_in_thread() as smtp:
        port = free_port()
        path = write_config(tmp_path, database_url, web={"base_url": f"http://127.0.0.1:{port}"},
                            delivery={"transport": "smtp"}, smtp={"host": smtp.host, "port": smtp.port})
        config = settings.load(path, environ={})
        with serving(config, port) as engine:
            yield Site(f"http://127.0.0.1:{port}", config, engine, smtp)


@contextmanager
def serving(config: Config, port: int) -> Iterator[Engine]:
    """`newsletter serve`'s sign-up server for `config` on `port`, in a thread, over a migrated database."""
    engine = connect(config.database_url)
    migrate(engine)
    server = SignupServer(config, engine, host="127.0.0.1", port=port, poll_seconds=0.2)
    thread = threading.Thread(target=lambda: asyncio.run(server.run()), name="serve", daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, "the server to start")
        yield engine
    finally:
        server.stop()
        thread.join(timeout=20)
        engine.dispose()


def test_sign_up_confirm_and_one_click_unsubscribe(site: Site, axe_context: BrowserContext,
                                                   artifacts: Path) -> None:
    page = axe_context.new_page()
    page.goto(site.url + "/")
    assert page.title() == "Subscribe · Weekly Lessons"
    assert serious_violations(page) == []
    page.screenshot(path=str(artifacts / "signup-form.png"), full_page=True)

    page.get_by_label("Your email address").fill(READER)
    page.get_by_role("button", name="Subscribe").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Check your inbox"
    assert serious_violations(page) == []
    # The worker acts on the queued sign-up at a random moment within a second.
    wait_for(lambda: site.status(READER) is Status.PENDING, "the sign-up to be acted on")

    wait_for(lambda: site.smtp.received, "the confirmation email")
    [mail] = site.smtp.received
    assert mail.recipients == (READER,)
    token = confirm_token(mail.data)
    page.goto(f"{site.url}/confirm?token={token}")
    assert serious_violations(page) == []
    assert site.status(READER) is Status.PENDING  # opening the link alone changes nothing
    page.get_by_role("button", name="Confirm my subscription").click()
    assert page.get_by_role("heading", level=1).inner_text() == "You are subscribed"
    assert serious_violations(page) == []
    assert site.status(READER) is Status.CONFIRMED

    [(_, address, unsubscribe_url)] = list(confirmed_recipients(site.engine, site.config))
    assert address == READER
    page.goto(unsubscribe_url)
    assert serious_violations(page) == []
    # What a mail provider does for RFC 8058: a cookie-less POST to the List-Unsubscribe URL.
    answer = page.request.post(unsubscribe_url, form={"List-Unsubscribe": "One-Click"}, max_redirects=0)
    assert answer.status == 200
    assert "location" not in answer.headers
    assert "set-cookie" not in answer.headers
    assert site.status(READER) is Status.UNSUBSCRIBED
    assert len(site.smtp.received) == 1


def test_a_malformed_address_gets_an_accessible_inline_error(site: Site, axe_context: BrowserContext) -> None:
    page = axe_context.new_page()
    page.goto(site.url + "/")
    page.get_by_label("Your email address").fill("reader@@example.org")
    page.get_by_role("button", name="Subscribe").click()
    field = page.get_by_label("Your email address")
    assert field.get_attribute("aria-invalid") == "true"
    assert page.locator("#email-error").inner_text() == "An email address has exactly one @ sign."
    assert page.evaluate("document.activeElement.id") == "email"
    assert serious_violations(page) == []
    assert site.status("reader@example.org") is None


@pytest.mark.parametrize(("width", "scheme"), [(375, "light"), (1280, "dark")], ids=["phone-light", "desktop-dark"])
def test_the_page_works_under_its_own_csp_on_a_phone_and_a_desktop(site: Site, browser: Browser,
                                                                   artifacts: Path, width: int,
                                                                   scheme: str) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800},
                                  color_scheme="dark" if scheme == "dark" else "light")
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if message.type == "error" else None)
    try:
        page.goto(site.url + "/")
        page.screenshot(path=str(artifacts / f"signup-{width}px-{scheme}.png"), full_page=True)
        assert refused == []  # the stylesheet loaded under the CSP; nothing was blocked
        assert page.evaluate("document.documentElement.scrollWidth") == width
        button = "getComputedStyle(document.querySelector('button')).backgroundColor"
        assert page.evaluate(button) == ("rgb(138, 79, 44)" if scheme == "light" else "rgb(224, 168, 120)")
    finally:
        context.close()
