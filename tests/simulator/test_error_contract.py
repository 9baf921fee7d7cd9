"""The simulator's error answers (and a few answers no scenario asks for) fit Atlassian's response
schemas: every admin API's own error form, v2's named and bare 404s, v1's documented statuses
(openapi/README.md; the checking lives in tests/contract)."""

from __future__ import annotations

from typing import Any

import httpx

from bot.simulator import SimulatorServer
from bot.simulator.state import FaultKind, RouteFault
from tests.contract.answers import collect, report


def _error_requests(sim: SimulatorServer, creds: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """Requests that make every API answer its errors (and a few answers no scenario asks for)."""
    org, actor, admin = sim.state.org.id, creds.account("actor"), creds.bearer(creds.org_key)
    directory = f"{sim.api_url}/admin/v2/orgs/{org}/directories/-/users"
    v2, v1, inspector = f"{sim.site_url}/wiki/api/v2", f"{sim.site_url}/wiki/rest/api", creds.basic("inspector")
    return [
        ("GET", f"{sim.api_url}/admin/v1/orgs", {}),
        ("GET", f"{sim.api_url}/admin/v1/orgs/nope", {"headers": admin}),
        ("GET", f"{sim.api_url}/admin/v1/orgs/{org}/policies", {}),
        ("GET", f"{sim.api_url}/admin/v1/orgs/{org}/policies/nope", {"headers": admin}),
        ("GET", f"{sim.api_url}/admin/v1/orgs?cursor=%25%25", {"headers": admin}),
        ("GET", f"{directory}/{actor}", {}),
        ("GET", f"{directory}/557058:nobody", {"headers": admin}),
        ("GET", f"{sim.api_url}/admin/v2/orgs/nope/directories/-/users/{actor}", {"headers": admin}),
        ("GET", f"{directory}/{actor}/role-assignments?limit=101", {"headers": admin}),
        ("GET", f"{directory}/{actor}/role-assignments?cursor=%25", {"headers": admin}),
        ("POST", f"{directory}/search", {"headers": admin, "json": {"emails": ["a@b.c"], "searchTerm": "a"}}),
        ("POST", f"{directory}/search", {"headers": admin, "json": {"limit": 2, "expand": ["groups"]}}),
        ("GET", f"{sim.api_url}/users/{actor}/manage/api-tokens", {}),
        ("GET", f"{sim.api_url}/users/{creds.account('external')}/manage/api-tokens", {"headers": admin}),
        ("GET", f"{sim.api_url}/users/557058:nobody/manage/api-tokens", {"headers": admin}),
        ("GET", f"{sim.api_url}/users/{actor}/manage/profile", {"headers": admin}),
        ("GET", f"{sim.api_url}/users/557058:nobody/manage/profile", {"headers": admin}),
        ("GET", f"{v2}/pages/2003", {"headers": creds.basic("actor")}),
        ("GET", f"{v2}/pages/2001", {"headers": creds.basic("actor")}),
        ("GET", f"{v2}/pages/2001", {"headers": creds.basic("nolicense")}),
        ("GET", f"{v2}/spaces/1002", {"headers": creds.basic("actor")}),
        ("GET", f"{v2}/spaces?keys=DOCS&include-operations=true", {"headers": creds.basic("actor")}),
        ("GET", f"{v2}/spaces/1001/permissions?limit=2", {"headers": inspector}),
        ("GET", f"{v2}/spaces/1001/permissions?limit=999", {"headers": inspector}),
        ("GET", f"{v2}/spaces/1001/role-assignments", {"headers": inspector}),
        ("GET", f"{v2}/space-role-mode", {"headers": inspector}),
        ("POST", f"{v2}/user/access/check-access-by-email",
         {"headers": inspector, "json": {"emails": ["actor@acme.com", "nolicense@acme.com", "not an email"]}}),
        ("POST", f"{v2}/user/access/check-access-by-email", {"headers": inspector, "json": {"emails": []}}),
        ("POST", f"{v2}/users-bulk", {"headers": inspector, "json": {"accountIds": [actor, "557058:nobody"]}}),
        ("GET", f"{v1}/user/current?expand=operations", {"headers": creds.basic("nolicense")}),
        ("GET", f"{v1}/user?accountId=557058:nobody", {"headers": inspector}),
        ("GET", f"{v1}/user/memberof?accountId=557058:nobody", {"headers": inspector}),
        ("POST", f"{v1}/content/9999/permission/check",
         {"headers": inspector, "json": {"subject": {"type": "user", "identifier": actor}, "operation": "read"}}),
        ("POST", f"{v1}/content/2001/permission/check", {"headers": inspector, "json": {"subject": "x"}}),
        ("POST", f"{v1}/content/2001/permission/check",
         {"headers": inspector, "json": {"subject": {"type": "group", "identifier": "nope"}, "operation": "read"}}),
        ("DELETE", f"{v1}/user/current", {"headers": inspector}),
        ("GET", f"{sim.gateway_url}/wiki/api/v2/spaces", {"headers": creds.basic("actor_classic_scopes")}),
        ("GET", f"{sim.gateway_url}/wiki/rest/api/user/current", {"headers": creds.basic("actor_revoked")}),
    ]


async def test_error_answers_fit_atlassians_schema(serve, http: httpx.AsyncClient, creds) -> None:
    sim = await serve()
    for method, url, kwargs in _error_requests(sim, creds):
        await http.request(method, url, **kwargs)
    statuses = {r.status for r in sim.requests}
    assert {200, 400, 401, 403, 404, 405} <= statuses  # the list reaches the error paths it is meant to
    checked, problems = collect([("errors", sim.requests)])
    assert checked == len(sim.requests)
    assert not problems, report(problems)


async def test_injected_admin_faults_answer_in_each_apis_documented_form(serve, http: httpx.AsyncClient,
                                                                        creds) -> None:
    """A 429 or 500 injected on an admin route is the body that API documents for it (ProxyError or an
    ApplicationError list on /admin/v1, Errors on /admin/v2), so the product is tested on real shapes."""
    sim = await serve()
    org, admin = sim.state.org.id, creds.bearer(creds.org_key)
    directory = f"/admin/v2/orgs/{org}/directories/-/users"
    targets = [("GET", "/admin/v1/orgs", None), ("GET", f"/admin/v1/orgs/{org}/policies", None),
               ("POST", f"{directory}/search", {"emails": ["actor@acme.com"]}),
               ("GET", f"{directory}/{creds.account('actor')}/role-assignments", None)]
    for status in (429, 500):
        for method, path, body in targets:
            sim.state.faults.routes.append(RouteFault(role="api", method=method, path=path, status=status))
            reply = await http.request(method, sim.api_url + path, json=body, headers=admin)
            assert reply.status_code == status
    checked, problems = collect([("faults", sim.requests)])
    assert checked == 8 and [r.fault for r in sim.requests] == [FaultKind.STATUS] * 8
    assert not problems, report(problems)
