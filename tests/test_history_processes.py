"""The history under real processes: many `check` processes and a bot writing one database at once,
and runs stopped by Ctrl-C or killed outright. Real subprocesses, the simulator over loopback,
SQLite and PostgreSQL. Every wait has a timeout: a hang fails the test instead of stalling it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.checker import Checker
from bot.config import Settings
from bot.request import CheckRequest
from bot.store import AsyncHistory
from tests.conftest import Database

StartSimulator = Callable[..., Awaitable[Any]]
CLI = [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main(sys.argv[1:]))"]
PROCESSES = 6  # `check` processes at once (the machine has 2 cores)
BOT_RUNS = 6  # runs the in-process bot makes meanwhile
TIMEOUT_S = 120


async def start_cli(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *CLI, *args, env={**os.environ, **env}, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await start_cli(env, *args)
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_parallel_check_processes_and_a_bot_all_store_every_run(
        simulator: StartSimulator, database: Database) -> None:
    sim = await simulator("no_confluence_access")
    sim.state.faults.latency_ms = 20
    env = {**sim.env(), **database.env}
    actor = sim.resolve_input()["actor"]
    history = AsyncHistory.open(Settings.from_mapping(env))
    checker = Checker(Settings.from_mapping(env), history)

    async def bot_run() -> str:
        handle = checker.start(CheckRequest(actor, observed_status=403), via="slack", origin={"slack_channel": "C1"})
        return (await handle.wait()).run_id

    try:
        async with asyncio.timeout(TIMEOUT_S):
            results = await asyncio.gather(
                *(cli(env, "check", actor, "--status", "403", "--json") for _ in range(PROCESSES)),
                *(bot_run() for _ in range(BOT_RUNS)))
    finally:
        await history.aclose()
    processes, bot_ids = results[:PROCESSES], results[PROCESSES:]
    crashed = [(code, err) for code, _, err in processes if code != 1 or err]
    assert crashed == []  # exit 1 = the problem this scenario is about; no error output
    cli_ids = [json.loads(out)["run_id"] for _, out, _ in processes]
    store = database.open()
    try:
        stored = {run.run_id: run for run in store.list(actor, limit=100)}
    finally:
        store.close()
    assert sorted(stored) == sorted([*cli_ids, *bot_ids])
    assert all(run.verdict is not None and run.verdict.cause.value == "no_confluence_access"
               for run in stored.values())


async def _stop_midway(sim: Any, database: Database, how: signal.Signals) -> tuple[str, int]:
    """Start a slow `check`, let a few steps finish, send `how`; the run id and the exit status."""
    sim.state.faults.latency_ms = 400
    env = {**sim.env(), **database.env}
    process = await start_cli(env, "check", sim.resolve_input()["actor"], "--status", "403")
    assert process.stdout is not None
    async with asyncio.timeout(TIMEOUT_S):
        first = (await process.stdout.readline()).decode()
        run_id = first.split("(run ")[1].rstrip(")\n")
        for _ in range(3):
            await process.stdout.readline()  # three steps finished
        await asyncio.sleep(0.5)  # their saves (queued as each finished) have landed
        process.send_signal(how)
        await process.communicate()
    assert process.returncode is not None
    return run_id, process.returncode


async def test_ctrl_c_stores_the_run_interrupted_with_its_finished_steps(
        simulator: StartSimulator, database: Database) -> None:
    sim = await simulator("no_confluence_access")
    run_id, code = await _stop_midway(sim, database, signal.SIGINT)
    assert code == 130
    store = database.open()  # no other command ran: the stopped process saved it itself
    try:
        run = store.get(run_id)
    finally:
        store.close()
    assert run.interrupted and run.verdict is None and len(run.steps) >= 3


async def test_a_killed_check_is_marked_interrupted_by_the_next_command(
        simulator: StartSimulator, database: Database) -> None:
    sim = await simulator("no_confluence_access")
    run_id, code = await _stop_midway(sim, database, signal.SIGKILL)
    assert code == -signal.SIGKILL
    env = {**sim.env(), **database.env}
    async with asyncio.timeout(TIMEOUT_S):
        code, out, err = await cli(env, "show", run_id, "--json")  # any command marks it
    shown = json.loads(out)
    assert code == 0 and not err
    assert shown["interrupted"] is True and shown["outcome"] is None and len(shown["steps"]) >= 3


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "text"])
async def test_show_gives_back_exactly_what_check_printed(simulator: StartSimulator, database: Database,
                                                          as_json: bool) -> None:
    sim = await simulator("no_confluence_access")
    env = {**sim.env(), **database.env, "NO_COLOR": "1"}
    async with asyncio.timeout(TIMEOUT_S):
        code, printed, _ = await cli(env, "check", sim.resolve_input()["actor"], "--json")
        run_id = json.loads(printed)["run_id"]
        _, shown, _ = await cli(env, "show", run_id, *(["--json"] if as_json else []))
    assert code == 1
    if as_json:
        assert shown == printed  # the same confluence-check/run@1 document, byte for byte
    else:
        assert run_id in shown and "no_confluence_access" in shown
