"""`newsletter run` as a real subprocess for tests: start it, wait until it serves, stop it with a signal."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from tests.processes import MAIN, wait_for

START_SECONDS = 20.0


def newsletter(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run one `newsletter` command with `config` to its end, capturing what it prints."""
    return subprocess.run([*MAIN, "--config", str(config), *args], capture_output=True, text=True, timeout=60,
                          cwd=config.parent, check=False)


class ServiceProcess:
    """One `newsletter --config CONFIG run` (or `serve`) process; its stderr (the log) goes to a file beside
    the config."""

    def __init__(self, config: Path, port: int, *, env: Mapping[str, str] | None = None,
                 log_name: str = "run.log", prefix: Sequence[str] = (), command: str = "run") -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = config.parent / log_name
        self._log = self.log_path.open("wb")
        # `prefix` runs it under another program, such as faketime for a clock the test sets.
        argv = [*prefix, *MAIN, "--config", str(config), command, "--host", "127.0.0.1", "--port", str(port)]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=self._log,
                                        env={**os.environ, **(env or {})}, cwd=config.parent)
        self.exit_seconds = float("inf")  # how long it took to exit after `stop`; not stopped yet

    def wait_until_serving(self) -> None:
        def up() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"newsletter run exited with {self.process.returncode}:\n{self.log()}")
            try:
                return httpx.get(self.url + "/healthz", timeout=1.0).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(up, "newsletter run to serve", START_SECONDS)

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Send `sig` and wait for the exit; returns the exit code and records how long it took."""
        started = time.monotonic()
        self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout)
        finally:
            self.exit_seconds = time.monotonic() - started
            self._log.close()
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._log.close()

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")
