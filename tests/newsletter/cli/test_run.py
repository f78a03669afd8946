"""`newsletter schedule`, and `newsletter run` as a real process: it serves, sends, and stops cleanly."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from newsletter.cli import cli
from newsletter.config import settings
from newsletter.config.settings import Config
from newsletter.content import store as excerpt_store
from newsletter.db.engine import connect, sessions
from newsletter.db.migrate import migrate
from newsletter.delivery import ledger
from newsletter.delivery.tables import DeliveryState
from newsletter.issues import store as issues
from newsletter.service.scheduler import week_to_send
from newsletter.weeks import IsoWeek
from subscribers.addresses import parse
from subscribers.side import Subscribers
from subscribers.store import Consent
from tests.conftest import REPO, write_config
from tests.newsletter.cli.service_process import ServiceProcess
from tests.newsletter.conftest import sample_excerpts
from tests.newsletter.smtp_server import SmtpServer, serve_in_thread
from tests.processes import free_port, wait_for

KEY_VALUE_LINE = re.compile(r'^time=\S+Z level=(debug|info|warning|error) logger=\S+ msg=("([^"\\]|\\.)*"|\S+)( |$)')


@dataclasses.dataclass
class Setup:
    folder: Path
    config_path: Path
    config: Config
    engine: Engine
    port: int
    week: IsoWeek


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with serve_in_thread() as server:
        yield server


def make_setup(folder: Path, smtp: SmtpServer, *, readers: int = 0, cron: str = "0 7 * * mon",
               log_format: str = "keyvalue", drain_seconds: int = 10) -> Setup:
    port = free_port()
    path = write_config(folder, f"sqlite:///{folder / 'newsletter.db'}",
                        web={"base_url": f"http://127.0.0.1:{port}"},
                        delivery={"transport": "smtp", "drain_seconds": drain_seconds, "batch_size": 10,
                                  "linger_seconds": 0},
                        smtp={"host": smtp.host, "port": smtp.port, "connections": 2, "timeout": 5.0},
                        schedule={"cron": cron, "timezone": "UTC"}, logging={"format": log_format})
    config = settings.load(path, environ={})
    engine = connect(config.database_url)
    migrate(engine)
    side = Subscribers(config, engine)
    for n in range(readers):
        side.store.add_confirmed(parse(f"reader{n:03d}@example.com"), Consent("import", "test"))
    return Setup(folder, path, config, engine, port, IsoWeek(2026, 47))


def a_run_missed_two_minutes_ago() -> tuple[str, IsoWeek]:
    """A daily cron whose last run fell two minutes ago, and the week that run sends."""
    missed = datetime.now(UTC) - timedelta(minutes=2)
    return f"{missed.minute} {missed.hour} * * *", week_to_send(missed.replace(second=0, microsecond=0))


def store_a_week(setup: Setup, week: IsoWeek) -> None:
    shift = week.monday - IsoWeek(2026, 47).monday
    with sessions(setup.engine).begin() as session:
        excerpt_store.add(session, [dataclasses.replace(e, lesson_date=e.lesson_date + shift)
                                    for e in sample_excerpts()])


def counts(setup: Setup, week: IsoWeek) -> dict[DeliveryState, int]:
    with sessions(setup.engine)() as session:
        issue = issues.find(session, week)
        assert issue is not None
        return ledger.counts(session, issue.id)


def test_schedule_lists_the_jobs_in_the_configured_zone(tmp_path: Path, runner: CliRunner) -> None:
    path = write_config(tmp_path, f"sqlite:///{tmp_path / 'n.db'}",
                        schedule={"cron": "0 7 * * 1", "timezone": "Europe/London"})
    result = runner.invoke(cli, ["--config", str(path), "schedule"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Jobs of `newsletter run`, times in Europe/London:"
    assert lines[1] == "  weekly-send     weekly send, cron '0 7 * * 1'"
    for line in lines[2:5]:
        assert re.fullmatch(r"      Mon \d\d \w{3} \d{4} 07:00 (GMT|BST)  sends \d{4}-W\d\d(  \(already due.*\))?",
                            line)
    assert lines[5:9] == ["  retry-deferred  retry deferred deliveries, every 10 min",
                          "      first run when `newsletter run` starts",
                          "  purge-pending   purge expired sign-ups, every hour",
                          "      first run when `newsletter run` starts"]


def test_schedule_lists_the_weekly_freeze_before_the_send_with_the_week_it_drafts(tmp_path: Path,
                                                                                  runner: CliRunner) -> None:
    path = write_config(tmp_path, f"sqlite:///{tmp_path / 'n.db'}", schedule={"cron": "0 7 * * mon"},
                        review={"freeze": "0 5 * * mon"})
    result = runner.invoke(cli, ["--config", str(path), "schedule", "--json", "--count", "2"])
    assert result.exit_code == 0, result.output
    jobs = json.loads(result.output)["jobs"]
    assert [job["id"] for job in jobs] == ["weekly-freeze", "weekly-send", "retry-deferred", "purge-pending"]
    freeze, send = jobs[0], jobs[1]
    assert freeze["weeks"] == send["weeks"]
    assert [datetime.fromisoformat(run).strftime("%a %H:%M") for run in freeze["next_runs"]] == ["Mon 05:00"] * 2
    text = runner.invoke(cli, ["--config", str(path), "schedule"]).output
    assert "  weekly-freeze   weekly freeze, cron '0 5 * * mon'" in text
    assert re.search(r"Mon \d\d \w{3} \d{4} 05:00 UTC  drafts \d{4}-W\d\d", text)


def test_schedule_as_json_gives_each_run_with_the_week_it_sends(tmp_path: Path, runner: CliRunner) -> None:
    path = write_config(tmp_path, f"sqlite:///{tmp_path / 'n.db'}",
                        schedule={"cron": "30 1 * * sun", "timezone": "America/New_York", "catch_up_hours": 1})
    result = runner.invoke(cli, ["--config", str(path), "schedule", "--json", "--count", "10"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["timezone"], report["catch_up_hours"]) == ("America/New_York", 1)
    assert [job["id"] for job in report["jobs"]] == ["weekly-send", "retry-deferred", "purge-pending"]
    weekly = report["jobs"][0]
    runs = [datetime.fromisoformat(moment) for moment in weekly["next_runs"]]
    assert len(runs) == 10
    assert {(run.strftime("%a %H:%M")) for run in runs} == {"Sun 01:30"}
    assert [run.date() - runs[0].date() for run in runs] == [timedelta(days=7 * n) for n in range(10)]
    assert weekly["weeks"] == [str(week_to_send(run)) for run in runs]


@pytest.mark.parametrize(("sig", "log_format"), [(signal.SIGTERM, "keyvalue"), (signal.SIGINT, "json")],
                         ids=["sigterm-keyvalue-logs", "sigint-json-logs"])
def test_run_serves_the_sign_up_page_and_stops_cleanly_on_a_signal(tmp_path: Path, smtp: SmtpServer,
                                                                     sig: signal.Signals, log_format: str) -> None:
    setup = make_setup(tmp_path, smtp, log_format=log_format)
    service = ServiceProcess(setup.config_path, setup.port)
    try:
        service.wait_until_serving()
        assert httpx.get(service.url + "/").status_code == 200
        assert service.stop(sig) == 0
    finally:
        service.kill()
        setup.engine.dispose()
    assert service.exit_seconds < 5
    lines = service.log().splitlines()
    if log_format == "json":
        events = [json.loads(line) for line in lines]
        assert [e["event"] for e in events if e.get("event", "").startswith("run.")] == [
            "run.started", "run.stopping", "run.stopped"]
    else:
        assert all(KEY_VALUE_LINE.match(line) for line in lines), lines
        assert lines[-1].endswith('msg=stopped event=run.stopped')


def test_serve_logs_as_run_does_one_event_a_line_and_no_address(tmp_path: Path, smtp: SmtpServer) -> None:
    setup = make_setup(tmp_path, smtp, log_format="json")
    smtp.faults.rcpt["zebedee.quill@example.org"] = "550 5.1.1 <zebedee.quill@example.org>: no such user here"
    service = ServiceProcess(setup.config_path, setup.port, command="serve", log_name="serve.log")
    try:
        service.wait_until_serving()
        token = re.search(r'name="form_token" value="([^"]+)"', httpx.get(service.url + "/").text)
        assert token is not None
        answer = httpx.post(service.url + "/subscribe",
                            data={"email": "zebedee.quill@example.org", "form_token": token.group(1)})
        assert answer.status_code == 200
        wait_for(lambda: "refused" in service.log(), "the refused confirmation email in the log")
        assert service.stop(signal.SIGINT) == 0
    finally:
        service.kill()
        setup.engine.dispose()
    log = service.log()
    events = [json.loads(line) for line in log.splitlines()]
    assert {"subscribers.worker", "uvicorn.error"} <= {event["logger"] for event in events}
    assert all(event["level"] in ("info", "warning") for event in events), events
    assert "zebedee" not in log.lower()


@pytest.mark.slow
def test_sigterm_mid_send_finishes_in_flight_mail_hands_back_the_rest_and_exits_0(tmp_path: Path,
                                                                                  smtp: SmtpServer) -> None:
    cron, week = a_run_missed_two_minutes_ago()
    setup = make_setup(tmp_path, smtp, readers=120, cron=cron, drain_seconds=10)
    store_a_week(setup, week)
    # A slow server: each message takes 20 ms, so the send is still going when the signal comes.
    smtp.on_received = lambda _: time.sleep(0.02)
    service = ServiceProcess(setup.config_path, setup.port)
    try:
        service.wait_until_serving()
        wait_for(lambda: len(smtp.received) >= 15, "the first messages of the send")
        assert service.stop(signal.SIGTERM) == 0
    finally:
        service.kill()
    assert service.exit_seconds < 10
    state = counts(setup, week)
    sent = len(smtp.received)
    assert 15 <= sent < 120
    assert state[DeliveryState.SENT] == sent  # every message that left is recorded...
    assert state[DeliveryState.SENDING] == 0  # ...and no row is left claimed
    assert state[DeliveryState.PENDING] == 120 - sent
    log = service.log()
    assert "stopped=true" in log
    assert "reader0" not in log

    # The next start resumes the send (the retry job, and the caught-up weekly run), and nobody gets two.
    smtp.on_received = None
    again = ServiceProcess(setup.config_path, setup.port, log_name="run2.log")
    try:
        again.wait_until_serving()
        wait_for(lambda: len(smtp.received) == 120, "the rest of the send")
        assert again.stop() == 0
    finally:
        again.kill()
        setup.engine.dispose()
    assert set(smtp.recipients().values()) == {1}
    assert counts(setup, week)[DeliveryState.SENT] == 120


def test_serve_answers_on_its_port_and_stops_on_sigterm(config: Config, config_path: Path,
                                                        engine: Engine) -> None:
    probe = (
        "import sys\nfrom pathlib import Path\n"
        "from newsletter.cli import NewsletterGroup\n"
        "from newsletter.cli.app import App\n"
        "from newsletter.cli.run import serve\n"
        "root = NewsletterGroup(commands={'serve': serve})\n"
        "root(['serve', '--host', '127.0.0.1', '--port', sys.argv[2]], obj=App(Path(sys.argv[1])))\n"
    )
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    process = subprocess.Popen([sys.executable, "-c", probe, str(config_path), str(port)], cwd=REPO, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        health = _poll(f"http://127.0.0.1:{port}/healthz")
        assert (health.status_code, health.text) == (200, "ok\n")
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert f"sign-up page on http://127.0.0.1:{port}/ (links in emails use https://news.example.org)" in output
    assert "Traceback" not in output


def _poll(url: str, timeout: float = 20.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=2.0)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
