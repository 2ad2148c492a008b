"""The maps of the code in the README ("Where things live") and docs/DESIGN.md ("Layout") name
every module of the package, file for file, and nothing that is not there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.paths import REPO

#: An entry: a name at most 10 columns in (a continuation of a description sits further in).
ENTRY = re.compile(r"^(?P<indent> {0,10})(?P<name>[\w.-]+/?)(?:\s{2,}|$)")


def mapped(document: Path, heading: str) -> set[str]:
    """The paths under app/ named by the first code block after ``heading``."""
    text = document.read_text(encoding="utf-8")
    start = text.index(heading)
    block = text[text.index("```", start) + 3 :]
    block = block[: block.index("```")]
    stack: list[tuple[int, str]] = []
    found: set[str] = set()
    for line in block.splitlines():
        match = ENTRY.match(line)
        if not match:
            continue
        depth, name = len(match["indent"]), match["name"]
        while stack and stack[-1][0] >= depth:
            stack.pop()
        path = "".join(part for _, part in stack) + name
        if name.endswith("/"):
            stack.append((depth, name))
        if path.startswith("app/") and path.endswith(".py"):
            found.add(path)
    return found


def modules() -> set[str]:
    return {str(p.relative_to(REPO)) for p in (REPO / "app").rglob("*.py")}


@pytest.mark.parametrize(
    ("document", "heading"),
    [("README.md", "## Where things live"), ("docs/DESIGN.md", "## Layout")],
)
def test_the_map_names_every_module_and_only_those(document: str, heading: str) -> None:
    listed = mapped(REPO / document, heading)
    present = modules()
    assert sorted(present - listed) == [], f"{document} does not name these"
    assert sorted(listed - present) == [], f"{document} names these, which do not exist"
