"""`newsletter preview`: write the week's email as the subscribers would get it, to look at before sending."""

from __future__ import annotations

from pathlib import Path

import click

from newsletter.cli.app import App, chosen_week, pass_app
from newsletter.errors import WeekError
from newsletter.issues.prepare import prepare
from newsletter.issues.preview import sample_recipient, write_preview
from newsletter.issues.selection import Selection
from newsletter.mail.dkim import DkimSigner
from newsletter.weeks import IsoWeek


@click.command()
@click.option("--week", "week_text", metavar="YYYY-Www",
              help="ISO week of the issue, e.g. 2026-W47 (default: the last complete week).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=Path("preview"),
              show_default=True, help="Folder to write issue.html, issue.txt and issue.eml into.")
@pass_app
def preview(app: App, week_text: str | None, out: Path) -> None:
    """Write the week's issue as HTML, text and a complete .eml for a sample recipient.

    The excerpts are chosen as `newsletter send` would choose them (a week already sent keeps the
    ones it was sent with). A week with nothing to send is not an error: the command says so and
    exits 0, as the weekly send does, so a script can preview any week without special cases.
    """
    try:
        week = chosen_week(week_text)
    except WeekError as error:
        raise click.BadParameter(str(error), param_hint="--week") from None
    with app.sessions() as session:
        prepared = prepare(app.config, session, week)
    if isinstance(prepared, Selection):
        _nothing_to_preview(app, week, prepared)
        return
    issue = prepared.rendered
    reader = sample_recipient(app.config.web.base_url)
    message = prepared.template.personalise(reader)
    signer = DkimSigner.from_config(app.config)
    if signer is not None:
        message = signer.sign(message)
    paths = write_preview(out, issue, reader, message)
    _say(app, f"{week}: {len(issue.excerpts)} excerpts, {sum(e.words for e in issue.excerpts):,} words")
    _say(app, f"subject: {prepared.subject}")
    for excerpt in issue.clipped:
        _say(app, f"left out to stay under Gmail's clipping size: {excerpt.title!r}")
    for path in paths.values():
        _say(app, f"wrote {path}  ({path.stat().st_size:,} bytes)")
    _say(app, f"open {paths['issue.html']} in a browser to see the email")


def _nothing_to_preview(app: App, week: IsoWeek, chosen: Selection) -> None:
    if not chosen.decisions:
        _say(app, f"no excerpts for {week}: nothing to preview (ingest that week's pages first)")
        return
    _say(app, f"no excerpts for {week} can go in an issue: nothing to preview")
    for decision in chosen.dropped:
        _say(app, f"  {decision.excerpt.title!r}: {decision.reason}")


def _say(app: App, text: str) -> None:
    # Titles come from the content: print them as they are, never as console markup.
    app.console.print(text, markup=False, soft_wrap=True)


COMMANDS = [preview]
