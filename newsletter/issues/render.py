"""Render one issue: Jinja2 templates -> premailer (once per issue) -> inlined HTML, plus the text part.

Per-recipient values never reach Jinja2 or premailer. The templates see `recipient.address` and
`recipient.unsubscribe_url` as the placeholder tokens below; `compose` swaps them for each
subscriber's values in the encoded message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import jinja2

from newsletter.config.settings import Config
from newsletter.content.excerpt import Excerpt
from newsletter.errors import TemplateError
from newsletter.templating import date_range, email_environment, inline, render_template
from newsletter.weeks import IsoWeek

HTML_TEMPLATE = "email/issue.html"
TEXT_TEMPLATE = "email/issue.txt"

# Letters only, so that HTML escaping, premailer, text wrapping and quoted-printable leave them intact.
ADDRESS_PLACEHOLDER = "NLPLACEHOLDERADDRESS"
UNSUBSCRIBE_PLACEHOLDER = "NLPLACEHOLDERUNSUBSCRIBE"

# Gmail clips a message whose HTML passes about 102 KB; the margin leaves room for the recipient's values.
GMAIL_CLIP_BYTES = 102_000
CLIP_LIMIT = GMAIL_CLIP_BYTES - 2_000



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
