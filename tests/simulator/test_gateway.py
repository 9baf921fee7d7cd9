"""The gateway (`{api}/ex/confluence/{cloudId}`): its own errors, scopes, and the same resources."""

from __future__ import annotations

import httpx
import pytest

UNAUTHORIZED = '{"code":401,"message":"Unauthorized"}'


async def test_unknown_cloud_id_is_404(serve, http: httpx.AsyncClient, creds) -> None:
    sim = await serve()
    r = await http.get(sim.api_url + "/ex/confluence/not-a-cloud/wiki/rest/api/space", headers=creds.basic("actor"))
    assert (r.status_code, r.text) == (404, '{"code":404,"message":"Not Found"}')


@pytest.mark.parametrize("case", ["none", "mistyped", "password", "expired", "deactivated", "bearer"])
async def test_rejected_or_absent_credential_is_401(serve, http: httpx.AsyncClient, creds, case: str) -> None:
    sim = await serve()
    headers = {
        "none": {},
        "mistyped": creds.basic("actor", secret="ATATT3xFfGF0-sim-typo"),
        "password": creds.basic("actor", secret=creds.password),
        "expired": creds.basic("actor_expired"),
        "deactivated": creds.basic("inactive"),
        "bearer": creds.bearer(creds.secret("actor")),
    }[case]
    r = await http.get(sim.gateway_url + "/wiki/rest/api/user/current", headers=headers)
    assert (r.status_code, r.text) == (401, UNAUTHORIZED)


@pytest.mark.parametrize("key", ["actor", "actor_scoped", "service"])
async def test_classic_and_scoped_tokens_work_through_the_gateway(serve, http: httpx.AsyncClient, creds,
                                                                   key: str) -> None:
    sim = await serve()
    r = await http.get(sim.gateway_url + "/wiki/rest/api/user/current", headers=creds.basic(key))
    assert r.status_code == 200 and r.json()["type"] == "known"
    assert r.json()["_links"]["base"] == sim.gateway_url + "/wiki"


async def test_service_account_token_as_bearer_works_at_the_gateway(serve, http: httpx.AsyncClient, creds) -> None:
    sim = await serve()
    r = await http.get(sim.gateway_url + "/wiki/rest/api/user/current", headers=creds.bearer(creds.secret("service")))
    assert r.status_code == 200 and r.json()["accountType"] == "app"


async def test_scope_mismatch_is_401_with_failure_category(serve, http: httpx.AsyncClient, creds) -> None:
    sim = await serve()
    # actor_scoped holds read:confluence-user + read:space:confluence, nothing for pages
    r = await http.get(sim.gateway_url + "/wiki/api/v2/pages/2001", headers=creds.basic("actor_scoped"))
    assert (r.status_code, r.text) == (401, '{"code":401,"message":"Unauthorized; scope does not match"}')
    assert r.headers["x-failure-category"] == "FAILURE_CLIENT_SCOPE_CHECK"
    ok = await http.get(sim.gateway_url + "/wiki/api/v2/spaces", headers=creds.basic("actor_scoped"))
    assert ok.status_code == 200


async def test_classic_scopes_do_not_open_v2_routes(serve, http: httpx.AsyncClient, creds) -> None:
    sim = await serve()
    v1 = await http.get(sim.gateway_url + "/wiki/rest/api/user/current", headers=creds.basic("actor_classic_scopes"))
    assert v1.status_code == 200
    v2 = await http.get(sim.gateway_url + "/wiki/api/v2/spaces", headers=creds.basic("actor_classic_scopes"))
    assert v2.status_code == 401 and v2.headers["x-failure-category"] == "FAILURE_CLIENT_SCOPE_CHECK"


async def test_account_without_confluence_gets_the_same_refusal(serve, http: httpx.AsyncClient,
                                                                          creds) -> None:
    sim = await serve()
    r = await http.get(sim.gateway_url + "/wiki/rest/api/user/current", headers=creds.basic("nolicense"))
    assert r.status_code == 403 and "caller cannot access Confluence" in r.text
    v2 = await http.get(sim.gateway_url + "/wiki/api/v2/spaces", headers=creds.basic("nolicense"))
    assert v2.status_code == 404


async def test_gateway_use_moves_last_access(serve, http: httpx.AsyncClient, creds) -> None:
    sim = await serve()
    token = sim.state.user_by_email("actor@acme.com").token_by_value(creds.secret("actor_scoped"))
    await http.get(sim.gateway_url + "/wiki/rest/api/space", headers=creds.basic("actor_scoped"))
    assert token.last_access is not None


@pytest.mark.parametrize("path", ["/wiki/rest/api/space", "/wiki/rest/api/space/DOCS", "/wiki/rest/api/content/2001"])
async def test_removed_v1_routes_are_gone_at_the_gateway_and_still_served_on_the_site(serve, http: httpx.AsyncClient,
                                                                                      creds, path: str) -> None:
    """openapi/README.md, docs/atlassian.md §1.15: deprecated in 2024, absent from the spec since 2025-08; 410
    through the gateway, still 200 with Basic on the site."""
    sim = await serve()
    gone = await http.get(sim.gateway_url + path, headers=creds.basic("actor"))
    assert gone.status_code == 410 and "GoneException" in gone.json()["message"]
    site = await http.get(sim.site_url + path, headers=creds.basic("actor"))
    assert site.status_code == 200
