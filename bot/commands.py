"""What each CLI command does, given parsed options and settings; output goes to `out`.

`check` and `demo` share one path (`_run_check`): the same request building, the same
engine over HTTP, the same history store and the same terminal rendering.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import io
import os
import shlex
import stat
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot import logs
from bot.atlassian.clients import RUN_DEADLINE_S, Deadline
from bot.atlassian.hosts import HostGuard
from bot.checker import Checker
from bot.config import Settings
from bot.console import CheckOptions, ExitCode, RuleOptions, RunTracker, exit_code, run_async, write
from bot.errors import ConfigError, ConfluenceCheckError, UsageError
from bot.model import Run, StepResult
from bot.preflight import check_reachable
from bot.probes import ProbeSpec
from bot.redact import inert, redact_text
from bot.render import (
    format_account_history,
    format_history,
    format_json,
    format_layer,
    format_markdown,
    format_rule_heading,
    format_run,
    format_step,
    format_verdict,
)
from bot.render.json import format_history_json
from bot.render.text import layer_of
from bot.request import ActorSecret, CheckRequest, SecretKind, SentAs, parse_actor, parse_endpoint
from bot.store import AsyncHistory, HistoryStore

if TYPE_CHECKING:
    from bot.automation import RuleRef
    from bot.simulator import Scenario, SimulatorServer

MAX_BODY_CHARS = 20_000
MAX_BODY_FILE_BYTES = 1 << 20  # 1 MiB: a pasted error body is a few KB; only its first 20,000 characters are kept
# One deadline for the whole `rule` command: reading the rule, then every run of its web requests
RULE_DEADLINE_S = 45.0


def build_request(options: CheckOptions, settings: Settings, stdin: TextIO | None) -> CheckRequest:
    """Validate everything a person typed; raises UsageError (exit 64) with a clear message."""
    actor = parse_actor(options.actor)
    assert settings.site_url is not None
    failing = parse_endpoint(options.endpoint, HostGuard(settings.site_url, settings.api_url)) \
        if options.endpoint else None
    body = read_body_file(options.body_file) if options.body_file else options.body
    secret = None
    if options.actor_token_stdin:
        if stdin is None:
            raise UsageError("--actor-token-stdin needs the token on standard input")
        secret = ActorSecret.parse(read_secret(
            stdin, "The actor's API token (or email:token, or an OAuth access token), not shown: "))
        logs.register_secret(secret.token.reveal())
    elif options.client_credentials_stdin:
        if stdin is None:
            raise UsageError("--client-credentials-stdin needs CLIENT_ID:CLIENT_SECRET on standard input")
        secret = ActorSecret.parse_client(read_secret(stdin, "The service account's CLIENT_ID:CLIENT_SECRET, "
                                                             "not shown: "))
        logs.register_secret(secret.token.reveal())
    sent_as = SentAs.parse(options.sent_as) if options.sent_as is not None else None
    return CheckRequest(actor=actor, failing=failing, observed_status=options.status,
                        observed_body=body[:MAX_BODY_CHARS] if body else None,
                        actor_secret=secret, space=options.space, sent_as=sent_as)


def read_body_file(path: str) -> str:
    """The text of a regular file of at most MAX_BODY_FILE_BYTES. :raises UsageError: naming --body-file
    for anything else: a device (/dev/zero never ends), a FIFO (nobody may ever write to it: opened
    without waiting, then refused), a folder, or a file past the cap."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise UsageError(f"cannot read --body-file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UsageError(f"--body-file {path} is not a regular file (a device, a pipe or a folder is not read)")
    with os.fdopen(fd, "rb") as file:
        try:
            data = file.read(MAX_BODY_FILE_BYTES + 1)
        except OSError as exc:
            raise UsageError(f"cannot read --body-file {path}: {exc.strerror}") from None
    if len(data) > MAX_BODY_FILE_BYTES:
        raise UsageError(f"--body-file {path} is larger than {MAX_BODY_FILE_BYTES >> 20} MiB: give the error "
                         "body as it came back (only its first 20,000 characters are used)")
    return data.decode("utf-8", errors="replace")


def read_secret(stdin: TextIO, prompt: str) -> str:
    """One line from `stdin`; at a terminal, prompted for and read without echo."""
    isatty = getattr(stdin, "isatty", None)
    if isatty is not None and isatty():
        return getpass.getpass(prompt)
    return stdin.readline()


