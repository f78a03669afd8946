"""The editor's commands on a week's draft: `issue freeze`, `issue note`, and `excerpts pin|exclude|release|
order`. Each change before the send starts is kept; once the week has a draft, the draft is frozen again
and a new proof goes to the reviewers. A change that cannot be taken says why in one line, and nothing
is changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import click
from sqlalchemy import func, select

from newsletter.cli import event_loop
from newsletter.cli.app import App, chosen_week, pass_app
from newsletter.cli.excerpts import KEY_LENGTH
from newsletter.cli.issue import who
from newsletter.content import store as excerpt_store
from newsletter.content.excerpt import Excerpt
from newsletter.db.schema import utcnow
from newsletter.delivery.transports.configured import make_transport
from newsletter.errors import EditError
from newsletter.issues import drafts
from newsletter.issues.choices import EditorChoices
from newsletter.issues.note import read_note
from newsletter.issues.prepare import PreparedIssue
from newsletter.service.proofs import ReviewLinks, dry_run, send_proofs
from newsletter.weeks import IsoWeek
from subscribers.recipients import SubscriberRecipients
from subscribers.side import Subscribers

_WEEK = click.option("--week", help="ISO week such as 2026-W47 (default: the last complete week).")


def mail_proofs(app: App, prepared: PreparedIssue) -> int:
    """Send the draft's proof to the reviewers; how many got one."""
    recipients = SubscriberRecipients(app.config, app.engine)
    with app.sessions() as session:
        count = session.scalar(select(func.count()).select_from(recipients.confirmed_ids().subquery())) or 0
    links = ReviewLinks(Subscribers(app.config, app.engine).signer, app.config.web.base_url,
                        app.config.review.link_hours)

    async def go() -> int:
        transport = make_transport(app.config)
        try:
            return await send_proofs(app.config, prepared, dry_run(app.config, prepared, count), links, transport,
                                     utcnow())
        finally:
            await transport.close()

    return event_loop.run(go())


def _say_proofs(app: App, prepared: PreparedIssue) -> None:
    sent = mail_proofs(app, prepared)
    app.console.print(f"proof sent to {sent} reviewer(s)" if sent else
                      "no proof sent: [review] reviewers is empty", markup=False)


@click.command("freeze")
@_WEEK
@pass_app
def freeze_command(app: App, week: str | None) -> None:
    """Make the week's draft now (select, render, fix its excerpts) and mail the proof, as the scheduled
    freeze does."""
    chosen = chosen_week(week)
    with app.sessions.begin() as session:
        prepared = drafts.freeze(app.config, session, chosen, by=who(), now=utcnow())
    app.console.print(f"{chosen} frozen: {len(prepared.rendered.excerpts)} excerpt(s), \"{prepared.subject}\"",
                      markup=False)
    _say_proofs(app, prepared)


@click.command()
@_WEEK
@click.option("--file", "note_file", type=click.Path(path_type=Path, dir_okay=False),
              help="The editor's note, in Markdown (emphasis, links, lists, quotes), shown on top of the issue.")
@click.option("--subject", help="The issue's subject line, instead of [newsletter] subject.")
@click.option("--clear", is_flag=True, help="Remove the note and the subject.")
@pass_app
def note(app: App, week: str | None, note_file: Path | None, subject: str | None, clear: bool) -> None:
    """Put an editor's note on top of the week's issue, or give it a subject of its own."""
    chosen = chosen_week(week)
    if not (note_file or subject is not None or clear):
        raise click.UsageError("give --file NOTE.md, --subject TEXT or --clear")
    markdown = None
    if note_file is not None:
        try:
            markdown = note_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise EditError(f"cannot read the note {note_file} ({type(error).__name__}); save it as UTF-8 "
                            "text") from None
        read_note(markdown)  # refused here, before anything is stored
    if subject is not None and (not subject.strip() or any(c in subject for c in "\r\n\0") or len(subject) > 200):
        raise EditError("the subject must be one line of 1 to 200 characters")

    def change(choices: EditorChoices) -> EditorChoices:
        if clear:
            return replace(choices, note=None, subject=None)
        return replace(choices, note=markdown if markdown is not None else choices.note,
                       subject=subject.strip() if subject is not None else choices.subject)

    _edit(app, chosen, change, "note and subject saved")


def _edit(app: App, week: IsoWeek, change: Callable[[EditorChoices], EditorChoices], said: str) -> None:
    with app.sessions.begin() as session:
        prepared = drafts.edit(app.config, session, week, change, by=who(), now=utcnow())
    if prepared is None:
        app.console.print(f"{week}: {said}; the draft made at freeze time carries it", markup=False)
        return
    app.console.print(f"{week}: {said}; the draft was made again", markup=False)
    _say_proofs(app, prepared)


def _excerpt(app: App, week: IsoWeek, key: str) -> Excerpt:
    """The week's excerpt that `key` names; EditError when it names none, several, or one of another week."""
    if len(key) < 6 or any(c not in "0123456789abcdef" for c in key.lower()):
        raise EditError(f"{key!r} is not an excerpt key: use the {KEY_LENGTH}-character key "
                        f"`newsletter excerpts --week {week}` shows")
    with app.sessions() as session:
        found = excerpt_store.with_key(session, key)
    if not found:
        raise EditError(f"no excerpt has the key {key}: `newsletter excerpts --week {week}` lists the keys")
    if len(found) > 1:
        raise EditError(f"the key {key} names more than one excerpt: give more of it")
    excerpt = found[0]
    if excerpt.lesson_date not in week:
        raise EditError(f"excerpt {key} is dated {excerpt.lesson_date} ({IsoWeek.of(excerpt.lesson_date)}), not in "
                        f"{week}: an issue carries its own week's excerpts only")
    return excerpt


@click.command()
@_WEEK
@click.argument("key")
@pass_app
def pin(app: App, week: str | None, key: str) -> None:
    """Keep an excerpt in the week's issue whatever the selection policy says."""
    chosen = chosen_week(week)
    excerpt = _excerpt(app, chosen, key)
    _edit(app, chosen, lambda c: c.pin(excerpt.content_hash), f"pinned {excerpt.title!r}")


@click.command()
@_WEEK
@click.argument("key")
@pass_app
def exclude(app: App, week: str | None, key: str) -> None:
    """Leave an excerpt out of the week's issue."""
    chosen = chosen_week(week)
    excerpt = _excerpt(app, chosen, key)
    _edit(app, chosen, lambda c: c.exclude(excerpt.content_hash), f"excluded {excerpt.title!r}")


@click.command("release")
@_WEEK
@click.argument("key")
@pass_app
def release_command(app: App, week: str | None, key: str) -> None:
    """Undo a pin or an exclusion: the selection policy decides again."""
    chosen = chosen_week(week)
    excerpt = _excerpt(app, chosen, key)
    _edit(app, chosen, lambda c: c.release(excerpt.content_hash), f"released {excerpt.title!r}")


@click.command()
@_WEEK
@click.argument("keys", nargs=-1, required=True)
@pass_app
def order(app: App, week: str | None, keys: tuple[str, ...]) -> None:
    """Put the week's kept excerpts in this order (the ones not named follow)."""
    chosen = chosen_week(week)
    hashes = tuple(_excerpt(app, chosen, key).content_hash for key in keys)
    _edit(app, chosen, lambda c: replace(c, ordered=hashes), f"ordered {len(hashes)} excerpt(s)")

