"""The structure's rules that import contracts cannot express: every table has one owning module (and at
most one read-only window beside it), and no two classes or functions share a name while doing different
things. (The import rules themselves are
declared in pyproject.toml and checked by `lint-imports` in scripts/test.)"""

from __future__ import annotations

import ast
import re
from collections import defaultdict

import pytest

import newsletter.content.tables
import newsletter.delivery.tables
import newsletter.inbound.tables
import newsletter.issues.tables
import subscribers.tables
from newsletter.db.schema import Base
from tests.conftest import REPO

# The one module that reads and writes each table; everything else goes through it.
OWNERS = {
    "ExcerptRow": "newsletter.content.store",
    "IssueRow": "newsletter.issues.store",
    "IssueExcerptRow": "newsletter.issues.store",
    "IssueStateRow": "newsletter.issues.life",
    "IssueEventRow": "newsletter.issues.life",
    "IssueEditRow": "newsletter.issues.edits",
    "DeliveryRow": "newsletter.delivery.ledger",
    "SubscriberRow": "subscribers.store",
    "SignupRow": "subscribers.signups",
    "OutboxRow": "subscribers.outbox",
    "KeyCheckRow": "subscribers.key_check",
    "ReturnRow": "newsletter.inbound.store",
    "ConsentEventRow": "subscribers.consent_events",
}
# Each owner's read-only window: the same questions answered through the driver alone, for the commands
# that only look (newsletter/db/reader.py says why). A window reads its package's tables, writes none,
# and may define the names of the owners' functions it mirrors.
WINDOWS = {
    "newsletter.content.glance": {"newsletter.content.store"},
    "newsletter.issues.glance": {"newsletter.issues.store", "newsletter.issues.life", "newsletter.issues.edits"},
    "newsletter.delivery.glance": {"newsletter.delivery.ledger"},
    "subscribers.glance": {"subscribers.store", "subscribers.outbox"},
}
TABLES_MODULES = {m.__name__ for m in (newsletter.content.tables, newsletter.issues.tables,
                                       newsletter.delivery.tables, newsletter.inbound.tables, subscribers.tables)}
# Names that several modules define on purpose, each for the same idea in its own place.
SHARED_NAMES = {"log", "main", "check", "run", "send", "close", "routes", "COMMANDS"}


def _modules() -> dict[str, str]:
    """Every module of the two packages (migrations aside) by dotted name, with its source."""
    found = {}
    for package in ("newsletter", "subscribers"):
        for path in sorted((REPO / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
            found[name] = path.read_text(encoding="utf-8")
    return found


MODULES = _modules()


def test_every_table_class_has_one_declared_owner() -> None:
    assert {mapper.class_.__name__ for mapper in Base.registry.mappers} == set(OWNERS)


@pytest.mark.parametrize("row_class", sorted(OWNERS))
def test_only_the_owner_of_a_table_names_its_class(row_class: str) -> None:
    naming = {name for name, source in MODULES.items() if re.search(rf"\b{row_class}\b", source)}
    assert naming - TABLES_MODULES == {OWNERS[row_class]}


@pytest.mark.parametrize("table", sorted(Base.metadata.tables))
def test_no_module_but_the_owner_reaches_a_table_by_its_sql_name(table: str) -> None:
    sql = re.compile(rf"""\b(FROM|INTO|UPDATE|JOIN|TABLE)\s+["']?{table}\b|ForeignKey\(["']{table}\.""")
    owners = {OWNERS[m.class_.__name__] for m in Base.registry.mappers if m.class_.__tablename__ == table}
    windows = {window for window, mirrored in WINDOWS.items() if mirrored & owners}
    reaching = {name for name, source in MODULES.items() if sql.search(source)}
    assert reaching - TABLES_MODULES - owners - windows == set()


@pytest.mark.parametrize("window", sorted(WINDOWS))
def test_a_read_only_window_writes_nothing(window: str) -> None:
    writes = re.compile(r"\b(INSERT|UPDATE|DELETE|UPSERT|MERGE|CREATE|DROP|ALTER|TRUNCATE|REPLACE)\b")
    assert writes.findall(MODULES[window]) == []
    assert "import sqlalchemy" not in MODULES[window]
    assert "from sqlalchemy" not in MODULES[window]


def test_no_two_public_classes_or_functions_share_a_name() -> None:
    defined: dict[str, set[str]] = defaultdict(set)
    for module, source in MODULES.items():
        for node in ast.parse(source).body:
            public = not getattr(node, "name", "_").startswith("_")
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and public:
                defined[node.name].add(module)
    for window, mirrored in WINDOWS.items():  # a window's functions answer as the owner's of the same name
        for where in defined.values():
            if window in where and where & mirrored:
                where.discard(window)
    shared = {name: sorted(where) for name, where in defined.items() if len(where) > 1 and name not in SHARED_NAMES}
    assert shared == {}


# Module names that recur on purpose: the same role in each stage (its tables, their owner, the owner's
# read-only window, the states its rows go through, its exception family), or the same noun on both
# sides of the privacy boundary (the recipients and returns protocols and their implementations; the
# settings and the subscriber side's view of them).
SAME_ROLE = {"tables", "store", "errors", "recipients", "returns", "settings", "glance", "states"}


def test_no_two_modules_share_a_name_unless_they_play_the_same_role() -> None:
    leaves: dict[str, set[str]] = defaultdict(set)
    for module in MODULES:
        # The CLI's modules are named for the stage they command (cli/content, cli/preview): by design.
        if "." in module and not module.startswith("newsletter.cli."):
            leaves[module.rsplit(".", 1)[1]].add(module)
    shared = {leaf: sorted(where) for leaf, where in leaves.items() if len(where) > 1 and leaf not in SAME_ROLE}
    assert shared == {}
