"""The command line: check, rule, watch, history, show, demo, simulate, serve (docs/architecture.md §Command line).

Parsing builds an options object; running it is separate, so parsing is testable alone.
Errors are one line on stderr (a usage error adds the usage line), never a traceback; exit codes
are `ExitCode`: 64 bad usage or configuration, 70 an internal error (one line naming the run and
how to see the traceback), 130 interrupted by Ctrl-C, 143 by SIGTERM. A closed output pipe
(`| head -1`) is not an error: the run goes on, is stored, and its exit status stands.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import difflib
import logging
import re
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from bot import __version__, logs
from bot.config import Settings, color_wanted, find_dotenv
from bot.console import (
    CheckOptions,
    ExitCode,
    RuleOptions,
    RunTracker,
    Terminated,
    close_stdout,
    raise_on_sigterm,
    run_async,
    write,
)
from bot.errors import ConfluenceCheckError, UsageError
from bot.redact import inert, redact_text

log = logging.getLogger(__name__)


class CommandUsageError(UsageError):
    """A usage error that knows its command's usage line."""

    def __init__(self, message: str, usage: str) -> None:
        super().__init__(message)
        self.usage = usage


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors as exit 64 (not 2), a "did you mean" for a mistyped command or
    option (as git and kubectl do), and examples at the end of every `--help`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:  # argparse exits 2; usage errors are 64 here
        hint = _did_you_mean(self, message)
        if hint and "invalid choice" in message:  # argparse's list of every choice is in the hint already
            message = message.split(" (choose from", 1)[0]
        raise CommandUsageError(message + hint, " ".join(self.format_usage().split()))


def _did_you_mean(parser: argparse.ArgumentParser, message: str) -> str:
    """" (did you mean 'check'?)" for an unknown command or option close to a real one; else ""."""
    choice = re.search(r"invalid choice: '([^']*)'", message)
    if choice:
        action = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
        known = list(action.choices) if action is not None else []
        close = difflib.get_close_matches(choice.group(1), known, n=1, cutoff=0.6)
        return f" (did you mean '{close[0]}'?)" if close else f" (commands: {', '.join(known)})"
    unknown = re.search(r"unrecognized arguments: (.*)", message)
    if unknown:
        options = _option_strings(parser, _LastArgv.words)
        for word in unknown.group(1).split():
            if word.startswith("--"):
                close = difflib.get_close_matches(word.split("=", 1)[0], options, n=1, cutoff=0.6)
                if close:
                    return f" (did you mean '{close[0]}'?)"
    return ""


def _option_strings(parser: argparse.ArgumentParser, words: Sequence[str]) -> list[str]:
    """The long options of the command named in `words` (and the program's own)."""
    options = [o for a in parser._actions for o in a.option_strings if o.startswith("--")]
    subs = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
    if subs is not None:
        command = next((w for w in words if w in subs.choices), None)
        if command is not None:
            options += _option_strings(subs.choices[command], words)
    return options


class _LastArgv:
    """The words being parsed, for the option suggestions (argparse reports an unknown option
    from the program's parser, which does not know which command it belonged to)."""

    words: Sequence[str] = ()


