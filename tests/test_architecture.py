"""The diagnosis core imports nothing from Slack or the renderers (docs/architecture.md §Layers)."""

import ast
from pathlib import Path

import bot

CORE = ["model.py", "facts.py", "engine.py", "causes.py", "request.py", "config.py", "errors.py", "checker.py",
        "probes", "atlassian"]
FORBIDDEN = ("slack_bolt", "slack_sdk", "bot.slack", "bot.render", "bot.cli", "bot.commands")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_does_not_import_adapters() -> None:
    root = Path(bot.__file__).parent
    files = [p for entry in CORE for p in ((root / entry).rglob("*.py") if (root / entry).is_dir()
                                           else [root / entry])]
    assert len(files) > 10
    for path in files:
        bad = {m for m in _imports(path) if m.startswith(FORBIDDEN)}
        assert not bad, f"{path.name} imports {bad}"


def test_only_config_reads_the_environment() -> None:
    root = Path(bot.__file__).parent
    # parts below `bot/` only: a checkout may itself live in a directory called "simulator"
    readers = [p.relative_to(root).as_posix() for p in root.rglob("*.py") if "os.environ" in p.read_text()
               and "simulator" not in p.relative_to(root).parts]
    assert readers == ["config.py"]
