"""The catalogs: every word a reader sees is wrapped for translation, extracted into the template, and
translated with its placeholders intact in every shipped language."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from newsletter.translations import (
    LOCALE_DIR,
    catalog_path,
    catalog_problems,
    compiled,
    read_catalog,
    translations,
)

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
SHIPPED = ("he", "ru")

# What may stand outside {% trans %} in a template: markup, CSS, comments, entities, punctuation.
_MARKUP = re.compile(r"<style.*?</style>|<!--.*?-->|<[^>]*>|&[#\w]+;", re.DOTALL)
_WORD = re.compile(r"[^\W\d_]{2,}")


def _unwrapped(source: str) -> list[str]:
    """Words in a template's text (or in a string literal of a length that reads as a phrase) that no
    {% trans %} block or _() call holds."""
    env = jinja2.Environment(extensions=["jinja2.ext.i18n"])
    found: list[str] = []
    block: list[str] = []
    inside, previous = False, ""
    for _, kind, value in env.lex(source):
        if kind == "name" and previous == "block_begin":
            inside = value == "trans" or (inside and value != "endtrans")
        if kind == "data" and not inside:
            block.append(value)
        if kind == "string" and " " in value and _WORD.search(value) and previous != "(":
            found.append(value)
        if kind != "whitespace":
            previous = value if kind == "operator" else kind
    text = _MARKUP.sub(" ", "".join(block))
    found += [line.strip() for line in text.splitlines() if _WORD.search(line)]
    return found


def _templates() -> list[Path]:
    return sorted(p for p in TEMPLATES.rglob("*") if p.suffix in (".html", ".txt"))


@pytest.mark.parametrize("path", _templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_every_reader_facing_string_in_the_templates_is_wrapped_for_translation(path: Path) -> None:
    assert _unwrapped(path.read_text(encoding="utf-8")) == []


def test_an_unwrapped_sentence_or_literal_is_caught() -> None:
    assert _unwrapped("<p>{% trans %}Kept{% endtrans %}</p>\n<p>Left bare</p>") == ["Left bare"]
    assert _unwrapped('{{ "Left bare too" | wrap }} {{ _("Kept too") }}') == ['"Left bare too"']


def _extracted() -> set[str | tuple[str, ...]]:
    with (ROOT / "babel.cfg").open() as file:
        method_map, options_map = parse_mapping_cfg(file)  # type: ignore[no-untyped-call]
    ids: set[str | tuple[str, ...]] = set()
    for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, options_map):
        ids.add(message if isinstance(message, str) else tuple(m for m in message if m))
    return ids


def _template_ids() -> set[str | tuple[str, ...]]:
    with (LOCALE_DIR / "messages.pot").open("rb") as file:
        catalog = read_po(file)
    return {message.id if isinstance(message.id, str) else tuple(message.id) for message in catalog if message.id}


def test_the_catalog_template_holds_exactly_the_strings_of_the_templates_and_code() -> None:
    missing, stale = _extracted() - _template_ids(), _template_ids() - _extracted()
    assert (missing, stale) == (set(), set()), "run scripts/catalogs and translate what it added"


@pytest.mark.parametrize("language", SHIPPED)
def test_a_shipped_language_translates_every_string_with_its_placeholders(language: str) -> None:
    catalog = read_catalog(catalog_path(language), language)
    untranslated = [message.id for message in catalog if message.id and (
        not message.string or not all(message.string) or message.fuzzy)]
    assert {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id} == _template_ids()
    assert untranslated == []
    assert catalog_problems(catalog) == []


def test_a_catalog_with_a_broken_placeholder_is_named_and_its_string_falls_back_to_english(tmp_path: Path) -> None:
    po = tmp_path / "messages.po"
    po.write_text('msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'
                  '#, python-format\nmsgid "%(title)s: past issues"\nmsgstr "%(titel)s: alte Ausgaben"\n\n'
                  'msgid "Subscribe"\nmsgstr "Abonnieren"\n', encoding="utf-8")
    problems = catalog_problems(read_catalog(po, "de"))
    assert len(problems) == 1
    assert "%(title)s: past issues" in problems[0]
    assert "titel" in problems[0]
    words = compiled(read_catalog(po, "de"))
    assert words.gettext("%(title)s: past issues") % {"title": "Wochenlektionen"} == "Wochenlektionen: past issues"
    assert words.gettext("Subscribe") == "Abonnieren"


def test_a_string_a_catalog_lacks_falls_back_to_english_never_to_a_key() -> None:
    assert translations("he").gettext("A sentence no catalog has.") == "A sentence no catalog has."
    assert translations("fr").gettext("Subscribe") == "Subscribe"  # no French catalog: English throughout
