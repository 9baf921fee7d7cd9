"""SIGTERM stops a process started in the background of a script, where SIGINT is ignored
(docs/architecture.md §Signals): `serve` saves its run in flight as interrupted and exits 143 within
5 s, even when SIGTERM comes twice; `simulate` closes its ports and exits 143 within 5 s. Real
processes, started by `bash -c 'cmd &'`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

import aiohttp

from bot.model import Run
from tests.conftest import Database
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_bot import serve_env
from tests.slack.test_replicas import CLI, ON_A, Replica, StartSimulator, until

STOP_WITHIN_S = 5.0
# `cmd &` in a non-interactive shell: the job starts with SIGINT (and SIGQUIT) ignored; the shell
# prints its pid and waits for it, so the shell's status is the job's.
IN_THE_BACKGROUND = ["bash", "-c", '"$@" & echo "$!"; wait "$!"', "bash"]


async def _start_in_background(args: list[str], env: dict[str, str], log: Path) -> tuple[asyncio.subprocess.Process,
                                                                                          int]:
    with log.open("a") as sink:
        shell = await asyncio.create_subprocess_exec(*IN_THE_BACKGROUND, *args, env=env, stdout=asyncio.subprocess.PIPE,
                                                     stderr=sink)
    assert shell.stdout is not None
    async with asyncio.timeout(30):
        pid = int((await shell.stdout.readline()).decode())
    return shell, pid


def _ignores_sigint(pid: int) -> bool:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigIgn:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
    raise AssertionError("no SigIgn line")


async def _terminate(shell: asyncio.subprocess.Process, pid: int, *, twice: bool = False) -> tuple[int, float]:
    """SIGTERM to the job (`twice`: again right after, as an impatient supervisor may); (its exit
    status, seconds until it ended)."""
    started = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    if twice:
        await asyncio.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):  # already gone: nothing left to repeat it to
            os.kill(pid, signal.SIGTERM)
    async with asyncio.timeout(30):
        status = await shell.wait()
    return status, time.monotonic() - started


def _runs(database: Database) -> list[Run]:
    store = database.open()
    try:
        return store.list(limit=10)
    finally:
        store.close()


async def test_serve_in_a_scripts_background_stops_on_sigterm_with_its_run_saved(
        fake_slack: FakeSlack, simulator: StartSimulator, tmp_path: Path) -> None:
    sim: Any = await simulator("no_confluence_access")
    sim.state.faults.latency_ms = 400  # a run of several seconds: in flight when the stop comes
    database = Database("sqlite", tmp_path / "h.db", None)
    bot = Replica("background", serve_env(sim, fake_slack, **database.env), tmp_path / "serve.log")
    shell, pid = await _start_in_background([*CLI, "serve", "--http"], bot.env, bot.log)
    try:
        async with aiohttp.ClientSession() as session:
            async with asyncio.timeout(60):
                while True:
                    try:
                        async with session.get(f"{bot.url}/health") as health:
                            if health.status == 200:
                                break
                    except aiohttp.ClientError:
                        await asyncio.sleep(0.1)
            assert _ignores_sigint(pid)  # as the shell started it (read once it runs: not mid-fork)
            await bot.command(session, fake_slack, ON_A)
        await until(lambda: [r for r in _runs(database) if r.steps and r.verdict is None])
        status, took = await _terminate(shell, pid, twice=True)  # the second must not cut the saving short
        assert status == 143, bot.log.read_text()[-2000:]
        assert took < STOP_WITHIN_S, took
        [run] = _runs(database)  # saved by the stopping process itself
        assert run.interrupted and run.verdict is None and run.steps
    finally:
        if shell.returncode is None:
            with contextlib.suppress(ProcessLookupError):  # the job may have ended, its shell not yet
                os.kill(pid, signal.SIGKILL)
            await shell.wait()


async def test_simulate_in_a_scripts_background_stops_on_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_PATH": str(tmp_path / "h.db")}
    # free ports: the default fixed ones (8710-8713) may be held by a simulator someone is running
    shell, pid = await _start_in_background([*CLI, "simulate", "--port", "0"], env, tmp_path / "sim.log")
    try:
        assert shell.stdout is not None
        port = None
        async with asyncio.timeout(60):
            while b"Press Ctrl-C to stop." not in (line := await shell.stdout.readline()):
                assert line, (tmp_path / "sim.log").read_text()  # it ended before it was ready
                if line.startswith(b"ATLASSIAN_SITE_URL="):
                    port = int(line.decode().rsplit(":", 1)[1].strip("/\n"))
        assert port is not None and _ignores_sigint(pid)
        status, took = await _terminate(shell, pid)
        assert status == 143, (tmp_path / "sim.log").read_text()
        assert took < STOP_WITHIN_S, took
        with socket.socket() as probe:  # its ports are closed
            assert probe.connect_ex(("127.0.0.1", port)) != 0
    finally:
        if shell.returncode is None:
            with contextlib.suppress(ProcessLookupError):  # the job may have ended, its shell not yet
                os.kill(pid, signal.SIGKILL)
            await shell.wait()
