"""The Jinja2 environment: the admin's `templates_dir` first, then the packaged templates."""

from __future__ import annotations

from pathlib import Path

import jinja2

from newsletter.config.settings import Config


def packaged_templates() -> Path:
    """Templates inside the installed wheel, or the repository's `templates/` in a source checkout."""
    inside = Path(__file__).parent / "templates"
    return inside if inside.is_dir() else Path(__file__).parent.parent / "templates"


def environment(config: Config) -> jinja2.Environment:
    """One environment per process; autoescape is on for HTML and off for plain text."""
    folders = [packaged_templates()]
    if config.templates_dir:
        folders.insert(0, config.path(config.templates_dir))
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(folder) for folder in folders]),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "xml"), default=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
