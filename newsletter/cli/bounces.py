"""`newsletter bounces ...`: process saved returned mail (mbox or .eml) and count what came back.

Nothing here prints an address: a message is reported by how it was handled, a subscriber by id.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import click

from newsletter.cli.app import App, pass_app
from newsletter.errors import ConfigError, SourceError
from newsletter.inbound import store
from newsletter.inbound.imap_poller import ImapPoller
from newsletter.inbound.mail_files import messages_in
from newsletter.inbound.process import ReturnProcessor
from newsletter.inbound.tables import Handling
from subscribers.returns import SubscriberReturns
from subscribers.side import Subscribers


def processor(app: App) -> ReturnProcessor:
    """The processor of returned mail for this list; a ConfigError while `[bounces] domain` is empty."""
    if not app.config.bounces.domain:
        raise ConfigError("bounces.domain", "is empty: set it to the domain of the return addresses first")
    app.sessions  # noqa: B018  (checks once that `newsletter init` has set the database up)
    side = Subscribers(app.config, app.engine)
    return ReturnProcessor(app.sessions, SubscriberReturns(side), app.config.bounces)


@click.group("bounces")
def bounces_group() -> None:
    """Returned mail: bounces, complaints and unsubscribes sent to the return addresses."""


@bounces_group.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
@pass_app
def process(app: App, files: tuple[Path, ...], as_json: bool) -> None:
    """Read returned mail saved in FILES (mbox or single .eml messages) and act on it.

    Permanent bounces and complaints suppress their subscriber, mail to an unsubscribe address
    unsubscribes, temporary bounces are counted; the files are left as they are.
    """
    handler = processor(app)
    counts: Counter[str] = Counter()
    failed = False
    for path in files:
        try:
            for number, raw in enumerate(messages_in(path, app.config.bounces.max_message_bytes), 1):
                if raw is None:
                    counts["too-large"] += 1
                    app.errors.print(f"{path}: message {number} is larger than bounces.max_message_bytes "
                                     f"({app.config.bounces.max_message_bytes:,}): skipped", markup=False)
                    continue
                handled = handler.handle(raw)
                counts["duplicate" if handled.duplicate else handled.handling.value] += 1
        except SourceError as error:
            app.errors.print(f"{error}: skipped", markup=False)
            failed = True
    if as_json:
        click.echo(json.dumps(dict(sorted(counts.items()))))
    else:
        app.console.print(", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "no messages")
    if failed:
        raise SystemExit(1)


@bounces_group.command()
@pass_app
def poll(app: App) -> None:
    """Poll the IMAP mailbox of `[bounces] imap_host` once: handle what waits there, move it to the done folder."""
    if not app.config.bounces.imap_host:
        raise ConfigError("bounces.imap_host", "is empty: set the IMAP server of the mailbox to poll")
    handler = processor(app)
    done = ImapPoller(app.config.bounces, handler.handle).poll()
    counts = Counter("duplicate" if h.duplicate else h.handling.value for h in done.handled)
    if done.too_large:
        counts["too-large"] = done.too_large
    app.console.print(", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "no messages")
    if done.failed:
        app.errors.print(f"{done.failed} message(s) could not be handled and stay in the folder for the next poll")
        raise SystemExit(1)


@bounces_group.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
@pass_app
def bounce_stats(app: App, as_json: bool) -> None:
    """How many returned messages were handled each way (bounces, complaints, auto-replies, ...)."""
    with app.sessions() as session:
        counts = store.handled_counts(session)
    if as_json:
        click.echo(json.dumps({str(k): v for k, v in counts.items()}))
        return
    for handling in Handling:
        app.console.print(f"  {handling.value:<12} {counts[handling]:>8}")


COMMANDS = [bounces_group]
