"""`bench/send.py --rtt-ms ...`: the send when the relay is milliseconds away (see send.py's docstring).

Round trips per message are worked out from the rate: connections / (rate x RTT). Each run's rate is
taken between the first and the last outcome the ledger recorded, so process start-up does not count.
On PostgreSQL (`--database-url`), every statement the send processes issue is counted (SQLAlchemy's
cursor events and commits, through `statement_count.py`), and the CPU of the server processes serving
them is read from /proc while they run.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from delay_proxy import delaying_proxy
from pipelined_client import pipelined_client
from send import (
    WEEK,
    _command,
    _environment,
    _forget_issue,
    _machine,
    _measure,
    _naive_baseline,
    _newsletter,
    _write_addresses,
    _write_config,
)
from smtp_sink import await_count, free_port, sink_messages, smtp_sink

HERE = Path(__file__).resolve().parent
APPLICATION = "bench_send"


@dataclass(frozen=True)
class Rate:
    label: str
    messages: int
    seconds: float
    connections: int
    statements: int | None = None
    server_cpu: float | None = None  # seconds of the database server's CPU
    peak_mb: float | None = None  # the largest peak RSS among the send processes

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else float("inf")

    def round_trips(self, rtt_ms: float) -> str:
        if rtt_ms <= 0:
            return "n/a"
        return f"{self.connections / (self.per_second * rtt_ms / 1000):.2f}"


def bench_round_trips(options: argparse.Namespace, folder: Path) -> int:
    rtts = [float(value) for value in options.rtt_ms.split(",")]
    database_url, schema = _database(options.database_url)
    sink_port, lockstep_port = free_port(), free_port()
    config = _write_config(folder, sink_port, options.workers, options.batch_size, database_url)
    try:
        _set_up(options, config)
        rows: list[tuple[float, list[Rate]]] = []
        with smtp_sink(folder, sink_port) as sink, smtp_sink(folder, lockstep_port, pipelining=False) as lockstep:
            _, report = _measure(config, "send", "--week", WEEK, "--dry-run", "--json", label="dry run")
            size = int(report["message_bytes"])
            expected = {sink: 0, lockstep: 0}
            for rtt in rtts:
                print(f"round trip {rtt:g} ms ...", flush=True)
                runs: list[Rate] = []
                with delaying_proxy(free_port(), sink_port, rtt) as port:
                    naive = _naive_baseline(config, port, options.baseline)
                    runs.append(Rate("naive loop", naive.messages, naive.wall, 1))
                    expected[sink] += naive.messages
                    sent, seconds = pipelined_client(port, options.workers, options.subscribers, size)
                    runs.append(Rate("raw pipelined client", sent, seconds, options.workers))
                    expected[sink] += sent
                    runs.append(_send(options, config, port, "`newsletter send`, pipelined", database_url))
                    expected[sink] += options.subscribers
                if not options.pipelined_only:
                    with delaying_proxy(free_port(), lockstep_port, rtt) as port:
                        runs.append(_send(options, config, port, "`newsletter send`, lock-step", database_url))
                        expected[lockstep] += options.subscribers
                rows.append((rtt, runs))
                for run in runs:
                    print(f"  {run.label}: {run.per_second:,.0f} messages/s", flush=True)
            for counters, count in expected.items():
                if await_count(counters, count) != count:
                    raise SystemExit(f"smtp-sink counted {sink_messages(counters):,} messages, expected {count:,}")
    finally:
        if schema is not None:
            _drop_schema(options.database_url, schema)
    _table(options, rows, size, database_url)
    return 0


def _set_up(options: argparse.Namespace, config: Path) -> None:
    _newsletter(config, "init")
    _newsletter(config, "ingest", str(HERE.parent / "examples" / "pages"))
    addresses = config.parent / "addresses.txt"
    _write_addresses(addresses, options.subscribers)
    _newsletter(config, "subscribers", "import", str(addresses), "--confirmed",
                "--consent-note", "benchmark data, generated")


def _send(options: argparse.Namespace, config: Path, port: int, label: str, database_url: str) -> Rate:
    """`newsletter send` by `options.senders` processes at once, on a fresh issue, to `port`."""
    _forget_issue(config)
    text = config.read_text(encoding="utf-8")
    config.write_text(_with_port(text, port), encoding="utf-8")
    postgres = database_url.startswith("postgresql")
    with tempfile.TemporaryDirectory() as counts, _ServerCpu(database_url if postgres else None) as cpu:
        children = []
        for number in range(options.senders):
            env = _environment()
            env["BENCH_STATEMENTS"] = str(Path(counts) / f"{number}.txt")
            command = [sys.executable, "-c", "import statement_count; from newsletter.cli import main; main()",
                       *_command(config, "send", "--week", WEEK, "--json")[3:]]
            env["PYTHONPATH"] = os.pathsep.join([str(HERE), env["PYTHONPATH"]])
            children.append(subprocess.Popen(command, cwd=config.parent, env=env, stdout=subprocess.DEVNULL))
        peak = 0.0
        for child in children:
            _, status, usage = os.wait4(child.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
            if child.returncode != 0:
                raise SystemExit(f"`newsletter send` exited with {child.returncode}")
            peak = max(peak, usage.ru_maxrss / 1024)  # KiB on Linux
        statements = sum(int(path.read_text()) for path in Path(counts).iterdir())
    sent, seconds = _ledger_span(config)
    if sent != options.subscribers:
        raise SystemExit(f"the ledger says {sent:,} sent, expected {options.subscribers:,}")
    senders = f" x{options.senders}" if options.senders > 1 else ""
    return Rate(label + senders, sent, seconds, options.workers * options.senders, statements, cpu.seconds, peak)


def _with_port(text: str, port: int) -> str:
    lines = [f"port = {port}" if line.startswith("port = ") else line for line in text.splitlines()]
    return "\n".join(lines) + "\n"


def _ledger_span(config_path: Path) -> tuple[int, float]:
    """Messages sent in the week's issue, and the seconds between the first and the last outcome."""
    from sqlalchemy import func, select

    from newsletter.config import settings
    from newsletter.db.engine import connect
    from newsletter.delivery.tables import DeliveryRow, DeliveryState
    from newsletter.issues.tables import IssueRow

    engine = connect(settings.load(config_path, environ={}).database_url)
    with engine.connect() as conn:
        count, first, last = conn.execute(
            select(func.count(), func.min(DeliveryRow.finished_at), func.max(DeliveryRow.finished_at))
            .join(IssueRow, IssueRow.id == DeliveryRow.issue_id)
            .where(IssueRow.week == WEEK, DeliveryRow.state == DeliveryState.SENT)).one()
    engine.dispose()
    if first is None or last is None:
        raise SystemExit("the ledger recorded no message sent")
    # n outcomes span n - 1 intervals: scale the span to n of them.
    return count, (last - first).total_seconds() * count / max(count - 1, 1)


