"""A Click group that imports a command's module only when that command runs.

Every command used to import the whole pipeline (Alembic, Starlette, uvicorn, premailer, feedparser...)
before doing anything, so `newsletter status` paid about a second of CPU to print a few counts. This is
Click's own recipe for lazy subcommands (`get_command` imports on first use); the table also carries each
command's one-line summary, so `newsletter --help` lists the commands without importing any of them.
`tests/newsletter/cli/test_lazy_group.py` checks that each summary is the command's own first line.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import click

from newsletter.cli import heap


@dataclass(frozen=True)
class Lazy:
    """Where a command lives (`package.module:attribute`) and its docstring's first sentence."""

    target: str
    summary: str

    def load(self) -> click.Command:
        module_name, attribute = self.target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.target} is not a Click command")
        return command


class LazyGroup(click.Group):
    """A group whose commands are named in a table and imported when first asked for."""

    def __init__(self, *args: Any, lazy: Mapping[str, Lazy] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            self.add_command(self.lazy[cmd_name].load(), cmd_name)
            heap.settle()  # its modules are in: see `heap`
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The listing `--help` prints, from the table's summaries for commands not loaded yet."""
        rows = []
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        for name in names:
            command = self.commands.get(name) or click.Command(name, help=self.lazy[name].summary)
            if not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)
