"""Benchmark `confluence-check rule` against the simulator with injected latency per request.

Runs the command through the core `Checker` (the rule read, then the diagnosis run of each Send web
request; site facts kept in a history database, runs not saved: their writes are not round trips)
with 0 ms and with L ms per request, and prints how many request round trips the whole command
waits for: depth = (wall at L ms − wall at 0 ms) / L. "cold" is a new database; "repeat" a second
command on the same one, which finds the site's cloudId and the org key's org kept
(`bot.site_facts`). Figures only; nothing is asserted.

    python scripts/bench_rule.py [--latency-ms 100] [--scenario rule_auth_header_missing] [--repeat 5] [--log]

`--log` prints one cold and one repeat command request by request (wave, start and end in ms).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bot.automation import parse_rule_reference
from bot.automation.load import RulePlan
from bot.checker import Checker
from bot.config import Settings
from bot.probes.rule import rule_probes
from bot.simulator import SimulatorServer, load_scenario
from bot.simulator.timeline import describe, waves
from bot.site_facts import SiteFacts
from bot.store import AsyncHistory, HistoryStore


async def one_run(scenario_name: str, latency_ms: int, *, repeat: bool,
                  log: bool = False) -> tuple[float, float, int, int]:
    """(ms to read the rule, ms for the runs, requests sent, the deepest wave of its request log) of one
    command on a new history database (`repeat`: the second of two commands on it)."""
    with tempfile.TemporaryDirectory() as folder:
        history = AsyncHistory(lambda: HistoryStore.open(Path(folder) / "history.db"))
        try:
            await history.ready()
            async with SimulatorServer(load_scenario(scenario_name)) as sim:
                if repeat:
                    await _command(sim, history)
                sim.state.faults.latency_ms = latency_ms
                return await _command(sim, history, log=log)
        finally:
            await history.aclose()


async def _command(sim: SimulatorServer, history: AsyncHistory, *,
                   log: bool = False) -> tuple[float, float, int, int]:
    settings = Settings.from_mapping(sim.env())
    checker = Checker(settings, site_facts=SiteFacts(settings, history))
    ref = parse_rule_reference(sim.resolve_input()["rule"])
    sent_before = len(sim.requests)
    t0, since = time.perf_counter(), time.monotonic()
    plan = await checker.load_rule(ref)
    read = time.perf_counter() - t0
    assert isinstance(plan, RulePlan), "the scenario's rule must be readable"
    for request in plan.requests:
        await checker.start(request, probes=rule_probes(request)).wait()
    runs = time.perf_counter() - t0 - read
    if log:
        print("\n".join(describe(sim.requests[sent_before:], since)))
    return read * 1000, runs * 1000, len(sim.requests) - sent_before, max(waves(sim.requests[sent_before:]), default=0)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--scenario", default="rule_auth_header_missing")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--log", action="store_true",
                        help="print the requests of one cold and one repeat command: wave, start and end (ms)")
    args = parser.parse_args()
    await one_run(args.scenario, 0, repeat=False)  # warm-up: imports, pools
    if args.log:
        for label, repeat in (("cold", False), ("repeat", True)):
            print(f"--- request log of one {label} command at {args.latency_ms} ms")
            await one_run(args.scenario, args.latency_ms, repeat=repeat, log=True)
    print(f"scenario {args.scenario}, {args.latency_ms} ms injected per request, {args.repeat} runs each")
    for label, repeat in (("cold (nothing kept)", False), ("repeat (site facts kept)", True)):
        slow = [await one_run(args.scenario, args.latency_ms, repeat=repeat) for _ in range(args.repeat)]
        fast = [await one_run(args.scenario, 0, repeat=repeat) for _ in range(args.repeat)]
        read, runs = statistics.median(r[0] for r in slow), statistics.median(r[1] for r in slow)
        whole = statistics.median(r[0] + r[1] for r in slow)
        whole_fast = statistics.median(r[0] + r[1] for r in fast)
        print(f"--- {label}")
        print(f"requests per command:         {slow[0][2]}")
        print(f"reading the rule:             median {read:.0f} ms")
        print(f"diagnosis run(s):             median {runs:.0f} ms")
        print(f"whole command at 0 ms:        median {whole_fast:.0f} ms")
        if args.latency_ms:
            print(f"depth (round trips waited):   {(whole - whole_fast) / args.latency_ms:.2f}"
                  f" (rule read {read / args.latency_ms:.1f}); waves in the request log: "
                  f"{min(r[3] for r in slow)}-{max(r[3] for r in slow)}")


if __name__ == "__main__":
    asyncio.run(main())
