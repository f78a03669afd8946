"""POST /subscribe for new, pending, confirmed and suppressed addresses: can their timing tell them apart?

Usage: .venv/bin/python bench/signup_states.py [--rounds 300] [--source DIR]

`newsletter serve` on SQLite (its outbox worker writing the confirmation emails to a folder), with
addresses already on the list in every state, put there two hours ago (so a pending one is due another
email). Each round posts one address of each state, in a random order, each followed at once by the
sign-up of a new throwaway address: the follow-up feels any work the first request left behind, as an
attacker timing a probe would. Reported per state: the latency of the probe and of its follow-up, and
how often the best single threshold tells that state from "confirmed" (chosen on half the rounds,
scored on the other half; 50% is a coin toss). `--source DIR` runs another checkout's code, such as an
older commit, against the same benchmark.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from signup import HIGH, free_port, process, wait_until_up

REPO = Path(__file__).resolve().parent.parent
STATES = ("new", "pending", "confirmed", "unsubscribed", "bounced")
# Runs inside the checkout under test, with only the API every version has.
POPULATE = """
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from sqlalchemy import select
from newsletter.config import settings
from newsletter.db.engine import connect
from subscribers.addresses import parse
from subscribers.side import Subscribers
from subscribers.store import Consent
from subscribers.tables import SubscriberRow

config = settings.load(Path(sys.argv[1]))
engine = connect(config.database_url)
side = Subscribers(config, engine, now=lambda: datetime.now(UTC) - timedelta(hours=2))
for state in ("pending", "confirmed", "unsubscribed", "bounced"):
    for n in range(int(sys.argv[2])):
        address = parse(f"{state}{n}@example.org")
        side.store.sign_up(address, Consent("web-signup", "bench"))
        index = side.crypto.blind_index(address.lookup)
        with engine.connect() as conn:
            row = conn.execute(select(SubscriberRow.id, SubscriberRow.nonce)
                               .where(SubscriberRow.blind_index == index)).one()
        if state != "pending":
            side.store.confirm(row.id, row.nonce)
        if state == "unsubscribed":
            side.store.unsubscribe(row.id, row.nonce)
        elif state == "bounced":
            side.store.mark_bounced([row.id])
"""


def write_config(folder: Path, port: int, source: Path) -> Path:
    limits = f"signups_per_client = {HIGH}\nsignups_per_address = {HIGH}\n"
    if "signups_per_domain" in (source / "newsletter" / "config" / "settings.py").read_text():
        limits += f"signups_per_domain = {HIGH}\n"
    path = folder / "newsletter.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{folder / "bench.db"}"\n'
                    f'[outbox]\ndir = "{folder / "outbox"}"\n'
                    f'[web]\nbase_url = "http://127.0.0.1:{port}"\n{limits}')
    return path


def measure(folder: Path, rounds: int, source: Path) -> dict[str, tuple[list[float], list[float]]]:
    port = free_port()
    config = write_config(folder, port, source)
    environment = {**os.environ, "PYTHONPATH": str(source)}
    newsletter = [sys.executable, "-c", "from newsletter.cli import main; main()", "--config", str(config)]
    subprocess.run([*newsletter, "init"], check=True, capture_output=True, env=environment, cwd=folder)
    subprocess.run([sys.executable, "-c", POPULATE, str(config), str(rounds)], check=True, env=environment,
                   cwd=folder)
    times: dict[str, tuple[list[float], list[float]]] = {state: ([], []) for state in STATES}
    order = list(STATES)
    with process([*newsletter, "serve", "--port", str(port)], folder, folder / "serve.log", environment):
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url + "/healthz")
        with httpx.Client(base_url=url, timeout=30.0) as client:
            found = re.search(r'name="form_token" value="([^"]+)"', client.get("/").text)
            assert found is not None, "the sign-up page has no form token"
            token = found.group(1)

            def post(address: str) -> float:
                started = time.perf_counter()
                response = client.post("/subscribe", data={"email": address, "form_token": token})
                elapsed = time.perf_counter() - started
                assert response.status_code == 200, response.status_code
                return elapsed * 1000

            for n in range(10):  # warm up
                post(f"warmup{n}@example.org")
            for n in range(rounds):
                random.shuffle(order)
                for state in order:
                    probe, follow = times[state]
                    probe.append(post(f"{state}{n}@example.org"))
                    follow.append(post(f"throwaway{n}.{state}@example.net"))
                    time.sleep(0.05)  # the worker's share of the last round is over before the next probe
    return times


def split_accuracy(one: list[float], other: list[float]) -> float:
    """Fit a threshold on the even rounds, score it on the odd ones: how often it names the right state."""
    fit_a, fit_b, test_a, test_b = one[::2], other[::2], one[1::2], other[1::2]
    best, best_rule = -1.0, (0.0, True)
    for threshold in sorted(set(fit_a + fit_b)):
        for above in (True, False):
            score = _balanced(fit_a, fit_b, threshold, above)
            if score > best:
                best, best_rule = score, (threshold, above)
    return _balanced(test_a, test_b, *best_rule)


def _balanced(one: list[float], other: list[float], threshold: float, above: bool) -> float:
    hits_one = sum((x > threshold) == above for x in one) / len(one)
    hits_other = sum((x > threshold) != above for x in other) / len(other)
    return (hits_one + hits_other) / 2


def quantiles(values: list[float]) -> str:
    cuts = statistics.quantiles(values, n=100)
    return f"{cuts[49]:>7.2f}{cuts[89]:>7.2f}{cuts[98]:>7.2f}{statistics.fmean(values):>7.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300, help="probes per state")
    parser.add_argument("--source", type=Path, default=REPO, help="the checkout whose code is measured")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-states-") as name:
        times = measure(Path(name), options.rounds, options.source.resolve())
    print(f"POST /subscribe by the state of the address, {options.rounds} rounds, SQLite, "
          f"{os.cpu_count()} cores; times in ms")
    print(f"{'state':<14}{'probe: p50':>11}{'p90':>7}{'p99':>7}{'mean':>7}   {'next: p50':>10}{'p90':>7}"
          f"{'p99':>7}{'mean':>7}   told from confirmed: probe / next")
    confirmed_probe, confirmed_next = times["confirmed"]
    for state in STATES:
        probe, follow = times[state]
        told = ("" if state == "confirmed" else
                f"{split_accuracy(probe, confirmed_probe):.0%} / {split_accuracy(follow, confirmed_next):.0%}")
        print(f"{state:<14}    {quantiles(probe)}      {quantiles(follow)}   {told}")


if __name__ == "__main__":
    main()
