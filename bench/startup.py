"""What a command costs before it does its work: CPU time and peak memory of whole processes.

Run it with `.venv/bin/python bench/startup.py` (`--runs N`, default 9). It builds a throw-away
deployment (init, the bundled sample week ingested, 200 subscribers, that week sent to the outbox folder)
and runs each command as a child process N times, in turn with the others, so a drift of the machine's
speed touches them all alike. Each run's CPU time (user + system) and peak RSS are the kernel's own
accounting of that child (wait4). Beside the commands: `python -c pass` (the interpreter alone),
`python -c "import sqlalchemy.orm"` (the floor of a command that opens the database through SQLAlchemy;
`status`, `excerpts` and `subscribers stats` read through the driver instead, `newsletter/db/reader.py`)
and `python -c "import psycopg"` (what those three pay for the driver alone on PostgreSQL; the
deployment here is SQLite, the embedded default). Medians are printed, with min and max for the spread.

`--database-url postgresql+psycopg://...` runs the same commands on PostgreSQL (a schema of its own,
dropped at the end) instead of the deployment's SQLite file.

`--send N` also measures start-up's share of a real send: N confirmed subscribers, Postfix's smtp-sink
on a loopback port, and `newsletter send` as a child; the time from its start to the sink's first message
(what the command spends before it sends anything) against the whole command's time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from bytecode import compile_checkout
from smtp_sink import free_port, sink_messages, smtp_sink

REPO = Path(__file__).resolve().parents[1]
PAGES = REPO / "examples" / "pages"
WEEK = "2026-W47"  # the week the bundled sample pages were written for
NEWSLETTER = [sys.executable, "-c", "from newsletter.cli import main; main()"]
COMMANDS: dict[str, list[str]] = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "python -c 'import sqlalchemy.orm'": [sys.executable, "-c", "import sqlalchemy.orm"],
    "python -c 'import psycopg'": [sys.executable, "-c", "import psycopg"],
    "newsletter --help": [*NEWSLETTER, "--help"],
    "newsletter status": [*NEWSLETTER, "status", "--week", WEEK],
    "newsletter excerpts": [*NEWSLETTER, "excerpts", "--week", WEEK],
    "newsletter subscribers stats": [*NEWSLETTER, "subscribers", "stats"],
}
TARGET = {"cpu_s": 0.3, "peak_mib": 50.0}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="runs of each command (default 9)")
    parser.add_argument("--database-url", help="PostgreSQL to run the commands on (default: SQLite in the folder)")
    parser.add_argument("--send", type=int, default=0, metavar="N",
                        help="also time a send to N subscribers: start-up's share of it (e.g. 10000)")
    options = parser.parse_args(argv)
    compile_checkout(REPO)
    with tempfile.TemporaryDirectory(prefix="newsletter-startup-") as name, _database(options.database_url) as url:
        folder = Path(name)
        _deployment(folder, port=None, subscribers=200, database_url=url)
        _run(folder, "send", "--week", WEEK)  # to the outbox folder: `status` then has an issue to count
        _commands(folder, options.runs)
    if options.send:
        with tempfile.TemporaryDirectory(prefix="newsletter-startup-send-") as name:
            _send_share(Path(name), options.send)
    return 0


def _commands(folder: Path, runs: int) -> None:
    figures: dict[str, list[tuple[float, float]]] = {label: [] for label in COMMANDS}
    for command in COMMANDS.values():  # one warm-up each: a warm page cache
        _measured(folder, command)
    for _ in range(runs):
        for label, command in COMMANDS.items():
            figures[label].append(_measured(folder, command))
    print(f"{runs} runs each, whole processes (median [min-max]); target for the newsletter commands: "
          f"CPU <= {TARGET['cpu_s']} s, peak <= {TARGET['peak_mib']:.0f} MiB")
    print(f"{'command':<36}{'CPU s':>22}{'peak MiB':>24}")
    for label, rows in figures.items():
        cpu = [c for c, _ in rows]
        peak = [p for _, p in rows]
        print(f"{label:<36}{_spread(cpu, '.3f'):>22}{_spread(peak, '.1f'):>24}")


def _spread(values: list[float], form: str) -> str:
    return f"{statistics.median(values):{form}} [{min(values):{form}}-{max(values):{form}}]"


def _measured(folder: Path, command: list[str]) -> tuple[float, float]:
    """(CPU seconds, peak MiB) of one run of `command`, from the kernel's accounting of that child."""
    child = subprocess.Popen(command, cwd=folder, env=_environment(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command[3:]) or command} exited with {os.waitstatus_to_exitcode(status)}")
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def _send_share(folder: Path, subscribers: int) -> None:
    port = free_port()
    _deployment(folder, port=port, subscribers=subscribers)
    with smtp_sink(folder, port) as counters:
        start = time.perf_counter()
        child = subprocess.Popen([*NEWSLETTER, "send", "--week", WEEK], cwd=folder, env=_environment(),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        first = None
        while child.poll() is None:
            if first is None and sink_messages(counters) > 0:
                first = time.perf_counter() - start
            time.sleep(0.002)
        whole = time.perf_counter() - start
        if child.returncode != 0:
            raise SystemExit(f"newsletter send exited with {child.returncode}")
    received = sink_messages(counters)
    if first is None:
        raise SystemExit("the sink saw no message while the send ran")
    print(f"send to {subscribers:,} subscribers over loopback ({received:,} received): whole command "
          f"{whole:.2f} s, first message at {first:.2f} s: start-up's share {first / whole:.0%}")


@contextmanager
def _database(url: str | None) -> Iterator[str]:
    """The database URL to measure on: the folder's SQLite file, or a throw-away schema of `url`."""
    if url is None:
        yield "sqlite:///newsletter.db"
        return
    import secrets  # here, not at the top: hashlib's OpenSSL in this process would count in every child's peak

    schema = "startup_" + secrets.token_hex(4)
    _postgresql(url, f"CREATE SCHEMA {schema}")
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        _postgresql(url, f"DROP SCHEMA {schema} CASCADE")


def _postgresql(url: str, statement: str) -> None:
    """Run one statement in a child process: psycopg loaded here would count in every child's peak RSS
    (a forked child's ru_maxrss starts at its parent's size)."""
    run = "import psycopg, sys; psycopg.connect(sys.argv[1], autocommit=True).execute(sys.argv[2])"
    subprocess.run([sys.executable, "-c", run, url.replace("postgresql+psycopg://", "postgresql://"), statement],
                   check=True)


def _deployment(folder: Path, *, port: int | None, subscribers: int,
                database_url: str = "sqlite:///newsletter.db") -> None:
    """A config, a database set up by `init`, the sample week ingested and `subscribers` confirmed readers."""
    transport = (f'[delivery]\ntransport = "smtp"\n[smtp]\nhost = "127.0.0.1"\nport = {port}\ntimeout = 60\n'
                 if port else f'[outbox]\ndir = "{folder / "outbox"}"\n')
    (folder / "newsletter.toml").write_text(
        "[newsletter]\n"
        'from_address = "letters@news.example.org"\n'
        'list_id = "weekly.news.example.org"\n'
        'postal_address = "Weekly Lessons, 12 Harbour Lane, Example Town EX1 2AB"\n'
        '[web]\nbase_url = "https://news.example.org"\n'
        f'[database]\nurl = "{database_url}"\n' + transport, encoding="utf-8")
    addresses = folder / "addresses.txt"
    addresses.write_text("".join(f"reader{n}@example.com\n" for n in range(subscribers)), encoding="ascii")
    _run(folder, "init")
    _run(folder, "ingest", str(PAGES))
    _run(folder, "subscribers", "import", str(addresses), "--confirmed", "--consent-note", "startup bench")


def _run(folder: Path, *args: str) -> None:
    subprocess.run([*NEWSLETTER, *args], check=True, cwd=folder, env=_environment(), stdout=subprocess.DEVNULL)


def _environment() -> dict[str, str]:
    # The deployment's own newsletter.toml decides everything: stray NEWSLETTER_* settings would not be measured.
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    # Measure this checkout, whatever copy the virtualenv happens to have installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    return env


if __name__ == "__main__":
    raise SystemExit(main())
