"""Confluence resources behind the gate: spaces, pages, restrictions, guests, v2 routes,
look-alike errors (404 XML, 405, XSRF, 410)."""

from __future__ import annotations

import httpx
import pytest

GONE = ('{"statusCode":410,"data":{"authorized":true,"valid":true,"errors":[],"successful":true},'
        '"message":"com.atlassian.confluence.api.service.exceptions.pagesmodes.GoneException: '
        'This deprecated endpoint has been removed."}')
PERMISSION_EXCEPTION = (
    '{"statusCode":403,"data":{"authorized":false,"valid":true,"errors":[],"successful":false},'
    '"message":"com.atlassian.confluence.api.service.exceptions.PermissionException: '
    'Could not create content with type page"}'
)


@pytest.mark.parametrize("path", ["/wiki/rest/api/nosuch", "/rest/api/content", "/rest/api/user/current"])
async def test_unknown_path_or_missing_wiki_prefix_is_404_xml(serve, http: httpx.AsyncClient, creds,
                                                              path: str) -> None:
    sim = await serve()
    r = await http.get(sim.site_url + path, headers=creds.basic("actor"))
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/xml")
    expected = f"<status><status-code>404</status-code><message>null for uri: {sim.site_url}{path}</message></status>"
    assert r.text == expected


async def test_wrong_method_is_405_without_allow(serve, http: httpx.AsyncClient, creds) -> None:
    sim = await serve()
    r = await http.delete(sim.site_url + "/wiki/rest/api/space", headers=creds.basic("actor"))
    assert r.status_code == 405 and "allow" not in r.headers
    error = r.json()["errors"][0]
    assert error["status"] == 405 and error["code"] == "METHOD_NOT_ALLOWED"
    assert error["title"].startswith("org.springframework.web")


async def test_xsrf_check_on_form_posts(serve, http: httpx.AsyncClient, creds) -> None:
    sim = await serve()
    url = sim.site_url + "/wiki/rest/api/content"
    form = await http.post(url, data={"title": "x"}, headers=creds.basic("actor"))
    assert (form.status_code, form.text) == (403, "XSRF check failed")
    assert form.headers["content-type"].startswith("text/plain")
    with_header = await http.post(url, data={"title": "x"},
                                  headers={**creds.basic("actor"), "X-Atlassian-Token": "no-check"})
    assert with_header.status_code != 403


async def test_create_needs_the_space_create_permission(serve, http: httpx.AsyncClient, creds) -> None:
    sim = await serve()
    url = sim.site_url + "/wiki/rest/api/content"
    denied = await http.post(url, json={"type": "page", "title": "T", "space": {"key": "ENG"}},
                             headers=creds.basic("actor"))
    assert (denied.status_code, denied.text) == (403, PERMISSION_EXCEPTION)
    created = await http.post(url, json={"type": "page", "title": "T", "space": {"key": "DOCS"}},
                              headers=creds.basic("actor"))
    assert created.status_code == 200 and created.json()["space"]["key"] == "DOCS"


async def test_removed_endpoint_is_410_on_the_gateway_while_the_site_still_answers(serve, http: httpx.AsyncClient,
                                                                                   creds, scenario_data) -> None:
    scenario_data["world"]["removed_endpoints"] = [{"path": "/wiki/rest/api/space", "roles": ["gateway"]}]
    sim = await serve(scenario_data)
    gone = await http.get(sim.gateway_url + "/wiki/rest/api/space", headers=creds.basic("actor"))
    assert (gone.status_code, gone.text) == (410, GONE)
    site = await http.get(sim.site_url + "/wiki/rest/api/space", headers=creds.basic("actor"))
    assert site.status_code == 200


async def test_space_visibility_follows_permissions(serve, http: httpx.AsyncClient, creds) -> None:
    sim = await serve()
    listed = await http.get(sim.site_url + "/wiki/rest/api/space", params={"expand": "operations"},
                            headers=creds.basic("actor"))
    assert [s["key"] for s in listed.json()["results"]] == ["DOCS"]
    assert {"operation": "create", "targetType": "page"} in listed.json()["results"][0]["operations"]
    hidden = await http.get(sim.site_url + "/wiki/rest/api/space/ENG", headers=creds.basic("actor"))
    assert hidden.status_code == 404 and hidden.json()["statusCode"] == 404
    seen = await http.get(sim.site_url + "/wiki/rest/api/space/ENG", headers=creds.basic("inspector"))
    assert seen.status_code == 200 and seen.json()["key"] == "ENG"


