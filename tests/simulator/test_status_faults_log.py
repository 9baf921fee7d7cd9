"""Status page, injected faults, and the request log (which never holds a credential)."""

from __future__ import annotations

import asyncio
import contextlib
import re

import httpx
import pytest

from bot.simulator import SimulatorServer, load_scenario, serve_forever


async def test_status_page_documents(serve, http: httpx.AsyncClient, scenario_data) -> None:
    scenario_data["world"]["status"] = {
        "indicator": "major", "description": "Partial System Outage",
        "components": [{"name": "Confluence", "status": "major_outage"}],
        "incidents": [{"name": "Pages fail to load", "status": "identified", "components": ["Confluence"]},
                      {"name": "Old one", "status": "resolved"}],
    }
    sim = await serve(scenario_data)
    summary = (await http.get(sim.status_url + "/api/v2/summary.json")).json()
    assert summary["status"] == {"indicator": "major", "description": "Partial System Outage"}
    assert summary["page"]["id"] == "4g2my7tbhjsq"
    assert [(c["name"], c["status"]) for c in summary["components"]] == [("Confluence", "major_outage")]
    (incident,) = summary["incidents"]
    assert (incident["name"], incident["status"], incident["impact"]) == ("Pages fail to load", "identified", "major")
    assert incident["components"][0]["name"] == "Confluence"
    status = (await http.get(sim.status_url + "/api/v2/status.json")).json()
    assert set(status) == {"page", "status"}
    unresolved = (await http.get(sim.status_url + "/api/v2/incidents/unresolved.json")).json()
    assert [i["name"] for i in unresolved["incidents"]] == ["Pages fail to load"]


async def test_rate_limit_fault_answers_429_with_headers_then_recovers(serve, http: httpx.AsyncClient, creds,
                                                                       scenario_data) -> None:
    scenario_data["world"]["faults"] = {"rate_limit": [{"role": "site", "path_prefix": "/wiki/rest/api/space",
                                                        "count": 1, "retry_after": 7}]}
    sim = await serve(scenario_data)
    url = sim.site_url + "/wiki/rest/api/space"
    limited = await http.get(url, headers=creds.basic("actor"))
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "7"
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert limited.headers["x-ratelimit-limit"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\dZ", limited.headers["x-ratelimit-reset"])
    assert limited.headers["ratelimit-reason"] == "confluence-quota-tenant-based"
    assert (await http.get(url, headers=creds.basic("actor"))).status_code == 200
    other_role = await http.get(sim.gateway_url + "/wiki/rest/api/user/current", headers=creds.basic("actor"))
    assert other_role.status_code == 200


async def test_error_fault_and_latency(serve, http: httpx.AsyncClient, scenario_data) -> None:
    scenario_data["world"]["faults"] = {"latency_ms": 1,
                                        "errors": [{"role": "any", "path_prefix": "/api/v2/", "count": 2}]}
    sim = await serve(scenario_data)
    statuses = [(await http.get(sim.status_url + "/api/v2/status.json")).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]


async def test_request_log_records_kind_never_the_credential(serve, http: httpx.AsyncClient, creds) -> None:
    sim = await serve()
    await http.get(sim.site_url + "/_edge/tenant_info")
    await http.get(sim.site_url + "/wiki/rest/api/space", params={"limit": "5"}, headers=creds.basic("actor"))
    await http.get(sim.site_url + "/wiki/rest/api/space", headers=creds.basic("actor", secret=creds.password))
    await http.get(sim.gateway_url + "/wiki/rest/api/user/current", headers=creds.basic("actor_scoped"))
    await http.get(sim.api_url + "/admin/v1/orgs", headers=creds.bearer(creds.org_key))
    await http.get(sim.site_url + "/wiki/rest/api/space", headers={"Authorization": "Token abc"})
    await http.get(sim.status_url + "/api/v2/status.json")
    log = sim.requests
    assert [(r.role, r.method, r.auth_kind, r.status) for r in log] == [
        ("site", "GET", "none", 200),
        ("site", "GET", "basic", 200),
        ("site", "GET", "basic", 401),
        ("api", "GET", "basic", 200),
        ("api", "GET", "bearer", 200),
        ("site", "GET", "other", 403),
        ("status", "GET", "none", 200),
    ]
    assert log[1].path == "/wiki/rest/api/space" and log[1].query == "limit=5"
    dumped = repr(log) + repr(sim.state)
    for secret in creds.every_secret():
        assert secret not in dumped


async def test_two_servers_of_one_scenario_do_not_share_state(serve, http: httpx.AsyncClient, creds) -> None:
    first, second = await serve("ok"), await serve("ok")
    assert first.site_url != second.site_url
    first.state.users.clear()
    assert second.state.users


async def test_serve_forever_reports_ready_and_stops_when_cancelled(http: httpx.AsyncClient) -> None:
    ready = asyncio.Event()
    seen: dict[str, str] = {}

    def on_ready(sim: SimulatorServer) -> None:
        seen.update(sim.env())
        ready.set()

    task = asyncio.create_task(serve_forever(load_scenario("ok"), on_ready=on_ready))
    await asyncio.wait_for(ready.wait(), timeout=10)
    assert (await http.get(seen["ATLASSIAN_SITE_URL"] + "/_edge/tenant_info")).status_code == 200
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    with pytest.raises(httpx.ConnectError):
        await http.get(seen["ATLASSIAN_SITE_URL"] + "/_edge/tenant_info")


def test_urls_need_a_running_server() -> None:
    sim = SimulatorServer(load_scenario("ok"))
    with pytest.raises(RuntimeError, match="not running"):
        _ = sim.site_url
