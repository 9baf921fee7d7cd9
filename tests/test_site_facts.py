"""Site facts kept between runs: a repeat check does not wait for the site's cloudId or the org key's org,
the kept values are checked by the run's own reads (a contradiction makes the run start over, as if
nothing were kept), they live an hour, and the org key is kept as a digest only. Real engine against
the simulator over HTTP, history on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from bot.checker import Checker
from bot.config import Settings
from bot.facts import ORG, SITE, Org, Unknown
from bot.model import Run
from bot.probes.site import site_of
from bot.request import CheckRequest
from bot.simulator import SimulatorServer
from bot.simulator.fault_model import FaultKind, RouteFault
from bot.site_facts import TTL_S, SiteFacts, org_key_digest
from bot.store import AsyncHistory
from bot.store.site_facts import keep_facts
from tests.conftest import Database

StartSimulator = Callable[..., Awaitable[Any]]
ORGS, TENANT = "/admin/v1/orgs", "/_edge/tenant_info"
DIRECTORY_SEARCH = "/admin/v2/orgs/{org}/directories/-/users/search"


@pytest.fixture
async def history(database: Database) -> AsyncIterator[AsyncHistory]:
    opened = AsyncHistory(database.open)
    await opened.ready()
    yield opened
    await opened.aclose()


def _rows(history: AsyncHistory) -> Awaitable[list[tuple[str, str, str]]]:
    return history.call(lambda s: [tuple(r) for r in s.db.execute("SELECT kind, key, value FROM site_facts")])


async def _check(checker: Checker, actor: str) -> tuple[Run, list[str]]:
    handle = checker.start(CheckRequest(actor, observed_status=403))
    streamed = [step.id async for step in handle]
    return await handle.wait(), streamed


def _comparable(run: Run) -> dict[str, Any]:
    """What a run concluded, without its timings."""
    return {"verdict": run.verdict.to_dict() if run.verdict else None,
            "steps": [(s.id, s.status.value, s.summary) for s in run.steps]}


async def test_a_repeat_check_starts_the_account_lookup_without_waiting_for_the_site_facts(
        simulator: StartSimulator, history: AsyncHistory) -> None:
    sim: SimulatorServer = await simulator("ok")
    settings = Settings.from_mapping(sim.env())
    actor = sim.resolve_input()["actor"]
    first, _ = await _check(Checker(settings, history), actor)
    rows = await _rows(history)
    key = settings.org_api_key.reveal() if settings.org_api_key else ""
    assert ("cloud_id", sim.site_url, sim.state.site.cloud_id) in rows
    assert ("org_id", f"{org_key_digest(key)}/", sim.state.org.id) in rows
    assert not any(key in part for row in rows for part in row)  # the key itself is never stored

    # Both site facts now answer slowly: a repeat check sends the account lookup at once anyway
    for path, role in ((ORGS, "api"), (TENANT, "site")):
        sim.state.faults.routes.append(RouteFault(FaultKind.DELAY, role=role, path=path, count=None, delay_ms=1500))
    lookup = DIRECTORY_SEARCH.format(org=sim.state.org.id)
    sent_before = len(sim.requests)
    checker = Checker(settings, history)
    task = asyncio.create_task(_check(checker, actor))
    async with asyncio.timeout(1.2):  # well before either slow answer
        while not any(r.path == lookup for r in sim.requests[sent_before:]):
            await asyncio.sleep(0.01)
    assert not task.done()  # the lookup's step waits for the kept facts to be confirmed
    async with asyncio.timeout(30):
        second, _ = await task
    assert _comparable(second) == _comparable(first)
    assert [r.path for r in sim.requests[sent_before:]].count(TENANT) == 1  # still read: it is checked


async def test_a_cold_check_sends_the_lookup_only_after_the_org_is_read(
        simulator: StartSimulator, history: AsyncHistory) -> None:
    """The other side of the test above: nothing kept, the lookup waits for the orgs listing."""
    sim: SimulatorServer = await simulator("ok")
    sim.state.faults.routes.append(RouteFault(FaultKind.DELAY, role="api", path=ORGS, count=None, delay_ms=800))
    task = asyncio.create_task(_check(Checker(Settings.from_mapping(sim.env()), history), sim.resolve_input()["actor"]))
    await asyncio.sleep(0.5)
    assert not any(r.path == DIRECTORY_SEARCH.format(org=sim.state.org.id) for r in sim.requests)
    async with asyncio.timeout(30):
        await task


async def test_a_cloud_id_that_changed_makes_the_run_start_over_and_is_kept_anew(
        simulator: StartSimulator, history: AsyncHistory) -> None:
    sim: SimulatorServer = await simulator("ok")
    settings = Settings.from_mapping(sim.env())
    actor = sim.resolve_input()["actor"]
    await _check(Checker(settings, history), actor)
    sim.state.site.cloud_id = "0f0f0f0f-1111-4222-8333-444455556666"  # the URL now names another site
    checker = Checker(settings, history)
    run, streamed = await _check(checker, actor)
    cold, _ = await _check(Checker(settings), actor)  # no history: nothing kept, nothing assumed
    assert _comparable(run) == _comparable(cold)
    assert sorted(streamed) == sorted(s.id for s in run.steps)  # each step streamed once
    assert ("cloud_id", sim.site_url, sim.state.site.cloud_id) in await _rows(history)


async def test_an_org_id_the_key_does_not_administer_is_read_again(
        simulator: StartSimulator, history: AsyncHistory) -> None:
    sim: SimulatorServer = await simulator("ok")
    settings = Settings.from_mapping(sim.env())
    kept = SiteFacts(settings, history)
    await history.call(lambda s: keep_facts(s.db, {kept.rows[ORG]: "00000000-dead-4bad-8bad-000000000000"},
                                            now=kept.clock()))
    run, _ = await _check(Checker(settings, history), sim.resolve_input()["actor"])
    cold, _ = await _check(Checker(settings), sim.resolve_input()["actor"])
    assert _comparable(run) == _comparable(cold)
    assert ("org_id", kept.rows[ORG][1], sim.state.org.id) in await _rows(history)


async def test_a_fact_the_run_could_not_confirm_is_forgotten(simulator: StartSimulator, history: AsyncHistory) -> None:
    sim: SimulatorServer = await simulator("ok")
    settings = Settings.from_mapping(sim.env())
    await _check(Checker(settings, history), sim.resolve_input()["actor"])
    sim.state.org.api_keys.clear()  # the key was revoked: the orgs listing refuses it
    run, _ = await _check(Checker(settings, history), sim.resolve_input()["actor"])
    assert run.verdict is not None and run.verdict.cause.value == "inspector_misconfigured"
    assert [row for row in await _rows(history) if row[0] == "org_id"] == []


async def test_kept_facts_live_an_hour(simulator: StartSimulator, history: AsyncHistory) -> None:
    sim: SimulatorServer = await simulator("ok")
    settings = Settings.from_mapping(sim.env())
    now = [1_000_000.0]
    kept = SiteFacts(settings, history, clock=lambda: now[0])
    site, org = site_of(settings, "c0ffee00-0000-4000-8000-000000000001"), Org("o-1")
    kept.keep({SITE: site, ORG: org})
    later = SiteFacts(settings, history, clock=lambda: now[0])  # another process: nothing in memory
    now[0] += TTL_S - 1
    assert await later.load() == {SITE: site, ORG: org}
    now[0] += 2
    assert await SiteFacts(settings, history, clock=lambda: now[0]).load() == {}
    assert await later.load() == {}  # what it remembers ages the same way
    kept.keep({SITE: Unknown("the site answered 404"), ORG: None})  # None: not looked at, left alone
    assert [row[0] for row in await _rows(history)] == ["org_id"]


async def test_a_rule_check_reads_the_org_beside_the_cloud_id_and_keeps_both(
        simulator: StartSimulator, history: AsyncHistory) -> None:
    from bot.automation import parse_rule_reference
    from bot.automation.load import RulePlan

    sim: SimulatorServer = await simulator("rule_auth_header_missing")
    settings = Settings.from_mapping(sim.env())
    checker = Checker(settings, history)
    plan = await checker.load_rule(parse_rule_reference(sim.resolve_input()["rule"]))
    assert isinstance(plan, RulePlan)
    assert await checker.site_facts.load() == {SITE: site_of(settings, sim.state.site.cloud_id),  # type: ignore[union-attr]
                                               ORG: Org(sim.state.org.id)}
    paths = [r.path for r in sim.requests]
    assert paths.index(ORGS) < next(i for i, p in enumerate(paths) if "/rule/" in p)  # before the rule, not after
