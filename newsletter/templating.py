"""Templates: the Jinja2 environment (the admin's `templates_dir` first, then the packaged templates), with
the reader's language installed (jinja2.ext.i18n over the Babel catalogs of `translations`), the
filters the emails and pages share, rendering with errors that name the template and line, and CSS inlining
with premailer (once per email, never per recipient)."""

from __future__ import annotations

import logging
import textwrap
import traceback
from functools import partial
from pathlib import Path
from typing import Any

import jinja2

from newsletter.config.settings import Config
from newsletter.errors import ConfigError, TemplateError
from newsletter.translations import date_range, direction, long_date, translations

TEXT_WIDTH = 72
TEMPLATE_SUFFIXES = (".html", ".txt", ".xml")


def packaged_templates() -> Path:
    """Templates inside the installed wheel, or the repository's `templates/` in a source checkout."""
    inside = Path(__file__).parent / "templates"
    return inside if inside.is_dir() else Path(__file__).parent.parent / "templates"


def environment(config: Config) -> jinja2.Environment:
    """One environment per process; autoescape is on for HTML and off for plain text."""
    folders = [packaged_templates()]
    if config.templates_dir:
        folders.insert(0, config.path(config.templates_dir))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(folder) for folder in folders]),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "xml"), default=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    language = config.newsletter.language
    env.policies["ext.i18n.trimmed"] = True  # a {% trans %} block's line breaks are not part of its words
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    rtl = direction(language) == "rtl"
    env.globals.update(language=language, direction=direction(language),
                       start="right" if rtl else "left", end="left" if rtl else "right")
    env.filters["long_date"] = partial(long_date, tag=language)
    env.filters["date_range"] = partial(date_range, tag=language)
    return env


def email_environment(config: Config) -> jinja2.Environment:
    """The template environment with the filters the email templates use."""
    env = environment(config)
    env.filters["wrap"] = wrap
    env.filters["underline"] = underline
    return env


def check_templates(config: Config) -> None:
    """Compile every template of the admin's `templates_dir`, so a broken one stops every command at
    start-up instead of a send half-way. Raises ConfigError naming templates_dir and the file.

    The settings loader cannot do this itself: compiling needs the filters defined here, a layer above
    config/. The composition root (`newsletter.cli.app.App.config`, the service) calls it after loading.
    The packaged templates are compiled by the test suite; with no templates_dir this costs nothing.
    """
    if not config.templates_dir:
        return
    env = email_environment(config)  # its filters are a superset of every other environment's
    mine = jinja2.FileSystemLoader(str(config.path(config.templates_dir)))
    for name in mine.list_templates():
        if not name.endswith(TEMPLATE_SUFFIXES):
            continue
        try:
            env.get_template(name)
        except jinja2.TemplateSyntaxError as error:
            raise ConfigError("templates_dir", f"holds {name}, which does not compile: line {error.lineno}: "
                              f"{error.message}{_file(error.filename)}") from None


def inline(html: str) -> str:
    """Inline the CSS of the `<style>` blocks; rules that cannot be inlined (@media) stay in `<head>`."""
    # Imported here: premailer brings lxml and cssutils (a fifth of a second), and only rendering an
    # issue needs it; every command loads this module to check the templates.
    from premailer import Premailer

    inliner = Premailer(
        html,
        allow_network=False,
        allow_loading_external_files=False,
        disable_link_rewrites=True,
        strip_important=False,  # dark-mode and phone rules must still beat the inlined styles
        disable_validation=True,
        cssutils_logging_level=logging.CRITICAL,
    )
    html = inliner.transform()
    # Without a doctype some clients render in quirks mode; an admin's template may have left it out.
    return html if html.lstrip()[:9].lower() == "<!doctype" else "<!DOCTYPE html>\n" + html


def render_template(env: jinja2.Environment, name: str, values: dict[str, Any]) -> str:
    """Render one template; any failure becomes a TemplateError that names the template and line."""
    try:
        return env.get_template(name).render(values)
    except jinja2.TemplateSyntaxError as error:
        where = f"{error.name or name}, line {error.lineno}"
        raise TemplateError(f"{where}: {error.message}{_file(error.filename)}") from None
    except jinja2.TemplateNotFound as error:
        folders = ", ".join(getattr(env.loader, "searchpath", []))
        raise TemplateError(f"template {error.name} not found (looked in {folders})") from None
    except (jinja2.TemplateError, TypeError, ValueError, LookupError, ArithmeticError) as error:
        raise TemplateError(f"{_failing_line(error, name)}: {error}") from None


def _file(filename: str | None) -> str:
    return f" ({filename})" if filename else ""


def _failing_line(error: BaseException, name: str) -> str:
    # Jinja2 rewrites the traceback so that template code shows as frames of the template file.
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if frame.filename.endswith((".html", ".txt"))]
    if not frames:
        return name
    last = frames[-1]
    return f"{_template_name(last.filename)}, line {last.lineno}{_file(last.filename)}"


def _template_name(filename: str) -> str:
    parts = filename.replace("\\", "/").split("/")
    return "/".join(parts[-2:])


def wrap(text: str, width: int = TEXT_WIDTH, indent: str = "", first: str | None = None) -> str:
    """Fill `text` to `width` columns; URLs and other long words are never broken."""
    return textwrap.fill(
        " ".join(text.split()), width=width, initial_indent=indent if first is None else first,
        subsequent_indent=indent, break_long_words=False, break_on_hyphens=False,
    )


def underline(text: str, char: str = "-") -> str:
    """The text with a rule under it as long as its longest line."""
    return f"{text}\n{char * max(len(line) for line in text.splitlines())}"


RIGHT_TO_LEFT_MARK = "\u200f"


def right_to_left_text(text: str) -> str:
    """A plain-text part for a right-to-left language: each line of words starts with U+200F, so that a
    mail client that takes a line's direction from its first letter lays out a Hebrew line that opens with
    a Latin name or a number from the right. Lines that are a link or an address alone stay as they are."""
    lines = []
    for line in text.split("\n"):
        bare = line.strip()
        alone = not bare or " " not in bare or bare.startswith(("http://", "https://", "mailto:"))
        lines.append(line if alone else RIGHT_TO_LEFT_MARK + line)
    return "\n".join(lines)