def check(options: CheckOptions, settings: Settings, *, out: TextIO, stdin: TextIO | None, color: bool,
          via: str = "cli") -> ExitCode:
    return exit_code(run_check(options, settings, out=out, stdin=stdin, color=color, via=via))


def run_check(options: CheckOptions, settings: Settings, *, out: TextIO, stdin: TextIO | None, color: bool,
              via: str = "cli") -> Run:
    """Run one check, streaming steps to `out` (or printing JSON at the end); returns the run."""
    settings.require("ATLASSIAN_SITE_URL")
    request = build_request(options, settings, stdin)
    history = open_run_history(settings)
    try:
        checker = Checker(settings, history)
        run = run_async(_preflight_then_run(checker, request, out=None if options.json else out, color=color,
                                            via=via, verbose=options.verbose))
    finally:
        history.close()
    write(out, format_json(run) if options.json else "\n" + format_verdict(
        run, color=color, verbose=options.verbose, width=terminal_width(out)))
    return run


async def _preflight_then_run(checker: Checker, request: CheckRequest, *, out: TextIO | None, color: bool,
                              via: str, verbose: bool = False) -> Run:
    # an unreachable configured host is a configuration error, not a diagnosis
    secret = request.actor_secret
    await check_reachable(checker.settings,
                          token_host=secret is not None and secret.kind is SecretKind.CLIENT_CREDENTIALS)
    return await _run_check(checker, request, out=out, color=color, via=via, verbose=verbose)


async def _run_check(checker: Checker, request: CheckRequest, *, out: TextIO | None, color: bool,
                     via: str, probes: list[ProbeSpec] | None = None, deadline_s: float | None = None,
                     verbose: bool = False) -> Run:
    handle = checker.start(request, via=via, probes=probes, deadline_s=deadline_s)
    RunTracker.run_id = handle.run.run_id
    printer = StepPrinter(out, handle.run.planned, color=color, verbose=verbose) if out is not None else None
    if out is not None:
        run = handle.run
        write(out, f"Checking {run.actor} on {run.site} (run {run.run_id})")
    async for step in handle:
        if printer is not None:
            printer.finished(step)
    if printer is not None:
        printer.flush()
    return await handle.wait()


def terminal_width(out: TextIO) -> int | None:
    """The columns of the terminal `out` writes to; None when it is not a terminal (a pipe, a file)."""
    isatty = getattr(out, "isatty", None)
    if not (isatty and isatty()):
        return None
    try:
        return os.get_terminal_size(out.fileno()).columns or 80
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return 80  # a terminal whose size cannot be asked: the classic width


