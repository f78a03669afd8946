"""The week's selection: each rule by example, then the promises checked on generated weeks."""

from __future__ import annotations

import copy
import re
from collections import Counter
from datetime import date, timedelta
from itertools import cycle, islice

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.config.settings import SelectionSettings
from newsletter.content.excerpt import Excerpt, normalise, paragraph
from newsletter.issues.choices import EditorChoices
from newsletter.issues.selection import Decision, Selection, ordinal, select
from newsletter.weeks import IsoWeek

WEEK = IsoWeek(2026, 47)  # Monday 2026-11-16 .. Sunday 2026-11-22
MON, TUE, WED, THU, FRI, SAT, SUN = (WEEK.monday + timedelta(days=k) for k in range(7))
LETTERS = "From the 1st part of the Daily Lesson 11/17/26, Letters"
ARTICLES = "From the 2nd part of the Daily Lesson 11/17/26, Articles"
ROOMY = SelectionSettings(max_excerpts=50, max_words=100_000, per_day=50, per_source=50)
_VOCABULARY = ["a", "small", "group", "keeps", "the", "lamp", "lit", "while", "the", "road",
               "turns", "toward", "morning"]


def excerpt(title: str, day: date, words: int = 40, source: str = LETTERS,
            origin: str = "page.txt") -> Excerpt:
    """An excerpt whose body has exactly `words` words."""
    body = " ".join(islice(cycle(_VOCABULARY), words))
    return Excerpt(title, day, source, (paragraph(body),) if body else (), origin)


def titles(excerpts: tuple[Excerpt, ...]) -> list[str]:
    return [e.title for e in excerpts]


def reasons(selection: Selection) -> dict[str, str]:
    return {d.excerpt.title: d.reason for d in selection.dropped}


def test_select_keeps_everything_that_fits_ordered_by_date_then_page_order() -> None:
    given_order = [excerpt("Thursday one", THU), excerpt("Monday one", MON),
                   excerpt("Thursday two", THU), excerpt("Monday two", MON)]
    selection = select(given_order, WEEK, frozenset(), ROOMY)
    assert titles(selection.kept) == ["Monday one", "Monday two", "Thursday one", "Thursday two"]
    assert [d.reason for d in selection.decisions] == ["kept"] * 4
    assert selection.dropped == ()
    assert selection.words == 160


def test_select_drops_excerpts_dated_outside_the_week_but_keeps_its_first_and_last_day() -> None:
    given_order = [excerpt("Sunday before", MON - timedelta(days=1)), excerpt("Monday", MON),
                   excerpt("Sunday", SUN), excerpt("Monday after", SUN + timedelta(days=1))]
    selection = select(given_order, WEEK, frozenset(), ROOMY)
    assert titles(selection.kept) == ["Monday", "Sunday"]
    assert reasons(selection) == {"Sunday before": "outside 2026-W47",
                                  "Monday after": "outside 2026-W47"}


def test_select_drops_excerpts_sent_in_an_earlier_issue() -> None:
    sent = excerpt("Sent last week", TUE)
    selection = select([sent, excerpt("New", TUE)], WEEK, {sent.content_hash}, ROOMY)
    assert titles(selection.kept) == ["New"]
    assert reasons(selection) == {"Sent last week": "already sent in an earlier issue"}


def test_select_keeps_the_first_of_two_identical_excerpts() -> None:
    from_text = excerpt("Twice read", WED, origin="page.txt")
    from_feed = excerpt("Twice read", WED, origin="feed.xml")
    selection = select([from_text, from_feed], WEEK, frozenset(), ROOMY)
    assert selection.kept == (from_text,)
    assert selection.dropped == (Decision(from_feed, False, "duplicate of an earlier excerpt"),)


def test_select_caps_the_excerpts_from_one_lesson_date() -> None:
    policy = SelectionSettings(max_excerpts=6, max_words=3000, per_day=2, per_source=9)
    given_order = [excerpt("First", TUE), excerpt("Second", TUE), excerpt("Third", TUE),
                   excerpt("Fourth", TUE), excerpt("Next day", WED)]
    selection = select(given_order, WEEK, frozenset(), policy)
    assert titles(selection.kept) == ["First", "Second", "Next day"]
    assert reasons(selection) == {"Third": "3rd from 2026-11-17 (per_day = 2)",
                                  "Fourth": "4th from 2026-11-17 (per_day = 2)"}


