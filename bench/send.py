"""The weekly send against a real MTA: messages per second, CPU per message, peak memory, and the dry run.

Run it with `.venv/bin/python bench/send.py` (add `--subscribers 1000000` for the memory and dry-run
targets). One command does everything: a fresh folder with a SQLite database, the bundled sample week
(a ~30 KB issue), N confirmed subscribers imported through `newsletter subscribers import --confirmed`,
Postfix's `smtp-sink` on a free loopback port, the naive baseline (premailer and smtplib per message,
measured in this same run), `newsletter send --dry-run --json`, and the real `newsletter send` as a child
process whose CPU time and peak RSS come from the kernel (wait4). The sink's counter, sampled every second,
gives the sustained rate (the slowest 10 s); at the end it must agree with the ledger, or the run fails.
`--dir DIR --reuse` runs again on the subscribers a first `--dir DIR` run imported, skipping the import.

`--rtt-ms 0,20,40` measures the send through a proxy that delays each direction by half the given round
trip (`delay_proxy.py`), for each value: the naive loop, `newsletter send` against an smtp-sink that
does not announce PIPELINING (the lock-step dialogue of before issue #16) and one that does, and a
raw-asyncio pipelined client (`pipelined_client.py`), all in the same run. Rates come from the ledger's
first and last outcome times (the raw client times itself), so process start-up is not counted.
`--database-url` runs the send on another database (PostgreSQL) and adds the ledger's statements per
message and the database server's CPU per message; `--senders 2` runs two `newsletter send` at once.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import shutil
import smtplib
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from bytecode import compile_checkout
from smtp_sink import WINDOW, await_count, free_port, sampled, slowest, smtp_sink

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the baseline imports this checkout too, not whatever is installed
PAGES = REPO / "examples" / "pages"
WEEK = "2026-W47"  # the week the bundled sample pages were written for
TARGETS = {"rate": 1_500.0, "ratio": 15.0, "rss_mb": 150.0, "dry_run_s": 10.0}


@dataclass(frozen=True)
class Run:
    """One measured run; `slowest` is the lowest rate over any `WINDOW` seconds of it (None: not sampled)."""

    label: str
    messages: int
    wall: float
    cpu: float
    peak_mb: float | None
    slowest: float | None = None

    @property
    def rate(self) -> float:
        return self.messages / self.wall

    @property
    def cpu_ms(self) -> float:
        return self.cpu * 1e3 / self.messages


def main(argv: Sequence[str] | None = None) -> int:
    options = _arguments(argv)
    folder = Path(options.dir) if options.dir else Path(tempfile.mkdtemp(prefix="bench-send-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        return _bench(options, folder)
    finally:
        if not options.keep and not options.dir:
            shutil.rmtree(folder, ignore_errors=True)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--subscribers", type=int, help="confirmed subscribers (default 100,000; 2,000 with --rtt-ms)")
    parser.add_argument("--baseline", type=int, help="messages the naive loop sends (default 300; 50 with --rtt-ms)")
    parser.add_argument("--rtt-ms", help="round trips to measure through the delaying proxy, e.g. 0,20,40")
    parser.add_argument("--database-url", help="with --rtt-ms: the database to send on (default: SQLite in the folder)")
    parser.add_argument("--senders", type=int, default=1, help="with --rtt-ms: `newsletter send` processes at once")
    parser.add_argument("--pipelined-only", action="store_true", help="with --rtt-ms: skip the lock-step send")
    parser.add_argument("--workers", type=int, default=4, help="smtp.connections / send --workers (default 4)")
    parser.add_argument("--batch-size", type=int, help="delivery.batch_size (default 200; 50 with --rtt-ms, so "
                        "that every connection has rows of a small send)")
    parser.add_argument("--dir", help="work in this folder (kept) instead of a temporary one")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--reuse", action="store_true",
                        help="with --dir: keep the subscribers a previous run imported; forget the week's issue")
    options = parser.parse_args(argv)
    rtt = options.rtt_ms is not None
    options.subscribers = options.subscribers or (2_000 if rtt else 100_000)
    options.baseline = options.baseline or (50 if rtt else 300)
    options.batch_size = options.batch_size or (50 if rtt else 200)
    return options


def _bench(options: argparse.Namespace, folder: Path) -> int:
    compile_checkout(REPO)
    if options.rtt_ms is not None:
        from round_trips import bench_round_trips

        return bench_round_trips(options, folder)
    port = free_port()
    config = _write_config(folder, port, options.workers, options.batch_size)
    code = subprocess.run([sys.executable, "-c", "import newsletter; print(newsletter.__file__)"], cwd=folder,
                          env=_environment(), capture_output=True, text=True, check=True).stdout.strip()
    print(f"folder {folder}; {options.subscribers:,} subscribers; smtp-sink on 127.0.0.1:{port}; code {code}",
          flush=True)
    if options.reuse and (folder / "newsletter.db").exists():
        _forget_issue(config)
        print("reusing the subscribers already imported; the week's issue and its ledger were deleted")
    else:
        started = time.perf_counter()
        _newsletter(config, "init")
        _newsletter(config, "ingest", str(PAGES))
        addresses = folder / "addresses.txt"
        _write_addresses(addresses, options.subscribers)
        _newsletter(config, "subscribers", "import", str(addresses), "--confirmed",
                    "--consent-note", "benchmark data, generated")
        print(f"set-up (init, ingest, import): {time.perf_counter() - started:.1f} s", flush=True)

    with smtp_sink(folder, port) as sink_count:
        dry, report = _measure(config, "send", "--week", WEEK, "--dry-run", "--json", label="dry run")
        if report["recipients"] != options.subscribers:
            raise SystemExit(f"dry run counted {report['recipients']:,} recipients, expected {options.subscribers:,}")
        print(f"dry run: {dry.wall:.2f} s; message {report['message_bytes']:,} bytes "
              f"(HTML {report['html_bytes']:,})", flush=True)

        baseline = _naive_baseline(config, port, options.baseline)
        await_count(sink_count, baseline.messages)
        print(f"naive baseline: {baseline.rate:,.0f} messages/s", flush=True)

        with sampled(sink_count) as samples:
            send, result = _measure(config, "send", "--week", WEEK, "--json", label="newsletter send",
                                    messages=options.subscribers)
        send = dataclasses.replace(send, slowest=slowest(samples))
        sent = result["this_run"]["sent"]
        received = await_count(sink_count, baseline.messages + options.subscribers) - baseline.messages
    if sent != options.subscribers or received != options.subscribers:
        raise SystemExit(f"counts differ: {options.subscribers:,} subscribers, ledger says {sent:,} sent, "
                         f"smtp-sink received {received:,}")
    print(f"ledger and smtp-sink agree: {sent:,} sent, {received:,} received", flush=True)
    print()
    _table(baseline, send, dry, int(report["message_bytes"]))
    return 0


def _write_config(folder: Path, port: int, workers: int, batch_size: int,
                  database_url: str = "sqlite:///newsletter.db") -> Path:
    path = folder / "newsletter.toml"
    path.write_text(
        "[newsletter]\n"
        'from_address = "letters@news.example.org"\n'
        'list_id = "weekly.news.example.org"\n'
        'postal_address = "Weekly Lessons, 12 Harbour Lane, Example Town EX1 2AB"\n'
        "[web]\n"
        'base_url = "https://news.example.org"\n'
        "[database]\n"
        f'url = "{database_url}"\n'
        "[delivery]\n"
        'transport = "smtp"\n'
        f"batch_size = {batch_size}\n"
        "[smtp]\n"
        'host = "127.0.0.1"\n'
        f"port = {port}\n"
        f"connections = {workers}\n"
        "timeout = 60\n",
        encoding="utf-8",
    )
    return path


def _forget_issue(config_path: Path) -> None:
    """Delete the week's issue (its ledger rows go with it), so the next send starts from scratch."""
    from sqlalchemy import delete

    from newsletter.config import settings
    from newsletter.db.engine import connect
    from newsletter.issues.tables import IssueRow

    engine = connect(settings.load(config_path, environ={}).database_url)
    with engine.begin() as conn:
        conn.execute(delete(IssueRow).where(IssueRow.week == WEEK))
    engine.dispose()


