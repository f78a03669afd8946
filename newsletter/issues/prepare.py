"""The week's issue: its excerpts (chosen once, then fixed), rendered and composed for sending."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from newsletter.config.settings import Config
from newsletter.content import store as excerpt_store
from newsletter.content.excerpt import Excerpt
from newsletter.issues import edits
from newsletter.issues import store as issues
from newsletter.issues.choices import EditorChoices
from newsletter.issues.compose import MessageTemplate, compose
from newsletter.issues.issue import Issue
from newsletter.issues.note import read_note
from newsletter.issues.render import RenderedIssue, render_issue
from newsletter.issues.selection import Selection, select
from newsletter.weeks import IsoWeek


@dataclass(frozen=True)
class PreparedIssue:
    """Everything a send needs that is the same for every recipient."""

    week: IsoWeek
    rendered: RenderedIssue
    template: MessageTemplate
    existing: Issue | None               # set when the week's issue was already started
    selection: Selection | None        # set when the excerpts were chosen just now

    @property
    def subject(self) -> str:
        return self.template.subject


def choose(config: Config, session: Session, week: IsoWeek, choices: EditorChoices) -> Selection:
    """The week's selection with the editor's choices (pure: `selection.select`, fed from the stores)."""
    return select(excerpt_store.in_week(session, week), week, issues.hashes_sent_outside(session, week),
                  config.selection, choices)


def prepare(config: Config, session: Session, week: IsoWeek) -> PreparedIssue | Selection:
    """The week's issue ready to send, or the (empty) selection that explains why there is none.

    An issue already started keeps the excerpts it started with, so a resumed send, a retry and the
    archive page all show the same email, whatever was ingested since; a frozen draft keeps the
    excerpts it was frozen with. The editor's note and subject are rendered in.
    """
    existing = issues.find(session, week)
    choices = edits.choices(session, week)
    chosen: Selection | None = None
    excerpts: tuple[Excerpt, ...]
    if existing is not None:
        excerpts = tuple(issues.excerpts_of(session, existing.id))
    elif choices.frozen:
        excerpts = tuple(excerpt_store.by_hashes(session, choices.frozen))
    else:
        chosen = choose(config, session, week, choices)
        excerpts = chosen.kept
        if not excerpts:
            return chosen
    note = read_note(choices.note) if choices.note else None
    rendered = render_issue(config, week, excerpts, note=note, subject=choices.subject)
    return PreparedIssue(week, rendered, compose(config, rendered), existing, chosen)
