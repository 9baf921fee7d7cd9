"""The Automation REST API (docs/atlassian.md §A.6): bases, auth, admin check, summaries, one rule, redaction."""

from __future__ import annotations

import httpx
import pytest

from tests.rules import RULE_UUID, basic, rule, web_request

HIDDEN_VALUE = "Basic SIMULATED-HIDDEN-VALUE-aa11"


def _world_with_rules(data: dict, count: int = 1) -> dict:
    actions = [web_request("https://acme.atlassian.net/wiki/rest/api/space",
                           headers=[("Authorization", HIDDEN_VALUE, True), ("Accept", "application/json", False)])]
    data["world"]["automation_rules"] = [rule(actions)] + [
        rule([], uuid=f"019d0162-a338-7210-8481-{i:012d}", name=f"Rule {i}", state="DISABLED") for i in range(1, count)]
    return data


def _base(sim, where: str) -> str:
    cloud = sim.state.site.cloud_id
    if where == "api":
        return f"{sim.api_url}/automation/public/confluence/{cloud}/rest/v1"
    return f"{sim.site_url}/gateway/api/automation/public/confluence/{cloud}/rest/latest"


@pytest.mark.parametrize("where", ["api", "site"])
async def test_get_rule_answers_the_rule_in_clear_or_redacted(serve, http: httpx.AsyncClient, creds,
                                                              scenario_data, where: str) -> None:
    sim = await serve(_world_with_rules(scenario_data))
    url = f"{_base(sim, where)}/rule/{RULE_UUID}"
    clear = await http.get(url, headers=creds.basic("inspector"))
    assert clear.status_code == 200
    component = clear.json()["rule"]["components"][0]["children"][0]["children"][0]
    header = component["value"]["headers"][0]
    assert header == {"name": "Authorization", "value": HIDDEN_VALUE, "headerSecure": True, "id": None}
    assert component["parentId"] == "if1a" and component["conditionParentId"] is None
    redacted = await http.get(url, headers=creds.basic("inspector"), params={"redactSensitiveFields": "true"})
    assert HIDDEN_VALUE not in redacted.text and '"value":"***"' in redacted.text
    assert '"value":"application/json"' in redacted.text  # only hidden headers are redacted


@pytest.mark.parametrize(("key", "status", "body"), [
    ("actor_scoped", 401, '{"code":401,"message":"Unauthorized; scope does not match"}'),
    ("service", 401, '{"code":401,"message":"Unauthorized; scope does not match"}'),
    ("actor_expired", 401, '{"code":401,"message":"Unauthorized"}'),
    ("actor", 403, "User is not authenticated, or user is not a global admin."),
])
async def test_only_an_admin_with_a_classic_token_reads_rules(serve, http: httpx.AsyncClient, creds, scenario_data,
                                                              key: str, status: int, body: str) -> None:
    sim = await serve(_world_with_rules(scenario_data))
    r = await http.get(f"{_base(sim, 'api')}/rule/{RULE_UUID}", headers=creds.basic(key))
    assert (r.status_code, r.text) == (status, body)
    bearer = await http.get(f"{_base(sim, 'api')}/rule/{RULE_UUID}", headers=creds.bearer(creds.secret("inspector")))
    assert bearer.status_code == 401 and "scope does not match" in bearer.text


async def test_unknown_uuid_other_cloud_and_no_uuid(serve, http: httpx.AsyncClient, creds, scenario_data) -> None:
    sim = await serve(_world_with_rules(scenario_data))
    admin = creds.basic("inspector")
    assert (await http.get(f"{_base(sim, 'api')}/rule/019d0162-0000-7000-8000-000000000000",
                           headers=admin)).status_code == 404
    assert (await http.get(f"{_base(sim, 'api')}/rule", headers=admin)).status_code == 404
    other = f"{sim.api_url}/automation/public/confluence/another-cloud/rest/v1/rule/{RULE_UUID}"
    assert (await http.get(other, headers=admin)).status_code == 403
    jira = f"{sim.api_url}/automation/public/jira/{sim.state.site.cloud_id}/rest/v1/rule/{RULE_UUID}"
    assert (await http.get(jira, headers=admin)).status_code == 404


async def test_summaries_page_with_query_string_links_to_the_end(serve, http: httpx.AsyncClient, creds,
                                                                 scenario_data) -> None:
    sim = await serve(_world_with_rules(scenario_data, count=5))
    base, seen, url = _base(sim, "api"), [], None
    url = f"{base}/rule/summary?limit=2"
    while url:
        r = await http.get(url, headers=creds.basic("inspector"))
        assert r.status_code == 200
        page = r.json()
        assert set(page) == {"links", "data"} and page["links"]["self"].startswith("?cursor=")
        seen += page["data"]
        url = f"{base}/rule/summary{page['links']['next']}" if page["links"]["next"] else None
    assert len(seen) == 5 and seen[0]["uuid"] == RULE_UUID
    assert "components" not in seen[0] and isinstance(seen[0]["created"], float)
    assert seen[0]["actorAccountId"] == creds.account("actor")
    bad = await http.get(f"{base}/rule/summary?limit=101", headers=creds.basic("inspector"))
    assert bad.status_code == 400 and bad.json()["errors"][0]["code"] == "api.validation.outside-range"


async def test_search_needs_a_filter_and_filters(serve, http: httpx.AsyncClient, creds, scenario_data) -> None:
    sim = await serve(_world_with_rules(scenario_data, count=3))
    url = f"{_base(sim, 'api')}/rule/summary"
    empty = await http.post(url, json={}, headers=creds.basic("inspector"))
    assert empty.status_code == 400 and empty.json()["errors"][0]["status"] == 400
    found = await http.post(url, json={"state": "DISABLED"}, headers=creds.basic("inspector"))
    assert [s["name"] for s in found.json()["data"]] == ["Rule 1", "Rule 2"]


def test_rule_samples_build_a_valid_basic_header() -> None:
    assert basic("a@b.c", "t") == "Basic YUBiLmM6dA=="
