"""CLI habits of gh, git and kubectl: no arguments prints the help (exit 0); a mistyped command or
option gets a "did you mean"; every `--help` ends with examples."""

from __future__ import annotations

import argparse

import pytest

from bot.cli import build_parser, main


def _commands() -> list[str]:
    """Every command, and every action of a command that has actions ("watch add")."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found = []
    for name, command in sub.choices.items():
        found.append(name)
        actions = next((a for a in command._actions if isinstance(a, argparse._SubParsersAction)), None)
        found += [f"{name} {action}" for action in (actions.choices if actions is not None else ())]
    return found


def test_no_arguments_prints_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: confluence-check") and "check" in out and "examples:" in out


@pytest.mark.parametrize("command", ["", *_commands()])
def test_every_help_ends_with_examples(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command.split(), "--help"]) == 0
    out = capsys.readouterr().out.rstrip()
    examples = out[out.rindex("examples:"):].splitlines()[1:]
    assert examples and all(line.strip().startswith("confluence-check") or line.strip().startswith("echo")
                            for line in examples)
    if command:
        assert any(f"confluence-check {command.split()[0]}" in line for line in examples)


@pytest.mark.parametrize(("argv", "suggestion"), [
    (["chek", "a@acme.com"], "did you mean 'check'?"),
    (["histroy"], "did you mean 'history'?"),
    (["check", "a@acme.com", "--endpont", "GET /wiki"], "did you mean '--endpoint'?"),
    (["show", "r_1", "--markdwon"], "did you mean '--markdown'?"),
    (["simulate", "--scenaro", "ok"], "did you mean '--scenario'?"),
])
def test_a_typo_gets_did_you_mean(argv: list[str], suggestion: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 64
    err = capsys.readouterr().err
    assert suggestion in err.splitlines()[0]


def test_nonsense_gets_no_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["xyzzy"]) == 64
    assert "did you mean" not in capsys.readouterr().err
