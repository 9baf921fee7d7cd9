"""The command line: check, history, show, demo, simulate, serve (DESIGN.md, Command line).

Parsing builds an options object; running it is separate, so parsing is testable alone.
Errors are one line on stderr, never a traceback; exit codes are `ExitCode`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import TextIO

from bot.config import Settings, color_wanted
from bot.errors import ConfluenceCheckError, UsageError
from bot.model import Outcome, Run


class ExitCode(IntEnum):
    OK = 0
    PROBLEM = 1
    INCONCLUSIVE = 2
    USAGE = 64


EXIT_FOR_OUTCOME = {Outcome.OK: ExitCode.OK, Outcome.PROBLEM: ExitCode.PROBLEM,
                    Outcome.INCONCLUSIVE: ExitCode.INCONCLUSIVE}


@dataclass(frozen=True)
class CheckOptions:
    actor: str
    endpoint: str | None = None
    status: int | None = None
    body: str | None = None
    body_file: str | None = None
    space: str | None = None
    actor_token_stdin: bool = False
    json: bool = False


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2; usage errors are 64 here
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="confluence-check",
                     description="Explain why an account gets 401/403 from the Confluence Cloud REST API.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    check = sub.add_parser("check", help="diagnose one actor (email or account id)")
    check.add_argument("actor")
    check.add_argument("--endpoint", help='the failing call, "METHOD URL-or-path"')
    check.add_argument("--status", type=_status, help="the HTTP status the caller saw")
    body = check.add_mutually_exclusive_group()
    body.add_argument("--body", help="the response body the caller saw")
    body.add_argument("--body-file", help="read that body from a file")
    check.add_argument("--space", help="the space key the call is about")
    check.add_argument("--actor-token-stdin", action="store_true",
                       help="read the actor's API token (or email:token) from standard input")
    check.add_argument("--json", action="store_true", help="print the run as confluence-check/run@1 JSON")
    history = sub.add_parser("history", help="recent runs, or how one actor's verdict changed")
    history.add_argument("actor", nargs="?")
    history.add_argument("--limit", type=_positive, default=20)
    history.add_argument("--json", action="store_true")
    show = sub.add_parser("show", help="one stored run")
    show.add_argument("run_id")
    fmt = show.add_mutually_exclusive_group()
    fmt.add_argument("--markdown", action="store_true", help="a redacted support bundle")
    fmt.add_argument("--json", action="store_true")
    demo = sub.add_parser("demo", help="run the probe chain against the bundled simulator")
    demo.add_argument("scenario", nargs="?")
    sim = sub.add_parser("simulate", help="serve a simulated Atlassian Cloud for trying the bot by hand")
    sim.add_argument("--port", type=int, default=0, help="site port (API on +1, status page on +2)")
    sim.add_argument("--scenario", default="seed_automation_actor")
    serve = sub.add_parser("serve", help="start the Slack bot")
    mode = serve.add_mutually_exclusive_group()
    mode.add_argument("--http", action="store_const", const="http", dest="mode")
    mode.add_argument("--socket", action="store_const", const="socket", dest="mode")
    return parser


def _status(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an HTTP status code: {text!r}") from None
    if not 100 <= value <= 599:
        raise argparse.ArgumentTypeError(f"not an HTTP status code: {value}")
    return value


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive number: {text!r}")
    return int(text)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `confluence-check` script; returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
        settings = Settings.load(dotenv_path=Path(".env"))
        return int(_dispatch(args, settings))
    except ConfluenceCheckError as exc:
        print(f"confluence-check: error: {exc}", file=sys.stderr)
        return int(ExitCode.USAGE)
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, settings: Settings) -> ExitCode:
    from bot import commands

    if args.command == "check":
        options = CheckOptions(args.actor, args.endpoint, args.status, args.body, args.body_file,
                               args.space, args.actor_token_stdin, args.json)
        return commands.check(options, settings, out=sys.stdout, stdin=sys.stdin,
                              color=color_wanted(sys.stdout))
    if args.command == "history":
        return commands.history(args.actor, args.limit, args.json, settings, out=sys.stdout)
    if args.command == "show":
        fmt = "markdown" if args.markdown else "json" if args.json else "text"
        return commands.show(args.run_id, fmt, settings, out=sys.stdout, color=color_wanted(sys.stdout))
    if args.command == "demo":
        return commands.demo(args.scenario, settings, out=sys.stdout, color=color_wanted(sys.stdout))
    if args.command == "simulate":
        return commands.simulate(args.scenario, args.port, out=sys.stdout)
    if args.command == "serve":
        from bot.slack.serve import serve

        asyncio.run(serve(settings, mode=args.mode))
        return ExitCode.OK
    raise UsageError(f"unknown command {args.command!r}")


def exit_code(run: Run) -> ExitCode:
    assert run.outcome is not None
    return EXIT_FOR_OUTCOME[run.outcome]


def write(out: TextIO, text: str) -> None:
    out.write(text if text.endswith("\n") else text + "\n")
    out.flush()
