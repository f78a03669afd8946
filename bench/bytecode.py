"""The measured checkout's modules compiled to bytecode before a benchmark times a command.

pip compiles a package's modules as it installs them, so a deployment starts from bytecode. A checkout
run from its folder compiles them again at every start when Python may not write `__pycache__`
(PYTHONDONTWRITEBYTECODE=1, which some machines set): about a hundred modules, 0.1 s of CPU in every
command, which no deployment pays. The benchmarks that time whole commands compile first, so they
measure what a deployment runs; the children still write nothing themselves.
"""

from __future__ import annotations

import compileall
from pathlib import Path

PACKAGES = ("newsletter", "subscribers")


def compile_checkout(root: Path) -> None:
    """Write the bytecode of `root`'s packages (a no-op where it is up to date)."""
    for package in PACKAGES:
        if not compileall.compile_dir(root / package, quiet=1):
            raise SystemExit(f"could not compile {root / package}")
