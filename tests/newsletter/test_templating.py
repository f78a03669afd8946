"""The template environment: the packaged templates compile, so checking only an admin's is enough."""

from __future__ import annotations

from newsletter.config.settings import Config
from newsletter.templating import check_templates, packaged_templates


def test_every_packaged_template_compiles_with_the_shared_filters() -> None:
    check_templates(Config(templates_dir=str(packaged_templates())))
