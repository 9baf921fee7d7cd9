"""Benchmark the org-wide token sweep (`confluence-check tokens`) against the simulator.

A simulated organization of `--accounts` managed accounts (one token each) answers every request
after `--latency-ms`; its Organizations and User management APIs hold a token bucket of `--limit`
requests a second per API key (burst as large), answering 429 with `X-RateLimit-Limit`,
`X-RateLimit-Remaining` and `X-RateLimit-Reset` — the headers the Organizations API documents on its
answers (bot/openapi/admin-organization.swagger.v3.json, "Rate limit response headers"); no
`Retry-After`, which it does not document. The sweep runs as the CLI runs it (`bot.tokens.sweep`, its
adaptive limiter and the client's retries) and must read every account. Printed:

- with the limit: the wall time, the rate of answered (non-429) requests as a share of the limit
  (goal ≥ 80 %), and the share of requests answered 429 (goal ≤ 2 %);
- without a limit: the wall time for the same accounts.

    python scripts/bench_sweep.py [--accounts 5000] [--latency-ms 100] [--limit 20] [--only limited|unlimited]

Figures only; the script exits 1 when a goal is missed or an account was not read.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import time
from dataclasses import dataclass

from bot.commands import simulator_in_thread
from bot.config import Settings
from bot.simulator import Scenario, load_scenario
from bot.simulator.fault_model import KeyRateLimit
from bot.simulator.state import Token, User
from bot.tokens import TokenSweep, sweep


@dataclass(frozen=True)
class Result:
    wall_s: float
    sweep: TokenSweep

    @property
    def answered(self) -> int:
        return self.sweep.requests - self.sweep.rate_limited


def org_of(accounts: int, latency_ms: int, limit: float | None) -> Scenario:
    """The `token_sweep` world's site and org with `accounts` managed accounts, one token each."""
    base = load_scenario("token_sweep")
    scenario = copy.deepcopy(base)
    world = scenario.world
    world.users = [User(account_id=f"557058:bench-{i:05d}", email=f"user{i:05d}@acme.com", name=f"User {i}",
                        tokens=[Token(id=f"tok-{i:05d}", label="script", value=f"ATATT3xFfGF0-bench-{i:05d}",
                                      created_at="2026-06-01T00:00:00Z", expiry="2027-05-01T00:00:00Z",
                                      last_access="2026-11-30T00:00:00Z")])
                   for i in range(accounts)]
    world.faults.routes.clear()
    world.faults.latency_ms = latency_ms
    world.faults.key_rate_limit = KeyRateLimit(per_second=limit, burst=int(limit)) if limit else None
    return scenario


def run(accounts: int, latency_ms: int, limit: float | None) -> Result:
    with simulator_in_thread(org_of(accounts, latency_ms, limit)) as sim:
        settings = Settings.from_mapping({**sim.env(), "ATLASSIAN_ORG_ID": sim.state.org.id})
        started = time.monotonic()
        report = asyncio.run(sweep(settings))
        return Result(time.monotonic() - started, report)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--limit", type=float, default=20.0, help="requests a second per API key")
    parser.add_argument("--only", choices=("limited", "unlimited"))
    args = parser.parse_args()
    ok = True
    print(f"{args.accounts} accounts, {args.latency_ms} ms per request")
    if args.only != "unlimited":
        result = run(args.accounts, args.latency_ms, args.limit)
        share = result.answered / result.wall_s / args.limit
        limited = result.sweep.rate_limited / max(1, result.sweep.requests)
        complete = result.sweep.checked_accounts == args.accounts and not result.sweep.not_checked
        print(f"limit {args.limit:g} req/s per key: {result.wall_s:.1f} s, {result.sweep.requests} requests "
              f"({result.sweep.rate_limited} answered 429), {result.answered / result.wall_s:.2f} answered req/s")
        print(f"  throughput {share:.1%} of the limit (goal >= 80%); 429s {limited:.2%} of requests (goal <= 2%); "
              f"accounts read {result.sweep.checked_accounts}/{args.accounts}")
        ok = ok and share >= 0.8 and limited <= 0.02 and complete
    if args.only != "limited":
        result = run(args.accounts, args.latency_ms, None)
        complete = result.sweep.checked_accounts == args.accounts and not result.sweep.not_checked
        print(f"no limit: {result.wall_s:.1f} s for {args.accounts} accounts, {result.sweep.requests} requests, "
              f"{result.answered / result.wall_s:.1f} req/s; accounts read {result.sweep.checked_accounts}")
        ok = ok and complete
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