def _add_debug(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument("--debug", action="store_true", default=default,
                        help="log at DEBUG and print the traceback of an internal error")


# The examples every `--help` ends with (`docs/reference.md` is generated from these and the parser).
EXAMPLES: dict[str, tuple[str, ...]] = {
    "": ("confluence-check demo                                  # the tour, against the bundled simulator",
         "confluence-check check automation@acme.com --status 403",
         "confluence-check config                                # which settings file and history are used",
         "confluence-check COMMAND --help                        # one command's options"),
    "check": ("confluence-check check automation@acme.com",
              "confluence-check check automation@acme.com --endpoint 'GET /wiki/rest/api/space' --status 403",
              "confluence-check check 557058:6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0 --space DOCS",
              "echo \"$ACTOR_TOKEN\" | confluence-check check automation@acme.com --actor-token-stdin",
              "echo \"$ACTOR_TOKEN\" | confluence-check check reader@acme.com --endpoint 'GET /wiki/rest/api/content' "
              "--status 403 --sent-as bearer --actor-token-stdin",
              "confluence-check check automation@acme.com --json | jq .verdict.cause"),
    "rule": ("confluence-check rule 019d4e2a-7c1b-7e55-9a0f-3b2c1d0e0001",
             "confluence-check rule 'https://acme.atlassian.net/wiki/admin/automation#/rule/019d4e2a-…'",
             "confluence-check rule 'Publish release notes' --markdown > bundle.md"),
    "compare": ("confluence-check compare automation@acme.com priya.n@acme.com",
                "confluence-check compare automation@acme.com priya.n@acme.com --endpoint 'GET /wiki/rest/api/space' "
                "--status 403",
                "confluence-check compare automation@acme.com priya.n@acme.com --json",
                "echo \"$FAILING_TOKEN\" | confluence-check compare automation@acme.com priya.n@acme.com "
                "--tokens-stdin"),
    "tokens": ("confluence-check tokens                                # expiring within 30 days, unused for 90",
               "confluence-check tokens --expiring 14 --unused 180",
               "confluence-check tokens --csv > tokens.csv"),
    "watch": ("confluence-check watch add automation@acme.com --every 6h --channel C0123ABCD",
              "confluence-check watch list",
              "confluence-check watch remove w_01J9Z8K3Q4"),
    "history": ("confluence-check history",
                "confluence-check history automation@acme.com      # what changed, question by question",
                "confluence-check history --limit 100 --json"),
    "show": ("confluence-check show r_01J9Z8K3Q4W5E6R7T8Y9U0I1O2",
             "confluence-check show r_01J9Z8K3Q4W5E6R7T8Y9U0I1O2 --markdown > bundle.md"),
    "config": ("confluence-check config",),
    "demo": ("confluence-check demo", "confluence-check demo seed_automation_actor"),
    "simulate": ("confluence-check simulate                                  # the seed story on ports 8710-8713",
                 "confluence-check simulate --scenario rule_auth_header_missing",
                 "confluence-check simulate --port 0                         # free ports"),
    "serve": ("confluence-check serve            # Socket Mode when SLACK_APP_TOKEN is set, else HTTP",
              "confluence-check serve --http     # POST /slack/events on $PORT"),
}

SIMULATOR_PORT = 8710  # fixed, so the settings `simulate` prints stay right from one start to the next


def _examples(command: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in EXAMPLES.get(command, ()))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="confluence-check",
                     description="Explain why an account gets 401/403 from the Confluence Cloud REST API.",
                     epilog=_examples(""))
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_debug(parser, False)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".",
                              epilog=_examples(name))

    check = command("check", "diagnose one actor (email or account id)")
    check.add_argument("actor", help="the account: an email address or an Atlassian account id")
    check.add_argument("--endpoint", help='the failing call, "METHOD URL-or-path"')
    check.add_argument("--status", type=_status, help="the HTTP status the caller saw")
    body = check.add_mutually_exclusive_group()
    body.add_argument("--body", help="the response body the caller saw")
    body.add_argument("--body-file", help="read that body from a file")
    check.add_argument("--space", help="the space key the call is about")
    secret = check.add_mutually_exclusive_group()
    secret.add_argument("--actor-token-stdin", action="store_true",
                        help="read the actor's API token (or email:token, or an OAuth 2.0 access token) from "
                             "standard input (prompted for, without echo, at a terminal)")
    secret.add_argument("--client-credentials-stdin", action="store_true",
                        help="read a service account's OAuth 2.0 credential, CLIENT_ID:CLIENT_SECRET, from "
                             "standard input; it is exchanged at ATLASSIAN_AUTH_URL and sent nowhere else")
    check.add_argument("--sent-as", metavar="FORM",
                       help="how the failing caller sends the token: basic (Authorization: Basic email:token), bearer "
                            "(Authorization: Bearer token) or none; with the token, the call is replayed that way")
    check.add_argument("--json", action="store_true", help="print the run as confluence-check/run@1 JSON")
    check.add_argument("--verbose", "-v", action="store_true",
                       help="print every step (by default a layer whose steps all passed is one line)")
    rule = command("rule", "diagnose a Confluence automation rule's Send web request action(s)")
    rule.add_argument("rule", help="the rule's UUID, or its URL (…#/rule/<uuid>), or its exact name")
    rule_fmt = rule.add_mutually_exclusive_group()
    rule_fmt.add_argument("--json", action="store_true", help="print the run(s) as confluence-check/run@1 JSON")
    rule_fmt.add_argument("--markdown", action="store_true", help="print a redacted support bundle per run")
    rule.add_argument("--verbose", "-v", action="store_true", help="print every step")
    compare = command("compare", "diagnose a failing account and one that works, side by side")
    compare.add_argument("actor", help="the account that fails (an email address or account id)")
    compare.add_argument("known_good", help="an account that works for the same call")
    compare.add_argument("--endpoint", help='the failing call, "METHOD URL-or-path"')
    compare.add_argument("--status", type=_status, help="the HTTP status the failing account gets")
    compare.add_argument("--space", help="the space key the call is about")
    compare.add_argument("--tokens-stdin", action="store_true",
                         help="read the failing account's API token (first line) and the working account's (second "
                              "line, may be empty) from standard input, so each is replayed as its account")
    compare.add_argument("--json", action="store_true", help="print confluence-check/compare@1 JSON")
    tokens = command("tokens", "every API token of the organization's accounts, flagged before it breaks")
    tokens.add_argument("--expiring", type=_days, default=30, metavar="DAYS",
                        help="flag tokens that expire within DAYS days (default 30)")
    tokens.add_argument("--unused", type=_days, default=90, metavar="DAYS",
                        help="flag tokens not used for DAYS days (default 90)")
    tokens_fmt = tokens.add_mutually_exclusive_group()
    tokens_fmt.add_argument("--json", action="store_true", help="print confluence-check/tokens@1 JSON")
    tokens_fmt.add_argument("--csv", action="store_true", help="print the token rows as CSV")
    history = command("history", "recent runs, or how one actor's verdict changed")
    history.add_argument("actor", nargs="?", help="only this account's runs, with when its verdict changed")
    history.add_argument("--limit", type=_positive, default=20, help="how many runs to list (default 20)")
    history.add_argument("--json", action="store_true", help="print the runs as JSON")
    show = command("show", "one stored run")
    show.add_argument("run_id", help="the run id (r_…) that check, history or Slack printed")
    fmt = show.add_mutually_exclusive_group()
    fmt.add_argument("--markdown", action="store_true", help="a redacted support bundle")
    fmt.add_argument("--json", action="store_true", help="the run as confluence-check/run@1 JSON")
    command("config", "which settings file and history are used, and which settings are set")
    demo = command("demo", "run the probe chain against the bundled simulator")
    demo.add_argument("scenario", nargs="?", help="one bundled scenario (default: the tour)")
    sim = command("simulate", "serve a simulated Atlassian Cloud for trying the bot by hand")
    sim.add_argument("--port", type=_sim_port, default=SIMULATOR_PORT,
                     help=f"site port (API on +1, status page on +2, OAuth token host on +3; default {SIMULATOR_PORT}; "
                          "0: free ports)")
    sim.add_argument("--scenario", default="seed_automation_actor",
                     help="a bundled scenario name or a scenario file (default seed_automation_actor)")
    watch = command("watch", "accounts `serve` checks again and again, posting only on a change")
    actions = watch.add_subparsers(dest="watch_action", required=True, parser_class=_Parser, metavar="ACTION",
                                   help="add, list or remove")
    watch_add = actions.add_parser("add", help="watch an account (serve checks it at once, then every interval)",
                                   epilog=_examples("watch"))
    watch_add.add_argument("actor", help="the account: an email address or an Atlassian account id")
    watch_add.add_argument("--endpoint", help='the call it makes, "METHOD URL-or-path"')
    watch_add.add_argument("--space", help="the space key the call is about")
    watch_add.add_argument("--every", default="6h",
                           help="how often: 30m, 6h, 1d … (default 6h; at least WATCH_MIN_INTERVAL_S)")
    watch_add.add_argument("--channel", help="the Slack channel id changes are posted to (e.g. C0123ABCD)")
    watch_list = actions.add_parser("list", help="the watches, their last verdict and next check",
                                    epilog=_examples("watch"))
    watch_list.add_argument("--json", action="store_true", help="print them as confluence-check/watches@1 JSON")
    watch_remove = actions.add_parser("remove", help="stop watching", epilog=_examples("watch"))
    watch_remove.add_argument("id", help="the watch id (w_…) that add and list print")
    for action in actions.choices.values():
        _add_debug(action, argparse.SUPPRESS)
    serve = command("serve", "start the Slack bot")
    mode = serve.add_mutually_exclusive_group()
    mode.add_argument("--http", action="store_const", const="http", dest="mode",
                      help="HTTP mode: POST /slack/events on $PORT")
    mode.add_argument("--socket", action="store_const", const="socket", dest="mode",
                      help="Socket Mode (needs SLACK_APP_TOKEN)")
    for each in sub.choices.values():
        _add_debug(each, argparse.SUPPRESS)  # `--debug` before or after the command
    return parser


