"""Fixtures for the end-to-end email checks: the sample week previewed once, and the artifacts folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from newsletter import excerpt_store
from newsletter.cli.app import App
from newsletter.cli.preview import preview
from newsletter.database import connect, migrate
from tests.conftest import REPO
from tests.newsletter.conftest import sample_excerpts, write_config

ARTIFACTS = REPO / "test-artifacts"


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
