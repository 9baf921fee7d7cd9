"""How the site answers each kind of credential: the docs/atlassian.md §0.1 rows, byte for byte."""

from __future__ import annotations

import base64

import httpx
import pytest

from bot.simulator import bodies

STACKLESS = (
    '{"statusCode":403,"message":"com.atlassian.confluence.mvc.rest.common.exception.'
    'StacklessResponseStatusException: 403 FORBIDDEN \\"Request rejected because caller cannot access '
    'Confluence\\""}'
)
NOT_PERMITTED = '{"message":"Current user not permitted to use Confluence","statusCode":403}'
V2_NOT_FOUND = '{"errors":[{"status":404,"code":"NOT_FOUND","title":"Not Found","detail":null}]}'
PASSWORD_TEXT = (
    "Basic authentication with passwords is deprecated.  For more information, see: https://confluence.atlassian.com/"
    "cloud/deprecation-of-basic-authentication-with-passwords-for-jira-and-confluence-apis-972355348.html"
)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


UNRESOLVED_HEADERS = {
    "no header": {},
    "mistyped token": {"Authorization": "Basic " + _b64("actor@acme.com:ATATT3xFfGF0-sim-test-actOr")},
    "wrong email": {"Authorization": "Basic " + _b64("someone@acme.com:ATATT3xFfGF0-sim-test-actor")},
    "non-base64": {"Authorization": "Basic !!!not-base64!!!"},
    "empty password": {"Authorization": "Basic " + _b64("actor@acme.com:")},
    "unknown scheme": {"Authorization": "Token ATATT3xFfGF0-sim-test-actor"},
    "expired token": {"Authorization": "Basic " + _b64("actor@acme.com:ATATT3xFfGF0-sim-test-actor-expired")},
    "revoked token": {"Authorization": "Basic " + _b64("actor@acme.com:ATATT3xFfGF0-sim-test-actor-revoked")},
    "deactivated owner": {"Authorization": "Basic " + _b64("gone@acme.com:ATATT3xFfGF0-sim-test-inactive")},
    "no Confluence role": {"Authorization": "Basic " + _b64("nolicense@acme.com:ATATT3xFfGF0-sim-test-nolicense")},
    "suspended membership": {"Authorization": "Basic " + _b64("paused@acme.com:ATATT3xFfGF0-sim-test-suspended")},
    "bearer classic token": {"Authorization": "Bearer ATATT3xFfGF0-sim-test-actor"},
}


@pytest.mark.parametrize("headers", UNRESOLVED_HEADERS.values(), ids=UNRESOLVED_HEADERS.keys())
async def test_unresolved_or_unlicensed_callers_get_the_identical_refusals(serve, http: httpx.AsyncClient,
                                                                         headers: dict[str, str]) -> None:
    sim = await serve()
    v1 = await http.get(sim.site_url + "/wiki/rest/api/user/current", headers=headers)
    assert (v1.status_code, v1.text) == (403, STACKLESS)
    assert v1.headers["content-type"].startswith("application/json")
    assert v1.headers["server"] == "AtlassianEdge" and v1.headers["atl-traceid"]
    space = await http.get(sim.site_url + "/wiki/rest/api/space/DOCS", headers=headers)
    assert (space.status_code, space.text) == (403, STACKLESS)
    search = await http.get(sim.site_url + "/wiki/rest/api/search", params={"cql": "space=DOCS"}, headers=headers)
    assert (search.status_code, search.text) == (403, NOT_PERMITTED)
    v2 = await http.get(sim.site_url + "/wiki/api/v2/pages/2001", headers=headers)
    assert (v2.status_code, v2.text) == (404, V2_NOT_FOUND)


async def test_no_header_and_bad_token_are_byte_identical(serve, http: httpx.AsyncClient, creds) -> None:
    sim = await serve()
    url = sim.site_url + "/wiki/rest/api/space"
    anonymous = await http.get(url)
    rejected = await http.get(url, headers=creds.basic("actor", secret="ATATT3xFfGF0-sim-typo"))
    assert anonymous.status_code == rejected.status_code == 403
    assert anonymous.content == rejected.content == STACKLESS.encode()