def _database(url: str | None) -> tuple[str, str | None]:
    """The URL to send on, and the schema made for this run on PostgreSQL (dropped at the end)."""
    if url is None:
        return "sqlite:///newsletter.db", None
    import psycopg

    schema = "bench_" + secrets.token_hex(4)
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}application_name={APPLICATION}&options=-csearch_path%3D{schema}", schema


def _drop_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


class _ServerCpu:
    """CPU seconds of the PostgreSQL backends serving the bench (by application_name), read from /proc
    every 0.2 s while they live: the last reading of each is its total, give or take 0.2 s."""

    def __init__(self, url: str | None) -> None:
        self._url = url
        self._seen: dict[int, float] = {}
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self.seconds: float | None = None

    def __enter__(self) -> _ServerCpu:
        if self._url is not None:
            self._thread = threading.Thread(target=self._watch, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self._thread is not None:
            self._done.set()
            self._thread.join()
            self.seconds = sum(self._seen.values())

    def _watch(self) -> None:
        import psycopg

        assert self._url is not None
        tick = os.sysconf("SC_CLK_TCK")
        with psycopg.connect(_libpq(self._url.split("?")[0]), autocommit=True) as conn:
            while not self._done.wait(0.2):
                pids = [row[0] for row in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (APPLICATION,))]
                for pid in pids:
                    try:
                        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    except OSError:
                        continue
                    self._seen[pid] = (int(fields[11]) + int(fields[12])) / tick


def _table(options: argparse.Namespace, rows: list[tuple[float, list[Rate]]], size: int, database_url: str) -> None:
    database = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    print()
    print(f"Machine: {_machine()}")
    print(f"Issue: {WEEK} sample week, one message {size / 1024:.0f} KiB; {options.subscribers:,} subscribers; "
          f"{database}; {options.workers} connections per sender; smtp-sink behind the delaying proxy")
    print()
    print("| round trip | run | messages | messages/s | round trips per message | one-RTT limit | "
          "share of the limit | statements per message | DB server CPU ms per message | peak RSS |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for rtt, runs in rows:
        for run in runs:
            limit = run.connections / (rtt / 1000) if rtt > 0 else None
            statements = f"{run.statements / run.messages:.2f}" if run.statements is not None else ""
            cpu = f"{run.server_cpu * 1e3 / run.messages:.3f}" if run.server_cpu is not None else ""
            peak = f"{run.peak_mb:.0f} MiB" if run.peak_mb is not None else ""
            print(f"| {rtt:g} ms | {run.label} | {run.messages:,} | {run.per_second:,.0f} | "
                  f"{run.round_trips(rtt)} | {f'{limit:,.0f}' if limit else 'n/a'} | "
                  f"{f'{run.per_second / limit:.2f}' if limit else 'n/a'} | {statements} | {cpu} | {peak} |")
    print()
    for rtt, runs in rows:
        by_label = {run.label.split(" x")[0]: run for run in runs}
        pipelined = by_label.get("`newsletter send`, pipelined")
        lockstep = by_label.get("`newsletter send`, lock-step")
        if rtt == 20 and pipelined is not None:
            limit = pipelined.connections / 0.02
            if lockstep is not None:
                ratio = pipelined.per_second / lockstep.per_second
                print(f"{'ok  ' if ratio >= 3 else 'MISS'} at 20 ms, pipelined >= 3x lock-step: {ratio:.1f}x")
            share = pipelined.per_second / limit
            print(f"{'ok  ' if share >= 0.8 else 'MISS'} at 20 ms, pipelined >= 0.8 of the one-RTT limit: {share:.2f}")
