"""The layering rule, read off the tree: only the web package speaks HTTP."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.paths import REPO

WEB_ONLY = ("fastapi", "starlette")


def _imported(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_nothing_outside_the_web_package_imports_fastapi_or_starlette() -> None:
    app = REPO / "app"
    offenders = {
        str(path.relative_to(REPO)): sorted(_imported(path) & set(WEB_ONLY))
        for path in app.rglob("*.py")
        if (app / "web") not in path.parents and _imported(path) & set(WEB_ONLY)
    }
    assert offenders == {}


def test_domain_errors_come_from_their_own_module() -> None:
    """Modules that only want an error import it from app.errors, not from accounts or web."""
    for path in (REPO / "app").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in (
                "app.accounts.auth",
                "app.web.guards",
            ):
                names = {alias.name for alias in node.names}
                assert not names & {"DomainError", "NotFound", "Conflict", "Unprocessable"}, path
