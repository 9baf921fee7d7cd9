"""The adapter keeps its shape (docs/architecture.md §Layers)."""

from __future__ import annotations

import ast
from pathlib import Path

import bot.slack

SLACK = Path(bot.slack.__file__).parent


def test_listeners_never_build_block_kit_and_handlers_are_named_by_surface() -> None:
    for path in (SLACK / "listeners").glob("[!_]*.py"):
        tree = ast.parse(path.read_text())
        literals = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
        assert not {"section", "actions", "mrkdwn", "plain_text", "blocks"} & set(literals), path.name
        public = [n.name for n in tree.body if isinstance(n, ast.AsyncFunctionDef) and not n.name.startswith("_")]
        assert all(name.startswith("handle_") for name in public), (path.name, public)


def test_the_listener_package_only_wires() -> None:
    tree = ast.parse((SLACK / "listeners" / "__init__.py").read_text())
    assert [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)] == ["register"]


def test_modules_stay_small() -> None:
    for path in SLACK.rglob("*.py"):
        limit = 500 if path.name == "blocks.py" else 400  # blocks.py: all of Slack's limits in one place
        assert len(path.read_text().splitlines()) < limit, path.name
