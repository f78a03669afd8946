"""Render one issue: Jinja2 templates -> premailer (once per issue) -> inlined HTML, plus the text part.

Per-recipient values never reach Jinja2 or premailer. The templates see `recipient.address` and
`recipient.unsubscribe_url` as the placeholder tokens below; `compose` swaps them for each
subscriber's values in the encoded message.
"""

from __future__ import annotations

import logging
import textwrap
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any

import jinja2
from premailer import Premailer

from newsletter import templating
from newsletter.config.settings import Config
from newsletter.errors import TemplateError
from newsletter.content.excerpt import Excerpt
from newsletter.weeks import IsoWeek

HTML_TEMPLATE = "email/issue.html"
TEXT_TEMPLATE = "email/issue.txt"

# Letters only, so that HTML escaping, premailer, text wrapping and quoted-printable leave them intact.
ADDRESS_PLACEHOLDER = "NLPLACEHOLDERADDRESS"
UNSUBSCRIBE_PLACEHOLDER = "NLPLACEHOLDERUNSUBSCRIBE"

# Gmail clips a message whose HTML passes about 102 KB; the margin leaves room for the recipient's values.
GMAIL_CLIP_BYTES = 102_000
CLIP_LIMIT = GMAIL_CLIP_BYTES - 2_000

TEXT_WIDTH = 72


@dataclass(frozen=True)
class RenderedIssue:
    """One issue, ready to compose: HTML with inlined CSS and the text part, both with placeholders."""

    week: IsoWeek
    html: str
    text: str
    excerpts: tuple[Excerpt, ...]
    clipped: tuple[Excerpt, ...]
    web_url: str

    @property
    def html_bytes(self) -> int:
        return len(self.html.encode())

    def filled(self, address: str, unsubscribe_url: str) -> tuple[str, str]:
        """HTML and text with the placeholders replaced, for previews (messages use MessageTemplate)."""
        html_values = {ADDRESS_PLACEHOLDER: escape(address), UNSUBSCRIBE_PLACEHOLDER: escape(unsubscribe_url)}
        text_values = {ADDRESS_PLACEHOLDER: address, UNSUBSCRIBE_PLACEHOLDER: unsubscribe_url}
        return _replaced(self.html, html_values), _replaced(self.text, text_values)


def _replaced(text: str, values: dict[str, str]) -> str:
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text


def render_issue(config: Config, week: IsoWeek, excerpts: Sequence[Excerpt], *,
                 env: jinja2.Environment | None = None, limit: int = CLIP_LIMIT) -> RenderedIssue:
    """Render `excerpts` (in order) as the issue of `week`.

    Premailer runs once; only when the HTML would pass `limit` bytes (Gmail clips it) are the last
    excerpts dropped, one at a time, and the issue inlined again. `clipped` names what was dropped.

    Raises:
        TemplateError: a template is missing or broken (the message names it and the line), or even
            the first excerpt alone is over `limit`.
    """
    if not excerpts:
        raise ValueError("an issue needs at least one excerpt")
    env = env or email_environment(config)
    kept = tuple(excerpts)
    while True:
        html = inline(render_template(env, HTML_TEMPLATE, context(config, week, kept)))
        size = len(html.encode())
        if size <= limit:
            break
        if len(kept) == 1:
            raise TemplateError(
                f"{HTML_TEMPLATE}: the excerpt {kept[0].title!r} alone renders to {size:,} bytes of HTML, "
                f"over Gmail's clipping limit ({limit:,}); lower selection.max_words or shorten the templates"
            )
        kept = kept[:-1]
    text = render_template(env, TEXT_TEMPLATE, context(config, week, kept))
    return RenderedIssue(week, html, text, kept, tuple(excerpts[len(kept):]), web_url(config, week))


def email_environment(config: Config) -> jinja2.Environment:
    """The template environment with the filters the email templates use."""
    env = templating.environment(config)
    env.filters["wrap"] = wrap
    env.filters["long_date"] = long_date
    env.filters["underline"] = underline
    return env


def context(config: Config, week: IsoWeek, excerpts: Sequence[Excerpt]) -> dict[str, Any]:
    """What the issue templates see."""
    return {
        "newsletter": config.newsletter,
        "base_url": config.web.base_url.rstrip("/"),
        "issue": {
            "week": str(week),
            "number": week.week,
            "year": week.year,
            "monday": week.monday,
            "sunday": week.sunday,
            "dates": date_range(week.monday, week.sunday),
            "web_url": web_url(config, week),
        },
        "excerpts": tuple(excerpts),
        "recipient": {"address": ADDRESS_PLACEHOLDER, "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER},
    }


def web_url(config: Config, week: IsoWeek) -> str:
    """The issue's page on the web ("view in browser")."""
    return f"{config.web.base_url.rstrip('/')}/issues/{week}"


def inline(html: str) -> str:
    """Inline the CSS of the `<style>` blocks; rules that cannot be inlined (@media) stay in `<head>`."""
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


def long_date(day: date) -> str:
    """Monday 16 November 2026."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def date_range(first: date, last: date) -> str:
    """16–22 November 2026; 30 November – 6 December 2026; 29 December 2025 – 4 January 2026."""
    if first.year != last.year:
        return f"{first.day} {first:%B %Y} – {last.day} {last:%B %Y}"
    if first.month != last.month:
        return f"{first.day} {first:%B} – {last.day} {last:%B %Y}"
    return f"{first.day}–{last.day} {last:%B %Y}"
