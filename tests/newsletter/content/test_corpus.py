"""The corpus: every page shape of the real archive, each with the excerpts it must give (tests/corpus)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from newsletter.config.settings import IngestSettings
from newsletter.content.excerpt import Excerpt
from newsletter.content.ingest import explain_sources, read_document
from newsletter.content.reading import Reading
from newsletter.content.sources import read_file
from tests.conftest import REPO

CORPUS = REPO / "tests" / "corpus"
CASES = sorted((CORPUS / "expected").glob("*.json"))


def _expected(case: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(case.read_text(encoding="utf-8"))
    return data


def _reading(case: Path) -> Reading:
    expected = _expected(case)
    name = expected.get("document") or next(p.name for p in (CORPUS / "pages").glob(case.stem + ".*"))
    document = read_file(CORPUS / "pages" / name)
    return read_document(document, settings=IngestSettings(categories=expected.get("categories", [])))


def _fields(excerpt: Excerpt) -> list[str]:
    # The source line is compared whole in the test above (the header line "Daily Study Lesson" is part of it).
    return [excerpt.title, *(p.plain() for p in excerpt.paragraphs)]


def test_every_page_of_the_corpus_has_its_expected_excerpts() -> None:
    pages = {p.stem for p in (CORPUS / "pages").iterdir()}
    described = {_expected(case).get("document", case.name).split(".")[0] for case in CASES}
    assert pages == described


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_a_corpus_page_gives_exactly_its_excerpts_whole_and_rightly_dated(case: Path) -> None:
    expected = _expected(case)
    reading = _reading(case)
    assert [f.excerpt.title for f in reading.found] == [e["title"] for e in expected["excerpts"]]
    for found, want in zip(reading.found, expected["excerpts"], strict=True):
        excerpt = found.excerpt
        assert (excerpt.lesson_date.isoformat(), found.date_from.value) == (want["date"], want["date_from"]), \
            excerpt.title
        assert excerpt.source == want["source"], excerpt.title
        # A lost paragraph changes the count, or the first or the last sentence.
        assert len(excerpt.paragraphs) == want["paragraphs"], [p.plain() for p in excerpt.paragraphs]
        assert excerpt.paragraphs[0].plain().startswith(want["first"]), excerpt.paragraphs[0].plain()
        assert excerpt.paragraphs[-1].plain().endswith(want["last"]), excerpt.paragraphs[-1].plain()


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_no_chrome_line_of_a_corpus_page_reaches_an_excerpt(case: Path) -> None:
    reading = _reading(case)
    for excerpt in reading.excerpts:
        for field in _fields(excerpt):
            leaked = [chrome for chrome in _expected(case)["chrome"] if chrome in field]
            assert not leaked, (excerpt.title, field)


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_every_dropped_block_of_a_corpus_page_says_why(case: Path) -> None:
    reading = _reading(case)
    assert reading.dropped
    assert all(d.reason and d.cause for d in reading.dropped)


def test_the_corpus_read_together_as_one_site_gives_each_page_the_same_excerpts() -> None:
    # Read as one ingest, the pages' shared lines become the repeated-line signal; it must take nothing more.
    with httpx.Client() as client:
        together = {Path(item.name).name: item for item in explain_sources([str(CORPUS / "pages")], client)}
    for case in CASES:
        if "categories" in _expected(case):
            continue
        alone = _reading(case)
        item = together[next(name for name in together if name.startswith(case.stem + "."))]
        assert item.reading is not None, item.error
        assert item.reading.found == alone.found
