"""Faults are never evidence (docs/architecture.md §Missing evidence): the fault matrix.

Every request a fault-free run of a scenario makes is hit, in a fresh simulator, by one fault:
500 once, 500 always, a reset connection once, a read timeout once, a malformed JSON body once,
429 with Retry-After once. A one-off fault must leave the verdict (cause and confidence) as it
was; no fault may produce a `confirmed` cause other than the fault-free run's, and a 5xx is never
`inspector_misconfigured` or `site_not_found`. Runs of one scenario × fault go concurrently on
one event loop, with short retry delays and request timeouts, to keep this CI-sized.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest

from bot import engine
from bot.atlassian import RetryPolicy
from bot.atlassian.hosts import HostGuard
from bot.config import Settings
from bot.model import CauseCode, Confidence, Run
from bot.request import ActorSecret, CheckRequest, parse_endpoint
from bot.simulator import SimulatorServer, load_scenario
from bot.simulator.state import FaultKind, RouteFault

# between them: replays at site, gateway and endpoint, the admin directory, roles, tokens, policies,
# check-access, groups, space permissions, the page permission check, the status page
SCENARIOS = ("seed_automation_actor_replay", "no_confluence_access", "account_deactivated", "page_restricted", "ok")
FAST = RetryPolicy(base_delay_s=0.005, jitter_s=0.005, max_delay_s=2.0, deadline_margin_s=0.2)
TIMEOUT_S = 1.5  # per request in these runs (loaded CI machines need slack); the injected delay is longer
PARALLEL = 24


@dataclass(frozen=True)
class Fault:
    name: str
    once: bool
    kind: FaultKind
    status: int = 503
    retry_after: int | None = None
    delay_ms: int = 0

    def on(self, role: str, method: str, path: str, nth: int) -> RouteFault:
        return RouteFault(kind=self.kind, role=role, method=method, path=path, nth=nth,  # type: ignore[arg-type]
                          count=1 if self.once else None, status=self.status, retry_after=self.retry_after,
                          delay_ms=self.delay_ms)


FAULTS = (
    Fault("500 once", True, FaultKind.STATUS, status=500),
    Fault("500 always", False, FaultKind.STATUS, status=500),
    Fault("reset once", True, FaultKind.RESET),
    Fault("timeout once", True, FaultKind.DELAY, delay_ms=int(TIMEOUT_S * 1000) + 500),
    Fault("malformed JSON once", True, FaultKind.MALFORMED),
    Fault("429 + Retry-After once", True, FaultKind.STATUS, status=429, retry_after=0),
)


def request_of(given: dict[str, Any], settings: Settings) -> CheckRequest:
    assert settings.site_url
    guard = HostGuard(settings.site_url, settings.api_url)
    return CheckRequest(
        actor=given["actor"],
        failing=parse_endpoint(given["endpoint"], guard) if given.get("endpoint") else None,
        observed_status=given.get("status"), observed_body=given.get("body"), space=given.get("space"),
        actor_secret=ActorSecret.parse(given["actor_token"]) if given.get("actor_token") else None)


async def one_run(scenario: str, fault: RouteFault | None = None) -> tuple[Run, list[tuple[str, str, str, int]]]:
    async with SimulatorServer(load_scenario(scenario)) as sim:
        if fault is not None:
            sim.state.faults.routes.append(fault)
        settings = Settings.from_mapping(sim.env())
        run = await engine.start(request_of(sim.resolve_input(), settings), settings, retry=FAST,
                                 timeout_s=TIMEOUT_S).wait()
        sent = [(r.role, r.method, r.path, r.occurrence) for r in sim.requests]
        assert fault is None or fault.fired, f"the fault never fired: {fault}"  # the matrix tests something
    return run, sent


def verdict(run: Run) -> tuple[CauseCode, Confidence]:
    assert run.verdict is not None
    return run.verdict.cause, run.verdict.confidence


_baselines: dict[str, tuple[tuple[CauseCode, Confidence], list[tuple[str, str, str, int]]]] = {}


async def baseline(scenario: str) -> tuple[tuple[CauseCode, Confidence], list[tuple[str, str, str, int]]]:
    if scenario not in _baselines:
        run, sent = await one_run(scenario)
        _baselines[scenario] = verdict(run), sent
    return _baselines[scenario]


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_a_fault_on_any_request_is_never_evidence(scenario: str, fault: Fault) -> None:
    expected, sent = await baseline(scenario)
    assert len(sent) >= 5
    gate = asyncio.Semaphore(PARALLEL)

    async def hit(target: tuple[str, str, str, int]) -> tuple[tuple[str, str, str, int], Run]:
        async with gate:
            run, _ = await one_run(scenario, fault.on(*target))
        return target, run

    outcomes = await asyncio.gather(*(hit(t) for t in sent))
    wrong = []
    for (role, method, path, nth), run in outcomes:
        got = verdict(run)
        where = f"{fault.name} on {role} {method} {path} #{nth}: {got[0].value} {got[1].value}"
        if fault.once and got != expected:
            wrong.append(f"{where} (fault-free: {expected[0].value} {expected[1].value})")
        elif got[1] is Confidence.CONFIRMED and got[0] is not expected[0]:
            wrong.append(f"{where} — a confirmed cause the fault-free run does not have")
        elif fault.status >= 500 and got[0] is not expected[0] and got[0] in (
                CauseCode.INSPECTOR_MISCONFIGURED, CauseCode.SITE_NOT_FOUND):
            wrong.append(f"{where} — blamed on the configuration or the site")
    assert not wrong, "\n".join(wrong)
