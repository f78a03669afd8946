"""POST /subscribe under wrk: `newsletter serve` on SQLite against a bare Starlette endpoint, same run.

Usage: .venv/bin/python bench/signup.py [--seconds 10] [--connections 16]

Both servers run as one process each on 127.0.0.1 under uvicorn with the same options: its HTTP/1.1
protocol on h11 (serve's is h11's with time limits), the event loop uvicorn picks, no access log, no
server header, no lifespan. wrk (Debian package) drives each with bench/signup.lua, a new address on
every request. `serve` does the whole job (form token, address checks, rate limits raised out of the
way, sealing, the sign-up queued durably before the answer) while its outbox worker acts on the queued
sign-ups and files a confirmation email for each in the outbox folder beside it. The worker yields to
the site while requests keep coming (subscribers/traffic.py), so most of those emails are written after
the burst: the run waits for the warm-up's emails before it starts, then for its own after it ends, and
reports the server's CPU time per sign-up both for the run alone and including its emails. The bare
endpoint parses the same form and returns a page of the same size. Numbers vary between machines and
runs; compare the ratio.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
LUA = REPO / "bench" / "signup.lua"
HIGH = 1_000_000_000
BARE = """
import sys
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

PAGE = "<!DOCTYPE html>" + "x" * int(sys.argv[2])

async def subscribe(request: Request) -> HTMLResponse:
    form = await request.form()
    return HTMLResponse(PAGE if form.get("email") else "", headers={"Cache-Control": "no-store"})

