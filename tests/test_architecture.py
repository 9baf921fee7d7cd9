"""The layers of docs/architecture.md §Layers, checked over every import in the package: module-level
imports, imports inside functions and imports only for type checking alike. A module imports from its
own layer and the layers below, never above; no two modules import each other, however indirectly."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import bot

ROOT = Path(bot.__file__).parent

# Lowest first. A name is a module or a package of `bot` (a package holds all its submodules).
LAYERS: list[tuple[str, set[str]]] = [
    ("base", {"bot", "bot.errors", "bot.redact", "bot.config", "bot.logs", "bot.model", "bot.facts", "bot.openapi"}),
    ("atlassian", {"bot.atlassian", "bot.request", "bot.preflight", "bot.automation"}),
    ("core", {"bot.probes", "bot.causes", "bot.observations", "bot.needs", "bot.judge", "bot.engine", "bot.tokens",
              "bot.compare"}),
    ("store", {"bot.store"}),
    ("render", {"bot.render"}),
    ("application", {"bot.checker", "bot.site_facts", "bot.watches"}),
    ("adapters", {"bot.console", "bot.commands", "bot.sweep_commands", "bot.watch_commands", "bot.cli", "bot.__main__",
                  "bot.slack", "bot.simulator"}),
]
# Narrower rules inside the adapters: Slack and the terminal are separate adapters, and the simulator
# stands in for Atlassian, so it shares no code with the product that talks to Atlassian.
ONLY_FROM: dict[str, set[str]] = {
    "bot.slack": {"base", "atlassian", "core", "store", "render", "application", "bot.slack"},
    "bot.simulator": {"base", "bot.simulator"},
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        if "__pycache__" in path.parts:
            continue
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _known(name: str) -> str | None:
    """The package module `name` refers to (its longest known prefix), None outside the package."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str) -> Iterator[tuple[int, str]]:
    """(line, module) for every import of a package module in `module`, wherever it is written."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            submodules = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES]
            names = [alias for alias in node.names if f"{base}.{alias.name}" not in MODULES]
            targets = submodules + ([base] if names else [])
        else:
            continue
        for target in targets:
            if (known := _known(target)) is not None and known != module:
                yield node.lineno, known


def layer_of(module: str) -> int:
    for index, (_, members) in enumerate(LAYERS):
        if any(module == m or module.startswith(m + ".") for m in members if m != "bot") or module == "bot":
            return index
    raise AssertionError(f"{module} is in no layer of LAYERS: add it where it belongs")


def _allowed_by_narrow_rule(module: str, target: str) -> bool:
    groups = [g for g in ONLY_FROM if module == g or module.startswith(g + ".")]
    if not groups:
        return True
    allowed = ONLY_FROM[groups[0]]
    return LAYERS[layer_of(target)][0] in allowed or any(target == a or target.startswith(a + ".") for a in allowed)


def test_every_module_has_a_layer() -> None:
    assert len(MODULES) > 80
    for module in MODULES:
        layer_of(module)


def test_no_module_imports_from_a_layer_above_it() -> None:
    wrong = [f"{MODULES[m].relative_to(ROOT.parent)}:{line}: {LAYERS[layer_of(m)][0]} {m} imports "
             f"{LAYERS[layer_of(t)][0]} {t}"
             for m in MODULES for line, t in imports_of(m) if layer_of(t) > layer_of(m)]
    assert not wrong, "\n".join(wrong)


def test_slack_and_the_simulator_keep_to_their_own_rules() -> None:
    wrong = [f"{MODULES[m].relative_to(ROOT.parent)}:{line}: {m} imports {t}"
             for m in MODULES for line, t in imports_of(m) if not _allowed_by_narrow_rule(m, t)]
    assert not wrong, "\n".join(wrong)


def test_renderers_import_nothing_from_slack() -> None:
    assert not [t for m in MODULES if m.startswith("bot.render") for _, t in imports_of(m) if t.startswith("bot.slack")]


def _cycles() -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), over every import."""
    graph = {m: {t for _, t in imports_of(m)} for m in MODULES}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(MODULES):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycle() -> None:
    assert _cycles() == []


@pytest.mark.parametrize("source, expected", [
    ("import bot.slack.app\n", {"bot.slack.app"}),
    ("def f():\n    from bot.slack import blocks\n", {"bot.slack.blocks"}),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.store import Via\n", {"bot.store"}),
    ("from . import text\nfrom .markdown import scrub\n", {"bot.render.text", "bot.render.markdown"}),
])
def test_imports_are_found_wherever_they_are_written(source: str, expected: set[str], tmp_path: Path) -> None:
    module = "bot.render.probe_of_the_test"
    MODULES[module] = tmp_path / "probe_of_the_test.py"
    MODULES[module].write_text(source)
    try:
        assert {target for _, target in imports_of(module)} == expected
    finally:
        del MODULES[module]


def test_only_config_reads_the_environment() -> None:
    # parts below `bot/` only: a checkout may itself live in a directory called "simulator"
    readers = [p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*.py") if "os.environ" in p.read_text()
               and "simulator" not in p.relative_to(ROOT).parts]
    assert readers == ["config.py"]
