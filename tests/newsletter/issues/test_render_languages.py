"""An issue in Hebrew and in Russian: the words, dates and direction of the readers' language."""

from __future__ import annotations

from datetime import date

import lxml.html
import pytest

from newsletter.config.settings import Config, NewsletterSettings, WebSettings
from newsletter.content.excerpt import Excerpt, Paragraph, ParagraphKind
from newsletter.issues.compose import subject_line
from newsletter.issues.render import RenderedIssue, render_issue
from tests.newsletter.conftest import SAMPLE_WEEK


def config(language: str, title: str) -> Config:
    return Config(newsletter=NewsletterSettings(title=title, postal_address="12 Harbour Lane, Example Town",
                                                language=language),
                  web=WebSettings(base_url="https://news.example.org/"))


def excerpts(titles: tuple[str, str], question: tuple[str, str]) -> list[Excerpt]:
    label, text = question
    return [
        Excerpt(titles[0], date(2026, 11, 16), "", (Paragraph("Text 2026 ABC."),), "a.txt"),
        Excerpt(titles[1], date(2026, 11, 17), "", (Paragraph(text, ParagraphKind.QUESTION, label),), "b.txt"),
    ]


def style(root: lxml.html.HtmlElement, class_name: str) -> str:
    """The inlined style of the first element of `class_name`, without spaces."""
    element = root.find_class(class_name)[0]
    return (element.get("style") or "").replace(" ", "")


HEBREW = config("he", "שיעורי השבוע"), excerpts(("המנורה בחלון", "שני סוגי מאמץ"), ("שאלה", "מה שואלים?"))
RUSSIAN = config("ru", "Уроки недели"), excerpts(("Лампа в окне", "Два вида усилия"), ("Вопрос", "О чём?"))


def rendered(edition: tuple[Config, list[Excerpt]]) -> tuple[RenderedIssue, lxml.html.HtmlElement, str]:
    """The edition's issue of the sample week, its HTML parsed, and its subject."""
    cfg, chosen = edition
    issue = render_issue(cfg, SAMPLE_WEEK, chosen)
    return issue, lxml.html.document_fromstring(issue.html), subject_line(cfg, SAMPLE_WEEK, chosen)


def test_a_hebrew_issue_reads_right_to_left_in_hebrew_with_hebrew_dates() -> None:
    issue, root, subject = rendered(HEBREW)
    assert (root.get("lang"), root.get("dir")) == ("he", "rtl")
    assert root.xpath("string(//*[@class='kicker'])") == "שבוע 47 · 16–22 בנובמבר 2026"
    assert root.xpath("string(//*[@class='contents-title'])") == "בגיליון הזה"
    assert root.xpath("string((//*[@class='day'])[1])") == "יום שני, 16 בנובמבר 2026"
    assert "border-right:3pxsolid" in style(root, "question")
    assert "border-left" not in style(root, "question")
    assert "text-align:right" in style(root, "column")
    assert "\u200fבגיליון הזה:" in issue.text.splitlines()
    assert issue.placeholders.address in issue.text.splitlines()  # an address alone on its line: no mark
    assert "Unsubscribe" not in issue.text
    assert subject == "שיעורי השבוע — השבוע של 16 בנובמבר 2026"


def test_a_russian_issue_speaks_russian_left_to_right() -> None:
    issue, root, subject = rendered(RUSSIAN)
    assert (root.get("lang"), root.get("dir")) == ("ru", "ltr")
    assert root.xpath("string(//*[@class='kicker'])") == "Неделя 47 · 16—22 ноября 2026\u202fг."
    assert root.xpath("string(//*[@class='unsubscribe'])") == "Отписаться"
    assert "border-left:3pxsolid" in style(root, "question")
    assert "На этой неделе: «Лампа в окне» и «Два вида усилия», из уроков 16—22 ноября 2026\u202fг." in issue.html
    assert subject == "Уроки недели — неделя с 16 ноября 2026 г."


@pytest.mark.parametrize("language", ["he", "ru"])
def test_an_admins_own_subject_is_kept_as_written(language: str) -> None:
    _, chosen = HEBREW if language == "he" else RUSSIAN
    own = Config(newsletter=NewsletterSettings(title="T", subject="{first} · {title}", language=language))
    assert subject_line(own, SAMPLE_WEEK, chosen) == f"{chosen[0].title} · T"
