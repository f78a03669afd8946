"""The whole `newsletter send` command against a raw pipelined client sending the same bytes, in one run.

Run it with `.venv/bin/python bench/send_whole.py [--subscribers 10000] [--rounds 3]`. Issue #16's target:
a 10,000-recipient send on loopback, the whole command from its start to its exit (imports, rendering,
the recipients' snapshot, every message and the last outcome written), at least 0.5x a raw pipelined
asyncio client sending the same bytes. Both run against one Postfix `smtp-sink` on a loopback port, on
the same number of connections (`smtp.connections`, default 4):

- the raw client (`pipelined_client.py`) as a process of its own, timed from its start to its exit too,
  sends N copies of the issue's real message (rendered from the sample week for a sample recipient,
  so the same size and bytes as each of the send's messages) with no database;
- `newsletter send --week ... --json` as a child, on a fresh issue each round (the previous round's issue
  and ledger are deleted first), for N confirmed subscribers on SQLite.

The two alternate over `--rounds` rounds (which goes first alternates too), after one warm-up of each,
and the ratio of each round is the raw client's time over the send's (the send's speed as a share of
the raw client's). The ledger and the sink must agree with N, or the run fails. The load average is
printed with the figures: on a shared machine, compare ratios, not times across runs. `--source DIR`
also runs, in each round, the `newsletter send` of another checkout (the code before a change, say)
on the same database, so old and new are compared in one run too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bytecode import compile_checkout
from send import REPO, WEEK, _command, _environment, _forget_issue, _newsletter, _write_addresses, _write_config
from smtp_sink import await_count, free_port, sink_messages, smtp_sink

HERE = Path(__file__).resolve().parent
TARGET = 0.5


@dataclass(frozen=True)
class Timed:
    """One child process: wall seconds from start to exit, and its CPU seconds (user + system)."""

    seconds: float
    cpu: float


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--subscribers", type=int, default=10_000, help="messages each side sends (default 10,000)")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds of each, alternated (default 3)")
    parser.add_argument("--workers", type=int, default=4, help="connections, both sides (default 4)")
    parser.add_argument("--batch-size", type=int, default=100, help="delivery.batch_size (default 100, the "
                        "setting's default)")
    parser.add_argument("--dir", help="work in this folder (kept) instead of a temporary one")
    parser.add_argument("--source", type=Path, help="also time the `newsletter send` of this checkout")
    options = parser.parse_args(argv)
    if options.dir:
        folder = Path(options.dir)
        folder.mkdir(parents=True, exist_ok=True)
        return _bench(options, folder)
    with tempfile.TemporaryDirectory(prefix="bench-send-whole-") as name:
        return _bench(options, Path(name))


def _bench(options: argparse.Namespace, folder: Path) -> int:
    for checkout in (REPO, *([options.source] if options.source else [])):
        compile_checkout(checkout)
    port = free_port()
    config = _write_config(folder, port, options.workers, options.batch_size)
    started = time.perf_counter()
    _newsletter(config, "init")
    _newsletter(config, "ingest", str(HERE.parent / "examples" / "pages"))
    addresses = folder / "addresses.txt"
    _write_addresses(addresses, options.subscribers)
    _newsletter(config, "subscribers", "import", str(addresses), "--confirmed",
                "--consent-note", "benchmark data, generated")
    body = folder / "message.eml"
    body.write_bytes(_real_message(config))
    print(f"set-up: {time.perf_counter() - started:.1f} s; {options.subscribers:,} subscribers, one message "
          f"{body.stat().st_size:,} bytes, {options.workers} connections; load average {_load()}", flush=True)

    n = options.subscribers
    rounds: list[tuple[Timed, Timed]] = []
    others: list[Timed] = []
    sides = ["raw", "send", *(["source"] if options.source else [])]
    with smtp_sink(folder, port) as counters:
        expected = 0
        for number in range(options.rounds + 1):
            order = sides[number % len(sides):] + sides[:number % len(sides)]
            times: dict[str, Timed] = {}
            for side in order:
                times[side] = (_raw(options, port, body) if side == "raw" else
                               _send(config, n, REPO if side == "send" else options.source))
                expected += n
                if (received := await_count(counters, expected)) != expected:
                    raise SystemExit(f"smtp-sink counted {received:,} messages, expected {expected:,}")
            raw, send = times["raw"], times["send"]
            label = "warm-up" if number == 0 else f"round {number}"
            source = (f", {options.source}'s send {times['source'].seconds:.2f} s (CPU {times['source'].cpu:.2f} s, "
                      f"ratio {raw.seconds / times['source'].seconds:.2f})" if options.source else "")
            print(f"{label} ({', '.join(order)}): raw client {raw.seconds:.2f} s "
                  f"(CPU {raw.cpu:.2f} s), newsletter send {send.seconds:.2f} s (CPU {send.cpu:.2f} s), "
                  f"ratio {raw.seconds / send.seconds:.2f}{source}; load average {_load()}", flush=True)
            if number:
                rounds.append((raw, send))
                if options.source:
                    others.append(times["source"])
        if sink_messages(counters) != expected:
            raise SystemExit("smtp-sink's count moved after the last round")
    _summary(options, rounds, others)
    return 0


def _real_message(config: Path) -> bytes:
    """The issue's message for a sample recipient, as the send writes each one (dot-stuffed, CRLF)."""
    from sqlalchemy.orm import Session

    from newsletter.config import settings
    from newsletter.db.engine import connect
    from newsletter.issues.prepare import PreparedIssue, prepare
    from newsletter.issues.preview import sample_recipient
    from newsletter.weeks import IsoWeek

    loaded = settings.load(config, environ={})
    engine = connect(loaded.database_url)
    try:
        with Session(engine) as session:
            prepared = prepare(loaded, session, IsoWeek.parse(WEEK))
    finally:
        engine.dispose()
    if not isinstance(prepared, PreparedIssue):
        raise SystemExit(f"no issue for {WEEK}: the sample pages were not ingested")
    return prepared.template.personalise(sample_recipient(loaded.web.base_url))


