"""How soon a pause reaches two `newsletter send` processes sharing one issue on PostgreSQL.

Run it with `NEWSLETTER_TEST_POSTGRES_URL=postgresql+psycopg://... .venv/bin/python bench/pause_reach.py`
(from the repository's root). Each trial: a fresh schema, 300 subscribers, two senders at 30 messages a
second in all to an in-process aiosmtpd server, and `newsletter issue pause` from a third process once 60
are in. It prints, per trial, how long after the pause was committed the last message arrived and how many
arrived in that time. The senders look at the issue's state every 0.5 s (`Policy.check_seconds`), so the
expected answer is under that plus one message per connection.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.send_site import make_site
from tests.e2e.test_send_pause import paused_send
from tests.newsletter.smtp_server import serve_in_thread

TRIALS = 3


def main() -> None:
    base = os.environ["NEWSLETTER_TEST_POSTGRES_URL"]
    admin = create_engine(base)
    print("trial  last arrival after the pause (s)  messages after the pause")
    for trial in range(1, TRIALS + 1):
        schema = "bench_" + secrets.token_hex(4)
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        try:
            with tempfile.TemporaryDirectory() as folder, serve_in_thread() as server:
                site = make_site(Path(folder), f"{base}?options=-csearch_path%3D{schema}", server.port, 300,
                                 delivery="batch_size = 10\nlease_seconds = 10\nlinger_seconds = 0",
                                 smtp="connections = 2\nrate_per_second = 30")
                paused_at, arrivals, _ = paused_send(site, server, after=60)
                site.engine.dispose()
                late = [at - paused_at for at in arrivals if at > paused_at]
                print(f"{trial:>5}  {max(late, default=0.0):>33.2f}  {len(late):>24}")
        finally:
            with admin.begin() as connection:
                connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


if __name__ == "__main__":
    main()
