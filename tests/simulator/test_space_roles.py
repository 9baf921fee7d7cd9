"""Space permissions as the v2 API states them: operation targetType, `role` principals, the site's
space role mode and space role assignments (docs/atlassian.md §2.4; openapi/README.md)."""

from __future__ import annotations

from typing import Any

import pytest

DOCS = "1001"


def _docs(data: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in data["world"]["spaces"] if s["key"] == "DOCS")


async def test_a_create_grant_on_comments_is_not_a_create_grant_on_pages(serve, http, creds, scenario_data) -> None:
    docs = _docs(scenario_data)
    docs["permissions"] = [
        {"principal": {"type": "group", "id": "confluence-users"}, "operation": "read"},
        {"principal": {"type": "group", "id": "confluence-users"}, "operation": "create", "target": "comment"},
        {"principal": {"type": "group", "id": "confluence-admins"}, "operation": "read"},
    ]
    sim = await serve(scenario_data)
    perms = (await http.get(f"{sim.site_url}/wiki/api/v2/spaces/{DOCS}/permissions",
                            headers=creds.basic("inspector"))).json()["results"]
    assert [(p["operation"]["key"], p["operation"]["targetType"]) for p in perms] == [
        ("read", "space"), ("create", "comment"), ("read", "space")]
    create = await http.post(sim.site_url + "/wiki/rest/api/content", headers=creds.basic("actor"),
                             json={"type": "page", "title": "New", "space": {"key": "DOCS"}})
    assert create.status_code == 403
    check = await http.post(f"{sim.site_url}/wiki/rest/api/content/2001/permission/check",
                            headers=creds.basic("inspector"),
                            json={"subject": {"type": "user", "identifier": creds.account("actor")},
                                  "operation": "update"})
    assert check.json()["hasPermission"] is False
    read = await http.post(f"{sim.site_url}/wiki/rest/api/content/2001/permission/check",
                           headers=creds.basic("inspector"),
                           json={"subject": {"type": "group", "identifier": "confluence-users"}, "operation": "read"})
    assert read.json()["hasPermission"] is True


def _role_world(data: dict[str, Any], mode: str) -> None:
    data["world"]["site"]["space_role_mode"] = mode
    docs = _docs(data)
    docs["permissions"] = [{"principal": {"type": "role", "id": "role-viewer"}, "operation": "read"},
                           {"principal": {"type": "role", "id": "role-editor"}, "operation": "read"},
                           {"principal": {"type": "role", "id": "role-editor"}, "operation": "create"},
                           {"principal": {"type": "group", "id": "confluence-admins"}, "operation": "read"}]
    docs["role_assignments"] = [
        {"principal_type": "GROUP", "principal_id": "confluence-users", "role_id": "role-viewer"},
        {"principal_type": "USER", "principal_id": data["world"]["users"][1]["account_id"], "role_id": "role-editor"},
        {"principal_type": "ACCESS_CLASS", "principal_id": "all-licensed-users", "role_id": "role-viewer"},
    ]


@pytest.mark.parametrize(("mode", "visible"), [("PRE_ROLES", False), ("ROLES_TRANSITION", True), ("ROLES", True)])
async def test_roles_grant_only_once_the_site_uses_them(serve, http, creds, scenario_data, mode, visible) -> None:
    _role_world(scenario_data, mode)
    sim = await serve(scenario_data)
    assert (await http.get(sim.site_url + "/wiki/api/v2/space-role-mode",
                           headers=creds.basic("actor"))).json() == {"mode": mode}
    space = await http.get(f"{sim.site_url}/wiki/api/v2/spaces/{DOCS}", headers=creds.basic("actor"))
    assert space.status_code == (200 if visible else 404)
    perms = (await http.get(f"{sim.site_url}/wiki/api/v2/spaces/{DOCS}/permissions",
                            headers=creds.basic("inspector"))).json()["results"]
    assert {p["principal"]["type"] for p in perms} == {"role", "group"}


async def test_space_role_assignments_list_filter_and_page(serve, http, creds, scenario_data) -> None:
    _role_world(scenario_data, "ROLES")
    sim = await serve(scenario_data)
    url = f"{sim.site_url}/wiki/api/v2/spaces/{DOCS}/role-assignments"
    auth = creds.basic("inspector")
    every = (await http.get(url, headers=auth)).json()
    assert every["results"][0] == {"principal": {"principalType": "GROUP", "principalId": "g-users"},
                                   "roleId": "role-viewer"}
    assert len(every["results"]) == 3 and "next" not in every["_links"]
    mine = (await http.get(url, params={"principal-type": "USER", "principal-id": creds.account("actor")},
                           headers=auth)).json()
    assert [r["roleId"] for r in mine["results"]] == ["role-editor"]
    viewers = (await http.get(url, params={"role-id": "role-viewer", "limit": 1}, headers=auth)).json()
    assert len(viewers["results"]) == 1 and "cursor=" in viewers["_links"]["next"]
    half = await http.get(url, params={"principal-type": "USER"}, headers=auth)
    assert half.status_code == 400
    hidden = await http.get(f"{sim.site_url}/wiki/api/v2/spaces/1002/role-assignments", headers=creds.basic("actor"))
    assert hidden.status_code == 404


async def test_v2_page_names_its_space_id(serve, http, creds) -> None:
    sim = await serve()
    page = (await http.get(sim.site_url + "/wiki/api/v2/pages/2001", headers=creds.basic("actor"))).json()
    assert (page["id"], page["spaceId"], page["title"]) == ("2001", DOCS, "Handbook")
    restricted = await http.get(sim.site_url + "/wiki/api/v2/pages/2003", headers=creds.basic("actor"))
    assert restricted.status_code == 404
    assert restricted.json()["errors"][0]["title"] == "Cannot find a page with id [2003]"


def test_role_assignment_to_an_unknown_group_is_refused(scenario_data) -> None:
    from bot.simulator.scenario import ScenarioError, scenario_from_dict

    _docs(scenario_data)["role_assignments"] = [{"principal_type": "GROUP", "principal_id": "nope", "role_id": "r"}]
    with pytest.raises(ScenarioError, match="unknown group 'nope'"):
        scenario_from_dict(scenario_data, source="unit")