def test_select_caps_the_excerpts_sharing_a_source_line_however_it_is_spelled() -> None:
    policy = SelectionSettings(max_excerpts=6, max_words=3000, per_day=9, per_source=1)
    respelled = "from the 1st  part of the DAILY Lesson 11/17/26, letters"
    given_order = [excerpt("Letters one", TUE), excerpt("Letters two", WED, source=respelled),
                   excerpt("Articles one", WED, source=ARTICLES)]
    selection = select(given_order, WEEK, frozenset(), policy)
    assert titles(selection.kept) == ["Letters one", "Articles one"]
    assert reasons(selection) == {
        "Letters two": f'2nd from source line "{respelled}" (per_source = 1)'}


def test_select_counts_every_kept_excerpt_of_a_source_against_its_cap() -> None:
    policy = SelectionSettings(max_excerpts=6, max_words=3000, per_day=9, per_source=2)
    given_order = [excerpt("Letters one", MON), excerpt("Letters two", TUE), excerpt("Letters three", WED)]
    selection = select(given_order, WEEK, frozenset(), policy)
    assert titles(selection.kept) == ["Letters one", "Letters two"]
    assert reasons(selection) == {"Letters three": f'3rd from source line "{LETTERS}" (per_source = 2)'}


def test_select_never_caps_excerpts_without_a_source_line_as_one_source() -> None:
    policy = SelectionSettings(max_excerpts=6, max_words=3000, per_day=9, per_source=1)
    selection = select([excerpt("Bare one", TUE, source=""), excerpt("Bare two", TUE, source="")],
                       WEEK, frozenset(), policy)
    assert titles(selection.kept) == ["Bare one", "Bare two"]


def test_select_stops_at_the_most_excerpts_an_issue_holds() -> None:
    policy = SelectionSettings(max_excerpts=6, max_words=3000, per_day=2, per_source=9)
    days = [MON, MON, TUE, TUE, WED, WED, THU, THU]
    given_order = [excerpt(f"Excerpt {n}", day) for n, day in enumerate(days, start=1)]
    selection = select(given_order, WEEK, frozenset(), policy)
    assert titles(selection.kept) == [f"Excerpt {n}" for n in range(1, 7)]
    assert reasons(selection) == {"Excerpt 7": "limit of 6 excerpts reached",
                                  "Excerpt 8": "limit of 6 excerpts reached"}


def test_select_skips_an_excerpt_over_the_word_budget_and_still_fits_a_smaller_one() -> None:
    policy = SelectionSettings(max_excerpts=6, max_words=3000, per_day=9, per_source=9)
    given_order = [excerpt("Long", MON, words=1500), excerpt("Longer", TUE, words=1620),
                   excerpt("Short", WED, words=1000), excerpt("One more", THU, words=501)]
    selection = select(given_order, WEEK, frozenset(), policy)
    assert titles(selection.kept) == ["Long", "Short"]
    assert selection.words == 2500
    assert reasons(selection) == {"Longer": "over the word budget (3,120 of 3,000 words)",
                                  "One more": "over the word budget (3,001 of 3,000 words)"}


def test_select_fills_the_word_budget_exactly() -> None:
    policy = SelectionSettings(max_excerpts=6, max_words=100, per_day=9, per_source=9)
    selection = select([excerpt("Half", MON, words=50), excerpt("Other half", TUE, words=50)],
                       WEEK, frozenset(), policy)
    assert titles(selection.kept) == ["Half", "Other half"]
    assert selection.words == 100


@pytest.mark.parametrize("given_order", [[], [excerpt("Last week", MON - timedelta(days=3))]],
                         ids=["no excerpts", "none in the week"])
def test_select_returns_an_empty_selection_for_a_week_without_excerpts(
        given_order: list[Excerpt]) -> None:
    selection = select(given_order, WEEK, frozenset(), ROOMY)
    assert selection.week == WEEK
    assert selection.kept == ()
    assert selection.words == 0
    assert len(selection.decisions) == len(given_order)