async def test_a_valid_classic_token_is_a_known_user_with_can_use(serve, http: httpx.AsyncClient, creds) -> None:
    sim = await serve()
    r = await http.get(sim.site_url + "/wiki/rest/api/user/current", params={"expand": "operations"},
                       headers=creds.basic("actor", email="ACTOR@Acme.com"))  # email is case-insensitive (§1.2)
    assert r.status_code == 200
    user = r.json()
    assert user["type"] == "known" and user["accountId"] == creds.account("actor")
    assert user["accountType"] == "atlassian" and user["isGuest"] is False
    assert {"operation": "use", "targetType": "application"} in user["operations"]
    assert set(user["_links"]) >= {"self", "base", "context"}


async def test_successful_use_moves_last_access(serve, http: httpx.AsyncClient, creds) -> None:
    sim = await serve()
    token = sim.state.user_by_email("actor@acme.com").token_by_value(creds.secret("actor"))
    assert token.last_access is None
    refused = await http.get(sim.site_url + "/wiki/rest/api/space", headers=creds.basic("actor_expired"))
    assert refused.status_code == 403
    await http.get(sim.site_url + "/wiki/rest/api/space", headers=creds.basic("actor"))
    assert token.last_access is not None
    listed = await http.get(f"{sim.api_url}/users/{creds.account('actor')}/manage/api-tokens",
                            headers=creds.bearer(creds.org_key))
    by_id = {t["id"]: t for t in listed.json()}
    assert by_id["tok-actor"]["lastAccess"] == token.last_access
    assert by_id["tok-actor_expired"]["lastAccess"] == "2026-01-30T10:00:00.000Z"


@pytest.mark.parametrize("key", ["actor_scoped", "service"])
async def test_scoped_and_service_account_tokens_get_tomcat_401_on_the_site(serve, http: httpx.AsyncClient, creds,
                                                                            key: str) -> None:
    sim = await serve()
    r = await http.get(sim.site_url + "/wiki/rest/api/space", headers=creds.basic(key))
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("text/html")
    assert r.text == bodies.TOMCAT_401_HTML
    assert "lacks valid authentication credentials" in r.text
    gateway = await http.get(sim.gateway_url + "/wiki/rest/api/user/current", headers=creds.basic(key))
    assert gateway.status_code == 200


@pytest.mark.parametrize("secret", ["password", "org key"])
async def test_password_or_org_key_as_basic_password_is_the_deprecation_text(serve, http: httpx.AsyncClient, creds,
                                                                            secret: str) -> None:
    sim = await serve()
    value = creds.password if secret == "password" else creds.org_key
    for path in ("/wiki/rest/api/user/current", "/rest/api/3/myself"):
        r = await http.get(sim.site_url + path, headers=creds.basic("actor", secret=value))
        assert (r.status_code, r.text) == (401, PASSWORD_TEXT)
        assert r.headers["content-type"].startswith("text/plain")


async def test_jira_myself_answers(serve, http: httpx.AsyncClient, creds) -> None:
    sim = await serve()
    url = sim.site_url + "/rest/api/3/myself"
    ok = await http.get(url, headers=creds.basic("actor"))
    assert ok.status_code == 200 and ok.json()["accountId"] == creds.account("actor")
    assert ok.json()["emailAddress"] == "actor@acme.com" and ok.json()["active"] is True
    bad = await http.get(url, headers=creds.basic("actor", secret="nope-nope"))
    assert (bad.status_code, bad.text) == (401, "Client must be authenticated to access this resource.")
    assert bad.headers["content-type"].startswith("text/html")
    assert bad.headers["www-authenticate"].startswith("OAuth realm=")
    assert bad.headers["x-seraph-loginreason"] == "AUTHENTICATED_FAILED"
    anonymous = await http.get(url)
    assert anonymous.status_code == 401 and "x-seraph-loginreason" not in anonymous.headers
    bearer = await http.get(url, headers=creds.bearer(creds.secret("actor")))
    assert (bearer.status_code, bearer.text) == (403, '{"error": "Failed to parse Connect Session Auth Token"}')
    assert "www-authenticate" not in bearer.headers


async def test_jira_myself_only_when_the_site_has_jira(serve, http: httpx.AsyncClient, creds,
                                                       scenario_data) -> None:
    scenario_data["world"]["site"]["jira"] = False
    sim = await serve(scenario_data)
    r = await http.get(sim.site_url + "/rest/api/3/myself", headers=creds.basic("actor"))
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/xml")


