"""Docs stay true: the README's two commands, every CLI command and every setting are documented."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from bot.cli import build_parser
from bot.config import SETTING_HELP

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_opens_with_the_demo_and_the_test_command() -> None:
    block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert block is not None
    lines = [line.split("#")[0].strip() for line in block.group(1).strip().splitlines()]
    assert lines[:2] == ["pip install -e . && confluence-check demo", "pip install -e '.[test]' && pytest"]


def test_ci_runs_the_readmes_test_command() -> None:
    assert "pip install -e '.[test]' && pytest" in (ROOT / ".ci" / "run").read_text()


def test_every_command_is_in_the_readme_and_has_help() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in sub.choices.items():
        assert f"confluence-check {name}" in README, name
        assert sub._choices_actions and any(c.dest == name and c.help for c in sub._choices_actions), name
        assert command.format_help()


def test_every_setting_is_in_env_example_with_an_explanation() -> None:
    example = (ROOT / ".env.example").read_text()
    for name in SETTING_HELP:
        assert re.search(rf"^# .+\n{name}=", example, re.M), name
