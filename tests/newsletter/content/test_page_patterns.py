"""Pages in other languages: source lines, question/answer labels and chrome are data per language."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from newsletter.config.settings import Config, IngestSettings, NewsletterSettings
from newsletter.content.excerpt import ParagraphKind
from newsletter.content.page_patterns import ENGLISH, page_patterns
from newsletter.content.text_pages import read_text_page
from newsletter.errors import ConfigError

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.mark.parametrize(
    ("language", "page", "titles", "day", "labels"),
    [
        ("he", "he/2026-11-16.txt", ["הנר שעל השולחן", "למה אנחנו מקשיבים רע?"], date(2026, 11, 16),
         ("שאלה", "תשובה")),
        ("ru", "ru/2026-11-17.txt", ["Лампа на кухне", "Почему мы плохо слушаем?"], date(2026, 11, 17),
         ("Вопрос", "Ответ учителя")),
    ],
)
def test_a_page_in_its_language_gives_its_excerpts_dated_by_their_source_lines(
        language: str, page: str, titles: list[str], day: date, labels: tuple[str, str]) -> None:
    reading = read_text_page((EXAMPLES / page).read_text(encoding="utf-8"), page, patterns=page_patterns(language))
    assert [e.title for e in reading.excerpts] == titles
    assert {e.lesson_date for e in reading.excerpts} == {day}
    assert all(e.source and e.source[0].isalpha() for e in reading.excerpts)
    first = reading.excerpts[0].paragraphs
    assert [(p.kind, p.label) for p in first[1:]] == [(ParagraphKind.QUESTION, labels[0]),
                                                      (ParagraphKind.ANSWER, labels[1])]
    assert not any("©" in p.text for e in reading.excerpts for p in e.paragraphs)
    assert [d.reason for d in reading.dropped][-3:] == ["footer"] * 3


def test_english_patterns_alone_do_not_read_a_russian_source_line() -> None:
    line = "Из 1-й части ежедневного урока 17.11.2026, Письма круга"
    assert not ENGLISH.is_source_line(line)
    assert page_patterns("ru").source_line_date(line) == date(2026, 11, 17)
    assert page_patterns("ru-RU").source_line_date(line) == date(2026, 11, 17)


def test_an_admin_adds_a_language_in_a_patterns_file_without_code(tmp_path: Path) -> None:
    extra = tmp_path / "patterns.toml"
    extra.write_text("[fr]\n"
                     "source_lines = ['extrait de .{0,80}?(?P<day>\\d{1,2})/(?P<month>\\d{1,2})/(?P<year>\\d{4})']\n"
                     'questions = ["Question"]\nanswers = ["Réponse"]\n'
                     "chrome = [['abonnez-vous.*', 'newsletter box']]\n", encoding="utf-8")
    page = ("La page du jour - 18-11-26\n\nLa lampe\n\nUne lampe suffit pour éclairer la table entière ce soir.\n\n"
            "Réponse: Elle suffit, car chacun apporte la sienne.\n\n"
            "Extrait de la 1re partie de la leçon 18/11/2026, Lettres\n\nAbonnez-vous à la lettre\n")
    reading = read_text_page(page, "fr.txt", patterns=page_patterns("fr", extra))
    assert [(e.title, e.lesson_date) for e in reading.excerpts] == [("La lampe", date(2026, 11, 18))]
    assert reading.excerpts[0].paragraphs[1].label == "Réponse"
    assert reading.dropped[-1].text == "Abonnez-vous à la lettre"


def test_a_pattern_that_does_not_compile_names_the_setting(tmp_path: Path) -> None:
    extra = tmp_path / "patterns.toml"
    extra.write_text("[he]\nsource_lines = ['(unclosed']\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        page_patterns("he", extra)
    assert caught.value.key == "ingest.patterns_file"


def test_the_pages_are_read_in_the_readers_language_unless_said_otherwise() -> None:
    config = Config(newsletter=NewsletterSettings(language="he"))
    assert config.ingest_settings().language == "he"
    config = Config(newsletter=NewsletterSettings(language="he"), ingest=IngestSettings(language="ru"))
    assert config.ingest_settings().language == "ru"
