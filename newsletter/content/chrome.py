"""Site chrome: the lines a rule can name, and the lines a site repeats on page after page.

Two signals, each with a reason `--explain` prints. The rules below name the chrome of the daily-page
family and of WordPress blogs (sign-up box, sharing widgets, comment links, post meta, copyright). The
second signal needs no rule: a line that recurs on several pages of one site is furniture, not prose, so
an unknown widget is dropped once two pages of the site carry it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from newsletter.content.excerpt import normalise

# Lines no excerpt ever is, by what they say. Each pattern must match the whole (short) block.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), name) for pattern, name in (
        (r"(?:[\w'’&-]+ ){0,3}newsletter", "newsletter box"),
        (r"free weekly updates\b.*", "newsletter box"),
        (r"enter your e-?mail\b.*", "newsletter box"),
        (r"(?:sign up|subscribe)(?: (?:now|here|today|for|to)\b.{0,60})?[.!]?", "newsletter box"),
        (r"privacy\s*:.*", "newsletter box"),
        (r"share this\b.{0,80}", "sharing widget"),
        (r"like this\s*:.{0,80}", "sharing widget"),
        (r"(?:(?:facebook|twitter|x|whatsapp|telegram|email|e-mail|print|pinterest|linkedin)\s*[|·,]?\s*){1,9}",
         "sharing widget"),
        (r"related(?: material| posts?| articles?)?\s*:.{0,200}", "related links"),
        (r"(?:leave a (?:comment|reply)|comments? (?:are )?closed|no comments(?: yet)?|comments?|reply|cancel reply"
         r"|post comment|\d+ (?:comments?|responses?|replies)(?: to .{0,120})?)[.!:]?", "comments"),
        (r"(?:[«←‹<]\s*)?(?:previous|next|older|newer) (?:post|page|entry|lesson|article)s?\b.{0,120}",
         "previous/next links"),
        (r"(?:copyright|©|\(c\) \d{4}).{0,200}", "copyright line"),
        (r"(?:posted|published|filed) (?:on|in|by|under)\b.{0,120}", "post meta"),
        (r"(?:tags|categories|category)\s*:.{0,200}", "post meta"),
        (r"(?:read more|continue reading)\b.{0,80}", "read-more link"),
        (r"(?:search|search for|menu|skip to content|home)\s*:?", "site navigation"),
    )
)
_RULE_MAX_WORDS = 30


def chrome_rule(text: str) -> str:
    """The name of the rule that calls this block chrome, or "" when none does."""
    squashed = " ".join(text.split())
    if len(squashed.split()) > _RULE_MAX_WORDS:
        return ""
    return next((name for pattern, name in _RULES if pattern.fullmatch(squashed)), "")


def series(kind: str) -> str:
    """The words a page kind shares with its section headings: "Daily Study Bites" -> "daily study".

    Only a kind of three or more words has a series name; "The Daily Page" has none.
    """
    words = [w for w in normalise(kind).split() if w != "the"]
    return " ".join(words[:-1]) if len(words) >= 3 else ""


def repeats_kind(text: str, kind: str) -> bool:
    """Whether a block names the page's kind again ("Daily Pages" under "The Daily Page"): the footer starts."""
    if not kind:
        return False
    def bare(words: str) -> str:
        return " ".join(w for w in normalise(words).split() if w != "the").rstrip("s")
    return bare(text) == bare(kind)


class Repeats:
    """Counts the pages of one site each line appears on; a line on two or more of them is chrome."""

    def __init__(self) -> None:
        self._pages: defaultdict[str, set[str]] = defaultdict(set)

    def learn(self, page: str, lines: Iterable[str]) -> None:
        """Record the lines of one page. A line twice on one page is not counted twice: two excerpts of a
        page may share a sentence, and a widget shows itself by coming back on other pages."""
        for line in lines:
            self._pages[normalise(line)].add(page)

    def pages(self, line: str) -> int:
        """On how many pages the line was seen."""
        return len(self._pages.get(normalise(line), ()))

    def repeated(self, line: str) -> bool:
        return self.pages(line) >= 2
