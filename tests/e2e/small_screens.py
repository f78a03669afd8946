"""The two emails as a reader's phone gets them, for the small-screen checks: the week's issue (with an
excerpt holding long unbroken words) and the confirmation email (with a real signed link), each taken
from the composed message, with its `<style>` and without it (as the Gmail app shows mail of non-Gmail
accounts), and the WCAG contrast of two colours.
"""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from newsletter.config import settings
from newsletter.config.settings import Config
from newsletter.content.excerpt import Excerpt, paragraph
from newsletter.issues.compose import compose
from newsletter.issues.render import render_issue
from newsletter.mail.recipient import Recipient
from subscribers.confirmation import ConfirmationMail
from subscribers.links import Links
from subscribers.tokens import TokenSigner, new_nonce
from tests.conftest import write_config
from tests.newsletter.conftest import SAMPLE_WEEK, sample_excerpts

NOW = datetime(2026, 11, 16, 9, 30, tzinfo=UTC)
# Unbroken runs longer than a phone is wide: a pasted link, a made-up compound, a source with no spaces.
LONG_LINK = "https://lessons.example.org/archive/2026/11/21/the-whole-morning-lesson-recording-with-every-part"
LONG_WORD = "Un" + "breakable" * 9 + "ness"
LONG_WORDS = Excerpt(
    f"A Word Like {LONG_WORD}",
    date(2026, 11, 21),
    "From_the_1st_part_of_the_Daily_Lesson_11/21/26,_Notes_Written_Without_A_Single_Space_Anywhere",
    (paragraph(f"Some words do not fit on one line of a phone: {LONG_WORD}, said the teacher, and smiled."),
     paragraph(f"The recording of the whole morning is at {LONG_LINK} for anyone who missed it.")),
    "sample.txt",
)


def sample_config(folder: Path) -> Config:
    """The sample newsletter's settings."""
    return settings.load(write_config(folder, f"sqlite:///{folder / 'news.db'}"), environ={})


def issue_bytes(config: Config) -> bytes:
    """The issue of the sample week as one subscriber receives it; its last excerpt has long words."""
    excerpts = [*sample_excerpts()[:3], LONG_WORDS]
    template = compose(config, render_issue(config, SAMPLE_WEEK, excerpts))
    unsubscribe = "https://news.example.org/unsubscribe?token=" + "Zx9-" * 20
    return template.personalise(Recipient(7, "reader.with.a.long.address@mail.example.org", unsubscribe),
                                date=NOW)


def confirmation_bytes(config: Config) -> bytes:
    """A confirmation email with a genuine signed link, as the outbox worker builds it."""
    links = Links(config.web.base_url, TokenSigner(b"k" * 32), timedelta(days=7), lambda: NOW)
    return ConfirmationMail(config).build("reader@example.org", links.confirm_url(4711, new_nonce()), NOW).data


def issue_message(config: Config) -> EmailMessage:
    return parsed(issue_bytes(config))


def confirmation_message(config: Config) -> EmailMessage:
    return parsed(confirmation_bytes(config))


def html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def without_style(html: str) -> str:
    """The HTML as a client that drops `<style>` shows it: inlined styles only."""
    stripped, count = re.subn(r"<style\b.*?</style>", "", html, flags=re.DOTALL | re.IGNORECASE)
    assert count >= 1, "the email has no <style> to drop"
    return stripped


def parsed(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def relative_luminance(rgb: tuple[float, float, float]) -> float:
    """WCAG 2.x relative luminance of an sRGB colour with channels 0..255."""
    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(channel) for channel in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(one: tuple[float, float, float], other: tuple[float, float, float]) -> float:
    """WCAG contrast ratio, 1 (same colour) .. 21 (black on white)."""
    light, dark = sorted((relative_luminance(one), relative_luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def hex_colour(text: str) -> tuple[float, float, float]:
    """#7a7266 -> (122, 114, 102)."""
    text = text.lstrip("#")
    return (int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16))

