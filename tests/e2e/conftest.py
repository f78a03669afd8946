"""Fixtures for the end-to-end checks: Debian's Chromium driven by Playwright, axe-core, the sample week
previewed once, and the artifacts folder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from sqlalchemy.orm import Session

from newsletter.cli.app import App
from newsletter.cli.preview import preview
from newsletter.content import store as excerpt_store
from newsletter.db.engine import connect
from newsletter.db.migrate import migrate
from tests.conftest import REPO, write_config
from tests.newsletter.conftest import sample_excerpts

ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
# Never fetch anything: no browser download, no component updates, no background traffic.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium (scripts/test installs it); a missing browser fails the test, never skips it.

    Module scope, not session: sync Playwright holds an event loop in the main thread while it runs,
    which would stop every async test collected after the e2e modules.
    """
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install the Debian package chromium (scripts/test does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def axe_context(browser: Browser) -> Iterator[BrowserContext]:
    """A context that lets the test inject axe-core despite the site's CSP (it forbids every script)."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` in tests/e2e (scripts/test does)")
    context = browser.new_context(bypass_csp=True)
    yield context
    context.close()


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page, as 'rule: target' lines."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => JSON.stringify(await axe.run(document, {resultTypes: ['violations']}))")
    violations = json.loads(result)["violations"]
    return [f"{v['id']}: {node['target']}" for v in violations if v["impact"] in ("serious", "critical")
            for node in v["nodes"]]


@pytest.fixture(scope="session")
def preview_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder `newsletter preview` wrote the sample week into (issue.html, issue.txt, issue.eml)."""
    folder = tmp_path_factory.mktemp("preview")
    url = f"sqlite:///{folder / 'newsletter.db'}"
    engine = connect(url)
    migrate(engine)
    with Session(engine) as session, session.begin():
        excerpt_store.add(session, sample_excerpts())
    engine.dispose()
    app = App(write_config(folder, url))
    try:
        result = CliRunner().invoke(preview, ["--week", "2026-W47", "--out", str(folder / "out")], obj=app)
    finally:
        app.close()
    assert result.exit_code == 0, result.output
    return folder / "out"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots and reports go for people to look at (test-artifacts/, not committed)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