class StepPrinter:
    """Steps in their declared order, grouped by layer (site, platform, bot, … content), so two
    runs print alike: a layer is printed once all its steps have finished (every step at once with
    `verbose`; otherwise the layer collapsed as `format_layer` tells it). On a terminal a progress
    line (rewritten in place, never longer than the terminal is wide, so it never wraps into a row
    the next rewrite cannot reach) says how many steps have finished and what is still running;
    piped output gets the steps only."""

    def __init__(self, out: TextIO, planned: list[tuple[str, str]], *, color: bool, verbose: bool = False) -> None:
        self._out, self._color, self._verbose = out, color, verbose
        self._order = [step_id for step_id, _ in planned]
        self._titles = dict(planned)
        self._layers = [[step_id for step_id, _ in group]
                        for _, group in groupby(planned, key=lambda item: layer_of(item[0]))]
        self._done: dict[str, StepResult] = {}
        self._printed = 0  # steps printed (verbose), or layers printed
        self._extra: list[StepResult] = []  # steps the plan did not list: printed at the end
        self._width = terminal_width(out)
        self._live = self._width is not None

    def finished(self, step: StepResult) -> None:
        if step.id in self._titles:
            self._done[step.id] = step
        else:
            self._extra.append(step)
        self._clear_progress()
        if self._verbose:
            while self._printed < len(self._order) and self._order[self._printed] in self._done:
                write(self._out, format_step(self._done[self._order[self._printed]], color=self._color))
                self._printed += 1
        else:
            while self._printed < len(self._layers) and all(i in self._done for i in self._layers[self._printed]):
                self._print_layer(self._layers[self._printed])
                self._printed += 1
        self._show_progress()

    def flush(self) -> None:
        """The run is over: whatever is left, in order (a planned step that never reported is skipped)."""
        self._clear_progress()
        if self._verbose:
            for step_id in self._order[self._printed:]:
                if step_id in self._done:
                    write(self._out, format_step(self._done[step_id], color=self._color))
            self._printed = len(self._order)
            for step in self._extra:
                write(self._out, format_step(step, color=self._color))
            return
        for layer in self._layers[self._printed:]:
            self._print_layer(layer)
        self._printed = len(self._layers)
        for step in self._extra:
            write(self._out, format_layer([step], color=self._color, width=self._width))

    def _print_layer(self, layer: list[str]) -> None:
        steps = [self._done[i] for i in layer if i in self._done]
        text = format_layer(steps, color=self._color, width=self._width) if steps else ""
        if text:  # a layer none of whose steps this run needed (the OAuth steps of an API-token run) prints nothing
            write(self._out, text)

    def _show_progress(self) -> None:
        if not self._live or len(self._done) >= len(self._order):
            return
        running = [self._titles[i] for i in self._order if i not in self._done]
        line = f"  … {len(self._done)}/{len(self._order)} finished; running: {', '.join(running[:3])}"
        if len(running) > 3:
            line += f" and {len(running) - 3} more"
        width = (self._width or 80) - 1  # the last column would leave the cursor waiting to wrap
        if len(line) > width:
            line = line[:width - 1] + "…"
        with contextlib.suppress(BrokenPipeError, ValueError):
            self._out.write(line)
            self._out.flush()

    def _clear_progress(self) -> None:
        if self._live:
            with contextlib.suppress(BrokenPipeError, ValueError):
                self._out.write("\r\x1b[K")


def open_history(settings: Settings, *, write: bool = False) -> HistoryStore:
    """The history store, its dead runs marked interrupted; a ConfigError naming DATABASE_PATH (or
    DATABASE_URL) when it cannot be used (a folder, a read-only or corrupted file, a folder that
    cannot be written, an unreachable server). With `write`, it is also checked that a run can be
    saved, before the run starts; without, a read-only history can still be read."""
    return HistoryStore.for_settings(settings, write=write)


def open_run_history(settings: Settings) -> AsyncHistory:
    """`open_history(settings, write=True)` for runs: its I/O on its own thread, off the event loop."""
    history = AsyncHistory.open(settings)
    history.wait_opened()
    return history


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def rule(options: RuleOptions, settings: Settings, *, out: TextIO, color: bool, via: str = "cli") -> ExitCode:
    """Read the rule, then diagnose each Send web request action in rule order (one run each)."""
    runs = run_rule(options, settings, out=out, color=color, via=via)
    if options.json:
        write(out, format_json(runs[0]) if len(runs) == 1 else "[\n" + ",\n".join(format_json(r) for r in runs) + "\n]")
    return worst_exit(runs)


def run_rule(options: RuleOptions, settings: Settings, *, out: TextIO, color: bool, via: str = "cli") -> list[Run]:
    """The runs of `confluence-check rule` (streamed to `out` unless --json). Raises UsageError/ConfigError."""
    from bot.automation import parse_rule_reference
    from bot.automation.load import INSPECTOR_NEEDED

    settings.require("ATLASSIAN_SITE_URL")
    ref = parse_rule_reference(options.rule)
    if not settings.has_inspector:
        raise ConfigError(INSPECTOR_NEEDED)
    live = None if options.json or options.markdown else out
    history = open_run_history(settings)
    try:
        checker = Checker(settings, history)
        return run_async(_rule_runs(checker, ref, options, out=out, live=live, color=color, via=via))
    finally:
        history.close()


