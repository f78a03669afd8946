"""The wheel carries what a non-editable install needs: templates and migrations, not just code."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_the_wheel_ships_the_templates_and_the_migrations(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                    "-w", str(tmp_path), str(REPO)], check=True, capture_output=True)
    [wheel] = tmp_path.glob("newsletter-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for template in sorted(p.relative_to(REPO).as_posix() for p in (REPO / "templates").rglob("*") if p.is_file()):
        assert f"newsletter/{template}" in names, f"{template} is not in the wheel"
    assert "newsletter/db/migrations/env.py" in names
    assert {n for n in names if n.startswith("newsletter/db/migrations/versions/")} >= {
        "newsletter/db/migrations/versions/0001_content.py", "newsletter/db/migrations/versions/0003_deliveries.py"}
    assert any(n.startswith("subscribers/") for n in names)
    # The catalogs and the page patterns of every language, as data; nothing compiled.
    for data in sorted((REPO / "newsletter" / "locale").rglob("*.po*")):
        assert data.relative_to(REPO).as_posix() in names, f"{data.name} of {data.parent} is not in the wheel"
    assert "newsletter/content/page_languages.toml" in names
    assert not any(n.endswith(".mo") for n in names)
