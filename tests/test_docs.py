"""Docs stay true: the README's commands are CI's, every command is in the generated reference, every
setting is documented with where it is read from, and every link in the README and docs/ resolves."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

from bot.cli import build_parser
from bot.config import SETTING_HELP

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
DOCS = ROOT / "docs"


def _first_sh_block() -> list[str]:
    block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert block is not None
    return [line.split("#")[0].strip() for line in block.group(1).strip().splitlines()]


def test_readme_opens_with_a_venv_the_demo_and_the_test_command() -> None:
    install, demo, tests = _first_sh_block()[:3]
    assert install == "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]'"
    assert demo == "confluence-check demo"
    assert tests == "pytest"


def test_ci_runs_the_readmes_test_command() -> None:
    """`.ci/run` installs as the README says and runs the README's test command on the same line."""
    install, _, tests = _first_sh_block()[:3]
    pip = install.split(" && ")[-1]
    assert f"{pip} && {tests}" in (ROOT / ".ci" / "run").read_text()


def test_every_command_has_help_and_is_in_the_reference() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    reference = (DOCS / "reference.md").read_text()
    for name, command in sub.choices.items():
        assert f"## confluence-check {name}" in reference, name
        assert any(c.dest == name and c.help for c in sub._choices_actions), name
        assert command.format_help()


def test_the_reference_is_generated_from_the_parser() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_reference.py"), "--check"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr + " (run: python scripts/gen_reference.py)"


def test_every_setting_is_in_env_example_with_an_explanation() -> None:
    example = (ROOT / ".env.example").read_text()
    for name in SETTING_HELP:
        assert re.search(rf"^# .+\n{name}=", example, re.M), name


def test_every_setting_is_documented_with_where_it_is_read_from() -> None:
    settings = (DOCS / "settings.md").read_text()
    assert "~/.config/confluence-check/.env" in settings and "current folder" in settings
    for name in SETTING_HELP:
        assert re.search(rf"^\| `{name}` \|", settings, re.M), f"{name}: add a row to docs/settings.md"


def test_every_relative_link_resolves() -> None:
    pages = [ROOT / "README.md", *DOCS.glob("*.md")]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} → {target}")
    assert not broken, broken