app = Starlette(routes=[Route("/subscribe", subscribe, methods=["POST"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), http="h11", access_log=False, log_level="warning",
            server_header=False, lifespan="off")
"""
DRAIN_TIMEOUT = 600.0


@dataclass(frozen=True)
class Run:
    """What wrk measured."""

    requests: int
    seconds: float
    non2xx: int
    socket_errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


@dataclass(frozen=True)
class Emails:
    """The confirmation emails of the measured run's sign-ups, and the server's CPU time around them."""

    during_run: int
    total: int
    drained_after: float  # seconds after the run ended, until every sign-up's email was in the folder
    cpu_run: float  # seconds of CPU (user + system) of the server during the run
    cpu_with_emails: float  # from the run's start until its emails were all written


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def emails_in(folder: Path) -> int:
    new = folder / "outbox" / "new"
    return sum(1 for _ in new.iterdir()) if new.exists() else 0


def wait_for_emails(folder: Path, count: int) -> float:
    """Seconds until at least `count` emails are in the outbox folder (RuntimeError after DRAIN_TIMEOUT)."""
    start = time.monotonic()
    while emails_in(folder) < count:
        if time.monotonic() - start > DRAIN_TIMEOUT:
            raise RuntimeError(f"only {emails_in(folder)} of {count} confirmation emails after {DRAIN_TIMEOUT:.0f} s")
        time.sleep(0.05)
    return time.monotonic() - start


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=2.0)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextmanager
def process(args: list[str], cwd: Path, log: Path,
            env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as output:
        child = subprocess.Popen(args, cwd=cwd, stdout=output, stderr=subprocess.STDOUT, env=env)
        try:
            yield child
        finally:
            child.send_signal(signal.SIGINT)
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def wrk(url: str, seconds: int, connections: int, token: str, run: str) -> Run:
    environment = {**os.environ, "FORM_TOKEN": token, "RUN": run}
    result = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(LUA), url],
                            env=environment, capture_output=True, text=True, check=True)
    found = re.search(r"RESULT requests=(\d+) duration_us=(\d+) non2xx=(\d+) socket_errors=(\d+) "
                      r"p50_us=(\d+) p90_us=(\d+) p99_us=(\d+)", result.stdout)
    if found is None:
        raise RuntimeError(f"wrk said:\n{result.stdout}\n{result.stderr}")
    requests, duration, non2xx, errors, p50, p90, p99 = (int(g) for g in found.groups())
    return Run(requests, duration / 1e6, non2xx, errors, p50 / 1000, p90 / 1000, p99 / 1000)


def write_config(folder: Path, port: int) -> Path:
    # The rate limits raised out of the way: every request is a new address from the same client.
    limits = f"signups_per_client = {HIGH}\nsignups_per_address = {HIGH}\nsignups_per_domain = {HIGH}\n"
    path = folder / "newsletter.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{folder / "bench.db"}"\n'
                    f'[outbox]\ndir = "{folder / "outbox"}"\n'
                    f'[web]\nbase_url = "http://127.0.0.1:{port}"\n{limits}')
    return path


def measure_serve(folder: Path, seconds: int, connections: int) -> tuple[Run, int, Emails]:
    port = free_port()
    config = write_config(folder, port)
    newsletter = [sys.executable, "-c", "from newsletter.cli import main; main()", "--config", str(config)]
    subprocess.run([*newsletter, "init"], check=True, capture_output=True)
    with process([*newsletter, "serve", "--port", str(port)], folder, folder / "serve.log") as server:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url + "/healthz")
        page = httpx.get(url + "/").text
        found = re.search(r'name="form_token" value="([^"]+)"', page)
        assert found is not None, "the sign-up page has no form token"
        answer = httpx.post(url + "/subscribe", data={"email": "size@example.org", "form_token": found.group(1)})
        warmup = wrk(url, 2, connections, found.group(1), "warmup")
        # wrk's count leaves out requests cut off at its end, which may still have signed up: at least this many.
        before = 1 + warmup.requests
        wait_for_emails(folder, before)
        time.sleep(1)
        before = emails_in(folder)
        cpu_start = cpu_seconds(server.pid)
        run = wrk(url, seconds, connections, found.group(1), "measured")
        cpu_run = cpu_seconds(server.pid) - cpu_start
        during = emails_in(folder) - before
        drained = wait_for_emails(folder, before + run.requests)
        emails = Emails(during, emails_in(folder) - before, drained, cpu_run, cpu_seconds(server.pid) - cpu_start)
    return run, len(answer.content), emails


def measure_bare(folder: Path, seconds: int, connections: int, page_bytes: int) -> tuple[Run, float]:
    port = free_port()
    with process([sys.executable, "-c", BARE, str(port), str(page_bytes)], folder, folder / "bare.log") as server:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url + "/subscribe")
        wrk(url, 2, connections, "x", "warmup")
        cpu_start = cpu_seconds(server.pid)
        run = wrk(url, seconds, connections, "x", "bare")
        return run, cpu_seconds(server.pid) - cpu_start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each measured run")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (one wrk thread)")
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    with tempfile.TemporaryDirectory(prefix="bench-signup-") as name:
        folder = Path(name)
        serve, page_bytes, emails = measure_serve(folder, options.seconds, options.connections)
        bare, bare_cpu = measure_bare(folder, options.seconds, options.connections, page_bytes)
    print(f"POST /subscribe, {options.connections} connections, {options.seconds} s each, SQLite, "
          f"{os.cpu_count()} cores")
    print(f"{'endpoint':<28}{'req/s':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'non-2xx':>9}{'errors':>8}")
    for label, run in (("newsletter serve", serve), ("bare Starlette", bare)):
        print(f"{label:<28}{run.per_second:>9.0f}{run.p50_ms:>9.1f}{run.p90_ms:>9.1f}{run.p99_ms:>9.1f}"
              f"{run.non2xx:>9}{run.socket_errors:>8}")
    print(f"serve / bare throughput: {serve.per_second / bare.per_second:.2f}")
    print(f"confirmation emails of the run's {serve.requests} sign-ups: {emails.during_run} written during it, all "
          f"{emails.total} {emails.drained_after:.1f} s after it")
    print(f"server CPU (user + system) per request: serve {1e3 * emails.cpu_run / serve.requests:.3f} ms during the "
          f"run, {1e3 * emails.cpu_with_emails / serve.requests:.3f} ms with its confirmation email; "
          f"bare {1e3 * bare_cpu / bare.requests:.3f} ms")
    target = serve.per_second >= 1000 and serve.p99_ms < 50 and serve.non2xx == 0
    print("target (>= 1000 req/s, p99 < 50 ms, no errors): " + ("met" if target else "NOT met"))


if __name__ == "__main__":
    main()
