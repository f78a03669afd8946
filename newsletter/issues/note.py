"""The editor's note: a few lines of Markdown on top of an issue, in both its parts.

markdown-it-py reads the Markdown: it is CommonMark to the letter, already installed (rich depends on it),
and its rules can be switched on one by one, so the note gets a small subset only: paragraphs, line
breaks, emphasis, links, lists and quotes; no headings, images, tables or code. Raw HTML is not
rendered but refused with a message (the editor means something, and a note is not the place for it);
the HTML that comes out is then cleaned by nh3 with the same small list of tags and http(s)/mailto
links, so nothing else can reach a reader, whatever markdown-it lets through. Both are imported when a
note is read: an issue without one (and every command that renders one) does not load them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from newsletter.errors import EditError

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

MAX_CHARACTERS = 2_000
_RULES = ["emphasis", "link", "list", "blockquote", "newline", "escape", "html_block", "html_inline"]
_TAGS = {"p", "br", "em", "strong", "a", "ul", "ol", "li", "blockquote"}
_SCHEMES = {"http", "https", "mailto"}


@dataclass(frozen=True)
class EditorNote:
    """The note as the templates show it: safe HTML, and plain text for the text part."""

    html: str
    text: str


def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("zero", {"html": True, "linkify": False, "typographer": False}).enable(_RULES)


def read_note(markdown: str) -> EditorNote:
    """The note from its Markdown; EditError (one line: what is wrong, what to do) when it cannot be one."""
    text = markdown.replace("\r\n", "\n").strip()
    if not text:
        raise EditError("the note is empty: write a few lines of Markdown, or leave the note out")
    if len(text) > MAX_CHARACTERS:
        raise EditError(f"the note is {len(text):,} characters; keep it under {MAX_CHARACTERS:,}")
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise EditError("the note holds control characters; save it as plain UTF-8 text")
    parser = _parser()
    tokens = parser.parse(text)
    for token in tokens:
        found = [t for t in [token, *(token.children or [])] if t.type in ("html_block", "html_inline")]
        if found:
            tag = re.match(r"\s*<\s*/?\s*([A-Za-z0-9-]*)", found[0].content)
            shown = f"<{tag[1]}>" if tag and tag[1] else "HTML"
            raise EditError(f"the note holds {shown}; a note is Markdown only (emphasis, links, lists, "
                            "quotes): take the HTML out")
    import nh3

    html = nh3.clean(parser.renderer.render(tokens, parser.options, {}), tags=_TAGS,
                     attributes={"a": {"href"}}, url_schemes=_SCHEMES, link_rel="noopener")
    return EditorNote(html.strip(), text)
