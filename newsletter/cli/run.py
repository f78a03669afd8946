"""`newsletter run` (the whole service in one process), `newsletter serve` (the sign-up endpoint alone) and
`newsletter schedule` (what `run` will run, and when)."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import click

from newsletter.cli import event_loop
from newsletter.cli.app import App, pass_app
from newsletter.db.schema import utcnow
from newsletter.service import logs
from newsletter.service import scheduler as schedule
from newsletter.service.lifecycle import TIME, Service, SignupServer


@click.command()
@click.option("--host", help="Address to listen on (default: [web] host).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port to listen on (default: [web] port).")
@pass_app
def run(app: App, host: str | None, port: int | None) -> None:
    """Run the service: the sign-up page, its confirmation emails, and the weekly send on schedule.

    One process for systemd (see deploy/). Logs go to stderr, one line per event, as `[logging] format`
    says. SIGTERM or Ctrl-C stops it cleanly within `[delivery] drain_seconds`.
    """
    app.sessions  # noqa: B018  (checks the schema before anything starts)
    _log_as_configured(app)
    service = Service(app.config, app.engine, host=host or app.config.web.host,
                      port=app.config.web.port if port is None else port)
    event_loop.run(service.run())


@click.command("schedule")
@click.option("--json", "as_json", is_flag=True, help="Print the jobs as one JSON object.")
@click.option("--count", type=click.IntRange(1, 52), default=3, show_default=True,
              help="How many weekly send times to show.")
@pass_app
def schedule_command(app: App, as_json: bool, count: int) -> None:
    """Show the jobs `newsletter run` runs and when, in the time zone of `[schedule] timezone`."""
    settings = app.config.schedule
    zone = ZoneInfo(settings.timezone)
    now = utcnow()
    jobs = schedule.plan(settings, now)
    if app.config.review.freeze:
        jobs.insert(0, schedule.freeze_job(settings, app.config.review.freeze, now))
    weeklies = (schedule.WEEKLY_SEND, schedule.WEEKLY_FREEZE)
    entries: list[dict[str, object]] = []
    rows = []
    for job in jobs:
        weekly = job.id in weeklies
        runs = [moment.astimezone(zone) for moment in schedule.next_runs(job, count if weekly else 1)]
        entry: dict[str, object] = {"id": job.id, "name": job.name, "every": job.every,
                                    "next_runs": [moment.isoformat() for moment in runs]}
        if weekly:
            entry["weeks"] = [str(schedule.week_to_send(moment)) for moment in runs]
            entry["missed_run_due"] = job.caught_up
        entries.append(entry)
        rows.append((job, runs))
    if as_json:
        click.echo(json.dumps({"timezone": settings.timezone, "catch_up_hours": settings.catch_up_hours,
                               "jobs": entries}))
        return
    say = app.console.print
    say(f"Jobs of `newsletter run`, times in {settings.timezone}:", markup=False)
    for job, runs in rows:
        say(f"  {job.id:<15} {job.name}, {job.every}", markup=False)
        if job.id not in weeklies:
            say("      first run when `newsletter run` starts", markup=False)
            continue
        verb = "sends" if job.id == schedule.WEEKLY_SEND else "drafts"
        for index, moment in enumerate(runs):
            note = ""
            if index == 0 and job.caught_up:
                note = "  (already due: if `newsletter run` was down then, it runs this at start-up)"
            say(f"      {moment:{TIME}}  {verb} {schedule.week_to_send(moment)}{note}", markup=False)
    say(f"A weekly send missed while `newsletter run` is down runs once at start-up if at most "
        f"{settings.catch_up_hours} h late; an issue is never sent twice for one week.", markup=False)


@click.command()
@click.option("--host", help="Address to listen on (default: [web] host).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port to listen on (default: [web] port).")
@pass_app
def serve(app: App, host: str | None, port: int | None) -> None:
    """Run the sign-up endpoint and send its confirmation emails (stop with Ctrl-C)."""
    app.sessions  # noqa: B018  (checks the schema before the port opens)
    _log_as_configured(app)
    server = SignupServer(app.config, app.engine, host=host or app.config.web.host,
                          port=app.config.web.port if port is None else port)
    app.console.print(f"sign-up page on http://{host or app.config.web.host}:{server.uvicorn.config.port}/ "
                      f"(links in emails use {app.config.web.base_url})")
    event_loop.run(server.run())


def _log_as_configured(app: App) -> None:
    # One set-up for `run` and `serve`: one line per event in `[logging] format`, addresses redacted.
    logs.install(app.config.logging.format, app.config.logging.level)


COMMANDS = [run, serve, schedule_command]
