"""The preheader: the line an inbox shows beside the subject, before the email is opened.

One sentence that names what is inside, short enough for a phone's inbox row:

    This week: “The Lamp in the Window”, “Two Kinds of Effort” and 3 more, from the lessons of
    16–22 November 2026.

The layout hides it in the message itself and pads it with invisible characters, so an inbox does not
run on into the first words of the body ("Week 47 · ...").
"""

from __future__ import annotations

from collections.abc import Sequence

from babel.support import NullTranslations

from newsletter.content.excerpt import Excerpt
from newsletter.translations import date_range, long_date, translations
from newsletter.weeks import IsoWeek

# Inboxes show 40 to 140 characters of it; past that it only costs bytes.
MAX_CHARACTERS = 140
_ELLIPSIS = "…"


def preheader(week: IsoWeek, excerpts: Sequence[Excerpt], language: str = "en") -> str:
    """The sentence for an issue of `excerpts` (at least one), in `language`, at most MAX_CHARACTERS long."""
    if not excerpts:
        raise ValueError("a preheader needs at least one excerpt")
    words = _Words(translations(language))
    titles = [" ".join(excerpt.title.split()) for excerpt in excerpts]
    if len(titles) == 1:
        when = words.gettext("from the lesson of %(date)s.") % {
            "date": long_date(excerpts[0].lesson_date, language)}
    else:
        when = words.gettext("from the lessons of %(dates)s.") % {
            "dates": date_range(week.monday, week.sunday, language)}
    for named in (2, 1):
        line = words.sentence(titles, named, when)
        if len(line) <= MAX_CHARACTERS:
            return line
    # Even the first title alone is too long: shorten it at a word, keeping the rest of the sentence.
    room = MAX_CHARACTERS - len(words.sentence(["", *titles[1:]], 1, when)) - len(_ELLIPSIS)
    return words.sentence([_shortened(titles[0], room), *titles[1:]], 1, when)


class _Words:
    """The preheader's words in the reader's language."""

    def __init__(self, catalog: NullTranslations) -> None:
        self.gettext = catalog.gettext
        self.ngettext = catalog.ngettext

    def sentence(self, titles: Sequence[str], named: int, when: str) -> str:
        quoted = [self.gettext("“%(title)s”") % {"title": title} for title in titles[:named]]
        rest = len(titles) - len(quoted)
        if rest:
            more = (self.gettext("one more") if rest == 1
                    else self.ngettext("%(num)d more", "%(num)d more", rest) % {"num": rest})
            quoted = [", ".join(quoted), more]
        listed = self.gettext(" and ").join(quoted)
        return self.gettext("This week: %(listed)s, %(when)s") % {"listed": listed, "when": when}


def _shortened(title: str, room: int) -> str:
    cut = title[:room]
    if " " in cut and not title[room:room + 1].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.") + _ELLIPSIS
