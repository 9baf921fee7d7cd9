"""The Checker keeps every run in history as it goes: steps saved as they finish, an awaiting task
cancelled → the run saved interrupted with its finished steps, a failed save ends the stream
with a `HistoryError` (never a hang). Real engine against the simulator, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from bot.checker import CheckedRun, Checker
from bot.config import Settings
from bot.errors import HistoryError
from bot.model import Run
from bot.request import CheckRequest
from bot.store import AsyncHistory, HistoryStore, SqliteDb
from tests.conftest import Database

StartSimulator = Callable[..., Awaitable[Any]]
SLOW_MS = 400  # per simulated request: a run (~3 round trips deep) takes over a second, to be caught midway


@pytest.fixture
async def history(database: Database) -> AsyncIterator[AsyncHistory]:
    opened = AsyncHistory(database.open)
    await opened.ready()
    yield opened
    await opened.aclose()


async def slow_checker(simulator: StartSimulator, history: AsyncHistory | None) -> tuple[Checker, str]:
    sim = await simulator("no_confluence_access")
    sim.state.faults.latency_ms = SLOW_MS
    return Checker(Settings.from_mapping(sim.env()), history), sim.resolve_input()["actor"]


async def stored(history: AsyncHistory, run_id: str) -> Run:
    return await history.get(run_id)


async def test_steps_are_stored_as_they_finish_and_the_run_when_it_ends(
        simulator: StartSimulator, history: AsyncHistory) -> None:
    checker, actor = await slow_checker(simulator, history)
    handle = checker.start(CheckRequest(actor, observed_status=403))
    seen = []
    async with asyncio.timeout(60):
        async for step in handle:
            seen.append(step.id)
            if len(seen) == 3:
                midway = await stored(history, handle.run.run_id)
                assert midway.verdict is None and not midway.interrupted
                assert set(seen) <= {s.id for s in midway.steps}  # each step is queued before it is passed on
        run = await handle.wait()
    assert (await stored(history, run.run_id)).to_dict() == run.to_dict()
    assert checker.in_flight == 0


async def test_cancelling_the_awaiting_task_stores_the_run_interrupted_with_its_steps(
        simulator: StartSimulator, history: AsyncHistory) -> None:
    checker, actor = await slow_checker(simulator, history)
    handle = checker.start(CheckRequest(actor, observed_status=403))
    first_steps = asyncio.Event()

    async def follow() -> None:
        async for _ in handle:
            if len(handle.run.steps) >= 2:
                first_steps.set()

    follower = asyncio.create_task(follow())
    async with asyncio.timeout(60):
        await first_steps.wait()
        follower.cancel()
        with pytest.raises(asyncio.CancelledError):
            await follower
    # the save was awaited before the cancellation went on: nothing left to wait for
    cut = await stored(history, handle.run.run_id)
    assert cut.interrupted and cut.verdict is None
    assert [s.id for s in cut.steps] == [s.id for s in handle.run.steps] and len(cut.steps) >= 2
    assert handle._source._task is not None and handle._source._task.done()  # the probes stopped
    assert await history.mark_interrupted() == []  # nothing else looks dead


async def test_a_cancelled_wait_also_interrupts(simulator: StartSimulator, history: AsyncHistory) -> None:
    checker, actor = await slow_checker(simulator, history)
    handle = checker.start(CheckRequest(actor))
    waiter = asyncio.create_task(handle.wait())
    await asyncio.sleep(0.5)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert (await stored(history, handle.run.run_id)).interrupted


async def test_interrupt_all_stores_every_run_in_flight(simulator: StartSimulator, history: AsyncHistory) -> None:
    checker, actor = await slow_checker(simulator, history)
    handles = [checker.start(CheckRequest(actor)) for _ in range(3)]
    await asyncio.sleep(0.5)
    async with asyncio.timeout(30):
        await checker.interrupt_all()
        for handle in handles:
            assert (await stored(history, handle.run.run_id)).interrupted
            assert await handle.wait() is handle.run  # the stream ended: nobody waits forever
    assert checker.in_flight == 0


async def test_a_run_that_finished_is_never_stored_interrupted(simulator: StartSimulator,
                                                                 history: AsyncHistory) -> None:
    sim = await simulator("ok")
    checker = Checker(Settings.from_mapping(sim.env()), history)
    handle = checker.start(CheckRequest(sim.resolve_input()["actor"]))
    run = await handle.wait()
    await handle.interrupt()
    assert (await stored(history, run.run_id)).to_dict() == run.to_dict() and not run.interrupted


async def test_a_failed_save_ends_the_stream_and_is_reported(simulator: StartSimulator, tmp_path: Any) -> None:
    """The database stays locked by another process past the busy timeout: the run still ends,
    and `wait()` says which database refused the write, with the run attached."""
    path = tmp_path / "h.db"
    history = AsyncHistory(lambda: HistoryStore(SqliteDb.connect(path, busy_timeout_s=0.2)))
    await history.ready()
    checker, actor = await slow_checker(simulator, history)
    handle: CheckedRun = checker.start(CheckRequest(actor, observed_status=403))
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        async with asyncio.timeout(60):
            async for _ in handle:
                if blocker.in_transaction is False:
                    blocker.execute("BEGIN IMMEDIATE")  # from the first step on, every write waits
            with pytest.raises(HistoryError, match=f"DATABASE_PATH {path}: could not save run") as caught:
                await handle.wait()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        await history.aclose()
    assert "locked" in str(caught.value) and caught.value.run is handle.run and handle.run.verdict is not None


async def test_steps_that_finish_while_the_history_thread_is_busy_are_written_together(
        simulator: StartSimulator, history: AsyncHistory) -> None:
    """A busy history thread (a Home tab query, another run's save) gets one write for the steps that
    finished meanwhile, of every run, not one each; none is lost, and those finished later are
    written as they come."""
    sim = await simulator("no_confluence_access")
    # each request takes a while, so no run can finish (and take over its waiting steps with its own
    # save) between the release of the history thread and the step write queued behind the hold
    sim.state.faults.latency_ms = 50
    checker = Checker(Settings.from_mapping(sim.env()), history)
    writes: list[dict[str, int]] = []
    store = await history.call(lambda s: s)
    real = store.save_steps_of

    def counted(steps_by_run: Any) -> None:
        steps_by_run = {run_id: list(steps) for run_id, steps in steps_by_run.items()}
        writes.append({run_id: len(steps) for run_id, steps in steps_by_run.items()})
        real(steps_by_run)

    store.save_steps_of = counted  # type: ignore[method-assign]
    release = threading.Event()
    history.submit(lambda _: release.wait(10))  # the history thread is held
    actor = sim.resolve_input()["actor"]
    handles = [checker.start(CheckRequest(actor, observed_status=403)) for _ in range(3)]
    seen = []
    async with asyncio.timeout(30):
        async for step in handles[0]:
            seen.append(step.id)
            if len(seen) == 3:
                release.set()
        runs = [await handle.wait() for handle in handles]
    for run in runs:
        assert (await stored(history, run.run_id)).to_dict() == run.to_dict()
    assert len(writes[0]) == 3, writes  # the first write took steps of all three runs
    steps_written = sum(n for write in writes for n in write.values())
    # far fewer writes than steps; steps still waiting when their run ended are left to the run's own save
    assert len(writes) < sum(len(run.steps) for run in runs) / 3 and steps_written <= sum(len(r.steps) for r in runs)