async def _rule_runs(checker: Checker, ref: RuleRef, options: RuleOptions, *, out: TextIO, live: TextIO | None,
                     color: bool, via: str) -> list[Run]:
    """Read the rule, then run each Send web request action in rule order (as for `check`, an unreachable
    configured host is a configuration error, exit 64, not a diagnosis)."""
    deadline = Deadline(RULE_DEADLINE_S)  # one for the whole command: the reachability check, the rule, every run
    await check_reachable(checker.settings)
    runs: list[Run] = []
    planned_runs = await checker.plan_rule(ref, deadline_s=max(0.0, deadline.remaining()))
    for request, probes in ((planned.request, planned.probes) for planned in planned_runs):
        if live is not None and request.rule is not None:
            write(live, "\n" + format_rule_heading(request.rule.describe()))
        run = await _run_check(checker, request, out=live, color=color, via=via, probes=probes,
                               deadline_s=min(RUN_DEADLINE_S, max(0.0, deadline.remaining())), verbose=options.verbose)
        runs.append(run)
        if options.markdown:
            write(out, format_markdown(run, secrets=[*checker.settings.secrets(), *request.secrets()]))
        elif live is not None:
            write(out, "\n" + format_verdict(run, color=color, verbose=options.verbose, width=terminal_width(out)))
    return runs


def worst_exit(runs: list[Run]) -> ExitCode:
    """One problem makes the command's status 1; else one inconclusive run makes it 2
    (docs/architecture.md §Command line)."""
    codes = {exit_code(r) for r in runs}
    for code in (ExitCode.PROBLEM, ExitCode.INCONCLUSIVE):
        if code in codes:
            return code
    return ExitCode.OK


def history(actor: str | None, limit: int, as_json: bool, settings: Settings, *, out: TextIO) -> ExitCode:
    store = open_history(settings)
    try:
        key = parse_actor(actor) if actor else None
        runs = store.list(key, limit, steps=as_json)  # a table needs no steps; JSON is the whole run
        if as_json:
            write(out, format_history_json(runs))
        elif key is not None:
            write(out, format_account_history(key, store.account_history(key)) + "\n\n" + format_history(runs))
        else:
            write(out, format_history(runs))
    finally:
        store.close()
    return ExitCode.OK


def show(run_id: str, fmt: str, settings: Settings, *, out: TextIO, color: bool) -> ExitCode:
    store = open_history(settings)
    try:
        run = store.get(run_id)
    finally:
        store.close()
    if fmt == "markdown":
        write(out, format_markdown(run, secrets=settings.secrets()))
    elif fmt == "json":
        write(out, format_json(run))
    else:
        write(out, format_run(run, color=color))
    return ExitCode.OK


def config(dotenv: Path | None, *, out: TextIO, environ: Mapping[str, str] | None = None) -> ExitCode:
    """Which `.env` and which history are used, and each setting: set (and from where) or not;
    a secret only as set/unset. Exit 64 when a setting is malformed (the error is the last line)."""
    from bot.config import SETTING_HELP, config_dir, setting_states
    from bot.store.db import without_password

    looked = f"./.env, then {config_dir(environ) / '.env'}"
    write(out, f"Settings file: {dotenv} (looked for {looked})" if dotenv is not None
          else f"Settings file: none (looked for {looked}); settings come from the environment only")
    problem: ConfluenceCheckError | None = None
    try:
        settings = Settings.load(environ, dotenv)
        where = (f"PostgreSQL {without_password(settings.database_url.reveal())} (DATABASE_URL)"
                 if settings.database_url is not None else f"SQLite {settings.database_path}")
        write(out, f"History: {where}")
    except ConfluenceCheckError as exc:
        problem = exc
    write(out, "Settings (the environment wins over the file):")
    width = max(len(name) for name in SETTING_HELP)
    for state in setting_states(dotenv, environ):
        shown = inert(redact_text(state.shown))  # a token pasted into the wrong setting stays masked
        write(out, f"  {state.name:<{width}}  {shown}" + (f"  ({state.source})" if state.source else ""))
    if problem is not None:
        write(out, f"confluence-check: error: {problem}")
        return ExitCode.USAGE
    return ExitCode.OK


