"""User-facing text points to public Atlassian docs, never to files a user of the package does not
have (FACTS.md, DESIGN.md, CAUSES.md…): every string the package can show is scanned — comments and
docstrings may cite them, the simulator (a test double) too."""

from __future__ import annotations

import ast
from pathlib import Path

import bot
from bot.causes import CATALOGUE

PRIVATE_DOCS = ("FACTS", "DESIGN.md", "CAUSES.md", "STYLE.md", "AUTOMATION.md", "§")


def _shown_strings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                  and ast.get_docstring(node, clean=False) is not None}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def test_no_string_the_package_can_show_cites_a_private_doc() -> None:
    root = Path(bot.__file__).parent
    found = [f"{path.relative_to(root)}:{line}: {text[:80]!r}"
             for path in root.rglob("*.py") if "simulator" not in path.parts
             for line, text in _shown_strings(path) if any(doc in text for doc in PRIVATE_DOCS)]
    assert found == []


def test_the_cause_catalogue_cites_no_private_doc() -> None:
    for cause in CATALOGUE:
        text = repr(cause)
        assert not any(doc in text for doc in PRIVATE_DOCS), cause.code