async def test_external_user_blocked_by_org_policy(serve, http: httpx.AsyncClient, creds, scenario_data) -> None:
    scenario_data["world"]["org"]["block_api_tokens_for_external_users"] = True
    sim = await serve(scenario_data)
    r = await http.get(sim.site_url + "/wiki/rest/api/space", headers=creds.basic("external"))
    assert (r.status_code, r.text) == (403, '{"message":"Basic Authentication has been disabled on this instance."}')
    managed = await http.get(sim.site_url + "/wiki/rest/api/space", headers=creds.basic("actor"))
    assert managed.status_code == 200


async def test_anonymous_access_site_serves_the_anonymous_view(serve, http: httpx.AsyncClient, creds,
                                                               scenario_data) -> None:
    scenario_data["world"]["site"]["anonymous_access"] = True
    scenario_data["world"]["spaces"][0]["anonymous_read"] = True
    sim = await serve(scenario_data)
    for headers in ({}, creds.basic("actor", secret="ATATT3xFfGF0-sim-bogus")):
        me = await http.get(sim.site_url + "/wiki/rest/api/user/current", headers=headers)
        assert me.status_code == 200 and me.json()["type"] == "anonymous"
        assert me.json()["displayName"] == "Anonymous"
        assert (await http.get(sim.site_url + "/wiki/rest/api/space/DOCS", headers=headers)).status_code == 200
        assert (await http.get(sim.site_url + "/wiki/rest/api/space/ENG", headers=headers)).status_code == 404
    # Bearer is refused outright, even here (§0.1); a known user without a role is too
    for headers in (creds.bearer(creds.secret("actor")), creds.basic("nolicense")):
        r = await http.get(sim.site_url + "/wiki/rest/api/user/current", headers=headers)
        assert (r.status_code, r.text) == (403, STACKLESS)


async def test_granting_access_between_runs_changes_the_answer(serve, http: httpx.AsyncClient, creds) -> None:
    sim = await serve()
    url = sim.site_url + "/wiki/rest/api/user/current"
    assert (await http.get(url, headers=creds.basic("nolicense"))).status_code == 403
    sim.state.user_by_email("nolicense@acme.com").groups.append("confluence-users")
    assert (await http.get(url, headers=creds.basic("nolicense"))).status_code == 200


async def test_site_that_does_not_exist(serve, http: httpx.AsyncClient, scenario_data) -> None:
    scenario_data["world"]["site"]["exists"] = False
    sim = await serve(scenario_data)
    for path in ("/_edge/tenant_info", "/wiki/rest/api/space", "/rest/api/3/myself"):
        r = await http.get(sim.site_url + path)
        assert (r.status_code, r.text) == (404, '{"errorMessage": "Site temporarily unavailable"}')
    gateway = await http.get(sim.gateway_url + "/wiki/rest/api/space")
    assert (gateway.status_code, gateway.text) == (404, '{"code":404,"message":"Not Found"}')


async def test_tenant_info_needs_no_auth(serve, http: httpx.AsyncClient, creds) -> None:
    sim = await serve()
    r = await http.get(sim.site_url + "/_edge/tenant_info")
    assert r.status_code == 200 and r.json() == {"cloudId": creds.cloud_id}


async def test_ip_allowlist_rejects_on_site_and_gateway_only(serve, http: httpx.AsyncClient, creds,
                                                             scenario_data) -> None:
    scenario_data["world"]["policies"] = [{"id": "p1", "name": "Office", "cidrs": ["203.0.113.0/24"]}]
    sim = await serve(scenario_data)
    ip_body = ('{"errorMessages":["The IP address has been rejected because it is not on the allowed list. '
               'See your admin for more information."],"errors":{}}')
    for url in (sim.site_url + "/wiki/rest/api/space", sim.gateway_url + "/wiki/rest/api/space"):
        r = await http.get(url, headers=creds.basic("actor"))
        assert (r.status_code, r.text) == (403, ip_body)
    admin = await http.get(sim.api_url + "/admin/v1/orgs", headers=creds.bearer(creds.org_key))
    assert admin.status_code == 200  # org-level APIs are not covered (§1.11)
    sim.state.policies[0].cidrs.append("127.0.0.0/8")
    assert (await http.get(sim.site_url + "/wiki/rest/api/space", headers=creds.basic("actor"))).status_code == 200