def usage_of(command: str | None) -> str:
    """The one-line usage of `command` (or of the program)."""
    parser = build_parser()
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    chosen = subs.choices.get(command or "", parser)
    return " ".join(chosen.format_usage().split())


def _status(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an HTTP status code: {text!r}") from None
    if not 100 <= value <= 599:
        raise argparse.ArgumentTypeError(f"not an HTTP status code: {value}")
    return value


def _sim_port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65532:  # the API, the status page and the OAuth token host listen on the next three
        raise argparse.ArgumentTypeError(f"must be between 1 and 65532 (or 0 for free ports), got {value}")
    return value


def _days(text: str) -> int:
    if not text.isdigit() or int(text) > 3650:
        raise argparse.ArgumentTypeError(f"must be a number of days from 0 to 3650: {text!r}")
    return int(text)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive number: {text!r}")
    return int(text)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `confluence-check` script; returns the exit status."""
    RunTracker.run_id = None
    debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    previous_term = raise_on_sigterm()
    root = logging.getLogger()
    previous_level, handler = root.level, None
    try:
        words = list(sys.argv[1:] if argv is None else argv)
        _LastArgv.words = words
        parser = build_parser()
        args = parser.parse_args(words)
        if args.command is None:  # no command: the help, as git, gh and kubectl do
            write(sys.stdout, parser.format_help())
            return int(ExitCode.OK)
        debug = bool(getattr(args, "debug", False))
        dotenv = find_dotenv()
        if args.command == "config":  # it must work when a setting is broken: that is when it is needed
            from bot import commands

            return int(commands.config(dotenv, out=sys.stdout))
        settings = Settings.load(dotenv_path=dotenv)
        handler = logs.configure("DEBUG" if debug else settings.log_level, secrets=settings.secrets())
        if args.command != "serve" and not debug and settings.log_level != "DEBUG":
            # a person at a terminal reads the verdict on stdout; the per-run log line is for the bot's log
            logging.getLogger("bot.runs").setLevel(logging.WARNING)
        return int(_dispatch(args, settings))
    except SystemExit as exc:  # --help, --version
        return int(exc.code or 0) if isinstance(exc.code, int) else int(ExitCode.USAGE)
    except UsageError as exc:
        _say(f"error: {exc}")
        _say_raw(exc.usage.strip() if isinstance(exc, CommandUsageError) else usage_of(_command_in(argv)))
        return int(ExitCode.USAGE)
    except ConfluenceCheckError as exc:
        _say(f"error: {exc}")
        return int(ExitCode.USAGE)
    except KeyboardInterrupt:
        _say("interrupted" + (f" (run {RunTracker.run_id})" if RunTracker.run_id else ""))
        return int(ExitCode.INTERRUPTED)
    except Terminated:
        _say("interrupted" + (f" (run {RunTracker.run_id})" if RunTracker.run_id else "") + " by SIGTERM")
        return int(ExitCode.TERMINATED)
    except BrokenPipeError:
        close_stdout()
        return int(ExitCode.OK)
    except Exception as exc:
        return _internal_error(exc, debug)
    finally:
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)
        if handler is not None:  # main() may run again in this process (tests): leave logging as found
            root.removeHandler(handler)
            root.setLevel(previous_level)
            logging.getLogger("bot.runs").setLevel(logging.NOTSET)


def _internal_error(exc: BaseException, debug: bool) -> int:
    """One line naming the run and how to see the traceback (`--debug` prints it)."""
    log.debug("internal error", exc_info=exc)
    if debug:
        _say_raw(redact_text("".join(traceback.format_exception(exc))).rstrip())
    where = f"in run {RunTracker.run_id}" if RunTracker.run_id else "before any run started"
    _say(f"internal error {where} ({type(exc).__name__}); run again with --debug "
         "(or LOG_LEVEL=DEBUG) to see the traceback")
    return int(ExitCode.INTERNAL)


def _say(line: str) -> None:
    _say_raw(f"confluence-check: {line}")


def _say_raw(text: str) -> None:
    """A message to stderr; text from outside in it (a rule's name, say) is inert (`bot.redact.inert`)."""
    with contextlib.suppress(BrokenPipeError, ValueError):  # stderr closed too: nothing left to tell
        print(inert(text), file=sys.stderr, flush=True)


def _command_in(argv: Sequence[str] | None) -> str | None:
    words = list(sys.argv[1:] if argv is None else argv)
    return next((w for w in words if not w.startswith("-")), None)


def _dispatch(args: argparse.Namespace, settings: Settings) -> ExitCode:
    from bot import commands

    if args.command == "check":
        options = CheckOptions(args.actor, args.endpoint, args.status, args.body, args.body_file,
                               args.space, args.actor_token_stdin, args.json, args.client_credentials_stdin,
                               args.verbose, args.sent_as)
        return commands.check(options, settings, out=sys.stdout, stdin=sys.stdin,
                              color=color_wanted(sys.stdout))
    if args.command == "rule":
        return commands.rule(RuleOptions(args.rule, args.json, args.markdown, args.verbose), settings, out=sys.stdout,
                             color=color_wanted(sys.stdout))
    if args.command == "compare":
        from bot import sweep_commands

        return sweep_commands.compare(
            sweep_commands.CompareOptions(args.actor, args.known_good, args.endpoint, args.space, args.json,
                                          args.status, args.tokens_stdin),
            settings, out=sys.stdout, stdin=sys.stdin)
    if args.command == "tokens":
        from bot import sweep_commands

        return sweep_commands.tokens(sweep_commands.TokensOptions(args.expiring, args.unused, args.json, args.csv),
                                     settings, out=sys.stdout, err=sys.stderr, color=color_wanted(sys.stdout))
    if args.command == "history":
        return commands.history(args.actor, args.limit, args.json, settings, out=sys.stdout)
    if args.command == "show":
        fmt = "markdown" if args.markdown else "json" if args.json else "text"
        return commands.show(args.run_id, fmt, settings, out=sys.stdout, color=color_wanted(sys.stdout))
    if args.command == "demo":
        return commands.demo(args.scenario, settings, out=sys.stdout, color=color_wanted(sys.stdout))
    if args.command == "simulate":
        return commands.simulate(args.scenario, args.port, out=sys.stdout)
    if args.command == "watch":
        from bot import watch_commands

        if args.watch_action == "add":
            watch = watch_commands.WatchOptions(args.actor, args.endpoint, args.space, args.every, args.channel)
            return watch_commands.add(watch, settings, out=sys.stdout)
        if args.watch_action == "list":
            return watch_commands.listing(args.json, settings, out=sys.stdout)
        return watch_commands.remove(args.id, settings, out=sys.stdout)
    if args.command == "serve":
        from bot.slack.serve import serve

        run_async(serve(settings, mode=args.mode), loop_factory=_server_loop())
        return ExitCode.OK
    raise UsageError(f"unknown command {args.command!r}")


def _server_loop() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop for the long-running server where it is installed (not on Windows):
    the same asyncio API, with less CPU per request, so acks and runs wait less for each other.
    Short CLI runs keep the standard loop."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
