"""Faults injected by the simulator: 429s are retried within bounds, outages and errors stay honest."""

from __future__ import annotations

from bot import engine
from bot.atlassian import RetryPolicy
from bot.checker import Checker
from bot.config import Settings
from bot.model import CauseCode, StepStatus
from bot.request import CheckRequest
from bot.simulator.state import ErrorFault, RateLimitFault


async def test_a_rate_limited_probe_is_retried_after_retry_after(simulator) -> None:
    sim = await simulator("no_confluence_access")
    sim.state.faults.rate_limit.append(RateLimitFault(role="api", path_prefix="/admin/v1/orgs", count=1,
                                                      retry_after=0))
    actor = sim.resolve_input()["actor"]
    run = await Checker(Settings.from_mapping(sim.env())).start(CheckRequest(actor)).wait()
    step = run.step("inspector.org_key")
    assert step is not None and step.status is StepStatus.PASS
    assert "retr" in (step.evidence[-1].note or "")
    assert [r.status for r in sim.requests if r.path == "/admin/v1/orgs"] == [429, 200]
    assert run.verdict is not None and run.verdict.cause is CauseCode.NO_CONFLUENCE_ACCESS


async def test_a_persistent_server_error_is_an_error_step_never_a_pass(simulator) -> None:
    sim = await simulator("no_confluence_access")
    sim.state.faults.errors.append(ErrorFault(role="api", path_prefix="/admin/v2/orgs", count=10, status=500))
    actor = sim.resolve_input()["actor"]
    fast = RetryPolicy(base_delay_s=0.001, jitter_s=0.001)
    run = await engine.start(CheckRequest(actor), Settings.from_mapping(sim.env()), retry=fast).wait()
    lookup = run.step("identity.lookup")
    assert lookup is not None and lookup.status is StepStatus.ERROR and "500" in lookup.summary
    role = run.step("product.role")
    assert role is not None and role.status is StepStatus.SKIP and "Actor exists" in role.summary
    assert run.verdict is not None and run.verdict.cause is not CauseCode.OK
    assert run.verdict.cause is not CauseCode.NO_CONFLUENCE_ACCESS  # never blamed without evidence


async def test_an_unreachable_site_is_an_error_not_a_verdict_about_the_actor() -> None:
    settings = Settings.from_mapping({"ATLASSIAN_SITE_URL": "http://127.0.0.1:9",
                                      "ATLASSIAN_API_URL": "http://127.0.0.1:9",
                                      "ATLASSIAN_STATUS_URL": "http://127.0.0.1:9"})
    run = await Checker(settings).start(CheckRequest("a@acme.com", observed_status=403)).wait()
    site = run.step("site.tenant")
    assert site is not None and site.status is StepStatus.ERROR and "CannotConnect" in site.summary
    assert run.verdict is not None and run.verdict.cause is CauseCode.INCONCLUSIVE
