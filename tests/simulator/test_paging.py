"""Lists page the way Atlassian's APIs do: v2 cursors with relative `_links.next`, v1 start/limit,
admin cursors that carry the query, orgs/policies with next URLs (docs/atlassian.md §2.3, §2.4, §8 A5)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

SPACE = "1001"


def _many_groups(data: dict[str, Any], count: int) -> list[str]:
    names = [f"proj-{i:03d}" for i in range(count)]
    data["world"]["groups"] += [{"id": f"g-{n}", "name": n, "roles": []} for n in names]
    return names


async def _follow_v2(http: httpx.AsyncClient, base: str, first: str, headers: dict[str, str]) -> list[dict]:
    pages, target = [], first
    while target:
        reply = await http.get(base + target, headers=headers)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        pages.append(body)
        target = body["_links"].get("next")
        if target:
            assert target.startswith("/wiki/api/v2/") and "cursor=" in target
            assert reply.headers["link"].startswith(f"<{target}>; rel=\"next\"")
    return pages


@pytest.mark.parametrize("front", ["site", "gateway"])
async def test_v2_space_permissions_page_by_25_with_relative_next_links(serve, http, creds, scenario_data,
                                                                       front) -> None:
    names = _many_groups(scenario_data, 30)
    space = scenario_data["world"]["spaces"][0]
    space["permissions"] = [{"principal": {"type": "group", "id": n}, "operation": op}
                            for n in names for op in ("read", "create")] + space["permissions"]
    sim = await serve(scenario_data)
    base = sim.site_url if front == "site" else sim.gateway_url
    path = f"/wiki/api/v2/spaces/{SPACE}/permissions"
    pages = await _follow_v2(http, base, path, creds.basic("inspector"))
    assert [len(p["results"]) for p in pages] == [25, 25, 15]
    ids = [r["id"] for p in pages for r in p["results"]]
    assert len(set(ids)) == 65
    assert pages[-1]["results"][-1]["principal"]["id"] == "g-admins"
    wide = await _follow_v2(http, base, path + "?limit=250", creds.basic("inspector"))
    assert [len(p["results"]) for p in wide] == [65]
    ten = await _follow_v2(http, base, path + "?limit=10", creds.basic("inspector"))
    assert [len(p["results"]) for p in ten] == [10] * 6 + [5]


@pytest.mark.parametrize("query", ["limit=251", "limit=0", "limit=x", "cursor=not-a-cursor"])
async def test_v2_rejects_limits_outside_the_spec_and_bad_cursors(serve, http, creds, query) -> None:
    sim = await serve()
    reply = await http.get(f"{sim.site_url}/wiki/api/v2/spaces/{SPACE}/permissions?{query}",
                           headers=creds.basic("inspector"))
    assert reply.status_code == 400
    assert reply.json()["errors"][0]["status"] == 400


async def test_v1_memberof_defaults_to_200_and_cuts_larger_limits(serve, http, creds, scenario_data) -> None:
    names = _many_groups(scenario_data, 229)
    actor = next(u for u in scenario_data["world"]["users"] if u["email"] == "actor@acme.com")
    actor["groups"] = [*names, "confluence-users"]
    sim = await serve(scenario_data)
    url = sim.site_url + "/wiki/rest/api/user/memberof"
    params = {"accountId": creds.account("actor")}
    first = (await http.get(url, params=params, headers=creds.basic("inspector"))).json()
    assert (first["size"], first["limit"], first["start"], first["totalSize"]) == (200, 200, 0, 230)
    assert first["_links"]["next"].startswith("/rest/api/user/memberof?accountId=")
    rest = (await http.get(sim.site_url + "/wiki" + first["_links"]["next"], headers=creds.basic("inspector"))).json()
    assert (rest["start"], rest["size"]) == (200, 30) and "next" not in rest["_links"]
    assert rest["results"][-1]["name"] == "confluence-users"
    capped = (await http.get(url, params={**params, "limit": 1000}, headers=creds.basic("inspector"))).json()
    assert (capped["limit"], capped["size"]) == (200, 200)


def _other_sites(data: dict[str, Any], count: int) -> None:
    actor = next(u for u in data["world"]["users"] if u["email"] == "actor@acme.com")
    actor["other_resources"] = [{"resource_id": f"ari:cloud:jira-software::site/site-{i:03d}",
                                 "roles": ["atlassian/user"]} for i in range(count)]


async def test_role_assignments_page_by_cursor_that_carries_the_filters(serve, http, creds, scenario_data) -> None:
    _other_sites(scenario_data, 45)
    sim = await serve(scenario_data)
    url = (f"{sim.api_url}/admin/v2/orgs/{sim.state.org.id}/directories/-/users/"
           f"{creds.account('actor')}/role-assignments")
    auth = creds.bearer(creds.org_key)
    sizes, params, last = [], {}, None
    while True:
        body = (await http.get(url, params=params, headers=auth)).json()
        sizes.append(len(body["data"]))
        last = body
        if "next" not in body["links"]:
            break
        params = {"cursor": body["links"]["next"]}
    assert sizes == [20, 20, 6]
    assert last["data"][-1]["resourceId"] == sim.state.cloud_ari()
    only_here = (await http.get(url, params={"resourceIds": sim.state.cloud_ari(), "limit": 100}, headers=auth)).json()
    assert [e["resourceId"] for e in only_here["data"]] == [sim.state.cloud_ari()] and "next" not in only_here["links"]
    filtered = (await http.get(url, params={"roleIds": "atlassian/user", "resourceOwners": "jira", "limit": 40},
                               headers=auth)).json()
    assert len(filtered["data"]) == 40
    # the cursor alone carries the filters: any other parameter is discarded
    more = (await http.get(url, params={"cursor": filtered["links"]["next"], "limit": 1}, headers=auth)).json()
    assert len(more["data"]) == 5 and {e["resourceOwner"] for e in more["data"]} == {"jira"}


@pytest.mark.parametrize("query", [{"limit": "101"}, {"limit": "0"}, {"cursor": "%%%"}])
async def test_role_assignments_reject_bad_limits_and_cursors(serve, http, creds, query) -> None:
    sim = await serve()
    url = (f"{sim.api_url}/admin/v2/orgs/{sim.state.org.id}/directories/-/users/"
           f"{creds.account('actor')}/role-assignments")
    reply = await http.get(url, params=query, headers=creds.bearer(creds.org_key))
    assert reply.status_code == 400 and reply.json()["errors"][0]["status"] == "400"


async def test_directory_search_pages_by_cursor(serve, http, creds) -> None:
    sim = await serve()
    url = f"{sim.api_url}/admin/v2/orgs/{sim.state.org.id}/directories/-/users/search"
    auth = creds.bearer(creds.org_key)
    seen, body = [], {"emailDomains": ["acme.com"], "limit": 2}
    while True:
        page = (await http.post(url, json=body, headers=auth)).json()
        seen += [u["email"] for u in page["data"]]
        if "next" not in page["links"]:
            break
        body = {"cursor": page["links"]["next"]}
    assert seen == [u.email for u in sim.state.users if u.email.endswith("@acme.com")] and len(seen) == 5
    assert (await http.post(url, json={"limit": 101}, headers=auth)).status_code == 400


async def test_policies_page_with_next_urls_and_meta_cursor(serve, http, creds, scenario_data) -> None:
    scenario_data["world"]["policies"] = [{"id": f"pol-{i:02d}", "name": f"allowlist {i}", "status": "disabled",
                                           "cidrs": ["10.0.0.0/8"]} for i in range(25)]
    sim = await serve(scenario_data)
    auth = creds.bearer(creds.org_key)
    first = (await http.get(f"{sim.api_url}/admin/v1/orgs/{sim.state.org.id}/policies",
                            params={"type": "ip-allowlist"}, headers=auth)).json()
    assert len(first["data"]) == 20 and first["meta"]["page_size"] == 20
    assert first["links"]["next"].startswith(sim.api_url) and first["meta"]["next"] in first["links"]["next"]
    rest = (await http.get(first["links"]["next"], headers=auth)).json()
    assert [p["id"] for p in rest["data"]] == [f"pol-{i}" for i in range(20, 25)]
    assert "next" not in rest["links"] and rest["meta"]["next"] is None
    bad = await http.get(f"{sim.api_url}/admin/v1/orgs/{sim.state.org.id}/policies?cursor=zz", headers=auth)
    assert bad.status_code == 400
