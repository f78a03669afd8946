"""Rendering an issue: what the HTML and the text part show, the clipping guard, and template errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import lxml.html
import pytest

from newsletter import templating
from newsletter.config.settings import Config, NewsletterSettings, WebSettings
from newsletter.content.excerpt import Excerpt, paragraph
from newsletter.errors import TemplateError
from newsletter.issues import render
from newsletter.issues.render import render_issue
from tests.newsletter.conftest import SAMPLE_WEEK

CONFIG = Config(
    newsletter=NewsletterSettings(title="Weekly Lessons", postal_address="12 Harbour Lane, Example Town"),
    web=WebSettings(base_url="https://news.example.org/"),
)


def parsed(html: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(html)


def texts(root: lxml.html.HtmlElement, xpath: str) -> list[str]:
    return [" ".join(element.text_content().split()) for element in root.xpath(xpath)]


def test_html_shows_the_title_the_week_and_each_excerpt_in_order(excerpts: list[Excerpt]) -> None:
    root = parsed(render_issue(CONFIG, SAMPLE_WEEK, excerpts).html)
    assert texts(root, "//h1") == ["Weekly Lessons"]
    assert texts(root, "//*[@class='kicker']") == ["Week 47 · 16–22 November 2026"]
    assert texts(root, "//h2") == [e.title for e in excerpts]
    assert texts(root, "//*[@class='day']") == [
        "Monday, 16 November 2026", "Tuesday, 17 November 2026", "Wednesday, 18 November 2026",
        "Thursday, 19 November 2026", "Friday, 20 November 2026",
    ]
    assert texts(root, "//*[@class='source']") == [e.source for e in excerpts]


def test_html_sets_the_question_apart_and_labels_the_answer(excerpts: list[Excerpt]) -> None:
    root = parsed(render_issue(CONFIG, SAMPLE_WEEK, excerpts[:1]).html)
    assert texts(root, "//div[@class='question']/span[@class='label']") == ["Question"]
    assert texts(root, "//div[@class='question']/p") == [
        "If nobody in the house knows that I am coming, why keep the lamp burning?"
    ]
    answer = root.xpath("//span[@class='answer-label']")[0].getparent()
    assert " ".join(answer.text_content().split()) == (
        "Teacher's Answer: Because the lamp is not for the guest alone. The one who tends it keeps "
        "himself awake, and that is half of the work."
    )


def test_css_is_inlined_and_the_media_rules_stay_in_the_head(excerpts: list[Excerpt]) -> None:
    root = parsed(render_issue(CONFIG, SAMPLE_WEEK, excerpts).html)
    first_paragraph = root.xpath("//div[@class='excerpt']/p")[0]
    assert "font-size:18px" in first_paragraph.get("style")
    head_css = "".join(root.xpath("//head/style/text()"))
    assert "@media (prefers-color-scheme: dark)" in head_css
    assert "@media only screen and (max-width: 520px)" in head_css
    assert "!important" in head_css  # the media rules still beat the inlined styles
    assert root.xpath("//body//style") == []


def test_html_has_the_doctype_and_light_and_dark_colour_schemes(excerpts: list[Excerpt]) -> None:
    html = render_issue(CONFIG, SAMPLE_WEEK, excerpts).html
    assert html.startswith("<!DOCTYPE html>\n<html")
    assert html.count("<!DOCTYPE") == 1
    assert parsed(html).xpath("//meta[@name='color-scheme']/@content") == ["light dark"]


# Characters an inbox shows as nothing: they fill its preview line after the preheader.
_INVISIBLE = "\u034f\u200c\u00a0 "


def test_the_inbox_shows_the_preheader_and_then_nothing_of_the_body(excerpts: list[Excerpt]) -> None:
    html = render_issue(CONFIG, SAMPLE_WEEK, excerpts).html
    expected = ("This week: “The Lamp in the Window”, “Two Kinds of Effort” and 3 more, from the lessons "
                "of 16–22 November 2026.")
    body = parsed(html).xpath("//body")[0].text_content().lstrip()
    assert body.startswith(expected)
    # What an inbox row shows after the sentence, at its widest (about 140 characters): blanks only.
    assert set(body[len(expected):][:140]) <= set(_INVISIBLE)
    preheader = parsed(html).xpath("//body/div[@class='preheader']")[0]
    assert "display:none" in preheader.get("style").replace(" ", "")


def test_a_template_without_a_preheader_writes_no_hidden_block(tmp_path: Path, excerpts: list[Excerpt]) -> None:
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "issue.html").write_text(
        '{% extends "email/layout.html" %}{% block content %}<p>{{ preheader }}</p>{% endblock %}',
        encoding="utf-8")
    config = replace(CONFIG, templates_dir=str(tmp_path))
    root = parsed(render_issue(config, SAMPLE_WEEK, excerpts).html)
    assert root.xpath("//div[@class='preheader']") == []
    assert texts(root, "//p")[0].startswith("This week: “The Lamp in the Window”")


def test_the_only_links_are_the_issue_page_the_site_and_the_unsubscribe_and_manage_placeholders(
    excerpts: list[Excerpt],
) -> None:
    issue = render_issue(CONFIG, SAMPLE_WEEK, excerpts)
    root = parsed(issue.html)
    assert root.xpath("//a/@href") == [
        "https://news.example.org/issues/2026-W47", "https://news.example.org", issue.placeholders.unsubscribe_url,
        issue.placeholders.manage_url,
    ]
    assert root.xpath("//img | //script | //iframe") == []


def test_footer_carries_why_privacy_postal_address_and_a_visible_unsubscribe_link(
    excerpts: list[Excerpt],
) -> None:
    issue = render_issue(CONFIG, SAMPLE_WEEK, excerpts)
    footer = texts(parsed(issue.html), "//div[@class='footer']/p")
    assert footer == [
        "You are receiving Weekly Lessons because you signed up at news.example.org and confirmed your "
        f"address. This copy was sent to {issue.placeholders.address}.",
        "Your privacy: we keep your address encrypted, use it only to send this letter, and never rent, "
        "trade or sell it. There is no tracking in this email.",
        "Unsubscribe · one click, no questions asked.",
        "Manage your subscription: pause it, see or download what we keep, or delete everything.",
        "12 Harbour Lane, Example Town",
    ]


def test_excerpt_text_is_escaped_not_interpreted() -> None:
    hostile = Excerpt("<script>alert(1)</script> & more", date(2026, 11, 16), "From <b>here</b>",
                      (paragraph("Question: is <img src=x> shown as text?"),))
    html = render_issue(CONFIG, SAMPLE_WEEK, [hostile]).html
    root = parsed(html)
    assert root.xpath("//script | //img | //b") == []
    assert texts(root, "//h2") == ["<script>alert(1)</script> & more"]
    assert "&lt;script&gt;" in html


def test_premailer_runs_once_for_an_issue_under_the_clipping_limit(
    excerpts: list[Excerpt], monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    real_inline = templating.inline

    def counting_inline(html: str) -> str:
        calls.append(len(html))
        return real_inline(html)

    monkeypatch.setattr(render, "inline", counting_inline)
    render_issue(CONFIG, SAMPLE_WEEK, excerpts)
    assert len(calls) == 1


def test_clipping_guard_drops_the_last_excerpts_and_says_which(excerpts: list[Excerpt]) -> None:
    two = render_issue(CONFIG, SAMPLE_WEEK, excerpts[:2])
    issue = render_issue(CONFIG, SAMPLE_WEEK, excerpts, limit=two.html_bytes)
    assert issue.excerpts == tuple(excerpts[:2])
    assert issue.clipped == tuple(excerpts[2:])
    assert issue.html_bytes <= two.html_bytes
    assert texts(parsed(issue.html), "//h2") == [e.title for e in excerpts[:2]]
    assert excerpts[2].title not in issue.text


def test_clipping_guard_keeps_everything_that_fits(excerpts: list[Excerpt]) -> None:
    issue = render_issue(CONFIG, SAMPLE_WEEK, excerpts)
    assert issue.clipped == ()
    assert issue.html_bytes < render.CLIP_LIMIT < render.GMAIL_CLIP_BYTES == 102_000


def test_clipping_guard_refuses_an_excerpt_too_large_on_its_own(excerpts: list[Excerpt]) -> None:
    with pytest.raises(TemplateError, match=r"email/issue.html: the excerpt 'The Lamp in the Window' alone "
                                            r"renders to [\d,]+ bytes of HTML, over Gmail's clipping limit"):
        render_issue(CONFIG, SAMPLE_WEEK, excerpts, limit=1_000)


def test_text_part_is_wrapped_at_72_columns_except_links(excerpts: list[Excerpt]) -> None:
    text = render_issue(CONFIG, SAMPLE_WEEK, excerpts).text
    long_lines = [line for line in text.splitlines() if len(line) > 72]
    assert long_lines == []
    url = "https://news.example.org/unsubscribe?token=" + "x" * 90
    filled = render_issue(CONFIG, SAMPLE_WEEK, excerpts).filled("a@example.com", url, "https://news.example.org/manage?token=t")[1]
    assert [line for line in filled.splitlines() if len(line) > 72] == [url]


def test_text_part_has_the_same_content_in_the_same_order(excerpts: list[Excerpt]) -> None:
    text = render_issue(CONFIG, SAMPLE_WEEK, excerpts).text
    flat = " ".join(text.split())
    position = 0
    for excerpt in excerpts:
        for piece in (excerpt.title, *(p.plain() for p in excerpt.paragraphs), excerpt.source):
            found = flat.find(" ".join(piece.split()), position)
            assert found > position, piece
            position = found


def test_text_part_writes_its_links_out_on_lines_of_their_own(excerpts: list[Excerpt]) -> None:
    issue = render_issue(CONFIG, SAMPLE_WEEK, excerpts)
    lines = issue.text.splitlines()
    assert "https://news.example.org/issues/2026-W47" in lines
    assert issue.placeholders.unsubscribe_url in lines
    assert issue.placeholders.address in lines


def test_text_part_indents_questions(excerpts: list[Excerpt]) -> None:
    lines = render_issue(CONFIG, SAMPLE_WEEK, excerpts[:1]).text.splitlines()
    start = lines.index("    Question: If nobody in the house knows that I am coming, why keep")
    assert lines[start + 1] == "    the lamp burning?"
    assert lines[start + 3].startswith("Teacher's Answer: Because")


def test_placeholders_appear_once_per_part_where_the_recipient_is_named(excerpts: list[Excerpt]) -> None:
    issue = render_issue(CONFIG, SAMPLE_WEEK, excerpts)
    marks = issue.placeholders
    assert [issue.html.count(marks.address), issue.html.count(marks.unsubscribe_url)] == [1, 1]
    assert [issue.text.count(marks.address), issue.text.count(marks.unsubscribe_url)] == [1, 1]


def test_each_render_has_placeholders_of_its_own(excerpts: list[Excerpt]) -> None:
    first, second = (render_issue(CONFIG, SAMPLE_WEEK, excerpts).placeholders for _ in range(2))
    assert first != second
    assert first.address.startswith("NLPLACEHOLDERADDRESS")
    assert first.address.isalpha()
    assert first.unsubscribe_url.isalpha()


def test_an_admin_template_overrides_the_packaged_one(tmp_path: Path, excerpts: list[Excerpt]) -> None:
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "issue.txt").write_text(
        "{{ newsletter.title }}: {{ excerpts | length }} excerpts\n", encoding="utf-8")
    config = replace(CONFIG, templates_dir=str(tmp_path))
    issue = render_issue(config, SAMPLE_WEEK, excerpts)
    assert issue.text == "Weekly Lessons: 5 excerpts\n"
    assert texts(parsed(issue.html), "//h1") == ["Weekly Lessons"]  # the packaged HTML still applies


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("line one\n{% if %}\n", r"email/issue.txt, line 2: Expected an expression"),
        ("line one\nline two\n{{ no_such_value }}\n",
         r"email/issue.txt, line 3 \(.*issue.txt\): 'no_such_value' is undefined"),
        ("{% include 'email/missing.txt' %}\n", r"template email/missing.txt not found \(looked in "),
    ],
    ids=["syntax-error", "undefined-value", "missing-include"],
)
def test_a_broken_template_is_named_with_its_line(tmp_path: Path, excerpts: list[Excerpt], template: str,
                                                  expected: str) -> None:
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "issue.txt").write_text(template, encoding="utf-8")
    with pytest.raises(TemplateError, match=expected):
        render_issue(replace(CONFIG, templates_dir=str(tmp_path)), SAMPLE_WEEK, excerpts)


def test_an_issue_needs_an_excerpt() -> None:
    with pytest.raises(ValueError, match="at least one excerpt"):
        render_issue(CONFIG, SAMPLE_WEEK, [])