@contextmanager
def simulator_in_thread(scenario: Scenario, **kwargs: Any) -> Iterator[SimulatorServer]:
    """Serve a scenario from a background event loop, so the caller may use asyncio.run."""
    from bot.simulator import SimulatorServer

    loop = asyncio.new_event_loop()
    ready = threading.Event()
    thread = threading.Thread(target=_serve_loop, args=(loop, ready), daemon=True)
    thread.start()
    ready.wait()
    sim = SimulatorServer(scenario, **kwargs)
    try:
        asyncio.run_coroutine_threadsafe(sim.start(), loop).result(timeout=30)
    except BaseException:
        asyncio.run_coroutine_threadsafe(sim.stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
        raise
    try:
        yield sim
    finally:
        asyncio.run_coroutine_threadsafe(sim.stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def _serve_loop(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
    asyncio.set_event_loop(loop)
    loop.call_soon(ready.set)
    loop.run_forever()


def scenario_named(name: str, option: str) -> Scenario:
    """A bundled scenario or a scenario file. :raises UsageError: naming `option` when it is
    unknown, missing or broken."""
    from bot.simulator import ScenarioError, UnknownScenario, list_scenarios, load_scenario

    try:
        return load_scenario(name)
    except UnknownScenario:
        names = ", ".join(s.name for s in list_scenarios())
        raise UsageError(f"{option}: no scenario {name!r}; bundled: {names}") from None
    except (ScenarioError, OSError) as exc:
        raise UsageError(f"{option}: {exc}") from None


def demo_database(settings: Settings) -> str:
    """Demo runs go to their own file beside DATABASE_PATH, never into the real history."""
    path = Path(settings.database_path)
    return str(path.with_name(f"{path.stem}-demo{path.suffix or '.db'}"))


def demo(name: str | None, settings: Settings, *, out: TextIO, color: bool) -> ExitCode:
    from bot.simulator import list_scenarios

    chosen = [scenario_named(name, "demo SCENARIO")] if name else [s for s in list_scenarios() if s.tour]
    database = demo_database(settings)
    open_history(Settings.from_mapping({"DATABASE_PATH": database}), write=True).close()
    settings = Settings.from_mapping({"DATABASE_PATH": database})
    matched = [_demo_one(s, settings, out=out, color=color) for s in chosen]
    if not name:
        others = [s for s in list_scenarios() if not s.tour]
        write(out, "\nMore scenarios (run one with `confluence-check demo NAME`):")
        for s in others:
            write(out, f"  {s.name:<32} {s.title}")
    write(out, f"\n{sum(matched)}/{len(matched)} scenario(s) gave the expected verdict.")
    write(out, f"Demo runs are kept apart from your history, in {database} "
               f"(see one with: DATABASE_PATH={shlex.quote(database)} confluence-check show RUN_ID).")
    return ExitCode.OK if all(matched) else ExitCode.PROBLEM


def _demo_one(scenario: Scenario, settings: Settings, *, out: TextIO, color: bool) -> bool:
    from bot.simulator.scenario import secret_line

    write(out, f"\n━━ {scenario.name}: {scenario.title}")
    write(out, "   " + scenario.description)
    with simulator_in_thread(scenario) as sim:
        sim_settings = Settings.from_mapping({**sim.env(), "DATABASE_PATH": settings.database_path})
        given = sim.resolve_input()
        if given.get("rule"):
            return _demo_rule(scenario, given["rule"], sim_settings, out=out, color=color)
        options = _options_from_input(given)
        write(out, "$ " + _command_line(options, given))
        stdin = io.StringIO(secret_line(given) + "\n") if secret_line(given) else None
        run = run_check(options, sim_settings, out=out, stdin=stdin, color=color, via="demo")
    return _demo_verdict(scenario, run, exit_code(run), out=out)


def _demo_rule(scenario: Scenario, rule_text: str, settings: Settings, *, out: TextIO, color: bool) -> bool:
    write(out, "$ " + shlex.join(["confluence-check", "rule", rule_text]))
    try:
        runs = run_rule(RuleOptions(rule_text), settings, out=out, color=color, via="demo")
    except ConfluenceCheckError as exc:
        write(out, f"confluence-check: error: {exc}")
        ok = scenario.expect["exit"] == int(ExitCode.USAGE) and scenario.expect.get("error", "") in str(exc)
        write(out, f"   exit {int(ExitCode.USAGE)} {'✓ as expected' if ok else '✗ not expected'}")
        return ok
    return _demo_verdict(scenario, runs[0], worst_exit(runs), out=out)


def _demo_verdict(scenario: Scenario, run: Run, code: ExitCode, *, out: TextIO) -> bool:
    expect = scenario.expect
    assert run.verdict is not None
    ok = (run.verdict.cause.value == expect.get("cause") and run.verdict.confidence.value == expect.get("confidence")
          and int(code) == int(expect["exit"]))
    mark = "✓ as expected" if ok else f"✗ expected {expect['cause']} ({expect['confidence']}, exit {expect['exit']})"
    write(out, f"   exit {int(code)} · {run.verdict.cause.value} ({run.verdict.confidence.value}) {mark}")
    return ok


def _options_from_input(given: Mapping[str, Any]) -> CheckOptions:
    return CheckOptions(actor=given["actor"], endpoint=given.get("endpoint"), status=given.get("status"),
                        body=given.get("body"), space=given.get("space"),
                        actor_token_stdin=bool(given.get("actor_token")),
                        client_credentials_stdin=bool(given.get("client_credentials")),
                        sent_as=given.get("sent_as"))


def _command_line(options: CheckOptions, given: Mapping[str, Any], *, full: bool = False) -> str:
    """The `check` command that runs this input (`full`: the whole body, so it runs as designed)."""
    parts = ["confluence-check", "check", options.actor]
    if options.endpoint:
        parts += ["--endpoint", options.endpoint]
    if options.status:
        parts += ["--status", str(options.status)]
    if options.body:
        body = options.body if full or len(options.body) < 90 else options.body[:87] + "..."
        parts += ["--body", body]
    if options.space:
        parts += ["--space", options.space]
    if options.sent_as:
        parts += ["--sent-as", options.sent_as]
    line = shlex.join(parts)
    if given.get("client_credentials"):
        return "echo '<client id>:<client secret>' | " + line + " --client-credentials-stdin"
    return ("echo '<actor token>' | " + line + " --actor-token-stdin") if given.get("actor_token") else line


def simulator_database(env: Mapping[str, str] | None = None) -> str:
    """The history of runs against the simulator: beside the real one's default place, apart from
    it; written with `~` when under the home folder, so the printed line is the same on every machine."""
    from bot.config import data_dir, home_dir

    path = data_dir(env) / "simulator.db"
    home = home_dir(env)
    with contextlib.suppress(ValueError):
        return "~/" + str(path.relative_to(home))
    return str(path)


def _actor_token(sim: SimulatorServer, given: Mapping[str, Any]) -> str | None:
    """The `email:token` to replay the scenario's actor with: the scenario's own, else the actor's
    first usable simulated token (the simulator's world is made up: its tokens are no secret)."""
    if given.get("actor_token"):
        return str(given["actor_token"])
    actor = str(given.get("actor") or "")
    user = sim.state.user_by_email(actor) if "@" in actor else sim.state.user_by_id(actor)
    from bot.model import utcnow

    token = next((t for t in (user.tokens if user else []) if t.usable(utcnow())), None)
    return f"{user.email}:{token.value}" if user is not None and token is not None else None


def simulate(name: str, port: int, *, out: TextIO) -> ExitCode:
    scenario = scenario_named(name, "--scenario")
    try:
        running = simulator_in_thread(scenario, site_port=port)
        sim = running.__enter__()
    except OSError as exc:
        raise UsageError(f"--port {port}: cannot listen on ports {port}-{port + 3}: {_reason(exc)} "
                         "(another simulator still running? stop it, or pass --port 0 for free ports)") from None
    try:
        write(out, f"Simulating scenario {scenario.name}: {scenario.title}")
        write(out, "Settings for the bot (put them in .env, in this folder or in "
                   "~/.config/confluence-check/; its runs get a history of their own):")
        for key, value in {**sim.env(), "DATABASE_PATH": simulator_database()}.items():
            write(out, f"{key}={value}")
        given = sim.resolve_input()
        token = _actor_token(sim, given)
        if token is not None:
            write(out, f"The actor's simulated API token (for --actor-token-stdin or the Slack form): {token}")
        if given.get("client_credentials"):
            write(out, f"The service account's simulated CLIENT_ID:CLIENT_SECRET (for --client-credentials-stdin "
                       f"or the Slack form): {given['client_credentials']}")
        if given.get("rule"):
            write(out, f"Try: confluence-check rule {shlex.quote(given['rule'])}")
        else:
            write(out, "Try: " + _command_line(_options_from_input(given), given, full=True))
        write(out, "Press Ctrl-C to stop.")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    finally:
        running.__exit__(None, None, None)
    return ExitCode.OK
