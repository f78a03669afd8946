"""The `newsletter` command: one group, a module of commands per concern."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from newsletter import __version__
from newsletter.cli import bounces, content, editing, issue, preview, run, send, setup, subscribers
from newsletter.cli.app import App
from newsletter.db.failures import explain
from newsletter.errors import NewsletterError


class NewsletterGroup(click.Group):
    """Turns a NewsletterError into its message on stderr and its exit code: no stack traces. A database
    failure no command caught becomes one too, without its SQL or parameters (`db.failures`)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewsletterError as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(error.exit_code)
        except SQLAlchemyError as error:
            failure = explain(error, ctx.obj.engine.url)
            click.echo(f"error: {failure}", err=True)
            ctx.exit(failure.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)


@click.group(cls=NewsletterGroup)
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Config file (default: $NEWSLETTER_CONFIG, else ./newsletter.toml, else defaults).")
@click.version_option(__version__, prog_name="newsletter")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """Weekly newsletter: ingest daily pages, choose the week's excerpts, and send them."""
    ctx.obj = App(config_path)
    ctx.call_on_close(ctx.obj.close)


for module in (setup, content, preview, send, issue, run, subscribers, bounces):
    for command in module.COMMANDS:
        cli.add_command(command)


for command in editing.EXCERPT_COMMANDS:
    content.excerpts.add_command(command)
for command in editing.ISSUE_COMMANDS:
    issue.issue.add_command(command)


def main() -> None:
    cli(prog_name="newsletter")
