"""Who holds a claim, and whether that process is known to be gone (only checkable on this host)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from newsletter.delivery.owners import Owner

HERE = Owner.this_process()
pytestmark = pytest.mark.skipif(not HERE.stamp, reason="the process stamp needs Linux's /proc")


def test_an_owner_is_written_and_read_back_as_host_pid_and_stamp() -> None:
    assert Owner.parse(str(HERE)) == HERE
    assert HERE.pid == os.getpid()
    assert HERE.shown == f"{HERE.host}/{os.getpid()}"


@pytest.mark.parametrize("text", ["", "host", "host/12", "host/pid/stamp", "/12/stamp"],
                         ids=["empty", "host-alone", "no-stamp-part", "pid-not-a-number", "no-host"])
def test_anything_else_is_no_owner(text: str) -> None:
    assert Owner.parse(text) is None


def test_a_live_process_is_not_gone() -> None:
    assert not HERE.gone(HERE)


def test_a_process_that_ended_on_this_host_is_gone() -> None:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                           text=True, check=True)
    assert Owner(HERE.host, int(child.stdout), HERE.stamp).gone(HERE)


def test_a_pid_that_now_belongs_to_a_process_started_at_another_time_is_gone() -> None:
    space, _, started = HERE.stamp.rpartition("-")
    assert Owner(HERE.host, HERE.pid, f"{space}-{int(started) - 1}").gone(HERE)


@pytest.mark.parametrize(
    "owner",
    [Owner("another-host", 1, "x-y-1"), Owner(HERE.host, 99_999_999, ""),
     Owner(HERE.host, 99_999_999, "otherboot-1-1")],
    ids=["another-host", "no-stamp", "another-boot-or-pid-namespace"],
)
def test_an_owner_this_process_cannot_check_is_taken_to_be_alive(owner: Owner) -> None:
    assert not owner.gone(HERE)
