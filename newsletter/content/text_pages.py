"""Read a plain-text daily page into excerpts: every block classified as title, body, source or chrome.

The page family shares one frame: site header, a page heading with the date ("The Daily Page - 28-12-10",
"Daily Study Bites - 04-08-10"), an intro line, the excerpts, then a footer that names the page kind again
and carries the sign-up box. Between heading and footer an excerpt is a title, its paragraphs and, usually, a
closing source line; in the short-form pages excerpts sit under section headings (the series name plus a
word, "Daily Study Tip") with a one-line description, and an excerpt without a source line ends where the
next section heading, title or the footer begins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from newsletter.content.chrome import Repeats, repeats_kind, series
from newsletter.content.excerpt import Excerpt, ParagraphKind, normalise
from newsletter.content.lesson_dates import continues_source_line, page_heading_date, page_kind
from newsletter.content.page_patterns import ENGLISH, PagePatterns
from newsletter.content.reading import Cause, DateFrom, Dropped, Found, Reading, bare_title, without_repeats
from newsletter.errors import SourceError

NO_EXCERPTS = (
    "no excerpts found: nothing on the page can be told apart from site chrome; expected a title, "
    "paragraphs, and a closing line like 'From the 1st part of the Daily Lesson 12/28/10, ...'"
)

# Prose ends its sentence; a title does not (though it may end in "?").
_SENTENCE_END = re.compile(r"[.!…][\"'”’)\]]*$")
_ELLIPSIS_LEAD = re.compile(r"^[\"'“‘(\[]?(?:\.\.\.|…)")
_TITLE_MAX_WORDS = 12


def _squash(text: str) -> str:
    return " ".join(text.split())


def text_blocks(text: str, patterns: PagePatterns = ENGLISH) -> list[str]:
    """Blank-line separated blocks, hard-wrapped lines joined; a source line starts its own block and takes
    in a continuation line ("and from the 2nd part ...") even across a blank line."""
    blocks: list[str] = []
    current: list[str] = []
    for line in [*text.lstrip("\ufeff").splitlines(), ""]:
        if current and (not line.strip() or patterns.is_source_line(line)):
            blocks.append(_squash(" ".join(current)))
            current = []
        if not line.strip():
            continue
        if not current and blocks and continues_source_line(line) and patterns.is_source_line(blocks[-1]):
            current = [blocks.pop()]
        current.append(line)
    return blocks


def is_body(block: str, patterns: PagePatterns = ENGLISH) -> bool:
    """Whether a block reads as a body paragraph rather than a title or a chrome line."""
    if patterns.paragraph(block).kind is not ParagraphKind.TEXT or _ELLIPSIS_LEAD.match(block):
        return True
    return len(block.split()) > _TITLE_MAX_WORDS or _SENTENCE_END.search(block) is not None


def _title_starts(blocks: list[str], indices: list[int], patterns: PagePatterns) -> list[int]:
    """Positions in `indices` of the blocks that read as a title and are followed by a body paragraph."""
    return [k for k, i in enumerate(indices[:-1])
            if not is_body(blocks[i], patterns) and is_body(blocks[indices[k + 1]], patterns)]


@dataclass(frozen=True)
class _Page:
    """What the frame of the page says: its blocks, heading date and kind, and the site's repeats."""

    blocks: list[str]
    origin: str
    heading_date: date | None
    kind: str
    repeats: Repeats
    patterns: PagePatterns


