"""What tests need to run parts of the product as real processes: a free port, a poll, the CLI command."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable

# `newsletter` as a child process, run from this checkout whatever the venv's install points at.
MAIN = [sys.executable, "-c", "from newsletter.cli import main; main()"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Callable[[], object], what: str, timeout: float = 15.0) -> None:
    """Poll `condition` until it is true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def wait_or_kill(process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Wait for a process asked to stop; kill it if it has not stopped within `timeout` seconds."""
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
