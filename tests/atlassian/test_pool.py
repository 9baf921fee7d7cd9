"""Pooled clients (one per host, for the process): reused across runs, never mixing two runs'
credentials, closed with their event loop."""

from __future__ import annotations

import asyncio

import httpx

from bot import engine
from bot.atlassian.clients import Atlassian, Auth, Role, pool_for
from bot.config import Settings
from bot.model import Run
from bot.request import ActorSecret, CheckRequest
from bot.simulator import SimulatorServer, load_scenario
from tests.fakes.atlassian_http import MockTransport

PEOPLE = {"automation@acme.com": "Automation Actor", "priya.n@acme.com": "Priya Natarajan"}


def secret(sim, email: str) -> ActorSecret:
    return ActorSecret.parse(f"{email}:{sim.state.user_by_email(email).tokens[0].value}")


async def replay_as(sim, settings: Settings, email: str) -> Run:
    return await engine.start(CheckRequest(email, actor_secret=secret(sim, email)), settings).wait()


async def test_runs_reuse_one_client_per_host(simulator) -> None:
    sim = await simulator("ok")
    settings = Settings.from_mapping(sim.env())
    await replay_as(sim, settings, "automation@acme.com")
    pool = pool_for(None)
    first = {id(t) for t in pool._transports.values()}
    assert len(first) == 3  # site, API, status page
    await replay_as(sim, settings, "priya.n@acme.com")
    assert {id(t) for t in pool._transports.values()} == first


async def test_concurrent_runs_with_different_actor_tokens_never_cross(simulator) -> None:
    sim = await simulator("ok")
    settings = Settings.from_mapping(sim.env())
    emails = list(PEOPLE) * 5
    runs = await asyncio.gather(*(replay_as(sim, settings, e) for e in emails))
    for email, run in zip(emails, runs, strict=True):
        site = run.step("replay.site")
        assert site is not None and site.summary == f"accepted as {PEOPLE[email]}", (email, site.summary)
        endpoint_free = run.step("replay.gateway")
        assert endpoint_free is not None and PEOPLE[email] in endpoint_free.summary


def test_the_pool_closes_with_its_event_loop() -> None:
    async def main() -> list[object]:
        async with SimulatorServer(load_scenario("ok")) as sim:
            settings = Settings.from_mapping(sim.env())
            await replay_as(sim, settings, "automation@acme.com")
            return list(pool_for(None)._transports.values())

    transports = asyncio.run(main())
    assert transports and all(t.closed for t in transports)  # type: ignore[attr-defined]


async def test_no_cookie_set_by_one_answer_rides_along_on_another_request() -> None:
    seen: list[str | None] = []

    def server(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        return httpx.Response(200, json={}, headers={"Set-Cookie": "cloud.session.token=bot-session; Path=/"})

    settings = Settings.from_mapping({"ATLASSIAN_SITE_URL": "https://acme.atlassian.net",
                                      "ATLASSIAN_EMAIL": "bot@acme.com", "ATLASSIAN_API_TOKEN": "tok-123456"})
    async with Atlassian(settings, transport=MockTransport(server)) as http:
        await http.call(Role.SITE, "GET", "/wiki/rest/api/user/current", auth=Auth.INSPECTOR)
        await http.call(Role.SITE, "GET", "/wiki/rest/api/user/current", auth=Auth.NONE)
    assert seen == [None, None]
