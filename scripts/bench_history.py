"""Benchmark the run store at scale: fill N runs, time the reads people wait for, print bytes per run.

The runs are real: three checks run against the simulator (a problem, another problem, ok),
copied N times over `--actors` actors, five minutes apart. Then, on a warm store:

- `history ACTOR` in a terminal: the actor's last 20 runs and its timeline,
- the History button / `/confluence-check history ACTOR`: the actor's runs as Slack reads them
  (HISTORY_LIMIT x OVERSCAN, so hiding other people's runs still fills the list) and their origins,
- the Home tab as Slack reads it: each actor's latest run and "failing now" (accounts whose
  latest finished run found a problem), HOME_LIMIT x OVERSCAN each, and their origins,
- bytes per run: the database's size (SQLite file after a checkpoint; PostgreSQL relations with
  their indexes) divided by N.

Figures only; nothing is asserted. SQLite always; PostgreSQL too with --database-url.

    python scripts/bench_history.py [--runs 100000] [--actors 2000] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.atlassian.hosts import HostGuard
from bot.checker import Checker
from bot.config import Settings
from bot.model import Run
from bot.request import ActorSecret, CheckRequest, parse_endpoint
from bot.simulator import SimulatorServer, load_scenario
from bot.slack.listeners.commands import HISTORY_LIMIT
from bot.slack.listeners.home import HOME_LIMIT
from bot.slack.visibility import OVERSCAN
from bot.store import HistoryStore, PostgresDb, SqliteDb

SCENARIOS = ("seed_automation_actor_replay", "no_confluence_access", "ok")
FILL_BATCH = 1000  # runs per transaction while filling


async def real_run(name: str) -> Run:
    async with SimulatorServer(load_scenario(name)) as sim:
        settings = Settings.from_mapping(sim.env())
        given = sim.resolve_input()
        assert settings.site_url
        guard = HostGuard(settings.site_url, settings.api_url)
        request = CheckRequest(
            actor=given["actor"],
            failing=parse_endpoint(given["endpoint"], guard) if given.get("endpoint") else None,
            observed_status=given.get("status"), observed_body=given.get("body"), space=given.get("space"),
            actor_secret=ActorSecret.parse(given["actor_token"]) if given.get("actor_token") else None)
        return await Checker(settings).start(request).wait()


def fill(store: HistoryStore, templates: list[Run], runs: int, actors: list[str]) -> float:
    rnd = random.Random(7)
    t0 = templates[0].started_at - timedelta(minutes=5 * runs)
    started = time.perf_counter()
    for first in range(0, runs, FILL_BATCH):
        with store.db.transaction():
            for i in range(first, min(runs, first + FILL_BATCH)):
                run = Run.from_dict(templates[i % len(templates)].to_dict())
                run.run_id = f"r_{i:08d}"
                run.actor = actors[rnd.randrange(len(actors))]
                # each actor is its own account (the history files runs by the account a run resolved)
                run.request = {**run.request, "actor": run.actor,
                               "account_id": f"557058:{uuid.uuid5(uuid.NAMESPACE_URL, run.actor)}"}
                run.started_at = t0 + timedelta(minutes=5 * i)
                store.save(run, origin={"via": "cli"})
    return time.perf_counter() - started


def timed(label: str, work: Callable[[], Any], repeat: int) -> None:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    print(f"  {label:<42} median {statistics.median(times):7.2f} ms   max {max(times):7.2f} ms")


def size_bytes(store: HistoryStore, path: Path | None) -> int:
    if path is not None:
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return sum(os.path.getsize(p) for p in (path, Path(f"{path}-wal")) if p.exists())
    tables = ("runs", "run_steps", "latest_runs")
    return sum(int(store.db.execute("SELECT pg_total_relation_size(?)", [t]).fetchone()[0]) for t in tables)


def bench(label: str, store: HistoryStore, path: Path | None, templates: list[Run], args: argparse.Namespace) -> None:
    actors = [f"user{n}@acme.com" for n in range(args.actors)]
    print(f"\n{label}: filling {args.runs} runs over {args.actors} actors ...")
    seconds = fill(store, templates, args.runs, actors)
    print(f"  filled in {seconds:.0f} s ({args.runs / seconds:.0f} runs/s, {FILL_BATCH} per transaction)")
    size = size_bytes(store, path)
    print(f"  bytes per run: {size / args.runs:.0f} ({size / 2**20:.0f} MiB in all)")
    rnd = random.Random(11)

    def pick() -> str:
        return actors[rnd.randrange(len(actors))]

    def with_origins(runs: list[Run]) -> None:
        store.origins([run.run_id for run in runs])

    slack_history, home = HISTORY_LIMIT * OVERSCAN, HOME_LIMIT * OVERSCAN
    timed("history ACTOR (terminal): 20 runs + timeline",
          lambda: (store.list(actor := pick(), 20, steps=False), store.timeline(actor)), args.repeat)
    timed(f"history ACTOR (Slack): {slack_history} runs + origins",
          lambda: with_origins(store.list(pick(), slack_history, steps=False)), args.repeat)
    timed(f"Home tab: latest runs ({home}) + origins", lambda: with_origins(store.latest(home, steps=False)),
          args.repeat)
    timed(f"Home tab: failing now ({home}) + origins",
          lambda: with_origins(store.failing_accounts(home, steps=False)), args.repeat)
    timed("Home tab: both", lambda: (with_origins(store.latest(home, steps=False)),
                                     with_origins(store.failing_accounts(home, steps=False))), args.repeat)
    timed("show RUN_ID: one whole run", lambda: store.get(f"r_{rnd.randrange(args.runs):08d}"), args.repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--actors", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--database-url", help="also benchmark PostgreSQL (an empty database or schema)")
    args = parser.parse_args()
    templates = [asyncio.run(real_run(name)) for name in SCENARIOS]
    print("run documents (JSON bytes):", ", ".join(f"{len(str(t.to_dict()))}" for t in templates))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        store = HistoryStore(SqliteDb.connect(path))
        try:
            bench("SQLite", store, path, templates, args)
        finally:
            store.close()
    if args.database_url:
        store = HistoryStore(PostgresDb.connect(args.database_url))
        try:
            bench("PostgreSQL", store, None, templates, args)
        finally:
            store.close()


if __name__ == "__main__":
    main()
