"""Postfix's smtp-sink for the benchmarks: started on a loopback port, its message counter read and sampled."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SINK = "smtp-sink"
WINDOW = 10  # seconds over which the sustained (lowest) rate is measured


@contextmanager
def smtp_sink(folder: Path, port: int, *, pipelining: bool = True) -> Iterator[Path]:
    """smtp-sink on 127.0.0.1:`port`, its running counters (-c) written to a file this yields; without
    `pipelining` it does not announce PIPELINING (-p), so clients talk to it in lock-step."""
    binary = shutil.which(SINK) or f"/usr/sbin/{SINK}"
    if not Path(binary).exists():
        raise SystemExit("smtp-sink is missing: install the Debian package postfix (apt-get install postfix)")
    # As root smtp-sink insists on dropping its privileges (-u).
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    counters = folder / f"smtp-sink-{port}.out"
    options = [] if pipelining else ["-p"]
    with counters.open("wb") as out:
        sink = subprocess.Popen([binary, "-c", *options, *user, f"127.0.0.1:{port}", "256"], stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        _await_port(port)
        yield counters
    finally:
        sink.terminate()
        sink.wait(timeout=10)


def sink_messages(counters: Path) -> int:
    """The last `mesg=` count smtp-sink wrote (it rewrites one line with carriage returns)."""
    text = counters.read_bytes().decode("ascii", "replace").replace("\r", "\n").split()
    counts = [int(word.removeprefix("mesg=")) for word in text if word.startswith("mesg=")]
    return counts[-1] if counts else 0


@contextmanager
def sampled(counters: Path) -> Iterator[list[tuple[float, int]]]:
    """(time, messages received) once a second while the block runs."""
    samples: list[tuple[float, int]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(1.0):
            samples.append((time.perf_counter(), sink_messages(counters)))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield samples
    finally:
        done.set()
        sampler.join()


def slowest(samples: list[tuple[float, int]]) -> float | None:
    """The lowest rate over any `WINDOW` seconds between the first and the last message."""
    busy = [(t, n) for t, n in samples if n > samples[0][1]] if samples else []
    # Drop the last sample: the send may have ended inside it.
    busy = busy[:-1]
    rates = [(busy[i + WINDOW][1] - busy[i][1]) / (busy[i + WINDOW][0] - busy[i][0])
             for i in range(len(busy) - WINDOW)]
    return min(rates) if rates else None


def await_count(counters: Path, expected: int, timeout: float = 10.0) -> int:
    """The sink's count once it reaches `expected`, or as it stands after `timeout` seconds."""
    # smtp-sink updates its counters as each "." arrives; give the last write a moment to land.
    deadline = time.monotonic() + timeout
    while (found := sink_messages(counters)) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def _await_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"smtp-sink did not start listening on port {port}") from None
            time.sleep(0.05)


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
