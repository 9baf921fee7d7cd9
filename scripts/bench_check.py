"""Benchmark one full `check` against the simulator: how many round trips the run waits for.

Runs the same check with 0 ms and with N ms injected per request (each `--repeat` times) and prints

    depth = (median wall at N ms - median wall at 0 ms) / N ms

— the number of request latencies the run waits for one after the other (its critical path) — next
to the sum of all request latencies, the request count and when the first step streamed. The
default is the full chain: org key, bot login, the actor's token and a failing call that names a
page, so every probe runs. Each check runs through the core `Checker` with site facts kept in a
history database, runs not saved (their writes are not round trips): "cold" on a new database,
"repeat" a second check on the same one, which finds the site's cloudId and the org key's org
kept (`bot.site_facts`). Figures only; nothing is asserted.

    python scripts/bench_check.py [--latency-ms 100] [--repeat 5] [--scenario ok] [--endpoint "GET {site}/..."] [--log]

It also counts the waves of each run's request log (`bot.simulator.timeline`), which no machine load can
lower; `--log` prints one cold and one repeat check request by request (wave, start and end in ms).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bot.atlassian.hosts import HostGuard
from bot.checker import Checker
from bot.config import Settings
from bot.request import ActorSecret, CheckRequest, parse_endpoint
from bot.simulator import SimulatorServer, load_scenario
from bot.simulator.timeline import describe, waves
from bot.site_facts import SiteFacts
from bot.store import AsyncHistory, HistoryStore

FULL_CHAIN_ENDPOINT = "GET {site}/wiki/api/v2/pages/65601"  # a page: content.space and content.page run


@dataclass(frozen=True)
class Sample:
    wall_ms: float
    latency_sum_ms: float
    requests: int
    first_step_ms: float
    verdict: str
    waves: int  # the deepest wave of the request log (`bot.simulator.timeline`): round trips waited, counted


async def one_run(scenario_name: str, latency_ms: int, endpoint: str | None, status: int | None, *,
                  repeat: bool, log: bool = False) -> Sample:
    """One check on a new history database (`repeat`: the second of two checks of one site on it)."""
    with tempfile.TemporaryDirectory() as folder:
        history = AsyncHistory(lambda: HistoryStore.open(Path(folder) / "history.db"))
        try:
            await history.ready()
            async with SimulatorServer(load_scenario(scenario_name)) as sim:
                if repeat:
                    await _check(sim, endpoint, status, history)
                sim.state.faults.latency_ms = latency_ms
                return await _check(sim, endpoint, status, history, log=log)
        finally:
            await history.aclose()


async def _check(sim: SimulatorServer, endpoint: str | None, status: int | None, history: AsyncHistory, *,
                 log: bool = False) -> Sample:
    settings = Settings.from_mapping(sim.env())
    given = sim.resolve_input()
    assert settings.site_url
    guard = HostGuard(settings.site_url, settings.api_url)
    target = (endpoint or "").replace("{site}", sim.site_url).replace("{gateway}", sim.gateway_url) or \
        given.get("endpoint")
    request = CheckRequest(
        actor=given["actor"], failing=parse_endpoint(target, guard) if target else None,
        observed_status=status if status is not None else given.get("status"),
        observed_body=given.get("body"), space=given.get("space"),
        actor_secret=ActorSecret.parse(given["actor_token"]) if given.get("actor_token") else None)
    sent_before = len(sim.requests)
    t0, since = time.perf_counter(), time.monotonic()
    handle = Checker(settings, site_facts=SiteFacts(settings, history)).start(request)
    first_step_at = None
    async for _ in handle:
        if first_step_at is None:
            first_step_at = time.perf_counter() - t0
    run = await handle.wait()
    wall = time.perf_counter() - t0
    durations = [e.duration_ms or 0 for s in run.steps for e in s.evidence]
    assert run.verdict is not None
    if log:
        print("\n".join(describe(sim.requests[sent_before:], since)))
    return Sample(wall * 1000, float(sum(durations)), len(sim.requests) - sent_before, (first_step_at or 0) * 1000,
                  f"{run.verdict.cause.value} ({run.verdict.confidence.value})",
                  max(waves(sim.requests[sent_before:]), default=0))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--scenario", default="ok")
    parser.add_argument("--endpoint", default=FULL_CHAIN_ENDPOINT,
                        help="the failing call ({site}/{gateway} filled in); '' keeps the scenario's own")
    parser.add_argument("--status", type=int, default=403, help="the reported status")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--log", action="store_true",
                        help="print the requests of one cold and one repeat check: wave, start and end (ms)")
    args = parser.parse_args()
    await one_run(args.scenario, 0, args.endpoint, args.status, repeat=False)  # warm-up: imports, pools
    if args.log:
        for label, repeat in (("cold", False), ("repeat", True)):
            print(f"--- request log of one {label} check at {args.latency_ms} ms")
            await one_run(args.scenario, args.latency_ms, args.endpoint, args.status, repeat=repeat, log=True)
    for label, repeat in (("cold (nothing kept)", False), ("repeat (site facts kept)", True)):
        base = [await one_run(args.scenario, 0, args.endpoint, args.status, repeat=repeat) for _ in range(args.repeat)]
        slow = [await one_run(args.scenario, args.latency_ms, args.endpoint, args.status, repeat=repeat)
                for _ in range(args.repeat)]
        print(f"--- {label}")
        _report(args, base, slow)


def _report(args: argparse.Namespace, base: list[Sample], slow: list[Sample]) -> None:
    wall0 = statistics.median(s.wall_ms for s in base)
    wall = statistics.median(s.wall_ms for s in slow)
    total = statistics.median(s.latency_sum_ms for s in slow)
    print(f"scenario {args.scenario}, endpoint {args.endpoint or '(scenario)'}, {args.repeat} runs each; "
          f"verdict {slow[0].verdict}")
    print(f"requests per run:             {slow[0].requests}")
    print(f"wall at 0 ms:                 median {wall0:.0f} ms")
    print(f"wall at {args.latency_ms} ms:               median {wall:.0f} ms (min {min(s.wall_ms for s in slow):.0f}, "
          f"max {max(s.wall_ms for s in slow):.0f})")
    print(f"depth:                        {(wall - wall0) / args.latency_ms:.2f} round trips "
          f"((wall at {args.latency_ms} ms - wall at 0 ms) / {args.latency_ms} ms)")
    print(f"waves in the request log:     {min(s.waves for s in slow)}-{max(s.waves for s in slow)} "
          "(requests that started only after another was answered are one wave deeper)")
    print(f"sum of request latencies:     median {total:.0f} ms ({total / wall:.1f}x the wall time)")
    print(f"first step streamed after:    median {statistics.median(s.first_step_ms for s in slow):.0f} ms")


if __name__ == "__main__":
    asyncio.run(main())
