"""The preheader: the line an inbox shows beside the subject, before the email is opened.

One sentence that names what is inside, short enough for a phone's inbox row:

    This week: “The Lamp in the Window”, “Two Kinds of Effort” and 3 more, from the lessons of
    16–22 November 2026.

The layout hides it in the message itself and pads it with invisible characters, so an inbox does not
run on into the first words of the body ("Week 47 · ...").
"""

from __future__ import annotations

from collections.abc import Sequence

from newsletter.content.excerpt import Excerpt
from newsletter.templating import date_range, long_date
from newsletter.weeks import IsoWeek

# Inboxes show 40 to 140 characters of it; past that it only costs bytes.
MAX_CHARACTERS = 140
_ELLIPSIS = "…"


def preheader(week: IsoWeek, excerpts: Sequence[Excerpt]) -> str:
    """The sentence for an issue of `excerpts` (at least one), at most MAX_CHARACTERS long."""
    if not excerpts:
        raise ValueError("a preheader needs at least one excerpt")
    titles = [" ".join(excerpt.title.split()) for excerpt in excerpts]
    if len(titles) == 1:
        when = f"from the lesson of {long_date(excerpts[0].lesson_date)}."
    else:
        when = f"from the lessons of {date_range(week.monday, week.sunday)}."
    for named in (2, 1):
        line = _sentence(titles, named, when)
        if len(line) <= MAX_CHARACTERS:
            return line
    # Even the first title alone is too long: shorten it at a word, keeping the rest of the sentence.
    room = MAX_CHARACTERS - len(_sentence(["", *titles[1:]], 1, when)) - len(_ELLIPSIS)
    return _sentence([_shortened(titles[0], room), *titles[1:]], 1, when)


def _sentence(titles: Sequence[str], named: int, when: str) -> str:
    quoted = [f"“{title}”" for title in titles[:named]]
    rest = len(titles) - len(quoted)
    if rest:
        quoted = [", ".join(quoted), f"{'one' if rest == 1 else rest} more"]
    listed = " and ".join(quoted)
    return f"This week: {listed}, {when}"


def _shortened(title: str, room: int) -> str:
    cut = title[:room]
    if " " in cut and not title[room:room + 1].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.") + _ELLIPSIS
