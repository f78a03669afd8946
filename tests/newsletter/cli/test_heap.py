"""The `newsletter` process imports its command with the collector off, then freezes what it imported.

Each case runs in a process of its own: freezing is for the life of a process, and this one runs tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import write_config

# Runs `newsletter ARGS...` as `main()` does and writes, at exit, what the collector did meanwhile.
PROBE = """
import atexit, gc, json, sys
from newsletter.cli import main
out, sys.argv = sys.argv[1], ["newsletter", *sys.argv[2:]]
seen = {"collections while importing": 0}
def count(phase, info):
    if phase == "start" and "newsletter.cli.run" not in sys.modules:
        seen["collections while importing"] += 1
gc.callbacks.append(count)
def report():
    seen.update(enabled=gc.isenabled(), frozen=gc.get_freeze_count())
    open(out, "w").write(json.dumps(seen))
atexit.register(report)
main()
"""


def test_a_command_is_imported_without_collections_and_runs_with_its_modules_frozen(tmp_path: Path) -> None:
    write_config(tmp_path, f"sqlite:///{tmp_path / 'newsletter.db'}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    out = tmp_path / "heap.json"
    # `schedule` imports the service's modules (the scheduler, the web app): plenty to collect.
    done = subprocess.run([sys.executable, "-c", PROBE, str(out), "schedule"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    seen = json.loads(out.read_text())
    assert seen["collections while importing"] == 0
    assert seen["enabled"] is True
    assert seen["frozen"] > 10_000  # the modules' objects: out of every later collection


def test_a_process_that_turned_the_collector_off_keeps_it_off() -> None:
    probe = ("import gc; from newsletter.cli import heap; gc.disable(); heap.defer_collection(); heap.settle(); "
             "print(gc.isenabled(), gc.get_freeze_count())")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == ["False", "0"]


def test_the_collector_is_back_on_once_the_command_is_imported_before_it_runs() -> None:
    probe = ("import gc, click; from newsletter.cli import cli, heap; heap.defer_collection(); "
             "cli.get_command(click.Context(cli), 'schedule'); print(gc.isenabled(), gc.get_freeze_count() > 0)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == ["True", "True"]
