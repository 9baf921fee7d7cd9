"""What each CLI command does, given parsed options and settings; output goes to `out`.

`check` and `demo` share one path (`_run_check`): the same request building, the same
engine over HTTP, the same history store and the same terminal rendering.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import shlex
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import httpx

from bot.atlassian.hosts import HostGuard
from bot.checker import Checker
from bot.cli import CheckOptions, ExitCode, exit_code, write
from bot.config import Settings
from bot.errors import UsageError
from bot.history import HistoryStore
from bot.model import Run
from bot.render import (
    format_history,
    format_json,
    format_markdown,
    format_run,
    format_step,
    format_timeline,
    format_verdict,
)
from bot.render.json import format_history_json
from bot.request import ActorSecret, CheckRequest, parse_actor, parse_endpoint

if TYPE_CHECKING:
    from bot.simulator import Scenario, SimulatorServer

MAX_BODY_CHARS = 20_000


def build_request(options: CheckOptions, settings: Settings, stdin: TextIO | None) -> CheckRequest:
    """Validate everything a person typed; raises UsageError (exit 64) with a clear message."""
    actor = parse_actor(options.actor)
    assert settings.site_url is not None
    failing = parse_endpoint(options.endpoint, HostGuard(settings.site_url, settings.api_url)) \
        if options.endpoint else None
    body = options.body
    if options.body_file:
        try:
            body = Path(options.body_file).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise UsageError(f"cannot read --body-file {options.body_file}: {exc.strerror}") from None
    secret = None
    if options.actor_token_stdin:
        if stdin is None:
            raise UsageError("--actor-token-stdin needs the token on standard input")
        secret = ActorSecret.parse(stdin.readline())
    return CheckRequest(actor=actor, failing=failing, observed_status=options.status,
                        observed_body=body[:MAX_BODY_CHARS] if body else None,
                        actor_secret=secret, space=options.space)


def check(options: CheckOptions, settings: Settings, *, out: TextIO, stdin: TextIO | None, color: bool,
          via: str = "cli", transport: httpx.AsyncBaseTransport | None = None) -> ExitCode:
    return exit_code(run_check(options, settings, out=out, stdin=stdin, color=color, via=via,
                               transport=transport))


def run_check(options: CheckOptions, settings: Settings, *, out: TextIO, stdin: TextIO | None, color: bool,
              via: str = "cli", transport: httpx.AsyncBaseTransport | None = None) -> Run:
    """Run one check, streaming steps to `out` (or printing JSON at the end); returns the run."""
    settings.require("ATLASSIAN_SITE_URL")
    request = build_request(options, settings, stdin)
    store = HistoryStore.open(settings.database_path)
    try:
        checker = Checker(settings, store, transport=transport)
        run = asyncio.run(_run_check(checker, request, out=None if options.json else out, color=color, via=via))
    finally:
        store.close()
    write(out, format_json(run) if options.json else "\n" + format_verdict(run, color=color))
    return run


async def _run_check(checker: Checker, request: CheckRequest, *, out: TextIO | None, color: bool,
                     via: str) -> Run:
    handle = checker.start(request, via=via)
    if out is not None:
        run = handle.run
        write(out, f"Checking {run.actor} on {run.site} (run {run.run_id})")
    async for step in handle:
        if out is not None:
            write(out, format_step(step, color=color))
    return await handle.wait()


def history(actor: str | None, limit: int, as_json: bool, settings: Settings, *, out: TextIO) -> ExitCode:
    store = HistoryStore.open(settings.database_path)
    try:
        key = parse_actor(actor) if actor else None
        runs = store.list(key, limit)
        if as_json:
            write(out, format_history_json(runs))
        elif key is not None:
            write(out, format_timeline(key, store.timeline(key)) + "\n\n" + format_history(runs))
        else:
            write(out, format_history(runs))
    finally:
        store.close()
    return ExitCode.OK


def show(run_id: str, fmt: str, settings: Settings, *, out: TextIO, color: bool) -> ExitCode:
    store = HistoryStore.open(settings.database_path)
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
    asyncio.run_coroutine_threadsafe(sim.start(), loop).result(timeout=30)
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


def demo(name: str | None, settings: Settings, *, out: TextIO, color: bool) -> ExitCode:
    from bot.simulator import list_scenarios, load_scenario

    if name:
        try:
            chosen = [load_scenario(name)]
        except (FileNotFoundError, KeyError):
            names = ", ".join(s.name for s in list_scenarios())
            raise UsageError(f"no scenario {name!r}; bundled: {names}") from None
    else:
        chosen = [s for s in list_scenarios() if s.tour]
    matched = [_demo_one(s, settings, out=out, color=color) for s in chosen]
    if not name:
        others = [s for s in list_scenarios() if not s.tour]
        write(out, "\nMore scenarios (run one with `confluence-check demo NAME`):")
        for s in others:
            write(out, f"  {s.name:<32} {s.title}")
    write(out, f"\n{sum(matched)}/{len(matched)} scenario(s) gave the expected verdict.")
    return ExitCode.OK if all(matched) else ExitCode.PROBLEM


def _demo_one(scenario: Scenario, settings: Settings, *, out: TextIO, color: bool) -> bool:
    write(out, f"\n━━ {scenario.name}: {scenario.title}")
    write(out, "   " + scenario.description)
    with simulator_in_thread(scenario) as sim:
        sim_settings = Settings.from_mapping({**sim.env(), "DATABASE_PATH": settings.database_path})
        given = sim.resolve_input()
        options = _options_from_input(given)
        write(out, "$ " + _command_line(options, given))
        stdin = io.StringIO(given["actor_token"] + "\n") if given.get("actor_token") else None
        run = run_check(options, sim_settings, out=out, stdin=stdin, color=color, via="demo")
    code = exit_code(run)
    expect = scenario.expect
    assert run.verdict is not None
    ok = (run.verdict.cause.value == expect["cause"] and run.verdict.confidence.value == expect["confidence"]
          and int(code) == int(expect["exit"]))
    mark = "✓ as expected" if ok else f"✗ expected {expect['cause']} ({expect['confidence']}, exit {expect['exit']})"
    write(out, f"   exit {int(code)} · {run.verdict.cause.value} ({run.verdict.confidence.value}) {mark}")
    return ok


def _options_from_input(given: Mapping[str, Any]) -> CheckOptions:
    return CheckOptions(actor=given["actor"], endpoint=given.get("endpoint"), status=given.get("status"),
                        body=given.get("body"), space=given.get("space"),
                        actor_token_stdin=bool(given.get("actor_token")))


def _command_line(options: CheckOptions, given: Mapping[str, Any]) -> str:
    parts = ["confluence-check", "check", options.actor]
    if options.endpoint:
        parts += ["--endpoint", options.endpoint]
    if options.status:
        parts += ["--status", str(options.status)]
    if options.body:
        body = options.body if len(options.body) < 90 else options.body[:87] + "..."
        parts += ["--body", body]
    if options.space:
        parts += ["--space", options.space]
    line = shlex.join(parts)
    return ("echo '<actor token>' | " + line + " --actor-token-stdin") if given.get("actor_token") else line


def simulate(name: str, port: int, *, out: TextIO) -> ExitCode:
    from bot.simulator import load_scenario

    scenario = load_scenario(name)
    with simulator_in_thread(scenario, site_port=port) as sim:
        write(out, f"Simulating scenario {scenario.name}: {scenario.title}")
        write(out, "Point the bot at it with these settings (e.g. in .env):")
        for key, value in sim.env().items():
            write(out, f"{key}={value}")
        given = sim.resolve_input()
        write(out, f"Try: confluence-check check {given['actor']}"
                   + (f" --endpoint {shlex.quote(given['endpoint'])}" if given.get("endpoint") else ""))
        if given.get("actor_token"):
            write(out, f"The actor's simulated token (for --actor-token-stdin or the Slack form): "
                       f"{given['actor_token']}")
        write(out, "Press Ctrl-C to stop.")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return ExitCode.OK