def _write_addresses(path: Path, count: int) -> None:
    with path.open("w", encoding="ascii") as handle:
        for start in range(0, count, 10_000):
            handle.write("".join(f"reader{n}@example.com\n" for n in range(start, min(start + 10_000, count))))


def _command(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-c", "from newsletter.cli import main; main()", "--config", str(config), *args]


def _environment() -> dict[str, str]:
    # The bench's own config file decides everything; stray NEWSLETTER_* settings would not be measured.
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    # Measure this checkout, whatever copy the virtualenv happens to have installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    return env


def _newsletter(config: Path, *args: str) -> None:
    subprocess.run(_command(config, *args), check=True, cwd=config.parent, env=_environment(),
                   stdout=subprocess.DEVNULL)


def _measure(config: Path, *args: str, label: str, messages: int = 1) -> tuple[Run, dict[str, Any]]:
    """Run one `newsletter` command as a child; its wall time, CPU time and peak RSS from wait4."""
    with tempfile.TemporaryFile() as output:
        start = time.perf_counter()
        child = subprocess.Popen(_command(config, *args), cwd=config.parent, env=_environment(), stdout=output)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode()
    if child.returncode != 0:
        raise SystemExit(f"`newsletter {' '.join(args)}` exited with {child.returncode}")
    # ru_maxrss is in KiB on Linux.
    run = Run(label, messages, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)
    return run, json.loads(text.strip().splitlines()[-1])


def _naive_baseline(config_path: Path, port: int, count: int) -> Run:
    """What many scripts do: render and inline per message, build it with `email`, send with smtplib."""
    from sqlalchemy.orm import Session

    from newsletter.config import settings
    from newsletter.content import store as excerpt_store
    from newsletter.db.engine import connect
    from newsletter.issues import selection
    from newsletter.issues import store as issues
    from newsletter.issues.render import HTML_TEMPLATE, TEXT_TEMPLATE, context
    from newsletter.templating import email_environment, inline, render_template
    from newsletter.weeks import IsoWeek

    config = settings.load(config_path, environ={})
    week = IsoWeek.parse(WEEK)
    engine = connect(config.database_url)
    with Session(engine) as session:
        excerpts = selection.select(excerpt_store.in_week(session, week), week,
                                    issues.hashes_sent_outside(session, week), config.selection).kept
    engine.dispose()
    env = email_environment(config)
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as client:
        for n in range(count):
            address = f"baseline{n}@example.com"
            values = context(config, week, excerpts)
            values["recipient"] = {"address": address,
                                   "unsubscribe_url": f"https://news.example.org/unsubscribe?token=t{n}",
                                   "manage_url": f"https://news.example.org/manage?token=t{n}"}
            message = EmailMessage()
            message["From"] = config.newsletter.from_address
            message["To"] = address
            message["Subject"] = f"{config.newsletter.title}, {WEEK}"
            message.set_content(render_template(env, TEXT_TEMPLATE, values))
            message.add_alternative(inline(render_template(env, HTML_TEMPLATE, values)), subtype="html")
            client.send_message(message)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run("naive loop (premailer + smtplib per message)", count, wall, cpu, None)


def _table(baseline: Run, send: Run, dry: Run, message_bytes: int) -> None:
    ratio = send.rate / baseline.rate
    print(f"Machine: {_machine()}")
    print(f"Issue: {WEEK} sample week, one message {message_bytes / 1024:.0f} KiB; "
          f"SQLite {sqlite3.sqlite_version}; smtp-sink on loopback")
    print()
    print(f"| run | messages | messages/s | lowest {WINDOW} s | CPU ms/message | peak RSS | vs baseline |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for run, versus in ((baseline, "1x"), (send, f"{ratio:.1f}x")):
        peak = f"{run.peak_mb:.0f} MiB" if run.peak_mb is not None else "n/a"
        slowest = f"{run.slowest:,.0f}" if run.slowest is not None else "n/a"
        print(f"| {run.label} | {run.messages:,} | {run.rate:,.0f} | {slowest} | {run.cpu_ms:.2f} | {peak} "
              f"| {versus} |")
    print(f"| `send --dry-run --json` | {send.messages:,} recipients | {dry.wall:.2f} s | | "
          f"{dry.cpu * 1e3:,.0f} ms CPU | {dry.peak_mb:.0f} MiB | |")
    print()
    checks = [
        (f"send rate >= {TARGETS['rate']:,.0f}/s", send.rate >= TARGETS["rate"], f"{send.rate:,.0f}/s"),
        (f"lowest {WINDOW} s rate >= {TARGETS['rate']:,.0f}/s",
         send.slowest is None or send.slowest >= TARGETS["rate"],
         f"{send.slowest:,.0f}/s" if send.slowest is not None else f"send took under {WINDOW} s"),
        (f"ratio >= {TARGETS['ratio']:g}x", ratio >= TARGETS["ratio"], f"{ratio:.1f}x"),
        (f"peak RSS < {TARGETS['rss_mb']:g} MB", (send.peak_mb or 0) * 1.048576 < TARGETS["rss_mb"],
         f"{(send.peak_mb or 0) * 1.048576:.0f} MB"),
        (f"dry run < {TARGETS['dry_run_s']:g} s", dry.wall < TARGETS["dry_run_s"], f"{dry.wall:.2f} s"),
    ]
    for name, ok, value in checks:
        print(f"{'ok  ' if ok else 'MISS'} {name}: {value}")


def _machine() -> str:
    memory = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = f"{int(line.split()[1]) / 1024 ** 2:.0f} GiB"
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.machine())
    return (f"{os.cpu_count()} cores ({model}), {memory} RAM, Linux {platform.release()}, "
            f"Python {platform.python_version()}")


if __name__ == "__main__":
    sys.exit(main())
