"""The heap a command starts with, kept out of the garbage collector's way.

A command imports a few hundred modules (SQLAlchemy, Jinja2, the pipeline's own) whose objects live
until the process exits. Importing them allocates enough to set off the collector many times, full
collections included, and each later full collection walks them all again: in a 10,000-message send,
two full collections cost 68 ms, and the young ones that ran while importing more (issue #16). So the
`newsletter` process (`cli.main`) turns the collector off while it imports the command it runs, then
freezes what is there (`gc.freeze`: left out of every later collection) and turns it back on; what the
command allocates from there on is collected as usual. A process that only calls the CLI in-process
(the tests, through Click's runner) never begins, so its heap is never frozen.
"""

from __future__ import annotations

import gc


class _Collector:
    held = False  # `defer_collection` turned the collector off, and `settle` has yet to turn it back on


def defer_collection() -> None:
    """Collect nothing until `settle`: the command's modules are about to be imported."""
    if gc.isenabled():
        gc.disable()
        _Collector.held = True


def settle() -> None:
    """The command is imported: freeze what is there, and collect as usual from here on (idempotent)."""
    if _Collector.held:
        _Collector.held = False
        gc.freeze()
        gc.enable()
