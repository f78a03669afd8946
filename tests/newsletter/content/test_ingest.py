"""Ingest: every source kind into one store, each excerpt once, failures named and contained."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from newsletter.content import store as excerpt_store
from newsletter.content.ingest import explain_sources, ingest
from newsletter.db.engine import sessions as make_sessions
from newsletter.weeks import IsoWeek
from tests.conftest import EXAMPLES, SEED
from tests.newsletter.http_server import serve_folder

EVERYTHING = [str(EXAMPLES / "pages"), str(EXAMPLES / "web"), str(EXAMPLES / "feed.xml"),
              str(EXAMPLES / "atom.xml")]
W47 = IsoWeek(2026, 47)


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessions(engine)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as client:
        yield client


def stored(sessions: sessionmaker[Session], week: IsoWeek = W47) -> list[tuple[date, str]]:
    with sessions() as session:
        return [(e.lesson_date, e.title) for e in excerpt_store.in_week(session, week)]


def test_the_sample_week_in_three_formats_is_nineteen_excerpts(sessions: sessionmaker[Session],
                                                               client: httpx.Client) -> None:
    outcomes = ingest(EVERYTHING, sessions, client)
    assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok]
    assert [(Path(o.name).name, o.found, o.new) for o in outcomes] == [
        ("2026-11-16.txt", 3, 3), ("2026-11-17.txt", 2, 2), ("2026-11-18.txt", 3, 3),
        ("2026-11-19.txt", 2, 2), ("2026-11-20.txt", 2, 2), ("2026-11-21.txt", 3, 3),
        ("2026-11-22.txt", 2, 2), ("2026-11-17.html", 2, 0), ("2026-11-19.html", 2, 0),
        ("feed.xml", 6, 1), ("atom.xml", 2, 1),
    ]
    week = stored(sessions)
    assert len(week) == 19
    assert (date(2026, 11, 17), "The Empty Chair") in week
    assert (date(2026, 11, 22), "A Note for Weekend Readers") in week


def test_ingesting_the_same_sources_twice_changes_nothing(sessions: sessionmaker[Session],
                                                         client: httpx.Client) -> None:
    ingest(EVERYTHING, sessions, client)
    before = stored(sessions)
    again = ingest(EVERYTHING, sessions, client)
    assert sum(o.new for o in again) == 0
    assert stored(sessions) == before


def test_a_web_page_read_first_makes_the_text_page_of_that_day_a_no_op(
        sessions: sessionmaker[Session], client: httpx.Client) -> None:
    [web] = ingest([str(EXAMPLES / "web" / "2026-11-19.html")], sessions, client)
    [text] = ingest([str(EXAMPLES / "pages" / "2026-11-19.txt")], sessions, client)
    assert (web.new, text.found, text.new) == (2, 2, 0)


def test_a_bad_source_is_reported_and_the_others_still_go_in(tmp_path: Path, sessions: sessionmaker[Session],
                                                            client: httpx.Client) -> None:
    chrome_only = tmp_path / "chrome.txt"
    chrome_only.write_text("Daily Pages\n\nStudy Newsletter\n\nEnter your email below\n")
    sources = [str(tmp_path / "missing.txt"), str(chrome_only), str(EXAMPLES / "pages" / "2026-11-20.txt")]
    outcomes = ingest(sources, sessions, client)
    assert [(o.ok, o.new) for o in outcomes] == [(False, 0), (False, 0), (True, 2)]
    assert outcomes[0].error == "no such file or folder"
    assert outcomes[1].error.startswith("no excerpts found")
    assert len(stored(sessions)) == 2


def test_pages_and_feeds_are_fetched_over_http(sessions: sessionmaker[Session], client: httpx.Client) -> None:
    with serve_folder(EXAMPLES) as base:
        outcomes = ingest([f"{base}/web/2026-11-17.html", f"{base}/feed.xml"], sessions, client)
    assert [(o.found, o.new) for o in outcomes] == [(2, 2), (6, 6)]


@pytest.mark.skipif(not SEED.exists(), reason="the shared seed page is beside the repository in CI")
def test_the_real_seed_page_gives_its_two_excerpts(sessions: sessionmaker[Session],
                                                   client: httpx.Client) -> None:
    [outcome] = ingest([str(SEED)], sessions, client)
    assert (outcome.found, outcome.new) == (2, 2)
    assert stored(sessions, IsoWeek(2010, 52)) == [(date(2010, 12, 28), "Weep, My Soul"),
                                                   (date(2010, 12, 28), "The Group Beyond the External Veil")]


NEW_SHAPES = [str(EXAMPLES / "bites"), str(EXAMPLES / "blog")]


def test_the_sample_week_in_the_archive_s_other_shapes_goes_in_beside_the_rest(
        sessions: sessionmaker[Session], client: httpx.Client) -> None:
    ingest(EVERYTHING, sessions, client)
    outcomes = ingest(NEW_SHAPES, sessions, client)
    assert [(Path(o.name).name, o.found, o.new, o.ok) for o in outcomes] == [
        ("2026-11-18.txt", 3, 3, True), ("2026-11-20.txt", 2, 2, True),
        ("2026-11-19-the-long-way-round.html", 1, 1, True), ("feed.xml", 1, 1, True),
    ]
    week = stored(sessions)
    assert len(week) == 19 + 7
    assert (date(2026, 11, 18), "What If I Fall Asleep?") in week
    assert (date(2026, 11, 22), "Why We Don’t Clap") in week


def test_each_source_reports_how_many_blocks_it_dropped(sessions: sessionmaker[Session],
                                                        client: httpx.Client) -> None:
    outcomes = ingest(NEW_SHAPES, sessions, client)
    explained = explain_sources(NEW_SHAPES, client)
    assert [o.dropped for o in outcomes] == [len(e.reading.dropped) for e in explained if e.reading]
    assert all(o.dropped > 0 for o in outcomes)


def test_explain_reads_every_source_and_stores_nothing(sessions: sessionmaker[Session], client: httpx.Client,
                                                       tmp_path: Path) -> None:
    explained = explain_sources([*NEW_SHAPES, str(tmp_path / "gone.txt")], client)
    assert [e.error for e in explained] == ["", "", "", "", "no such file or folder"]
    assert sum(len(e.reading.found) for e in explained if e.reading) == 7
    with sessions() as session:
        assert excerpt_store.count(session) == 0


def test_a_widget_line_the_site_repeats_on_its_pages_is_dropped_when_they_are_ingested_together(
        sessions: sessionmaker[Session], client: httpx.Client, tmp_path: Path) -> None:
    widget = "Our reading room is open on Tuesdays, bring a friend along."
    for day, title in ((18, "Put the Phone in Another Room"), (20, "Read the Same Paragraph Twice")):
        page = (EXAMPLES / "bites" / f"2026-11-{day}.txt").read_text(encoding="utf-8")
        (tmp_path / f"{day}.txt").write_text(page.replace("\nDaily Study Q&A", f"\n{widget}\n\nDaily Study Q&A"),
                                             encoding="utf-8")
        assert title in page
    [alone] = explain_sources([str(tmp_path / "20.txt")], client)
    assert alone.reading is not None
    assert widget in alone.reading.excerpts[0].text  # one page alone cannot tell it from prose
    ingest([str(tmp_path)], sessions, client)
    with sessions() as session:
        texts = [e.text for e in excerpt_store.in_week(session, W47)]
    assert len(texts) == 5
    assert not [text for text in texts if widget in text]
