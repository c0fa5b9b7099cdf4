"""The import rules each package's `__init__` states, checked on every module's imports.

A broken rule fails with the module and the import, e.g. adding `from bot.sandbox.site import
JiraSandbox` to bot/processor.py fails `test_import_rules` with:

    bot/processor.py imports bot.sandbox.site: only bot.cli.demo may use the sandbox
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "mappings")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> Iterator[str]:
    """Every module a file imports, at the top or inside functions (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def under(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def broken_rule(module: str, imported: str) -> str | None:
    """Why `module` must not import `imported`; None when the import is allowed."""
    if under(imported, "bot.sandbox") and not under(module, "bot.sandbox", "bot.cli.demo"):
        return "only bot.cli.demo may use the sandbox"
    if under(imported, "bot.jira.http", "atlassian") and not under(module, "bot.jira"):
        return "only bot/jira/ speaks HTTP to Jira"
    if under(module, "handlers") and under(
        imported, "bot.jira", "bot.inbox", "bot.cli", "bot.wiring", "requests", "sqlalchemy"
    ):
        return "handlers are pure: no Jira, store, CLI or wiring"
    if (
        under(module, "bot.jira")
        and under(imported, "bot")
        and not under(imported, "bot.jira", "bot.plan")
    ):
        return "bot/jira/ may import only itself and bot.plan"
    if (
        under(module, "bot.inbox")
        and under(imported, "bot", "handlers")
        and not under(imported, "bot.inbox", "bot.metrics", "bot.logs", "bot.jira.errors")
    ):
        return "bot/inbox/ may import only itself, bot.metrics, bot.logs and bot.jira.errors"
    if (
        under(module, "bot.certs")
        and under(imported, "bot", "handlers")
        and not under(
            imported, "bot.certs", "bot.jira.errors", "bot.inbox", "bot.plan", "bot.events"
        )
    ):
        return "bot/certs/ may import only itself, bot.jira.errors, bot.inbox, bot.plan, events"
    return None


def source_files() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def test_import_rules() -> None:
    broken = [
        f"{path.relative_to(ROOT)} imports {imported}: {why}"
        for path in source_files()
        for imported in imports_of(path)
        if (why := broken_rule(module_name(path), imported))
    ]
    assert broken == []


@pytest.mark.parametrize(
    ("module", "imported"),
    [
        ("bot.processor", "bot.sandbox.site"),
        ("bot.cli.plan", "bot.sandbox.seed"),
        ("bot.reconciler", "bot.jira.http"),
        ("handlers.renewal", "bot.jira.gateway"),
        ("handlers.question", "bot.inbox.store"),
        ("bot.jira.gateway", "bot.inbox.store"),
        ("bot.inbox.worker", "bot.jira.gateway"),
        ("bot.certs.reader", "handlers.renewal"),
    ],
)
def test_a_broken_rule_is_reported(module: str, imported: str) -> None:
    assert broken_rule(module, imported) is not None


def test_every_package_says_what_it_may_import() -> None:
    for init in sorted((ROOT / "bot").glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "import" in doc, init.relative_to(ROOT)


def test_every_module_has_a_one_line_docstring() -> None:
    for path in source_files():
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert doc, path.relative_to(ROOT)
