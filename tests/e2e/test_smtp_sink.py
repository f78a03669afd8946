"""A real MTA: Postfix's smtp-sink takes a 10,000-recipient send, and its own count matches the ledger's."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.send_site import WEEK, make_site
from tests.processes import free_port

pytestmark = pytest.mark.slow
RECIPIENTS = 10_000


def received(counters: Path) -> int:
    """The last `mesg=` count smtp-sink printed (-c rewrites one line with carriage returns)."""
    words = counters.read_bytes().decode("ascii", "replace").replace("\r", " ").split()
    counts = [int(word.removeprefix("mesg=")) for word in words if word.startswith("mesg=")]
    return counts[-1] if counts else 0


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """smtp-sink on a free loopback port: (port, the file its running counters go to)."""
    binary = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    if not Path(binary).exists():
        pytest.fail("smtp-sink is not installed: install the Debian package postfix (scripts/test does)")
    port = free_port()
    counters = tmp_path / "smtp-sink.out"
    # Run as root, smtp-sink must be told which user to become once its socket is open.
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    with counters.open("wb") as out:
        process = subprocess.Popen([binary, "-c", *user, f"127.0.0.1:{port}", "100"], stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, counters.read_text(errors="replace")
                assert time.monotonic() < deadline, "smtp-sink did not start listening"
                time.sleep(0.05)
        yield port, counters
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_smtp_sink_receives_a_10000_recipient_send_and_the_counts_match(
    tmp_path: Path, sqlite_url: str, sink: tuple[int, Path], capsys: pytest.CaptureFixture[str],
) -> None:
    port, counters = sink
    site = make_site(tmp_path, sqlite_url, port, 0, smtp="connections = 4\ntimeout = 30")
    try:
        addresses = tmp_path / "list.txt"
        addresses.write_text("".join(f"reader{n}@example.net\n" for n in range(RECIPIENTS)), encoding="ascii")
        imported = site.run("subscribers", "import", str(addresses), "--confirmed",
                            "--consent-note", "test list, consent given at an event")
        assert imported.returncode == 0, imported.stderr
        assert f"{RECIPIENTS} added as confirmed" in imported.stdout

        started = time.monotonic()
        sent = site.run("send", "--week", WEEK, "--json", timeout=120)
        seconds = time.monotonic() - started
        assert sent.returncode == 0, sent.stderr
        assert json.loads(sent.stdout)["this_run"] == {"sent": RECIPIENTS, "failed": 0, "skipped": 0,
                                                       "deferred": 0}
        status = site.status()
    finally:
        site.engine.dispose()

    deadline = time.monotonic() + 10
    while received(counters) < RECIPIENTS and time.monotonic() < deadline:
        time.sleep(0.05)  # the sink prints its counter as each message ends; let the last line land
    with capsys.disabled():
        print(f"\nsmtp-sink counted {received(counters):,} messages; ledger: {status['sent']:,} sent "
              f"in {seconds:.1f} s (process start included)")
    assert (status["sent"], status["total"], status["failures"]) == (RECIPIENTS, RECIPIENTS, [])
    assert received(counters) == RECIPIENTS
