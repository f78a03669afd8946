"""The pages: an admin's templates override the packaged ones, and the consent record follows the words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from newsletter.config import settings
from newsletter.errors import TemplateError
from subscribers.keys import derive, new_secret
from subscribers.pages import Pages
from subscribers.tokens import TokenSigner
from tests.conftest import START, write_config


def pages_in(tmp_path: Path, templates: dict[str, str] | None = None) -> Pages:
    tmp_path.mkdir(parents=True, exist_ok=True)
    extra = {}
    if templates is not None:
        for name, text in templates.items():
            (tmp_path / "mine" / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / "mine" / name).write_text(text)
        extra = {"templates_dir": str(tmp_path / "mine")}
    path = write_config(tmp_path, "sqlite:///x.db")
    if extra:
        path.write_text(f'templates_dir = "{extra["templates_dir"]}"\n' + path.read_text())
    config = settings.load(path, environ={})
    return Pages(config, TokenSigner(derive(new_secret(), "test").tokens), lambda: START)


def test_the_form_text_version_is_a_digest_of_the_form_template(tmp_path: Path) -> None:
    packaged = pages_in(tmp_path / "a")
    assert re.fullmatch(r"signup-[0-9a-f]{12}", packaged.signup_version)
    changed = pages_in(tmp_path / "b", {"web/signup.html": "{{ form_token }} Other words."})
    assert changed.signup_version != packaged.signup_version
    assert b"Other words." in bytes(changed.signup().body)


def test_a_broken_template_stops_the_check_and_names_itself(tmp_path: Path) -> None:
    pages = pages_in(tmp_path, {"web/message.html": "{% if %}"})
    with pytest.raises(TemplateError, match=r"web/message.html, line 1"):
        pages.check()


def test_fixed_pages_are_rendered_once_and_reused(tmp_path: Path) -> None:
    pages = pages_in(tmp_path)
    first = pages.message("Check your inbox", ("One.", "Two."))
    again = pages.message("Check your inbox", ("One.", "Two."))
    assert first.body == again.body
    assert pages._fixed.cache_info().hits == 1


def test_the_pages_speak_hebrew_right_to_left_and_the_consent_record_names_the_catalog(tmp_path: Path) -> None:
    english = pages_in(tmp_path / "en")
    (tmp_path / "he").mkdir()
    path = write_config(tmp_path / "he", "sqlite:///x.db", newsletter={"language": "he"})
    hebrew = Pages(settings.load(path, environ={}), TokenSigner(derive(new_secret(), "test").tokens), lambda: START)
    page = bytes(hebrew.signup().body).decode()
    assert '<html lang="he" dir="rtl">' in page
    assert "כתובת הדוא״ל שלכם" in page
    assert "Your email address" not in page
    assert hebrew.signup_version != english.signup_version
    gone = bytes(hebrew.message("You are unsubscribed", ("Changed your mind? You can sign up again at any time.",))
                 .body).decode()
    assert "ההרשמה בוטלה" in gone
    assert "שיניתם את דעתכם?" in gone


def test_a_field_error_is_shown_in_the_readers_language(tmp_path: Path) -> None:
    path = write_config(tmp_path, "sqlite:///x.db", newsletter={"language": "ru"})
    pages = Pages(settings.load(path, environ={}), TokenSigner(derive(new_secret(), "test").tokens), lambda: START)
    page = bytes(pages.signup(error="An email address cannot contain spaces.").body).decode()
    assert "Адрес электронной почты не может содержать пробелы." in page


@pytest.mark.parametrize(("language", "days", "said"), [
    ("en", 1, "within 1 day are deleted"), ("en", 7, "within 7 days are deleted"),
    ("ru", 1, "в течение 1 дня,"), ("ru", 3, "в течение 3 дней,"), ("ru", 21, "в течение 21 дня,"),
    ("ru", 11, "в течение 11 дней,"), ("he", 1, "בתוך יום אחד"), ("he", 2, "בתוך יומיים"), ("he", 7, "בתוך 7 ימים"),
], ids=str)
def test_a_number_of_days_takes_the_languages_plural_form(tmp_path: Path, language: str, days: int,
                                                          said: str) -> None:
    path = write_config(tmp_path, "sqlite:///x.db", newsletter={"language": language})
    pages = Pages(settings.load(path, environ={}), TokenSigner(derive(new_secret(), "test").tokens), lambda: START)
    assert said in pages.unconfirmed_are_deleted(days)
