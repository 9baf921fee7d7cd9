"""Reads that are the same for every run (the site's tenant, the status page, the bot's own login,
the org's list and policies) are sent once while concurrent runs wait for them; reads about the
actor never are; nothing is kept once answered; a fault reaches every run that waited."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest

from bot import engine
from bot.atlassian.clients import Atlassian, Auth, RequestFailed, RetryPolicy, Role
from bot.atlassian.hosts import HostGuard
from bot.config import Secret, Settings
from bot.model import CauseCode, Run, StepStatus
from bot.request import CheckRequest, parse_endpoint
from bot.simulator.fault_model import FaultKind, RouteFault
from tests.fakes.atlassian_http import MockTransport

ANONYMOUS_IDENTITY = "user/current without a credential"  # the replay's control call, the same for every run
ORG_WIDE = {"/_edge/tenant_info", "/api/v2/summary.json", "/wiki/rest/api/user/current", "/admin/v1/orgs",
            ANONYMOUS_IDENTITY}


def request_of(sim, settings: Settings) -> CheckRequest:
    given = sim.resolve_input()
    return CheckRequest(given["actor"], failing=parse_endpoint(given["endpoint"], HostGuard(
        settings.site_url or "", settings.api_url)), observed_status=given["status"])


async def runs_at_once(sim, n: int) -> list[Run]:
    settings = Settings.from_mapping(sim.env())
    request = request_of(sim, settings)
    return await asyncio.gather(*(engine.start(request, settings).wait() for _ in range(n)))


def sent(sim) -> Counter[str]:
    return Counter("policies" if "/policies" in r.path else ANONYMOUS_IDENTITY
                   if r.path == "/wiki/rest/api/user/current" and r.auth_kind == "none" else r.path
                   for r in sim.requests)


async def test_concurrent_runs_send_each_org_wide_read_once_and_their_own_reads_each(simulator) -> None:
    sim = await simulator("no_confluence_access")
    alone = (await runs_at_once(sim, 1))[0]
    per_run = sent(sim)
    sim.requests.clear()
    sim.state.faults.latency_ms = 50  # so that the runs overlap
    runs = await runs_at_once(sim, 8)
    together = sent(sim)
    for path in [*ORG_WIDE, "policies"]:
        assert per_run[path] == 1 and together[path] == 1, (path, together[path])
    about_the_actor = [p for p in per_run if p not in ORG_WIDE and p != "policies"]
    assert about_the_actor  # directory search, tokens, role assignments, groups
    for path in about_the_actor:
        assert together[path] == 8 * per_run[path], path
    for run in runs:  # the same diagnosis, each with its own evidence of the shared reads
        assert run.verdict is not None and alone.verdict is not None
        assert run.verdict.cause == alone.verdict.cause and run.outcome == alone.outcome
        site = run.step("site.tenant")
        assert site is not None and site.status is StepStatus.PASS and site.evidence


async def test_nothing_is_kept_once_answered(simulator) -> None:
    sim = await simulator("no_confluence_access")
    await runs_at_once(sim, 1)
    await runs_at_once(sim, 1)
    assert sent(sim)["/_edge/tenant_info"] == 2


async def test_a_fault_on_a_shared_read_is_missing_evidence_for_every_run_that_waited(simulator) -> None:
    sim = await simulator("no_confluence_access")
    sim.state.faults.latency_ms = 50
    sim.state.faults.routes.append(RouteFault(FaultKind.STATUS, role="site", method="GET", path="/_edge/tenant_info",
                                              status=500, count=None))
    runs = await runs_at_once(sim, 4)
    assert sent(sim)["/_edge/tenant_info"] == 4  # one exchange: the first try and its three retries
    for run in runs:
        site = run.step("site.tenant")
        assert site is not None and site.status is StepStatus.ERROR, site
        assert "500" in (site.evidence[0].note or ""), site.evidence  # retried, then gave up: said so
        assert run.verdict is not None and run.verdict.cause is not CauseCode.SITE_NOT_FOUND
    assert len({(run.outcome, run.verdict.cause if run.verdict else None) for run in runs}) == 1


async def test_a_run_that_stops_never_stops_the_read_others_wait_for() -> None:
    answered = asyncio.Event()
    release = asyncio.Event()
    calls = 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        await release.wait()
        answered.set()
        return httpx.Response(200, json={"cloudId": "c-1"})

    settings = Settings.from_mapping({"ATLASSIAN_SITE_URL": "https://acme.atlassian.net"})
    transport = MockTransport(slow)
    async with Atlassian(settings, transport=transport) as first, Atlassian(settings, transport=transport) as second:
        leader = asyncio.create_task(first.call(Role.SITE, "GET", "/_edge/tenant_info", shared=True))
        await asyncio.sleep(0.01)
        follower = asyncio.create_task(second.call(Role.SITE, "GET", "/_edge/tenant_info", shared=True))
        await asyncio.sleep(0.01)
        leader.cancel()
        release.set()
        reply = await follower
    assert calls == 1 and answered.is_set() and reply.status == 200 and reply.json() == {"cloudId": "c-1"}
    assert leader.cancelled()


async def test_a_follower_masks_the_shared_evidence_with_its_own_secrets() -> None:
    echoed = "tok-of-the-second-run-9f8e"

    async def echo(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.02)
        return httpx.Response(500, text=f"upstream said {echoed}")

    settings = Settings.from_mapping({"ATLASSIAN_SITE_URL": "https://acme.atlassian.net"})
    transport = MockTransport(echo)
    once = RetryPolicy(attempts=1)
    async with Atlassian(settings, transport=transport, retry=once) as first, \
            Atlassian(settings, transport=transport, retry=once, actor_token=Secret(echoed)) as second:
        replies = await asyncio.gather(first.call(Role.SITE, "GET", "/_edge/tenant_info", shared=True),
                                       second.call(Role.SITE, "GET", "/_edge/tenant_info", shared=True))
    assert echoed in (replies[0].evidence.excerpt or "")  # not a secret of the first run
    assert echoed not in (replies[1].evidence.excerpt or "")


async def test_a_read_carrying_the_actors_credential_is_never_shared() -> None:
    settings = Settings.from_mapping({"ATLASSIAN_SITE_URL": "https://acme.atlassian.net"})
    async with Atlassian(settings, transport=MockTransport(lambda r: httpx.Response(200))) as http:
        for auth in (Auth.ACTOR, Auth.AS_SENT):
            with pytest.raises(ValueError, match="actor credential"):
                await http.call(Role.SITE, "GET", "/wiki/rest/api/user/current", auth=auth, as_email="a@acme.com",
                                shared=True)


async def test_a_follower_waits_no_longer_than_its_own_deadline() -> None:
    async def never(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200)

    settings = Settings.from_mapping({"ATLASSIAN_SITE_URL": "https://acme.atlassian.net"})
    transport = MockTransport(never)
    async with Atlassian(settings, transport=transport) as first, \
            Atlassian(settings, transport=transport, deadline_s=0.1) as second:
        leader = asyncio.create_task(first.call(Role.SITE, "GET", "/_edge/tenant_info", shared=True))
        await asyncio.sleep(0.01)
        with pytest.raises(RequestFailed, match="run deadline"):
            await second.call(Role.SITE, "GET", "/_edge/tenant_info", shared=True)
        leader.cancel()
