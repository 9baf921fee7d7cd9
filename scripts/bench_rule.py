"""Benchmark `confluence-check rule` against the simulator with injected latency per request.

Prints, per phase (reading the rule, then the diagnosis run of its Send web request), the wall time,
and how many request round trips the whole command waits for: depth = (wall at L ms − wall at 0 ms) / L.
Figures only; nothing is asserted.

    python scripts/bench_rule.py [--latency-ms 100] [--scenario rule_auth_header_missing] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from bot.automation import parse_rule_reference
from bot.automation.load import RulePlan, load_rule
from bot.checker import Checker
from bot.config import Settings
from bot.probes.rule import rule_probes
from bot.simulator import SimulatorServer, load_scenario


async def one_run(scenario_name: str, latency_ms: int) -> tuple[float, float, int]:
    """(ms to read the rule, ms for the runs, requests sent)."""
    async with SimulatorServer(load_scenario(scenario_name)) as sim:
        sim.state.faults.latency_ms = latency_ms
        settings = Settings.from_mapping(sim.env())
        ref = parse_rule_reference(sim.resolve_input()["rule"])
        t0 = time.perf_counter()
        plan = await load_rule(ref, settings)
        read = time.perf_counter() - t0
        assert isinstance(plan, RulePlan), "the scenario's rule must be readable"
        for request in plan.requests:
            await Checker(settings).start(request, probes=rule_probes(request)).wait()
        runs = time.perf_counter() - t0 - read
        return read * 1000, runs * 1000, len(sim.requests)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--scenario", default="rule_auth_header_missing")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    slow = [await one_run(args.scenario, args.latency_ms) for _ in range(args.repeat)]
    fast = [await one_run(args.scenario, 0) for _ in range(args.repeat)]
    read, runs = statistics.median(r[0] for r in slow), statistics.median(r[1] for r in slow)
    total_fast = statistics.median(r[0] + r[1] for r in fast)
    print(f"scenario {args.scenario}, {args.latency_ms} ms injected per request, {args.repeat} runs each")
    print(f"requests per command:         {slow[0][2]}")
    print(f"reading the rule:             median {read:.0f} ms")
    print(f"diagnosis run(s):             median {runs:.0f} ms")
    print(f"whole command at 0 ms:        median {total_fast:.0f} ms")
    if args.latency_ms:
        print(f"depth (round trips waited):   {(read + runs - total_fast) / args.latency_ms:.1f}"
              f" (rule read {statistics.median(r[0] for r in slow) / args.latency_ms:.1f})")


if __name__ == "__main__":
    asyncio.run(main())
