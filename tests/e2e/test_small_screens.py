"""Both emails in Chromium at phone and tablet widths, with and without `<style>`, light and dark: never
wider than the screen, a readable column on the smallest phone, text that passes WCAG AA contrast, and
the preheader hidden in the message.

Screenshots are written to each test's temporary folder (`EMAIL-WIDTHpx-STYLE-SCHEME.png`, e.g.
`confirmation-320px-inline-only-dark.png`) for a person to look at; they are not kept in the repository.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.small_screens import (
    LONG_WORD,
    confirmation_message,
    contrast_ratio,
    hex_colour,
    html_of,
    issue_message,
    sample_config,
    without_style,
)

Scheme = Literal["light", "dark"]
Opener = Callable[[Path, int, Scheme], Page]
WIDTHS = [320, 375, 600]
SCHEMES: list[Scheme] = ["light", "dark"]
EMAILS = ["issue", "confirmation"]
STYLES = ["style", "inline-only"]
AA = 4.5

# Every element that holds text of its own and is shown, with its colour and the first opaque
# background behind it (the page's own canvas when nothing is painted).
TEXT_COLOURS = """() => {
  const hidden = (e) => e.closest('[aria-hidden="true"]') !== null || e.getClientRects().length === 0;
  const opaque = (c) => !/^rgba\\(.*, 0\\)$/.test(c) && c !== 'transparent';
  const canvas = getComputedStyle(document.documentElement).colorScheme.includes('dark')
      && matchMedia('(prefers-color-scheme: dark)').matches ? 'rgb(18, 18, 18)' : 'rgb(255, 255, 255)';
  const found = [];
  for (const e of document.body.querySelectorAll('*')) {
    const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim() !== '');
    if (!own || hidden(e)) continue;
    let back = null;
    for (let a = e; a && !back; a = a.parentElement) {
      const c = getComputedStyle(a).backgroundColor;
      if (opaque(c)) back = c;
    }
    const where = (e.closest('.footer') ? 'footer ' : '') + e.tagName.toLowerCase()
        + (e.className ? '.' + e.className : '');
    found.push([where, getComputedStyle(e).color, back || canvas]);
  }
  return found;
}"""

# Elements reaching past the screen's right edge, and elements whose content is cut off inside them.
TOO_WIDE = """() => [...document.body.querySelectorAll('*')]
  .filter(e => e.getBoundingClientRect().right > innerWidth + 0.5)
  .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))"""
CUT_OFF = """() => [...document.body.querySelectorAll('*')]
  .filter(e => e.getClientRects().length && e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1)
  .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))"""


@pytest.fixture(scope="module")
def emails(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """Each email as an HTML file, with its `<style>` and without."""
    folder = tmp_path_factory.mktemp("small-screens")
    config = sample_config(folder)
    files: dict[tuple[str, str], Path] = {}
    for name, message in (("issue", issue_message(config)), ("confirmation", confirmation_message(config))):
        html = html_of(message)
        for style, variant in (("style", html), ("inline-only", without_style(html))):
            files[name, style] = folder / f"{name}-{style}.html"
            files[name, style].write_text(variant, encoding="utf-8")
    assert LONG_WORD in files["issue", "style"].read_text(encoding="utf-8")
    return files


@pytest.fixture
def open_email(browser: Browser) -> Iterator[Opener]:
    pages: list[Page] = []

    def opener(path: Path, width: int, scheme: Scheme) -> Page:
        page = browser.new_page(viewport={"width": width, "height": 800}, color_scheme=scheme)
        pages.append(page)
        page.goto(path.as_uri())
        return page

    yield opener
    for page in pages:
        page.close()


def _rgb(text: str) -> tuple[float, float, float]:
    match = re.match(r"rgba?\(([\d.]+), ([\d.]+), ([\d.]+)", text)
    assert match is not None, text
    return (float(match[1]), float(match[2]), float(match[3]))


CASES = [(name, style, width, scheme) for name in EMAILS for style in STYLES for width in WIDTHS
         for scheme in SCHEMES]


@pytest.mark.parametrize(("name", "style", "width", "scheme"), CASES,
                         ids=[f"{n}-{s}-{w}px-{c}" for n, s, w, c in CASES])
def test_no_email_is_wider_than_the_screen(emails: dict[tuple[str, str], Path], open_email: Opener,
                                           tmp_path: Path, name: str, style: str, width: int,
                                           scheme: Scheme) -> None:
    page = open_email(emails[name, style], width, scheme)
    page.screenshot(path=str(tmp_path / f"{name}-{width}px-{style}-{scheme}.png"), full_page=True)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= page.evaluate("innerWidth")
    assert page.evaluate(TOO_WIDE) == []
    assert page.evaluate(CUT_OFF) == []


@pytest.mark.parametrize(("name", "style", "scheme"),
                         [(n, s, c) for n in EMAILS for s in STYLES for c in SCHEMES],
                         ids=[f"{n}-{s}-{c}" for n in EMAILS for s in STYLES for c in SCHEMES])
def test_every_text_in_the_email_passes_wcag_aa_contrast(emails: dict[tuple[str, str], Path],
                                                         open_email: Opener, name: str, style: str,
                                                         scheme: Scheme) -> None:
    page = open_email(emails[name, style], 375, scheme)
    found = page.evaluate(TEXT_COLOURS)
    assert any(where == "p" for where, _, _ in found)
    assert any(where == "footer p" for where, _, _ in found)  # the audit's 4.2:1 was the footer's
    poor = [f"{where}: {colour} on {back} is {contrast_ratio(_rgb(colour), _rgb(back)):.2f}:1"
            for where, colour, back in found if contrast_ratio(_rgb(colour), _rgb(back)) < AA]
    assert not poor, "\n".join(poor)


@pytest.mark.parametrize("name", EMAILS)
def test_the_inlined_styles_alone_give_a_readable_column_on_the_smallest_phone(
    emails: dict[tuple[str, str], Path], open_email: Opener, name: str,
) -> None:
    page = open_email(emails[name, "inline-only"], 320, "light")
    column = page.evaluate("(({left, right}) => [left, right])(document.querySelector('.card p')"
                           ".getBoundingClientRect())")
    assert column[1] - column[0] >= 250  # of 320 px: margins and padding take at most 70
    assert column[0] >= 0
    assert column[1] <= 320
    paragraph = "document.querySelector('.card p')"
    assert float(page.evaluate(f"getComputedStyle({paragraph}).fontSize").removesuffix("px")) >= 16


@pytest.mark.parametrize(("name", "style"), [(n, s) for n in EMAILS for s in STYLES],
                         ids=[f"{n}-{s}" for n in EMAILS for s in STYLES])
def test_the_preheader_is_for_the_inbox_and_not_shown_in_the_message(
    emails: dict[tuple[str, str], Path], open_email: Opener, name: str, style: str,
) -> None:
    page = open_email(emails[name, style], 375, "light")
    assert page.evaluate("document.querySelector('.preheader').textContent").strip() != ""
    assert page.evaluate("document.querySelector('.preheader').getClientRects().length") == 0
    assert not page.evaluate("document.body.innerText").startswith(("This week", "One click"))


def test_the_contrast_formula_gives_wcag_s_own_figures() -> None:
    assert contrast_ratio(hex_colour("#000000"), hex_colour("#ffffff")) == pytest.approx(21)
    assert contrast_ratio(hex_colour("#777777"), hex_colour("#777777")) == pytest.approx(1)
    # The footer colours the rendering audit measured: 4.2:1, under AA.
    assert contrast_ratio(hex_colour("#7a7266"), hex_colour("#f4f1ea")) == pytest.approx(4.21, abs=0.01)
