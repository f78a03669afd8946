"""Who holds a claim: a sending process, named by host, pid and a stamp of the process's start.

The stamp makes the name stable for one process and unique over time: a pid the system gives to a new
process later gets a new stamp. On Linux it is the boot id, the pid namespace and the start time from
/proc, so a sender can tell that a claim's owner on its own host (the same boot and pid namespace) has
died: no such process any more, a zombie, or the pid now belongs to a process that started at another
time. Then its rows can be taken at once. An owner on another host, or where /proc is missing, cannot be
checked from here: its rows are taken when its lease lapses, as it renews the lease while it lives.
Host names must therefore differ between the machines that share one send.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_PROC = Path("/proc")


@dataclass(frozen=True)
class Owner:
    """A sending process; `str(owner)` is what the ledger stores in `deliveries.owner`."""

    host: str
    pid: int
    stamp: str  # "<boot>-<pid namespace>-<start ticks>" on Linux; "" where it cannot be known

    def __str__(self) -> str:
        return f"{self.host}/{self.pid}/{self.stamp}"

    @property
    def shown(self) -> str:
        """How messages name it: host/pid."""
        return f"{self.host}/{self.pid}"

    @classmethod
    def parse(cls, text: str) -> Owner | None:
        """The owner `str(owner)` wrote; None for anything else."""
        parts = text.rsplit("/", 2)
        if len(parts) != 3 or not parts[0] or not parts[1].isdigit():
            return None
        return cls(parts[0], int(parts[1]), parts[2])

    @classmethod
    def this_process(cls) -> Owner:
        return cls(socket.gethostname(), os.getpid(), _stamp(os.getpid()) or "")

    def gone(self, here: Owner) -> bool:
        """Whether this owner is known to have ended, as seen from the process `here`.

        Only an owner in the same host, boot and pid namespace can be checked; any other is alive as far
        as `here` can tell.
        """
        if self.host != here.host or not self.stamp or _space(self.stamp) != _space(here.stamp):
            return False
        return _stamp(self.pid) != self.stamp


def _space(stamp: str) -> str:
    """The boot and pid namespace part of a stamp: where a pid means one process."""
    return stamp.rpartition("-")[0]


@cache
def _pid_space() -> str | None:
    try:
        boot = (_PROC / "sys/kernel/random/boot_id").read_text().strip().replace("-", "")[:12]
        namespace = os.stat(_PROC / "self/ns/pid").st_ino
    except OSError:
        return None
    return f"{boot}-{namespace}"


def _stamp(pid: int) -> str | None:
    """The stamp of the live process `pid` here, or None: no such process, a zombie, or no /proc."""
    space = _pid_space()
    if space is None:
        return None
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # Fields after the command name, which is in parentheses and may hold anything: state is field 3,
    # the start time (clock ticks after boot) field 22.
    fields = stat[stat.rfind(")") + 2:].split()
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return f"{space}-{fields[19]}"
