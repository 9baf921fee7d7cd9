"""Benchmark one full `check` against the simulator with injected latency per request.

Prints the wall time of the run next to the sum of its request latencies, so the saving
from running probes concurrently is visible. Figures only; nothing is asserted.

    python scripts/bench_check.py [--latency-ms 100] [--scenario seed_automation_actor_replay] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from bot.atlassian.hosts import HostGuard
from bot.checker import Checker
from bot.config import Settings
from bot.request import ActorSecret, CheckRequest, parse_endpoint
from bot.simulator import SimulatorServer, load_scenario


async def one_run(scenario_name: str, latency_ms: int) -> tuple[float, float, int, float]:
    scenario = load_scenario(scenario_name)
    async with SimulatorServer(scenario) as sim:
        sim.state.faults.latency_ms = latency_ms
        settings = Settings.from_mapping(sim.env())
        given = sim.resolve_input()
        assert settings.site_url
        guard = HostGuard(settings.site_url, settings.api_url)
        request = CheckRequest(
            actor=given["actor"],
            failing=parse_endpoint(given["endpoint"], guard) if given.get("endpoint") else None,
            observed_status=given.get("status"), observed_body=given.get("body"), space=given.get("space"),
            actor_secret=ActorSecret.parse(given["actor_token"]) if given.get("actor_token") else None)
        t0 = time.perf_counter()
        handle = Checker(settings).start(request)
        first_step_at = None
        async for _ in handle:
            if first_step_at is None:
                first_step_at = time.perf_counter() - t0
        run = await handle.wait()
        wall = time.perf_counter() - t0
    durations = [e.duration_ms or 0 for s in run.steps for e in s.evidence]
    return wall * 1000, float(sum(durations)), len(durations), (first_step_at or 0) * 1000


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--scenario", default="seed_automation_actor_replay")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = [await one_run(args.scenario, args.latency_ms) for _ in range(args.repeat)]
    walls, sums, counts, firsts = zip(*rows, strict=True)
    print(f"scenario {args.scenario}, {args.latency_ms} ms injected per request, {args.repeat} runs")
    print(f"requests per run:             {counts[0]}")
    print(f"wall time of one check:       median {statistics.median(walls):.0f} ms (min {min(walls):.0f}, "
          f"max {max(walls):.0f})")
    print(f"sum of request latencies:     median {statistics.median(sums):.0f} ms")
    print(f"concurrency saves:            {100 * (1 - statistics.median(walls) / statistics.median(sums)):.0f} %"
          f" ({statistics.median(sums) / statistics.median(walls):.1f}x)")
    print(f"first step streamed after:    median {statistics.median(firsts):.0f} ms")


if __name__ == "__main__":
    asyncio.run(main())