def test_select_reads_any_iterable_once() -> None:
    given_order = [excerpt("Friday", FRI), excerpt("Saturday", SAT)]
    selection = select(iter(given_order), WEEK, frozenset(), ROOMY)
    assert titles(selection.kept) == ["Friday", "Saturday"]


@pytest.mark.parametrize(("n", "expected"),
                         [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"),
                          (12, "12th"), (13, "13th"), (21, "21st"), (22, "22nd"), (111, "111th")],
                         ids=str)
def test_ordinal_spells_numbers_as_english_ordinals(n: int, expected: str) -> None:
    assert ordinal(n) == expected


# Generated weeks: dates a few days either side of the week, sources spelled several ways, few
# titles and word counts so that identical excerpts turn up too.
_DAYS = [MON + timedelta(days=k) for k in range(-3, 10)]
_SOURCES = [LETTERS, " from the 1st part of the  daily lesson 11/17/26, LETTERS", ARTICLES, ""]
_TITLES = ["Light", "Vessel", "Group", "Road", "Lamp"]

_excerpts = st.builds(excerpt, title=st.sampled_from(_TITLES), day=st.sampled_from(_DAYS),
                      words=st.sampled_from([0, 5, 40, 90, 150]), source=st.sampled_from(_SOURCES),
                      origin=st.sampled_from(["page.txt", "feed.xml"]))
_policies = st.builds(SelectionSettings, max_excerpts=st.integers(1, 6),
                      max_words=st.integers(1, 400), per_day=st.integers(1, 3),
                      per_source=st.integers(1, 3))


@st.composite
def _weeks(draw: st.DrawFn) -> tuple[list[Excerpt], frozenset[str], SelectionSettings]:
    given_order = draw(st.lists(_excerpts, max_size=14))
    hashes = sorted({e.content_hash for e in given_order})
    sent = draw(st.frozensets(st.sampled_from(hashes))) if hashes else frozenset()
    return given_order, sent | {"f" * 64}, draw(_policies)


_property = settings(max_examples=200, deadline=None)


@_property
@given(_weeks())
def test_select_keeps_every_limit(
        case: tuple[list[Excerpt], frozenset[str], SelectionSettings]) -> None:
    given_order, sent, policy = case
    kept = select(given_order, WEEK, sent, policy).kept
    assert len(kept) <= policy.max_excerpts
    assert sum(e.words for e in kept) <= policy.max_words
    assert max(Counter(e.lesson_date for e in kept).values(), default=0) <= policy.per_day
    sources = Counter(normalise(e.source) for e in kept if e.source)
    assert max(sources.values(), default=0) <= policy.per_source
    assert all(e.lesson_date in WEEK for e in kept)
    assert not any(e.content_hash in sent for e in kept)
    assert len({e.content_hash for e in kept}) == len(kept)


@_property
@given(_weeks())
def test_select_decides_once_for_every_excerpt_in_date_then_given_order(
        case: tuple[list[Excerpt], frozenset[str], SelectionSettings]) -> None:
    given_order, sent, policy = case
    selection = select(given_order, WEEK, sent, policy)
    considered = [d.excerpt for d in selection.decisions]
    assert considered == sorted(given_order, key=lambda e: e.lesson_date)
    assert all((d.reason == "kept") == d.kept for d in selection.decisions)
    assert selection.words == sum(e.words for e in selection.kept)


@_property
@given(_weeks())
def test_select_gives_the_same_selection_for_the_same_excerpts(
        case: tuple[list[Excerpt], frozenset[str], SelectionSettings]) -> None:
    given_order, sent, policy = case
    first = select(given_order, WEEK, sent, policy)
    assert select(given_order, WEEK, sent, policy) == first
    assert select(copy.deepcopy(given_order), WEEK, set(sent), policy) == first
    assert select(tuple(given_order), WEEK, sent, policy) == first
    assert select(sorted(given_order, key=lambda e: e.lesson_date), WEEK, sent, policy) == first


