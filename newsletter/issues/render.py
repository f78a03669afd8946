"""Render one issue: Jinja2 templates -> premailer (once per issue) -> inlined HTML, plus the text part.

Per-recipient values never reach Jinja2 or premailer. The templates see `recipient.address`,
`recipient.unsubscribe_url` and `recipient.manage_url` as placeholder tokens made afresh for each render
(`Placeholders`);
`compose` swaps them for each subscriber's values in the encoded message. Being random, they cannot
be written by the content: an ingested page that spells a placeholder is printed as it is.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

import jinja2

from newsletter.config.settings import Config
from newsletter.content.excerpt import Excerpt
from newsletter.errors import TemplateError
from newsletter.issues.note import EditorNote
from newsletter.issues.preheader import preheader
from newsletter.mail import quoted_printable
from newsletter.templating import email_environment, inline, render_template, right_to_left_text
from newsletter.translations import date_range, direction
from newsletter.weeks import IsoWeek

HTML_TEMPLATE = "email/issue.html"
TEXT_TEMPLATE = "email/issue.txt"

PLACEHOLDER_PREFIX = "NLPLACEHOLDER"
_MARKER_LETTERS = 12  # 26**12 (about 10**17) markers: no page can guess the one an issue was rendered with

# Gmail clips a message whose HTML passes about 102 KB; the margin leaves room for the recipient's values.
GMAIL_CLIP_BYTES = 102_000
CLIP_LIMIT = GMAIL_CLIP_BYTES - 2_000


@dataclass(frozen=True)
class Placeholders:
    """The tokens that stand for the reader's address, unsubscribe URL and manage URL in one rendered issue.

    Letters only, so that HTML escaping, premailer, text wrapping and quoted-printable leave them intact;
    a random part shared by both, so that no excerpt can contain them.
    """

    address: str
    unsubscribe_url: str
    manage_url: str

    @classmethod
    def fresh(cls) -> Placeholders:
        marker = "".join(secrets.choice(string.ascii_uppercase) for _ in range(_MARKER_LETTERS))
        return cls(f"{PLACEHOLDER_PREFIX}ADDRESS{marker}", f"{PLACEHOLDER_PREFIX}UNSUBSCRIBE{marker}",
                   f"{PLACEHOLDER_PREFIX}MANAGE{marker}")

    def values(self, address: str, unsubscribe_url: str, manage_url: str) -> tuple[tuple[str, str], ...]:
        """(placeholder, value) pairs, for str.replace."""
        return (self.address, address), (self.unsubscribe_url, unsubscribe_url), (self.manage_url, manage_url)

    @property
    def names(self) -> tuple[str, str, str]:
        return self.address, self.unsubscribe_url, self.manage_url

    def escaped(self, address: str, unsubscribe_url: str, manage_url: str) -> dict[str, str]:
        """{placeholder: value} with the values quoted-printable escaped, for `LineTemplate.fill`."""
        return {placeholder: quoted_printable.escape(value)
                for placeholder, value in self.values(address, unsubscribe_url, manage_url)}

    def held_by(self, line: str) -> bool:
        return any(placeholder in line for placeholder in self.names)


@dataclass(frozen=True)
class RenderedIssue:
    """One issue, ready to compose: HTML with inlined CSS and the text part, both with placeholders."""

    week: IsoWeek
    html: str
    text: str
    excerpts: tuple[Excerpt, ...]
    clipped: tuple[Excerpt, ...]
    web_url: str
    placeholders: Placeholders = field(default_factory=Placeholders.fresh)
    note: EditorNote | None = None  # the editor's note on top
    subject: str | None = None      # the editor's subject, instead of [newsletter] subject

    @property
    def html_bytes(self) -> int:
        return len(self.html.encode())

    def filled(self, address: str, unsubscribe_url: str, manage_url: str = "") -> tuple[str, str]:
        """HTML and text with the placeholders replaced, for previews (messages use MessageTemplate)."""
        html_values = self.placeholders.values(escape(address), escape(unsubscribe_url), escape(manage_url))
        text_values = self.placeholders.values(address, unsubscribe_url, manage_url)
        return _replaced(self.html, html_values), _replaced(self.text, text_values)


def _replaced(text: str, values: Sequence[tuple[str, str]]) -> str:
    for placeholder, value in values:
        text = text.replace(placeholder, value)
    return text


def render_issue(config: Config, week: IsoWeek, excerpts: Sequence[Excerpt], *,
                 env: jinja2.Environment | None = None, limit: int = CLIP_LIMIT,
                 note: EditorNote | None = None, subject: str | None = None) -> RenderedIssue:
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
    placeholders = Placeholders.fresh()
    kept = tuple(excerpts)
    while True:
        html = inline(render_template(env, HTML_TEMPLATE, context(config, week, kept, placeholders, note)))
        size = len(html.encode())
        if size <= limit:
            break
        if len(kept) == 1:
            raise TemplateError(
                f"{HTML_TEMPLATE}: the excerpt {kept[0].title!r} alone renders to {size:,} bytes of HTML, "
                f"over Gmail's clipping limit ({limit:,}); lower selection.max_words or shorten the templates"
            )
        kept = kept[:-1]
    text = render_template(env, TEXT_TEMPLATE, context(config, week, kept, placeholders, note))
    if direction(config.newsletter.language) == "rtl":
        text = right_to_left_text(text)
    return RenderedIssue(week, html, text, kept, tuple(excerpts[len(kept):]), web_url(config, week),
                         placeholders, note, subject)


def context(config: Config, week: IsoWeek, excerpts: Sequence[Excerpt],
            placeholders: Placeholders | None = None, note: EditorNote | None = None) -> dict[str, Any]:
    """What the issue templates see; the reader's values as `placeholders` (fresh ones when None)."""
    placeholders = placeholders or Placeholders.fresh()
    return {
        "newsletter": config.newsletter,
        "base_url": config.web.base_url.rstrip("/"),
        "issue": {
            "week": str(week),
            "number": week.week,
            "year": week.year,
            "monday": week.monday,
            "sunday": week.sunday,
            "dates": date_range(week.monday, week.sunday, config.newsletter.language),
            "web_url": web_url(config, week),
        },
        "excerpts": tuple(excerpts),
        "note": note,
        "preheader": preheader(week, excerpts, config.newsletter.language),
        "recipient": {"address": placeholders.address, "unsubscribe_url": placeholders.unsubscribe_url,
                      "manage_url": placeholders.manage_url},
    }


def web_url(config: Config, week: IsoWeek) -> str:
    """The issue's page on the web ("view in browser")."""
    return f"{config.web.base_url.rstrip('/')}/issues/{week}"
