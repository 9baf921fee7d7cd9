"""Per-route fault injection: error statuses with each API's headers, dropped connections, delays,
malformed bodies; the n-th request; scenario files; and a log that lets a test replay a run with a
fault on any one of its requests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
import pytest

from bot.simulator.scenario import ScenarioError, scenario_from_dict
from bot.simulator.state import FaultKind, RetryAfterForm, RouteFault

PERMS = "/wiki/api/v2/spaces/{id}/permissions"


async def test_status_fault_on_a_path_template_fires_count_times_then_recovers(serve, http, creds) -> None:
    sim = await serve()
    sim.state.faults.routes.append(RouteFault(role="site", method="GET", path=PERMS, status=500, count=2))
    url = sim.site_url + "/wiki/api/v2/spaces/1001/permissions"
    statuses = [(await http.get(url, headers=creds.basic("actor"))).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
    other = await http.get(sim.site_url + "/wiki/api/v2/spaces/1001", headers=creds.basic("actor"))
    assert other.status_code == 200
    faulted = [(r.path, r.status, r.fault) for r in sim.requests]
    assert faulted == [(url.removeprefix(sim.site_url), 500, FaultKind.STATUS)] * 2 + [
        (url.removeprefix(sim.site_url), 200, None), ("/wiki/api/v2/spaces/1001", 200, None)]


async def test_nth_request_and_always(serve, http, creds) -> None:
    sim = await serve()
    sim.state.faults.routes += [RouteFault(path="/_edge/tenant_info", nth=3, status=502),
                                RouteFault(method="GET", path="/api/v2/*", nth=2, count=None, status=504)]
    tenant = [(await http.get(sim.site_url + "/_edge/tenant_info")).status_code for _ in range(4)]
    status = [(await http.get(sim.status_url + "/api/v2/summary.json")).status_code for _ in range(4)]
    assert tenant == [200, 200, 502, 200]
    assert status == [200, 504, 504, 504]


async def test_method_and_role_must_match(serve, http, creds) -> None:
    sim = await serve()
    sim.state.faults.routes.append(RouteFault(role="api", method="POST", path="/wiki/*", count=None))
    site = await http.get(sim.site_url + "/wiki/rest/api/user/current", headers=creds.basic("actor"))
    gateway_get = await http.get(sim.gateway_url + "/wiki/rest/api/user/current", headers=creds.basic("actor"))
    assert (site.status_code, gateway_get.status_code) == (200, 200)  # the path is the full path: /ex/… ≠ /wiki/*
    sim.state.faults.routes[0].path = "/ex/confluence/{cloud}/wiki/*"
    post = await http.post(sim.gateway_url + "/wiki/api/v2/users-bulk", json={"accountIds": [creds.account("actor")]},
                           headers=creds.basic("actor"))
    assert post.status_code == 503


@pytest.mark.parametrize("form", list(RetryAfterForm))
async def test_confluence_429_carries_retry_after_in_either_form(serve, http, creds, form) -> None:
    sim = await serve()
    sim.state.faults.routes.append(RouteFault(path="/wiki/rest/api/space", status=429, retry_after=30,
                                              retry_after_form=form))
    before = datetime.now(UTC)
    limited = await http.get(sim.site_url + "/wiki/rest/api/space", headers=creds.basic("actor"))
    assert limited.status_code == 429
    value = limited.headers["retry-after"]
    if form is RetryAfterForm.SECONDS:
        assert value == "30"
    else:
        when = parsedate_to_datetime(value)
        assert timedelta(seconds=28) <= when - before <= timedelta(seconds=31)
        assert value.endswith(" GMT")
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert limited.headers["ratelimit-reason"] == "confluence-quota-tenant-based"
    assert limited.json()["statusCode"] == 429


async def test_admin_429_has_x_ratelimit_reset_and_no_retry_after(serve, http, creds) -> None:
    sim = await serve()
    sim.state.faults.routes.append(RouteFault(role="api", path="/admin/v1/orgs", status=429, rate_limit_reset=90))
    before = datetime.now(UTC).replace(microsecond=0)
    limited = await http.get(sim.api_url + "/admin/v1/orgs", headers=creds.bearer(creds.org_key))
    assert limited.status_code == 429
    assert "retry-after" not in limited.headers
    reset = datetime.strptime(limited.headers["x-ratelimit-reset"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert timedelta(seconds=89) <= reset - before <= timedelta(seconds=92)
    assert limited.json() == {"code": 429, "message": "Too Many Requests"}  # ProxyError
    assert (await http.get(sim.api_url + "/admin/v1/orgs", headers=creds.bearer(creds.org_key))).status_code == 200


@pytest.mark.parametrize(("kind", "error"), [(FaultKind.RESET, httpx.ReadError),
                                             (FaultKind.CLOSE, httpx.RemoteProtocolError)])
async def test_dropped_connection_sends_no_response(serve, http, creds, kind, error) -> None:
    sim = await serve()
    sim.state.faults.routes.append(RouteFault(kind=kind, path="/wiki/rest/api/user/current"))
    url = sim.site_url + "/wiki/rest/api/user/current"
    with pytest.raises(error):
        await http.get(url, headers=creds.basic("actor"))
    assert (await http.get(url, headers=creds.basic("actor"))).status_code == 200
    assert [(r.status, r.fault, r.occurrence) for r in sim.requests] == [(None, kind, 1), (200, None, 2)]


async def test_delay_outlasts_a_client_timeout_then_answers(serve, creds) -> None:
    sim = await serve()
    sim.state.faults.routes.append(RouteFault(kind=FaultKind.DELAY, delay_ms=400, path="/_edge/tenant_info"))
    async with httpx.AsyncClient(timeout=0.1) as quick:
        with pytest.raises(httpx.ReadTimeout):
            await quick.get(sim.site_url + "/_edge/tenant_info")
    async with httpx.AsyncClient(timeout=5) as patient:
        sim.state.faults.routes[0] = RouteFault(kind=FaultKind.DELAY, delay_ms=50, path="/_edge/tenant_info")
        reply = await patient.get(sim.site_url + "/_edge/tenant_info")
    assert reply.status_code == 200 and reply.json()["cloudId"] == creds.cloud_id


async def test_malformed_body_is_a_2xx_json_that_does_not_parse(serve, http, creds) -> None:
    sim = await serve()
    sim.state.faults.routes.append(RouteFault(kind=FaultKind.MALFORMED, role="api", path="/admin/v1/orgs"))
    reply = await http.get(sim.api_url + "/admin/v1/orgs", headers=creds.bearer(creds.org_key))
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        reply.json()


async def test_route_faults_from_a_scenario_file(serve, http, creds, scenario_data) -> None:
    scenario_data["world"]["faults"] = {"routes": [
        {"kind": "status", "role": "site", "path": "/_edge/tenant_info", "status": 503, "count": None},
        {"kind": "reset", "role": "api", "method": "GET", "path": "/admin/v1/orgs", "nth": 2},
    ]}
    sim = await serve(scenario_data)
    assert (await http.get(sim.site_url + "/_edge/tenant_info")).status_code == 503
    assert (await http.get(sim.api_url + "/admin/v1/orgs", headers=creds.bearer(creds.org_key))).status_code == 200
    with pytest.raises(httpx.ReadError):
        await http.get(sim.api_url + "/admin/v1/orgs", headers=creds.bearer(creds.org_key))


@pytest.mark.parametrize("fault", [
    {"kind": "explode"}, {"nth": 0}, {"count": 0}, {"status": 404}, {"path": "admin"}, {"delay_ms": -1},
    {"retry_after_form": "minutes"},
], ids=str)
def test_scenario_rejects_bad_route_faults(scenario_data, fault) -> None:
    scenario_data["world"]["faults"] = {"routes": [fault]}
    with pytest.raises(ScenarioError, match=r"faults\.routes\[0\]"):
        scenario_from_dict(scenario_data, source="unit")


async def test_the_log_replays_a_fault_onto_exactly_one_request(serve, http, creds) -> None:
    """The fault-matrix recipe: run once, then target any logged request by role, method, path, occurrence."""

    async def run(sim) -> list[int | None]:
        search = sim.api_url + f"/admin/v2/orgs/{sim.state.org.id}/directories/-/users/search"
        got = []
        for body in ({"emails": [creds.email("actor")]}, {"emails": [creds.email("guest")]}):
            got.append((await http.post(search, json=body, headers=creds.bearer(creds.org_key))).status_code)
        got.append((await http.get(sim.site_url + "/_edge/tenant_info")).status_code)
        return got

    clean = await serve()
    assert await run(clean) == [200, 200, 200]
    second_search = clean.requests[1]
    assert (second_search.method, second_search.occurrence) == ("POST", 2)
    assert second_search.json_body == {"emails": [creds.email("guest")]}
    replay = await serve()
    replay.state.faults.routes.append(RouteFault(role=second_search.role, method=second_search.method,
                                                 path=second_search.path, nth=second_search.occurrence, status=500))
    assert await run(replay) == [200, 500, 200]
    assert [r.fault for r in replay.requests] == [None, FaultKind.STATUS, None]