class _Reader:
    """Walks one page's blocks once, deciding each block's role."""

    def __init__(self, page: _Page) -> None:
        self.page = page
        self.found: list[Found] = []
        self.dropped: dict[int, Dropped] = {}

    def drop(self, index: int, cause: Cause, reason: str) -> None:
        self.dropped.setdefault(index, Dropped(self.page.blocks[index], cause, reason))

    def is_section_heading(self, index: int) -> bool:
        name = series(self.page.kind)
        text = normalise(self.page.blocks[index])
        return bool(name) and text.startswith(name + " ") and not self.is_body(index)

    def is_body(self, index: int) -> bool:
        return is_body(self.page.blocks[index], self.page.patterns)

    def is_description(self, index: int, end: int) -> bool:
        """Whether the block under a section heading describes the section: a title follows it (read as a
        sentence or not, it is then not the excerpt's title itself)."""
        blocks = self.page.blocks
        shapes = [self.is_body(j) for j in range(index, min(index + 3, end))]
        if len(shapes) < 2 or self.page.patterns.is_source_line(blocks[index]) or self.is_section_heading(index):
            return False
        return (shapes[0] and not shapes[1]) or shapes == [False, False, True]

    def read_region(self, start: int, end: int) -> None:
        blocks = self.page.blocks
        run: list[int] = []
        i = start
        while i < end:
            if self.is_section_heading(i):
                self.close(run, None)
                run = []
                self.drop(i, Cause.CHROME, "section heading")
                if self.is_description(i + 1, end):
                    self.drop(i + 1, Cause.CHROME, "section description")
                    i += 1
            elif self.page.patterns.is_source_line(blocks[i]):
                self.close(run, i)
                run = []
            else:
                run.append(i)
            i += 1
        self.close(run, None)

    def close(self, run: list[int], source: int | None) -> None:
        """Make the excerpts of one run of blocks that ends at a source line, a section heading or the footer."""
        blocks = self.page.blocks
        rules = {i: self.page.patterns.chrome_rule(blocks[i]) for i in run}
        plain = [i for i in run if not rules[i] and not self.page.repeats.repeated(blocks[i])]
        if source is None:
            for i in run:
                self.why_chrome(i, rules[i])
            self.make(plain, [plain[k] for k in _title_starts(blocks, plain, self.page.patterns)], None)
            return
        # A source line closes one excerpt. Its title is looked for among the lines no rule names and the
        # site does not repeat; when none will do (the same excerpt on two pages of one site), among all but
        # the widgets. From the title to the source line everything is body, but a widget that is no sentence.
        widgets = [i for i in run if not (rules[i] and not self.is_body(i))]
        patterns = self.page.patterns
        in_plain, in_widgets = _title_starts(blocks, plain, patterns), _title_starts(blocks, widgets, patterns)
        title = plain[in_plain[0]] if in_plain else widgets[in_widgets[0]] if in_widgets else (
            widgets[0] if widgets else None)
        start = run.index(title) if title is not None else len(run)
        for i in run[:start]:
            self.why_chrome(i, rules[i])
            self.drop(i, Cause.CHROME, "before the title" if self.found else "intro")
        kept = set(widgets)
        for i in run[start:]:
            if i not in kept:
                self.drop(i, Cause.CHROME, rules[i])
        self.make([i for i in run[start:] if i in kept], [title] if title is not None else [], source)

    def make(self, kept: list[int], starts: list[int], source: int | None) -> None:
        """Excerpts from `kept` blocks, one at each of `starts`; the last one closed by `source`."""
        if not starts:
            for i in kept:
                self.drop(i, Cause.CHROME, "no title above it" if self.found else "intro")
            if source is not None:
                self.drop(source, Cause.EMPTY, "a source line with no excerpt above it")
            return
        position = {index: n for n, index in enumerate(kept)}
        for i in kept[:position[starts[0]]]:
            self.drop(i, Cause.CHROME, "before the title" if self.found else "intro")
        bounds = [position[start] for start in starts] + [len(kept)]
        for n in range(len(starts)):
            self.excerpt(kept[bounds[n]:bounds[n + 1]], source if n == len(starts) - 1 else None)

    def why_chrome(self, index: int, rule: str) -> None:
        """Drop a block a rule names, or one the site repeats; leave any other for the caller."""
        text = self.page.blocks[index]
        if rule:
            self.drop(index, Cause.CHROME, rule)
        elif self.page.repeats.repeated(text):
            self.drop(index, Cause.CHROME, f"repeats on {self.page.repeats.pages(text)} pages of this site")

    def excerpt(self, indices: list[int], source: int | None) -> None:
        blocks = self.page.blocks
        title, *body = indices
        line = blocks[source] if source is not None else ""
        if not body:
            self.drop(title, Cause.EMPTY, "a title with no paragraphs")
            if source is not None:
                self.drop(source, Cause.EMPTY, "closes a title with no paragraphs")
            return
        lesson_date, date_from = self.page.patterns.source_line_date(line), DateFrom.SOURCE_LINE
        if lesson_date is None:
            lesson_date, date_from = self.page.heading_date, DateFrom.PAGE_HEADER
        if lesson_date is None:
            what = f"cannot read the date in {line!r}" if line else (
                f"the excerpt {blocks[title]!r} has no source line")
            raise SourceError(self.page.origin, f"{what} and the page has no heading like "
                              "'The Daily Page - DD-MM-YY': write the lesson date as M/D/YY")
        excerpt = Excerpt(title=bare_title(blocks[title]), lesson_date=lesson_date, source=line,
                          paragraphs=tuple(self.page.patterns.paragraph(blocks[i]) for i in body),
                          origin=self.page.origin)
        self.found.append(Found(excerpt, date_from))


def read_text_page(text: str, origin: str, repeats: Repeats | None = None,
                   patterns: PagePatterns = ENGLISH) -> Reading:
    """Read one daily page given as text: its excerpts and every dropped block with its reason.

    Args:
        text: the page, any line endings, with or without a byte order mark.
        origin: where the page came from; recorded on each excerpt and named in errors.
        repeats: the lines of this page and of the other pages of its site; a line on several is chrome.
        patterns: what the page's language adds to the English source lines, labels and chrome.

    Raises:
        SourceError: no excerpt can be told apart from chrome, or an excerpt has no readable date.
    """
    blocks = text_blocks(text, patterns)
    first_source = next((i for i, block in enumerate(blocks) if patterns.is_source_line(block)), len(blocks))
    heading = next((i for i in range(first_source) if page_heading_date(blocks[i]) is not None), None)
    kind = page_kind(blocks[heading]) if heading is not None else ""
    page = _Page(blocks, origin, page_heading_date(blocks[heading]) if heading is not None else None, kind,
                 repeats or Repeats(), patterns)
    reader = _Reader(page)
    start = 0
    if heading is not None:
        for i in range(heading):
            reader.drop(i, Cause.CHROME, "site header above the page heading")
        reader.drop(heading, Cause.CHROME, "page heading")
        start = heading + 1
    last_source = max((i for i, block in enumerate(blocks) if patterns.is_source_line(block)), default=start - 1)
    # The footer begins where the page names its kind again ("Daily Pages"); a page that does not, at its
    # sign-up box. A sign-up box higher up, between excerpts, is only a widget.
    after = range(max(start, last_source + 1), len(blocks))
    footer = next((i for i in after if repeats_kind(blocks[i], kind)),
                  next((i for i in after if patterns.chrome_rule(blocks[i]) == "newsletter box"), len(blocks)))
    for i in range(footer, len(blocks)):
        reader.drop(i, Cause.CHROME, "footer")
    reader.read_region(start, footer)
    dropped = [reader.dropped[i] for i in sorted(reader.dropped)]
    found = without_repeats(reader.found, dropped)
    if not found:
        raise SourceError(origin, NO_EXCERPTS)
    return Reading(origin, found, tuple(dropped))


def parse_text_page(text: str, origin: str) -> list[Excerpt]:
    """The excerpts of one daily page given as text (see `read_text_page`)."""
    return read_text_page(text, origin).excerpts
