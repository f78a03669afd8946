"""The week's selection: which excerpts go into an issue, and why each one does or does not."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date

from newsletter.config.settings import SelectionSettings
from newsletter.content.excerpt import Excerpt, normalise
from newsletter.issues.choices import EditorChoices
from newsletter.weeks import IsoWeek

KEPT = "kept"
ALREADY_SENT = "already sent in an earlier issue"
DUPLICATE = "duplicate of an earlier excerpt"
PINNED = "pinned by the editor"
EXCLUDED = "excluded by the editor"


@dataclass(frozen=True)
class Decision:
    """What happened to one excerpt: kept or dropped, and a reason a person can read."""

    excerpt: Excerpt
    kept: bool
    reason: str


@dataclass(frozen=True)
class Selection:
    """The decisions for one week, in the order the excerpts were considered."""

    week: IsoWeek
    decisions: tuple[Decision, ...]
    order: tuple[str, ...] = ()  # the editor's order, by content hash

    @property
    def kept(self) -> tuple[Excerpt, ...]:
        """The kept excerpts, in the editor's order first, then by date."""
        kept = [d.excerpt for d in self.decisions if d.kept]
        rank = {content_hash: n for n, content_hash in enumerate(self.order)}
        return tuple(sorted(kept, key=lambda e: rank.get(e.content_hash, len(rank))))

    @property
    def dropped(self) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if not d.kept)

    @property
    def words(self) -> int:
        return sum(e.words for e in self.kept)


def select(excerpts: Iterable[Excerpt], week: IsoWeek, already_sent: AbstractSet[str],
           policy: SelectionSettings, choices: EditorChoices | None = None) -> Selection:
    """Choose the excerpts of `week`'s issue.

    `excerpts` should come in page order (as the store returns them); they are considered by
    lesson date, keeping that order within a day, so the same sequence always gives the same
    selection. `already_sent` holds the content hashes of excerpts sent in earlier issues.
    Each excerpt is kept unless it is outside the week, already sent, a repeat of an earlier one,
    or would break one of the policy's limits; a large excerpt that misses the word budget does
    not stop a smaller later one from fitting. An empty selection means no issue this week.

    The editor's `choices` are one more input: an excluded excerpt is dropped, a pinned one (of this
    week) is kept whatever the limits say and counts towards them, and `ordered` puts the kept ones
    in the editor's order (the rest follow in theirs). The reasons say which decisions were the editor's.
    """
    choices = choices or EditorChoices()
    pinned, excluded = set(choices.pinned), set(choices.excluded)
    # Pinned excerpts are considered first, so the policy's room goes to them before the others.
    ordered = sorted(excerpts, key=lambda e: (e.content_hash not in pinned, e.lesson_date))
    tally = _Tally(policy)
    seen: set[str] = set()
    decisions = []
    for excerpt in ordered:
        reason = _excluded(excerpt, week, already_sent, seen)
        if reason is None and excerpt.content_hash in excluded:
            reason = EXCLUDED
        if reason is None:
            seen.add(excerpt.content_hash)
            refused = tally.consider(excerpt, forced=excerpt.content_hash in pinned)
            reason = refused if refused is not None else (PINNED if excerpt.content_hash in pinned else None)
        decisions.append(Decision(excerpt, reason in (None, PINNED), reason or KEPT))
    decisions.sort(key=lambda d: d.excerpt.lesson_date)  # the table reads by date; kept() takes the editor's order
    return Selection(week, tuple(decisions), tuple(choices.ordered))


def _excluded(excerpt: Excerpt, week: IsoWeek, already_sent: AbstractSet[str],
              seen: AbstractSet[str]) -> str | None:
    """Why the excerpt cannot be in this issue whatever else is chosen, or None."""
    if excerpt.lesson_date not in week:
        return f"outside {week}"
    if excerpt.content_hash in already_sent:
        return ALREADY_SENT
    if excerpt.content_hash in seen:
        return DUPLICATE
    return None


class _Tally:
    """The running totals of the kept excerpts, checked against the policy's limits."""

    def __init__(self, policy: SelectionSettings) -> None:
        self.policy = policy
        self.count = 0
        self.words = 0
        self.per_day: Counter[date] = Counter()
        self.per_source: Counter[str] = Counter()
        # Excerpts considered so far per day and per source, kept or not, so that a reason can
        # say "4th from 2026-11-17" of the fourth one even though only two were kept.
        self.seen_per_day: Counter[date] = Counter()
        self.seen_per_source: Counter[str] = Counter()

    def consider(self, excerpt: Excerpt, *, forced: bool = False) -> str | None:
        """Keep `excerpt` if it fits (or is `forced`: pinned); otherwise leave the totals alone and say why not."""
        day, source = excerpt.lesson_date, _source_key(excerpt)
        self.seen_per_day[day] += 1
        if source:
            self.seen_per_source[source] += 1
        reason = None if forced else self._refusal(excerpt, day, source)
        if reason is None:
            self.count += 1
            self.words += excerpt.words
            self.per_day[day] += 1
            if source:
                self.per_source[source] += 1
        return reason

    def _refusal(self, excerpt: Excerpt, day: date, source: str) -> str | None:
        policy = self.policy
        if self.count >= policy.max_excerpts:
            return f"limit of {policy.max_excerpts:,} excerpts reached"
        if self.per_day[day] >= policy.per_day:
            nth = ordinal(self.seen_per_day[day])
            return f"{nth} from {day.isoformat()} (per_day = {policy.per_day})"
        if source and self.per_source[source] >= policy.per_source:
            nth = ordinal(self.seen_per_source[source])
            return f'{nth} from source line "{excerpt.source}" (per_source = {policy.per_source})'
        total = self.words + excerpt.words
        if total > policy.max_words:
            return f"over the word budget ({total:,} of {policy.max_words:,} words)"
        return None


def _source_key(excerpt: Excerpt) -> str:
    # An excerpt without a source line shares a source with nothing, so it is never capped by one.
    return normalise(excerpt.source)


def ordinal(n: int) -> str:
    """1 -> "1st", 2 -> "2nd", 11 -> "11th", 23 -> "23rd"."""
    suffix = "th" if 11 <= n % 100 <= 13 else _SUFFIXES.get(n % 10, "th")
    return f"{n}{suffix}"


_SUFFIXES = {1: "st", 2: "nd", 3: "rd"}
