"""Watches in the history database, on SQLite and PostgreSQL: several processes (here: connections of their
own, racing from threads; runners with their own history threads) run a due watch exactly once; a lease
left by a process that died runs out; the CLI adds, lists and removes watches."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest

from bot.checker import Checker
from bot.cli import main
from bot.config import Settings
from bot.store import AsyncHistory
from bot.store.watches import LEASE_S, Watch, add_watch, claim_due, finish_run, get_watch, list_watches
from bot.watches import Notice, WatchRunner
from tests.conftest import Database

StartSimulator = Callable[..., Awaitable[Any]]


def a_watch(watch_id: str, *, due: float, actor: str = "sam@acme.com", channel: str | None = "C0WATCH001") -> Watch:
    return Watch(id=watch_id, actor=actor, every_s=3600, created_by="test", created_at="2026-12-07T00:00:00Z",
                 next_due=due, channel=channel)


def test_racing_processes_claim_each_due_watch_once(database: Database) -> None:
    now = time.time()
    setup = database.open()
    for n in range(20):
        add_watch(setup.db, a_watch(f"w_{n:02d}", due=now - n))
    add_watch(setup.db, a_watch("w_later", due=now + 60))
    setup.close()
    start = threading.Barrier(3)
    claimed: dict[str, list[str]] = {}

    def claim(owner: str) -> None:
        store = database.open()  # a connection of its own, opened in its thread, as another process has
        try:
            start.wait()
            mine: list[str] = []
            for _ in range(10):  # each looks several times, a few at a time, as the serve loop does
                mine += [w.id for w in claim_due(store.db, owner, now=now, limit=3)]
            claimed[owner] = mine
        finally:
            store.close()

    threads = [threading.Thread(target=claim, args=(f"p{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(claimed) == 3
    every = [w for ids in claimed.values() for w in ids]
    assert sorted(every) == sorted(f"w_{n:02d}" for n in range(20))  # each once; the later one not at all


def test_a_lease_left_by_a_process_that_died_runs_out(database: Database) -> None:
    store = database.open()
    now = time.time()
    add_watch(store.db, a_watch("w_1", due=now))
    assert [w.id for w in claim_due(store.db, "gone", now=now, limit=5)] == ["w_1"]
    assert claim_due(store.db, "alive", now=now + LEASE_S - 1, limit=5) == []
    taken = claim_due(store.db, "alive", now=now + LEASE_S + 1, limit=5)
    assert [w.id for w in taken] == ["w_1"]
    # the process that died cannot store over the one that took the watch over
    assert not finish_run(store.db, taken[0], "gone", next_due=now + 10)
    assert finish_run(store.db, taken[0], "alive", next_due=now + 3600)
    found = get_watch(store.db, "w_1")
    assert found is not None and found.next_due == now + 3600
    store.close()


async def test_two_runners_on_one_database_run_a_due_watch_once(
        simulator: StartSimulator, database: Database) -> None:
    sim = await simulator("ok")
    settings = Settings.from_mapping(sim.env())
    now = [time.time()]
    histories = [AsyncHistory(database.open) for _ in range(2)]
    posted: list[tuple[str, int]] = []

    async def post(watch: Watch, notices: Sequence[Notice]) -> None:
        posted.append((watch.id, len(notices)))

    try:
        for history in histories:
            await history.ready()
        actor = sim.resolve_input()["actor"]
        await histories[0].call(lambda s: add_watch(s.db, a_watch("w_shared", due=now[0], actor=actor)))
        runners = [WatchRunner(Checker(settings, history), history, post, owner=f"process {n}",
                               clock=lambda: now[0]) for n, history in enumerate(histories)]
        for _ in range(3):  # due three times (an hour apart): each time, one of them runs it
            done = [len(r) for r in await _gather(*(runner.run_due() for runner in runners))]
            assert sorted(done) == [0, 1]
            now[0] += 3600
        runs = await histories[1].call(lambda s: s.list(actor, 20, steps=False))
        assert len(runs) == 3
        assert posted == [("w_shared", 1)]  # the first verdict, once; then nothing changed
    finally:
        for history in histories:
            await history.aclose()


async def _gather(*work: Awaitable[Any]) -> list[Any]:
    import asyncio

    async with asyncio.timeout(60):
        return list(await asyncio.gather(*work))


def _cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
         *args: str) -> tuple[int, str, str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_watch_add_list_remove_on_the_command_line(database: Database, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"ATLASSIAN_SITE_URL": "https://acme.atlassian.net", **database.env}
    code, out, _ = _cli(capsys, monkeypatch, env, "watch", "add", "Sam@Acme.com", "--endpoint",
                        "GET /wiki/rest/api/space", "--space", "DOCS", "--every", "6h", "--channel", "C0123ABCD")
    assert code == 0 and "Added watch w_" in out
    code, out, _ = _cli(capsys, monkeypatch, env, "watch", "list", "--json")
    listed = json.loads(out)
    assert code == 0 and listed["schema"] == "confluence-check/watches@1"
    [watch] = listed["watches"]
    assert (watch["actor"], watch["every"], watch["every_s"], watch["channel"], watch["space"]) == (
        "sam@acme.com", "6h", 21600, "C0123ABCD", "DOCS")
    assert watch["endpoint"] == "GET https://acme.atlassian.net/wiki/rest/api/space" and watch["verdict"] is None
    code, out, _ = _cli(capsys, monkeypatch, env, "watch", "list")
    assert code == 0 and watch["id"] in out and "not checked yet" in out
    code, out, _ = _cli(capsys, monkeypatch, env, "watch", "remove", watch["id"])
    assert code == 0 and "Removed" in out
    code, _, err = _cli(capsys, monkeypatch, env, "watch", "remove", watch["id"])
    assert code == 64 and "no watch" in err
    store = database.open()
    assert list_watches(store.db) == []
    store.close()


@pytest.mark.parametrize("args, env, error", [
    (["--every", "30s"], {}, "shorter than the shortest interval, 1m (WATCH_MIN_INTERVAL_S)"),
    (["--every", "30s"], {"WATCH_MIN_INTERVAL_S": "10"}, None),
    (["--every", "soon"], {}, "an interval is a number and a unit"),
    (["--channel", "#general"], {}, "--channel takes a Slack channel id"),
    (["--endpoint", "GET https://evil.example.com/x"], {}, "evil.example.com"),
    ([], {"WATCH_MIN_INTERVAL_S": "0"}, "WATCH_MIN_INTERVAL_S must be"),
])
def test_watch_add_refuses_what_it_cannot_watch(database: Database, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch, tmp_path: Any, args: list[str],
                                                env: dict[str, str], error: str | None) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = _cli(capsys, monkeypatch, {"ATLASSIAN_SITE_URL": "https://acme.atlassian.net", **database.env,
                                              **env}, "watch", "add", "sam@acme.com", *args)
    if error is None:
        assert code == 0, err
    else:
        assert code == 64 and error in err, err