_LIMIT_REASONS = {
    "max_excerpts": re.compile(r"limit of [\d,]+ excerpts reached"),
    "per_day": re.compile(r"\d+(st|nd|rd|th) from \d{4}-\d\d-\d\d \(per_day = \d+\)"),
    "per_source": re.compile(r'\d+(st|nd|rd|th) from source line ".*" \(per_source = \d+\)'),
    "max_words": re.compile(r"over the word budget \([\d,]+ of [\d,]+ words\)"),
}


def _broken_limits(kept: list[Excerpt], candidate: Excerpt, policy: SelectionSettings) -> set[str]:
    """The limits that keeping `candidate` beside `kept` would break."""
    broken = set()
    if len(kept) + 1 > policy.max_excerpts:
        broken.add("max_excerpts")
    if sum(e.lesson_date == candidate.lesson_date for e in kept) + 1 > policy.per_day:
        broken.add("per_day")
    same_source = sum(normalise(e.source) == normalise(candidate.source) for e in kept)
    if candidate.source and same_source + 1 > policy.per_source:
        broken.add("per_source")
    if sum(e.words for e in kept) + candidate.words > policy.max_words:
        broken.add("max_words")
    return broken


@_property
@given(_weeks())
def test_select_drops_an_excerpt_only_for_a_reason_that_holds_when_it_is_considered(
        case: tuple[list[Excerpt], frozenset[str], SelectionSettings]) -> None:
    given_order, sent, policy = case
    kept: list[Excerpt] = []
    candidates: set[str] = set()
    for decision in select(given_order, WEEK, sent, policy).decisions:
        candidate = decision.excerpt
        if decision.kept:
            assert candidate.lesson_date in WEEK
            assert candidate.content_hash not in sent | candidates
            assert not _broken_limits(kept, candidate, policy)
            kept.append(candidate)
        elif decision.reason == "outside 2026-W47":
            assert candidate.lesson_date not in WEEK
        elif decision.reason == "already sent in an earlier issue":
            assert candidate.lesson_date in WEEK
            assert candidate.content_hash in sent
        elif decision.reason == "duplicate of an earlier excerpt":
            assert candidate.lesson_date in WEEK
            assert candidate.content_hash in candidates - sent
        else:
            limit = next(name for name, pattern in _LIMIT_REASONS.items()
                         if pattern.fullmatch(decision.reason))
            assert limit in _broken_limits(kept, candidate, policy)
        if candidate.lesson_date in WEEK and candidate.content_hash not in sent:
            candidates.add(candidate.content_hash)


def test_the_editors_choices_are_one_more_input_and_say_so_in_the_reasons() -> None:
    monday = WEEK.monday
    first, second, third = (excerpt(f"Title {n}", monday, words=100, source=f"part {n}") for n in range(3))
    policy = SelectionSettings(max_excerpts=7, max_words=2500, per_day=1, per_source=1)
    plain = select([first, second, third], WEEK, set(), policy)
    assert plain.kept == (first,)
    choices = EditorChoices(pinned=(second.content_hash,), excluded=(first.content_hash,),
                            ordered=(third.content_hash,))
    chosen = select([first, second, third], WEEK, set(), policy, choices)
    reasons = {d.excerpt.title: (d.kept, d.reason) for d in chosen.decisions}
    assert reasons == {"Title 0": (False, "excluded by the editor"), "Title 1": (True, "pinned by the editor"),
                       "Title 2": (False, "2nd from 2026-11-16 (per_day = 1)")}
    assert select([first, second, third], WEEK, set(), policy, choices) == chosen  # still a pure function


def test_the_editors_order_comes_first_and_pins_outside_the_week_are_not_kept() -> None:
    days = [WEEK.monday + timedelta(days=n) for n in range(3)]
    a, b, c = (excerpt(f"Day {n}", day, words=100, source=f"s{n}") for n, day in enumerate(days))
    stray = excerpt("Last week", WEEK.monday - timedelta(days=1), words=100, source="s9")
    policy = SelectionSettings(max_excerpts=7, max_words=2500, per_day=1, per_source=1)
    chosen = select([a, b, c, stray], WEEK, set(), policy,
                    EditorChoices(pinned=(stray.content_hash,), ordered=(c.content_hash, a.content_hash)))
    assert chosen.kept == (c, a, b)
    assert {d.excerpt.title: d.reason for d in chosen.dropped} == {"Last week": "outside 2026-W47"}
