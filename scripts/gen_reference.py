"""Write docs/reference.md, the command reference, from the CLI's own parser (`bot.cli.build_parser`):
every command's usage, description, arguments and options with their help, and its examples. Run it
after changing a command or an option; `tests/test_reference.py` fails while the file is stale.

    python scripts/gen_reference.py           # rewrite docs/reference.md
    python scripts/gen_reference.py --check   # exit 1 if it is stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.cli import EXAMPLES, build_parser  # noqa: E402  (the checkout's package, not an installed one)

TARGET = ROOT / "docs" / "reference.md"


def _usage(parser: argparse.ArgumentParser) -> str:
    return " ".join(parser.format_usage().split()).removeprefix("usage: ")


def _arguments(parser: argparse.ArgumentParser) -> list[str]:
    rows = []
    for action in parser._actions:
        if action.help == argparse.SUPPRESS or isinstance(action, argparse._SubParsersAction):
            continue
        if action.option_strings:
            names = ", ".join(f"`{name}`" for name in action.option_strings)
            if action.nargs != 0 and action.metavar != "":
                names += f" `{action.metavar or action.dest.upper()}`"
        else:
            names = f"`{action.metavar or action.dest.upper()}`" + (" (optional)" if action.nargs == "?" else "")
        help_text = (action.help or "").replace("%(prog)s", "confluence-check").replace("|", "\\|")
        rows.append(f"| {names} | {help_text} |")
    return ["| argument | meaning |", "|---|---|", *rows] if rows else []


def reference() -> str:
    """The whole of docs/reference.md."""
    parser = build_parser()
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    lines = [
        "# Command reference",
        "",
        "Generated from the command line's parser by `python scripts/gen_reference.py`; do not edit by hand",
        "(a test fails when this file and the parser disagree). `confluence-check COMMAND --help` prints the same.",
        "",
        "```",
        _usage(parser),
        "```",
        "",
        parser.description or "",
        "",
        *_arguments(parser),
        "",
        "| command | what it does |",
        "|---|---|",
        *(f"| [`{c.dest}`](#confluence-check-{c.dest}) | {c.help} |" for c in subs._choices_actions),
        "",
    ]
    for name, command in subs.choices.items():
        lines += [f"## confluence-check {name}", "", "```", _usage(command), "```", "",
                  command.description or "", "", *_arguments(command), ""]
        actions = next((a for a in command._actions if isinstance(a, argparse._SubParsersAction)), None)
        for action in actions._choices_actions if actions is not None else ():
            parser = actions.choices[action.dest]
            lines += [f"### confluence-check {name} {action.dest}", "", "```", _usage(parser), "```", "",
                      action.help or "", "", *_arguments(parser), ""]
        lines += ["Examples:", "", "```sh", *EXAMPLES.get(name, ()), "```", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def main() -> int:
    check = "--check" in sys.argv[1:]
    text = reference()
    if check:
        stale = not TARGET.is_file() or TARGET.read_text() != text
        if stale:
            print("docs/reference.md is stale: run python scripts/gen_reference.py", file=sys.stderr)
        return 1 if stale else 0
    TARGET.write_text(text)
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
