"""`newsletter subscribers ...`: counts, one address's status, imports and erasure (never a listing).

The group names its commands in a table and imports each when it runs (`lazy_group.py`): `stats` counts
through the driver alone (`subscriber_stats.py`), without SQLAlchemy or the key, and only the commands
that handle an address (`subscriber_list.py`) load the subscriber side.
"""

from __future__ import annotations

import click

from newsletter.cli.lazy_group import Lazy, LazyGroup

SUBCOMMANDS = {
    "stats": Lazy("newsletter.cli.subscriber_stats:stats",
                  "How many subscribers are in each status, and how the confirmation emails are doing."),
    "lookup": Lazy("newsletter.cli.subscriber_list:lookup",
                   "The status of ADDRESS (exit code 1 when it is not on the list)."),
    "import": Lazy("newsletter.cli.subscriber_list:import_command",
                   "Add the addresses in FILE: one a line, or a CSV whose header names an email column."),
    "suppress": Lazy("newsletter.cli.subscriber_list:suppress",
                     "Never mail TARGET: a file of addresses (one a line, or a CSV with an email column) or one "
                     "ADDRESS."),
    "erase": Lazy("newsletter.cli.subscriber_list:erase",
                  "Delete ADDRESS and everything kept about it, its unsubscribe fingerprint included."),
}


@click.group("subscribers", cls=LazyGroup, lazy=SUBCOMMANDS)
def subscribers_group() -> None:
    """The subscriber list: counts, one address's status, imports and erasure (never a listing)."""


COMMANDS = [subscribers_group]
