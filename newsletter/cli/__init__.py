"""The `newsletter` command: one group, a module of commands per concern, each imported when it runs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

import click

from newsletter import __version__
from newsletter.cli import heap
from newsletter.cli.app import App
from newsletter.cli.lazy_group import Lazy, LazyGroup
from newsletter.errors import NewsletterError

if TYPE_CHECKING:
    from sqlalchemy.exc import SQLAlchemyError

COMMANDS = {
    "init": Lazy("newsletter.cli.setup:init",
                 "Create the database (or upgrade it to this version's schema) and the key file when missing."),
    "ingest": Lazy("newsletter.cli.content:ingest_command",
                   "Read daily pages (text, HTML) and feeds (RSS, Atom) from files, folders or URLs."),
    "excerpts": Lazy("newsletter.cli.excerpts:excerpts",
                     "Show the excerpts chosen for a week's issue, and why the others were left out; pin, exclude and "
                     "order them (`newsletter excerpts pin --week W KEY`)."),
    "preview": Lazy("newsletter.cli.preview:preview",
                    "Write the week's issue as HTML, text and a complete .eml for a sample recipient."),
    "issue": Lazy("newsletter.cli.issue:issue",
                  "The editor's desk: a week's issue, its state and its history; approve, hold, cancel, skip, "
                  "pause, resume."),
    "send": Lazy("newsletter.cli.send:send",
                 "Send the week's issue to every confirmed subscriber; run it again to resume."),
    "status": Lazy("newsletter.cli.status:status",
                   "How far an issue's send has got: recipients by state, and why any failed."),
    "run": Lazy("newsletter.cli.run:run",
                "Run the service: the sign-up page, its confirmation emails, and the weekly send on schedule."),
    "serve": Lazy("newsletter.cli.run:serve",
                  "Run the sign-up endpoint and send its confirmation emails (stop with Ctrl-C)."),
    "schedule": Lazy("newsletter.cli.run:schedule_command",
                     "Show the jobs `newsletter run` runs and when, in the time zone of `[schedule] timezone`."),
    "subscribers": Lazy("newsletter.cli.subscribers:subscribers_group",
                        "The subscriber list: counts, one address's status, imports and erasure (never a listing)."),
    "bounces": Lazy("newsletter.cli.bounces:bounces_group",
                    "Returned mail: bounces, complaints and unsubscribes sent to the return addresses."),
}


class NewsletterGroup(LazyGroup):
    """Turns a NewsletterError into its message on stderr and its exit code: no stack traces. A database
    failure no command caught becomes one too, without its SQL or parameters (`db.failures`)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewsletterError as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except Exception as error:
            if not _from_the_database(error):
                raise
            from newsletter.db.failures import explain  # loaded already: SQLAlchemy raised this

            failure = explain(error, ctx.obj.engine.url)
            click.echo(f"error: {failure}", err=True)
            ctx.exit(failure.exit_code)


def _from_the_database(error: Exception) -> TypeGuard[SQLAlchemyError]:
    """Whether SQLAlchemy raised `error`; asked without importing SQLAlchemy, which a command that never
    touched the database has not loaded (and then nothing it raised can be one of SQLAlchemy's)."""
    sqlalchemy_errors = sys.modules.get("sqlalchemy.exc")
    return sqlalchemy_errors is not None and isinstance(error, sqlalchemy_errors.SQLAlchemyError)


@click.group(cls=NewsletterGroup, lazy=COMMANDS)
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Config file (default: $NEWSLETTER_CONFIG, else ./newsletter.toml, else defaults).")
@click.version_option(__version__, prog_name="newsletter")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """Weekly newsletter: ingest daily pages, choose the week's excerpts, and send them."""
    ctx.obj = App(config_path)
    ctx.call_on_close(ctx.obj.close)


def main() -> None:
    heap.defer_collection()  # until the command is imported (`LazyGroup.get_command`)
    try:
        cli(prog_name="newsletter")
    finally:
        heap.settle()
