"""Two `serve --http` processes on one PostgreSQL: commands to both land in one
history; the shared channel pace holds for both together; killing one mid-run and starting it again
marks only its own run interrupted, and that run's thread says so. Real processes, signed requests
over HTTP, the fake Slack Web API and the simulator on loopback."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.model import Run
from bot.slack.pacer import DEFAULT_BURST, DEFAULT_INTERVAL_S
from bot.store import HistoryStore
from tests.conftest import Database
from tests.fakes import slack_requests as req
from tests.fakes.slack_api import Call, FakeSlack
from tests.fakes.slack_bot import SIGNING_SECRET, serve_env
from tests.slack.helpers import text_of, thread

StartSimulator = Callable[..., Awaitable[Any]]
CLI = [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main(sys.argv[1:]))"]
CHECK = "sam.lee@acme.com GET /wiki/rest/api/space status:403"
SHARED, ON_A, ON_B = "C0SHARED01", "C0REPLICAA", "C0REPLICAB"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Replica:
    """One `confluence-check serve --http` process."""

    def __init__(self, name: str, env: dict[str, str], log: Path) -> None:
        self.name = name
        self.port = free_port()
        self.env = {**env, "PORT": str(self.port)}
        self.log = log
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, session: aiohttp.ClientSession) -> None:
        """Start the process and wait until it answers. The free port it was given may have been taken
        meanwhile by another test's server (other runs share the machine): then on another port."""
        for _ in range(3):
            logged = self.log.stat().st_size if self.log.exists() else 0
            with self.log.open("a") as log:
                self.process = await asyncio.create_subprocess_exec(*CLI, "serve", "--http", env=self.env,
                                                                    stdout=log, stderr=log)
            if await self._answering(session):
                return
            if "address already in use" not in self.log.read_text()[logged:]:
                break
            self.port = free_port()
            self.env["PORT"] = str(self.port)
        raise AssertionError(self.log.read_text())

    async def _answering(self, session: aiohttp.ClientSession) -> bool:
        """True once /health answers; False when the process ended first."""
        assert self.process is not None
        async with asyncio.timeout(60):
            while self.process.returncode is None:
                try:  # briefly: a port someone else holds may take the connection and never answer
                    async with session.get(f"{self.url}/health", timeout=aiohttp.ClientTimeout(total=1)) as health:
                        if health.status == 200:
                            return True
                except (aiohttp.ClientError, TimeoutError):
                    pass
                await asyncio.sleep(0.1)
        return False

    async def command(self, session: aiohttp.ClientSession, fake: FakeSlack, channel: str) -> None:
        body = req.slash_command(CHECK, response_url=fake.response_url(f"{self.name}-{channel}"), channel=channel)
        async with session.post(f"{self.url}/slack/events", data=body.encode(),
                                headers=req.signed_headers(body, SIGNING_SECRET)) as response:
            assert response.status == 200

    async def stop(self, how: signal.Signals = signal.SIGTERM) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(how)
            async with asyncio.timeout(30):
                await self.process.wait()


@pytest.fixture
async def replicas(fake_slack: FakeSlack, simulator: StartSimulator, postgres_url: str,
                   tmp_path: Path) -> AsyncIterator[tuple[Replica, Replica, Any]]:
    sim = await simulator("no_confluence_access")
    env = serve_env(sim, fake_slack, DATABASE_URL=postgres_url, DATABASE_PATH=str(tmp_path / "never-used.db"))
    pair = Replica("a", env, tmp_path / "a.log"), Replica("b", env, tmp_path / "b.log")
    try:
        yield pair[0], pair[1], sim
    finally:
        for replica in pair:
            await replica.stop()


