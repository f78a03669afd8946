"""`newsletter subscribers lookup|import|suppress|erase`: one address, imports, erasure (ledger rows too).

No command prints an address other than one the admin typed: there is no export and no listing.
"""

from __future__ import annotations

from pathlib import Path

import click

from newsletter.cli.app import App, pass_app
from newsletter.service import erasure
from subscribers.errors import AddressError
from subscribers.importer import import_file, suppress_file
from subscribers.side import Subscribers
from subscribers.store import SignUp
from subscribers.tables import SUPPRESSED, Status

MEANING = {
    Status.PENDING: "pending: signed up, has not confirmed yet",
    Status.CONFIRMED: "confirmed: receives the newsletter",
    Status.UNSUBSCRIBED: "unsubscribed: kept only as a one-way fingerprint; never sent an issue, and a "
                         "confirmation email only if signed up again on the form",
    Status.BOUNCED: "bounced: mail was refused for good; kept only as a fingerprint; never sent an issue, "
                    "and a confirmation email only if signed up again on the form",
    Status.COMPLAINED: "complained: reported an issue as spam; kept only as a fingerprint; never sent an "
                       "issue, and a confirmation email only if signed up again on the form",
}


def _side(app: App) -> Subscribers:
    app.sessions  # noqa: B018  (checks once that `newsletter init` has set the database up)
    return Subscribers(app.config, app.engine)


@click.command()
@click.argument("address")
@pass_app
def lookup(app: App, address: str) -> None:
    """The status of ADDRESS (exit code 1 when it is not on the list)."""
    side = _side(app)
    status = side.store.lookup(side.parse(address))
    if status is None:
        app.console.print("not on the list")
        raise SystemExit(1)
    app.console.print(MEANING[status])


@click.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--confirmed", is_flag=True, help="Consent was already given elsewhere: send no confirmation.")
@click.option("--consent-note", metavar="TEXT", help="With --confirmed: where and when consent was given.")
@pass_app
def import_command(app: App, file: Path, confirmed: bool, consent_note: str | None) -> None:
    """Add the addresses in FILE: one a line, or a CSV whose header names an email column.

    Each new address gets a confirmation email (sent by `newsletter serve`) and counts once confirmed.
    With --confirmed --consent-note TEXT they count at once, and TEXT is kept as the consent record.
    Unsubscribed and bounced addresses are never re-added. Invalid lines are reported by number and
    skipped; the exit code is then 1.
    """
    if confirmed != (consent_note is not None):
        raise click.UsageError("--confirmed and --consent-note go together: the note records the consent")
    side = _side(app)

    def invalid(number: int, reason: str) -> None:
        app.errors.print(f"  line {number}: skipped: {reason}", markup=False)

    report = import_file(side, file, consent_note=consent_note, on_invalid=invalid)
    done = report.outcomes
    parts = [f"{report.read} address(es) read"]
    if confirmed:
        parts.append(f"{done[SignUp.CONFIRMED]} added as confirmed")
    else:
        parts.append(f"{done[SignUp.NEW] + done[SignUp.MAILED_AGAIN]} confirmation email(s) queued")
        if done[SignUp.RECENTLY_MAILED]:
            parts.append(f"{done[SignUp.RECENTLY_MAILED]} pending, mailed within the hour")
    if done[SignUp.ALREADY_CONFIRMED]:
        parts.append(f"{done[SignUp.ALREADY_CONFIRMED]} already confirmed")
    if done[SignUp.SUPPRESSED]:
        parts.append(f"{done[SignUp.SUPPRESSED]} unsubscribed or bounced, left alone")
    if report.invalid:
        parts.append(f"{len(report.invalid)} invalid line(s) skipped")
    app.console.print(", ".join(parts))
    if not confirmed and done[SignUp.NEW] + done[SignUp.MAILED_AGAIN]:
        app.console.print("`newsletter serve` sends the confirmation emails.")
    if report.invalid:
        raise SystemExit(1)


@click.command()
@click.argument("target")
@click.option("--reason", type=click.Choice([str(s) for s in SUPPRESSED]), default=str(Status.UNSUBSCRIBED),
              show_default=True, help="Why these addresses must not be mailed (as the old provider said).")
@pass_app
def suppress(app: App, target: str, reason: str) -> None:
    """Never mail TARGET: a file of addresses (one a line, or a CSV with an email column) or one ADDRESS.

    For a list moved from another provider: its unsubscribes, bounces and complaints are kept as
    suppressions only (a one-way fingerprint, no address), a later `subscribers import` leaves them
    alone, and each can come back only by signing up again on the form and confirming.
    """
    side = _side(app)
    status = Status(reason)
    path = Path(target)
    if "@" in target and not path.exists():
        try:
            done = side.store.suppress(side.parse(target), status)
        except AddressError as error:
            raise click.BadParameter(error.reason, param_hint="TARGET") from None
        app.console.print(f"suppressed as {status}" if done else "already suppressed: left as it was")
        return

    def invalid(number: int, why: str) -> None:
        app.errors.print(f"  line {number}: skipped: {why}", markup=False)

    report = suppress_file(side, path, status, on_invalid=invalid)
    parts = [f"{report.read} address(es) read", f"{report.suppressed} suppressed as {status}"]
    if report.already:
        parts.append(f"{report.already} already suppressed, left as they were")
    if report.invalid:
        parts.append(f"{len(report.invalid)} invalid line(s) skipped")
    app.console.print(", ".join(parts))
    if report.invalid:
        raise SystemExit(1)


@click.command()
@click.argument("address")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def erase(app: App, address: str, yes: bool) -> None:
    """Delete ADDRESS and everything kept about it, its unsubscribe fingerprint included."""
    side = _side(app)
    parsed = side.parse(address)
    subscriber_id = side.store.identify(parsed)
    if subscriber_id is None:
        app.console.print("not on the list: nothing to erase")
        raise SystemExit(1)
    if not yes:
        click.confirm("Erase this address and every record of it? It can then be signed up again",
                      abort=True)
    with app.sessions.begin() as session:  # the pipeline's records first (see service/erasure.py)
        erasure.erase_records(session, subscriber_id)
    side.store.erase(parsed)
    app.console.print("erased: nothing about this address is kept any more")

