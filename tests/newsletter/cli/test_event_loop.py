"""The commands run on uvloop's event loop where it is installed, on asyncio's own where it is not, and
nothing in the packages starts a loop another way."""

from __future__ import annotations

import ast
import asyncio
import sys

import pytest

from newsletter.cli import event_loop
from tests.conftest import REPO


async def _loop_module() -> str:
    await asyncio.sleep(0)
    return type(asyncio.get_running_loop()).__module__


def test_a_command_runs_on_uvloop_where_it_is_installed() -> None:
    pytest.importorskip("uvloop", reason="uvloop is a dependency everywhere but on Windows")
    assert event_loop.run(_loop_module()).startswith("uvloop")


def test_without_uvloop_a_command_runs_on_asyncio_own_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # what `import uvloop` meets where it is not installed
    assert event_loop.loop_factory() is None
    assert event_loop.run(_loop_module()).startswith("asyncio")


def test_the_loop_is_closed_after_the_command_and_its_error_reaches_the_caller() -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def fails() -> None:
        loops.append(asyncio.get_running_loop())
        raise LookupError("from the command")

    with pytest.raises(LookupError, match="from the command"):
        event_loop.run(fails())
    assert loops[0].is_closed()


def test_no_module_starts_an_event_loop_but_through_event_loop_run() -> None:
    starters = {"run", "new_event_loop", "Runner", "get_event_loop"}
    found = []
    for package in ("newsletter", "subscribers"):
        for path in sorted((REPO / package).rglob("*.py")):
            if path == REPO / "newsletter" / "cli" / "event_loop.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Attribute) and node.attr in starters and \
                        isinstance(node.value, ast.Name) and node.value.id in {"asyncio", "uvloop"}:
                    found.append(f"{path.relative_to(REPO)}:{node.lineno} {node.value.id}.{node.attr}")
    assert found == []