async def until(condition: Callable[[], object], timeout: float = 60) -> None:
    """Poll `condition` (a read of the database) until it holds."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)


def stored(url: str, channel: str | None = None, *, with_thread: bool = False) -> list[Run]:
    """The runs in the history (of one Slack channel when given; only those whose thread is
    stored with `with_thread`), newest first."""
    store = HistoryStore.open("unused.db", url)
    try:
        runs = store.list(limit=100)
        origins = store.origins([run.run_id for run in runs])
    finally:
        store.close()
    return [run for run in runs if (channel is None or origins[run.run_id]["slack_channel"] == channel)
            and (not with_thread or origins[run.run_id]["slack_thread_ts"])]


def verdicts(fake: FakeSlack, channel: str) -> list[Call]:
    """Verdicts shown in a thread of `channel`: posted as a reply, or a reply (the live step list)
    edited into the verdict."""
    replies = [c for c in fake.calls_to("chat.postMessage") if c.channel == channel and c.params.get("thread_ts")]
    reply_ts = {(c.response or {}).get("ts") for c in replies}
    edits = [c for c in fake.calls_to("chat.update") if c.channel == channel and c.params.get("ts") in reply_ts]
    return [c for c in [*replies, *edits] if "Re-run" in text_of(c) and "interrupted" not in text_of(c)]


def assert_paced(writes: list[Call]) -> None:
    """The token bucket held over both processes together. Times are arrivals at the fake, so each
    write may land a little after its slot (one write of slack in any stretch); the whole series
    must take as long as one pace allows, which two separate paces (twice the rate) would not."""
    at = sorted(call.at for call in writes)
    for i in range(len(at)):
        for j in range(i + 1, len(at)):
            assert j - i + 1 <= DEFAULT_BURST + (at[j] - at[i]) / DEFAULT_INTERVAL_S + 1, (i, j, at[j] - at[i])
    assert at[-1] - at[0] >= (len(at) - DEFAULT_BURST - 1) * DEFAULT_INTERVAL_S - 0.3


async def test_two_processes_share_one_history_and_one_channel_pace(
        replicas: tuple[Replica, Replica, Any], fake_slack: FakeSlack, postgres_url: str) -> None:
    a, b, sim = replicas
    sim.state.faults.latency_ms = 50
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(a.start(session), b.start(session))
        for replica in (a, b, a, b):
            await replica.command(session, fake_slack, SHARED)
        await fake_slack.wait_for(lambda f: len(verdicts(f, SHARED)) == 4, timeout=90)
    runs = stored(postgres_url)
    assert len(runs) == 4 and all(run.verdict is not None and not run.interrupted for run in runs)
    writes = fake_slack.writes(SHARED)
    assert len(writes) >= 8  # two processes wrote into the one channel
    assert_paced(writes)


async def test_a_killed_process_restarted_marks_only_its_own_run_interrupted(
        replicas: tuple[Replica, Replica, Any], fake_slack: FakeSlack, postgres_url: str) -> None:
    a, b, sim = replicas
    sim.state.faults.latency_ms = 400  # a run takes seconds: long enough to kill one midway
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(a.start(session), b.start(session))
        await a.command(session, fake_slack, ON_A)
        await b.command(session, fake_slack, ON_B)
        # both runs are stored and going on (the parent of each thread is posted)
        # A's run is going on, with steps saved and its thread known; B's has started
        await until(lambda: [r for r in stored(postgres_url, ON_A, with_thread=True) if r.steps and r.verdict is None]
                    and stored(postgres_url, ON_B))
        await a.stop(signal.SIGKILL)
        await fake_slack.wait_for(lambda f: verdicts(f, ON_B), timeout=90)  # B goes on undisturbed
        assert [r.interrupted for r in stored(postgres_url)] == [False, False], stored(postgres_url)
        await a.start(session)  # the restart marks A's dead run and tells its thread
        cut = thread(fake_slack, ON_A)
        told = await fake_slack.wait_for(
            lambda f: [c for c in f.calls_to("chat.postMessage")
                       if c.params.get("thread_ts") == cut.parent_ts and "interrupted" in text_of(c)], timeout=30)
    assert len(told) == 1
    [finished], [interrupted] = stored(postgres_url, ON_B), stored(postgres_url, ON_A)
    assert finished.verdict is not None and not finished.interrupted
    assert interrupted.interrupted and interrupted.verdict is None and interrupted.steps  # the finished steps stay
    assert verdicts(fake_slack, ON_A) == []


async def test_sigterm_saves_the_runs_in_flight_and_the_next_start_tells_their_thread(
        fake_slack: FakeSlack, simulator: StartSimulator, database: Database, tmp_path: Path) -> None:
    """A deploy stops the one process with SIGTERM: its run in flight is saved as interrupted by the
    process itself (with its finished steps) before it exits; the next start says so in the thread."""
    sim = await simulator("no_confluence_access")
    sim.state.faults.latency_ms = 400
    env = serve_env(sim, fake_slack, **database.env)
    bot = Replica("solo", env, tmp_path / "solo.log")
    try:
        async with aiohttp.ClientSession() as session:
            await bot.start(session)
            await bot.command(session, fake_slack, ON_A)
            await until(lambda: [r for r in _runs(database) if len(r.steps) >= 2 and r.verdict is None])
            await bot.stop(signal.SIGTERM)
            assert bot.process is not None and bot.process.returncode == 143
            [run] = _runs(database)  # read without any start-up sweep: the process saved it itself
            assert run.interrupted and run.verdict is None and len(run.steps) >= 2, (run.verdict, len(run.steps))
            await bot.start(session)
            cut = thread(fake_slack, ON_A)
            await fake_slack.wait_for(
                lambda f: [c for c in f.calls_to("chat.postMessage")
                           if c.params.get("thread_ts") == cut.parent_ts and "interrupted" in text_of(c)], timeout=30)
    finally:
        await bot.stop()


def _runs(database: Database) -> list[Run]:
    store = database.open()
    try:
        return store.list(limit=100)
    finally:
        store.close()


async def test_a_run_waiting_its_turn_is_on_record_and_a_crash_leaves_it_interrupted(
        fake_slack: FakeSlack, simulator: StartSimulator, tmp_path: Path) -> None:
    """Over MAX_CONCURRENT_RUNS a run waits its turn; it is in the history from the start, so a
    crash then (SIGKILL) still leaves both runs interrupted and both threads told at the next start."""
    sim = await simulator("no_confluence_access")
    sim.state.faults.latency_ms = 400
    database = Database("sqlite", tmp_path / "h.db", None)
    env = serve_env(sim, fake_slack, MAX_CONCURRENT_RUNS="1", **database.env)
    bot = Replica("solo", env, tmp_path / "solo.log")
    try:
        async with aiohttp.ClientSession() as session:
            await bot.start(session)
            await bot.command(session, fake_slack, ON_A)
            await bot.command(session, fake_slack, ON_B)
            await until(lambda: len(_runs(database)) == 2 and any(r.steps for r in _runs(database)))
            queued = [r for r in _runs(database) if not r.steps]
            assert len(queued) == 1 and queued[0].verdict is None  # on record while it waits
            await until(lambda: all(_thread_known(database, r.run_id) for r in _runs(database)))
            await bot.stop(signal.SIGKILL)
            await bot.start(session)
            parents = [thread(fake_slack, channel).parent_ts for channel in (ON_A, ON_B)]
            await fake_slack.wait_for(
                lambda f: {c.params.get("thread_ts") for c in f.calls_to("chat.postMessage")
                           if "interrupted" in text_of(c)} >= set(parents), timeout=30)
    finally:
        await bot.stop()
    assert all(r.interrupted and r.verdict is None for r in _runs(database))


def _thread_known(database: Database, run_id: str) -> bool:
    store = database.open()
    try:
        return bool(store.origin(run_id)["slack_thread_ts"])
    finally:
        store.close()


async def test_a_replica_whose_port_was_taken_meanwhile_starts_on_another(
        replicas: tuple[Replica, Replica, Any]) -> None:
    a, _, _ = replicas
    taken = a.port
    with socket.socket() as squatter:  # another test's server got there first
        squatter.bind(("0.0.0.0", taken))
        squatter.listen()
        async with aiohttp.ClientSession() as session:
            await a.start(session)
    assert a.port != taken and "address already in use" in a.log.read_text()