def _raw(options: argparse.Namespace, port: int, body: Path) -> Timed:
    command = [sys.executable, str(HERE / "pipelined_client.py"), str(port), str(options.workers),
               str(options.subscribers), "--body", str(body)]
    return _timed(command, HERE, os.environ.copy())


def _send(config: Path, subscribers: int, source: Path) -> Timed:
    """`newsletter send` from the checkout in `source`, on a fresh issue."""
    _forget_issue(config)
    env = _environment()
    env["PYTHONPATH"] = os.pathsep.join([str(source), *env["PYTHONPATH"].split(os.pathsep)[1:]])
    with tempfile.TemporaryFile() as output:
        timed = _timed(_command(config, "send", "--week", WEEK, "--json"), config.parent, env, output)
        output.seek(0)
        text = output.read().decode()
    sent = json.loads(text.strip().splitlines()[-1])["this_run"]["sent"]
    if sent != subscribers:
        raise SystemExit(f"the ledger says {sent:,} sent, expected {subscribers:,}")
    return timed


def _timed(command: list[str], cwd: Path, env: dict[str, str], output: int | IO[bytes] = subprocess.DEVNULL) -> Timed:
    start = time.perf_counter()
    child = subprocess.Popen(command, cwd=cwd, env=env, stdout=output)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if (code := os.waitstatus_to_exitcode(status)) != 0:
        raise SystemExit(f"{' '.join(command[:4])} ... exited with {code}")
    return Timed(seconds, usage.ru_utime + usage.ru_stime)


def _summary(options: argparse.Namespace, rounds: list[tuple[Timed, Timed]], others: list[Timed]) -> None:
    ratios = [raw.seconds / send.seconds for raw, send in rounds]
    n = options.subscribers
    print()
    print(f"| run ({n:,} messages, {options.workers} connections, whole process) | seconds, median [min-max] "
          "| messages/s (median) | CPU s (median) | share of the raw client, median [min-max] |")
    print("|---|---:|---:|---:|---:|")
    runs = [("raw pipelined client", [raw for raw, _ in rounds]), ("`newsletter send`", [s for _, s in rounds])]
    if others:
        runs.append((f"`newsletter send` of {options.source}", others))
    for label, timed in runs:
        values = [t.seconds for t in timed]
        shares = [raw.seconds / t.seconds for (raw, _), t in zip(rounds, timed, strict=True)]
        print(f"| {label} | {_spread(values)} | {n / statistics.median(values):,.0f} | "
              f"{statistics.median(t.cpu for t in timed):.2f} | {_spread(shares)} |")
    ratio = statistics.median(ratios)
    print()
    print(f"{'ok  ' if ratio >= TARGET else 'MISS'} send / raw client >= {TARGET}: median {ratio:.2f} "
          f"[{min(ratios):.2f}-{max(ratios):.2f}] over {len(rounds)} rounds; load average {_load()}")


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} [{min(values):.2f}-{max(values):.2f}]"


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
