"""The excerpt: paragraph structure, word counts, and identity across sources."""

from __future__ import annotations

from datetime import date

import pytest

from newsletter.content.excerpt import Excerpt, ParagraphKind, paragraph


@pytest.mark.parametrize(
    ("text", "kind", "label", "body"),
    [("Question: Why read together?", ParagraphKind.QUESTION, "Question", "Why read together?"),
     ("Answer: Because it works.", ParagraphKind.ANSWER, "Answer", "Because it works."),
     ("Dr. Adler’s Answer: Patience.", ParagraphKind.ANSWER, "Dr. Adler’s Answer", "Patience."),
     ("Note: this is plain.", ParagraphKind.TEXT, "", "Note: this is plain."),
     ("The answer: not a label.", ParagraphKind.TEXT, "", "The answer: not a label.")],
    ids=["question", "answer", "named-answer", "other-colon", "lowercase-answer"],
)
def test_question_and_answer_labels_become_structure(text: str, kind: ParagraphKind, label: str,
                                                     body: str) -> None:
    made = paragraph(text)
    assert (made.kind, made.label, made.text) == (kind, label, body)
    assert made.plain() == text


def excerpt(title: str, *paragraphs: str) -> Excerpt:
    return Excerpt(title, date(2026, 11, 16), "From the 1st part of the Daily Lesson 11/16/26",
                   tuple(paragraph(p) for p in paragraphs), origin="a.txt")


def test_the_same_words_published_differently_have_one_identity() -> None:
    plain = excerpt("Why Wait?", "It's \"now\" - or never...", "Question: Really?")
    typographic = excerpt("Why  wait?", "It’s “now” – or never…", "Question:   Really?")
    assert plain.content_hash == typographic.content_hash


def test_different_words_have_different_identities() -> None:
    assert excerpt("A", "one two").content_hash != excerpt("A", "one two three").content_hash
    assert excerpt("A", "one two").content_hash != excerpt("B", "one two").content_hash


def test_text_and_words_count_the_labels_as_printed() -> None:
    made = excerpt("T", "Question: Why now?", "Because.")
    assert made.text == "Question: Why now?\n\nBecause."
    assert made.words == 4


def test_control_characters_are_stripped_before_the_excerpt_is_hashed() -> None:
    clean = excerpt("The Bell", "Question: Why ring twice?", "Once for each door.")
    noisy = Excerpt("The\x00 Bell\x1b", date(2026, 11, 16), "From the 1st part of the Daily Lesson 11/16/26\x7f",
                    (paragraph("Question\x01: Why ring\x0b twice?"), paragraph("Once for\x9b each door.\ufffe")),
                    origin="a.txt")
    assert noisy == clean
    assert noisy.paragraphs[0].kind is ParagraphKind.QUESTION
