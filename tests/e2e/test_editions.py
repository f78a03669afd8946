"""A Hebrew and a Russian edition end to end, on real parts: the sample pages in each language ingested
by the CLI, previewed, sent through a real SMTP server (aiosmtpd), the email and the sign-up page opened in
Debian's Chromium at 375 and 1280 px (screenshots in test-artifacts/ for a person to look at), checked by
axe-core and scored by SpamAssassin."""

from __future__ import annotations

import email
import email.policy
import subprocess
import sys
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from newsletter.config import settings
from newsletter.db.engine import connect
from newsletter.db.migrate import migrate
from tests.conftest import EXAMPLES, write_config
from tests.e2e.conftest import serious_violations
from tests.e2e.test_signup_in_browser import serving
from tests.e2e.test_spamassassin import STRICT, installed, spam_score
from tests.newsletter.smtp_server import serve_in_thread
from tests.processes import free_port

pytestmark = pytest.mark.e2e

EDITIONS = {
    "he": ("שיעורי השבוע", "rtl", "בגיליון הזה", "שיעורי השבוע — השבוע של 16 בנובמבר 2026"),
    "ru": ("Уроки недели", "ltr", "В этом выпуске", "Уроки недели — неделя с 16 ноября 2026 г."),
}
# An edition's footer is in its language too (SpamAssassin's MIXED_ES counts Latin "e"s beside Cyrillic ones).
POSTAL = {"he": "חוג הלימוד, רחוב הפנס 12, עיר לדוגמה", "ru": "Учебный круг, ул. Фонарная, 12, Примерск"}
WIDTHS = (375, 1280)


def _run(path: Path, *args: str) -> str:
    """One `newsletter` command, as a process of its own (sync Playwright holds an event loop in this one)."""
    result = subprocess.run([sys.executable, "-c", "from newsletter.cli import main; main()", "--config", str(path),
                             *args], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _fits(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") == width


@pytest.fixture
def edition(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path, EmailMessage, Path]]:
    """(language, config, the message the reader received, the preview folder) of one edition's week."""
    language: str = request.param
    title = EDITIONS[language][0]
    with serve_in_thread() as smtp:
        path = write_config(tmp_path, f"sqlite:///{tmp_path / 'news.db'}",
                            newsletter={"language": language, "title": title, "from_name": title,
                                        "postal_address": POSTAL[language]},
                            selection={"per_day": 3}, delivery={"transport": "smtp"},
                            smtp={"host": smtp.host, "port": smtp.port})
        engine = connect(settings.load(path, environ={}).database_url)
        migrate(engine)
        engine.dispose()
        _run(path, "ingest", str(EXAMPLES / language))
        _run(path, "preview", "--week", "2026-W47", "--out", str(tmp_path / "out"))
        (tmp_path / "list.txt").write_text("reader@example.org\n", encoding="utf-8")
        _run(path, "subscribers", "import", str(tmp_path / "list.txt"), "--confirmed", "--consent-note", "test")
        _run(path, "send", "--week", "2026-W47")
        assert len(smtp.received) == 1
        message = email.message_from_bytes(smtp.received[0].data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        yield language, path, message, tmp_path / "out"


@pytest.mark.parametrize("edition", list(EDITIONS), indirect=True)
def test_an_edition_is_ingested_previewed_and_sent_in_its_language(
        edition: tuple[str, Path, EmailMessage, Path], browser: Browser, axe_context: BrowserContext,
        artifacts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    language, _, message, out = edition
    _, direction, contents, subject = EDITIONS[language]
    assert str(message["Subject"]) == subject
    assert message.as_bytes().split(b"\r\n\r\n")[0].isascii()  # RFC 2047: the headers stay ASCII
    html = message.get_body(("html",))
    assert html is not None
    (out / "sent.html").write_text(html.get_content(), encoding="utf-8")
    for width in WIDTHS:
        page = axe_context.new_page()
        page.set_viewport_size({"width": width, "height": 900})
        page.goto((out / "sent.html").as_uri())
        page.screenshot(path=str(artifacts / f"edition-{language}-email-{width}px.png"), full_page=True)
        _fits(page, width)
        assert page.evaluate("getComputedStyle(document.querySelector('.card')).direction") == direction
        assert page.evaluate("document.querySelector('.contents-title').textContent") == contents
        side = "right" if direction == "rtl" else "left"
        assert page.evaluate(f"getComputedStyle(document.querySelector('.question')).border{side.title()}Width") \
            == "3px"
        assert serious_violations(page) == []
        page.close()
    score, details = spam_score(installed(), message.as_bytes(), tmp_path)
    with capsys.disabled():
        print(f"\nSpamAssassin score of the {language} issue as sent: {score} (at most {STRICT})")
    assert score <= STRICT, details


@pytest.mark.parametrize("language", list(EDITIONS))
def test_the_sign_up_page_speaks_the_editions_language_on_a_phone_and_a_desktop(
        language: str, tmp_path: Path, axe_context: BrowserContext, artifacts: Path) -> None:
    title, direction, _, _ = EDITIONS[language]
    port = free_port()
    path = write_config(tmp_path, f"sqlite:///{tmp_path / 'news.db'}", newsletter={"language": language,
                                                                                     "title": title},
                        web={"base_url": f"http://127.0.0.1:{port}"})
    with serving(path, port):
        for width in WIDTHS:
            page = axe_context.new_page()
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/")
            page.screenshot(path=str(artifacts / f"edition-{language}-signup-{width}px.png"), full_page=True)
            _fits(page, width)
            assert page.evaluate("document.documentElement.dir") == direction
            assert page.evaluate("document.documentElement.lang") == language
            assert "Subscribe" not in page.inner_text("main")
            assert serious_violations(page) == []
            page.close()