async def test_page_restrictions_and_permission_check(serve, http: httpx.AsyncClient, creds) -> None:
    sim = await serve()
    restricted = await http.get(sim.site_url + "/wiki/rest/api/content/2003", headers=creds.basic("actor"))
    assert restricted.status_code == 404
    url = sim.site_url + "/wiki/rest/api/content/2003/permission/check"

    async def check(account: str, operation: str = "read") -> dict:
        body = {"subject": {"type": "user", "identifier": creds.account(account)}, "operation": operation}
        r = await http.post(url, json=body, headers=creds.basic("inspector"))
        assert r.status_code == 200
        return r.json()

    assert await check("inspector") == {"hasPermission": True, "errors": []}
    assert (await check("actor"))["hasPermission"] is False
    no_use = await check("nolicense")
    assert no_use["hasPermission"] is False and no_use["errors"]
    open_page = await http.post(sim.site_url + "/wiki/rest/api/content/2001/permission/check",
                                json={"subject": {"type": "user", "identifier": creds.account("actor")},
                                      "operation": "read"}, headers=creds.basic("inspector"))
    assert open_page.json()["hasPermission"] is True


async def test_guest_sees_only_the_assigned_space(serve, http: httpx.AsyncClient, creds) -> None:
    sim = await serve()
    me = await http.get(sim.site_url + "/wiki/rest/api/user/current", headers=creds.basic("guest"))
    assert me.status_code == 200 and me.json()["isGuest"] is True
    spaces = await http.get(sim.site_url + "/wiki/rest/api/space", headers=creds.basic("guest"))
    assert [s["key"] for s in spaces.json()["results"]] == ["PARTNER"]
    sim.state.spaces[2].permissions.clear()  # a guest without a space cannot use Confluence at all (§1.9)
    again = await http.get(sim.site_url + "/wiki/rest/api/user/current", headers=creds.basic("guest"))
    assert again.status_code == 403


async def test_v2_spaces_permissions_and_pages(serve, http: httpx.AsyncClient, creds) -> None:
    sim = await serve()
    spaces = await http.get(sim.site_url + "/wiki/api/v2/spaces", params={"keys": "DOCS,ENG"},
                            headers=creds.basic("inspector"))
    assert [(s["id"], s["key"]) for s in spaces.json()["results"]] == [("1001", "DOCS"), ("1002", "ENG")]
    perms = await http.get(sim.site_url + "/wiki/api/v2/spaces/1002/permissions", headers=creds.basic("inspector"))
    results = perms.json()["results"]
    assert {"type": "group", "id": "g-admins"} in [p["principal"] for p in results]
    assert {"key": "read", "targetType": "space"} in [p["operation"] for p in results]
    hidden = await http.get(sim.site_url + "/wiki/api/v2/pages/2003", headers=creds.basic("actor"))
    assert hidden.status_code == 404 and hidden.json()["errors"][0]["title"] != "Not Found"
    page = await http.get(sim.site_url + "/wiki/api/v2/pages/2001", headers=creds.basic("actor"))
    assert page.status_code == 200 and page.json()["spaceId"] == "1001"


async def test_check_access_by_email(serve, http: httpx.AsyncClient, creds) -> None:
    sim = await serve()
    url = sim.site_url + "/wiki/api/v2/user/access/check-access-by-email"
    emails = ["Actor@acme.com", "nolicense@acme.com", "nobody@acme.com", "paused@acme.com", "not-an-email"]
    r = await http.post(url, json={"emails": emails}, headers=creds.basic("inspector"))
    assert r.status_code == 200
    assert r.json() == {"emailsWithoutAccess": ["nolicense@acme.com", "nobody@acme.com", "paused@acme.com"],
                        "invalidEmails": ["not-an-email"]}
    refused = await http.post(url, json={"emails": emails}, headers=creds.basic("nolicense"))
    assert refused.status_code == 404
    too_many = await http.post(url, json={"emails": []}, headers=creds.basic("inspector"))
    assert too_many.status_code == 400


async def test_users_and_groups(serve, http: httpx.AsyncClient, creds) -> None:
    sim = await serve()
    gone = await http.get(sim.site_url + "/wiki/rest/api/user", params={"accountId": creds.account("inactive")},
                          headers=creds.basic("inspector"))
    assert gone.json()["displayName"].endswith("(Deactivated)")
    groups = await http.get(sim.site_url + "/wiki/rest/api/user/memberof",
                            params={"accountId": creds.account("actor")}, headers=creds.basic("inspector"))
    assert [g["name"] for g in groups.json()["results"]] == ["confluence-users"]
    bulk = await http.post(sim.site_url + "/wiki/api/v2/users-bulk",
                           json={"accountIds": [creds.account("service"), "unknown"]}, headers=creds.basic("inspector"))
    assert [(u["accountType"], u["accountStatus"]) for u in bulk.json()["results"]] == [("app", "active")]
