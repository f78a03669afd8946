"""The preview's issue.html in headless Chromium: no sideways scrolling on a phone or a desktop,
a real dark mode, and no request to anywhere. Screenshots go to test-artifacts/ for a person to look at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import Browser

Scheme = Literal["light", "dark"]
SCREENS: list[tuple[int, Scheme]] = [(375, "light"), (375, "dark"), (1280, "light"), (1280, "dark")]


@pytest.mark.parametrize(("width", "scheme"), SCREENS, ids=[f"{w}px-{s}" for w, s in SCREENS])
def test_the_email_fits_the_screen_without_horizontal_scrolling(
    browser: Browser, preview_dir: Path, artifacts: Path, width: int, scheme: Scheme,
) -> None:
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    try:
        page.goto((preview_dir / "issue.html").as_uri())
        page.screenshot(path=str(artifacts / f"email-{width}px-{scheme}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") == width
        too_wide = page.evaluate(
            f"[...document.body.querySelectorAll('*')].filter(e => e.getBoundingClientRect().right > {width})"
            ".map(e => e.tagName + '.' + e.className)"
        )
        assert too_wide == []
    finally:
        page.close()


def test_the_column_stays_readable_on_a_desktop(browser: Browser, preview_dir: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto((preview_dir / "issue.html").as_uri())
        assert page.evaluate("document.querySelector('.card').getBoundingClientRect().width") == 600
        assert page.evaluate("getComputedStyle(document.querySelector('.excerpt p')).fontSize") == "18px"
    finally:
        page.close()


@pytest.mark.parametrize(
    ("scheme", "card", "heading"),
    [("light", "rgb(255, 253, 248)", "rgb(31, 28, 24)"), ("dark", "rgb(33, 31, 27)", "rgb(243, 238, 229)")],
    ids=["light", "dark"],
)
def test_the_colours_follow_the_reader_s_colour_scheme(
    browser: Browser, preview_dir: Path, scheme: Scheme, card: str, heading: str,
) -> None:
    page = browser.new_page(viewport={"width": 375, "height": 900}, color_scheme=scheme)
    try:
        page.goto((preview_dir / "issue.html").as_uri())
        assert page.evaluate("getComputedStyle(document.querySelector('.card')).backgroundColor") == card
        assert page.evaluate("getComputedStyle(document.querySelector('h2')).color") == heading
    finally:
        page.close()


def test_opening_the_email_requests_nothing_from_anywhere(browser: Browser, preview_dir: Path) -> None:
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        page.goto((preview_dir / "issue.html").as_uri())
        page.wait_for_load_state("networkidle")
    finally:
        page.close()
    assert requested == [(preview_dir / "issue.html").as_uri()]
