"""Organization admin API and user-management API: auth, shapes and casing (docs/atlassian.md §2.6, §2.7, §8 A5)."""

from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize("case", ["none", "wrong key", "basic user token", "basic org key"])
async def test_admin_needs_an_org_key_as_bearer(serve, http: httpx.AsyncClient, creds, case: str) -> None:
    sim = await serve()
    headers = {
        "none": {},
        "wrong key": creds.bearer("ATCTT3xFfGN0-sim-not-the-key"),
        "basic user token": creds.basic("inspector"),
        "basic org key": creds.basic("inspector", secret=creds.org_key),
    }[case]
    # each admin API answers in its own error form (openapi/README.md)
    r = await http.get(sim.api_url + "/admin/v1/orgs", headers=headers)
    assert (r.status_code, r.json()) == (401, {"code": 401, "message": "Unauthorized"})  # ProxyError
    directory = await http.get(f"{sim.api_url}/admin/v2/orgs/{sim.state.org.id}/directories/-/users/"
                               f"{creds.account('actor')}", headers=headers)
    (error,) = directory.json()["errors"]
    assert set(error) == {"id", "code", "status", "title", "detail"}
    assert (error["code"], error["status"], error["title"]) == ("ADMIN-UAM-401-1", "401", "Unauthenticated")
    manage = await http.get(f"{sim.api_url}/users/{creds.account('actor')}/manage/api-tokens", headers=headers)
    assert (manage.status_code, manage.json()) == (401, {"key": "unauthorized"})


async def test_orgs_and_unknown_org(serve, http: httpx.AsyncClient, creds) -> None:
    sim = await serve()
    auth = creds.bearer(creds.org_key)
    orgs = await http.get(sim.api_url + "/admin/v1/orgs", headers=auth)
    (org,) = orgs.json()["data"]
    assert (org["id"], org["type"], org["attributes"]["name"]) == (sim.state.org.id, "orgs", "Acme")
    missing = await http.get(sim.api_url + "/admin/v1/orgs/nope/policies", headers=auth)
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "ADMIN-404-2"  # v1 code
    v2 = await http.get(sim.api_url + "/admin/v2/orgs/nope/directories/-/users/x", headers=auth)
    assert v2.status_code == 404 and v2.json()["errors"][0]["code"] == "ADMIN-UAM-404-2"


async def test_directory_search_by_email(serve, http: httpx.AsyncClient, creds) -> None:
    sim = await serve()
    url = f"{sim.api_url}/admin/v2/orgs/{sim.state.org.id}/directories/-/users/search"
    auth = creds.bearer(creds.org_key)
    r = await http.post(url, json={"emails": ["PAUSED@acme.com"], "expand": ["platformRoles", "productAccess",
                                                                            "groups"]}, headers=auth)
    (user,) = r.json()["data"]
    assert user["accountId"] == creds.account("suspended")
    assert (user["status"], user["accountStatus"], user["membershipStatus"]) == ("suspended", "active", "suspended")
    assert user["platformRoles"] == [] and user["groups"][0]["name"] == "confluence-users"
    assert user["productAccess"][0]["key"] == "confluence"
    assert "next" not in r.json()["links"]  # one page: LinkPageCursor leaves absent links out
    plain = await http.post(url, json={"emails": ["actor@acme.com"]}, headers=auth)
    assert "platformRoles" not in plain.json()["data"][0]  # only when expanded
    nobody = await http.post(url, json={"emails": ["ghost@acme.com"]}, headers=auth)
    assert nobody.json()["data"] == []
    both = await http.post(url, json={"emails": ["actor@acme.com"], "searchTerm": "actor"}, headers=auth)
    assert both.status_code == 400


@pytest.mark.parametrize(("name", "status"), [("actor", "active"), ("inactive", "deactivated"),
                                              ("suspended", "suspended")])
async def test_directory_user_composite_status(serve, http: httpx.AsyncClient, creds, name: str,
                                               status: str) -> None:
    sim = await serve()
    r = await http.get(f"{sim.api_url}/admin/v2/orgs/{sim.state.org.id}/directories/-/users/{creds.account(name)}",
                       headers=creds.bearer(creds.org_key))
    data = r.json()["data"]
    assert data["status"] == status and data["accountId"] == creds.account(name)
    assert {"accountStatus", "membershipStatus", "claimStatus", "platformRoles", "emailVerified"} <= set(data)


async def test_not_invited_status(serve, http: httpx.AsyncClient, creds) -> None:
    sim = await serve()
    sim.state.user_by_email("actor@acme.com").membership_status = "no_membership"
    r = await http.get(f"{sim.api_url}/admin/v2/orgs/{sim.state.org.id}/directories/-/users/{creds.account('actor')}",
                       headers=creds.bearer(creds.org_key))
    assert r.json()["data"]["status"] == "not_invited"


async def test_role_assignments(serve, http: httpx.AsyncClient, creds) -> None:
    sim = await serve()
    base = f"{sim.api_url}/admin/v2/orgs/{sim.state.org.id}/directories/-/users"
    auth = creds.bearer(creds.org_key)
    actor = (await http.get(f"{base}/{creds.account('actor')}/role-assignments", headers=auth)).json()
    (entry,) = actor["data"]
    assert entry["resourceId"] == f"ari:cloud:confluence::site/{creds.cloud_id}"
    assert entry["resourceOwner"] == "confluence" and entry["userDirectoryStatus"] == "active"
    assert entry["roleAssignments"] == [{"role": "atlassian/user", "roleAssignmentMethods": ["group_direct"]}]
    guest = (await http.get(f"{base}/{creds.account('guest')}/role-assignments", headers=auth)).json()
    assert guest["data"][0]["roleAssignments"] == [{"role": "atlassian/guest", "roleAssignmentMethods": ["direct"]}]
    none = (await http.get(f"{base}/{creds.account('nolicense')}/role-assignments", headers=auth)).json()
    assert none["data"] == []


async def test_policies_carry_the_cidrs_in_the_rule(serve, http: httpx.AsyncClient, creds, scenario_data) -> None:
    scenario_data["world"]["policies"] = [{"id": "p1", "name": "Office", "cidrs": ["127.0.0.0/8"]}]
    sim = await serve(scenario_data)
    r = await http.get(f"{sim.api_url}/admin/v1/orgs/{sim.state.org.id}/policies", params={"type": "ip-allowlist"},
                       headers=creds.bearer(creds.org_key))
    (policy,) = r.json()["data"]
    attributes = policy["attributes"]
    assert (policy["type"], attributes["type"], attributes["status"]) == ("policy", "ip-allowlist", "enabled")
    assert attributes["rule"] == {"in": ["127.0.0.0/8"]}  # AllowIfContainedRule
    assert attributes["resources"] == [{"id": f"ari:cloud:confluence::site/{creds.cloud_id}",
                                        "applicationStatus": "applied"}]


async def test_api_tokens_and_profile(serve, http: httpx.AsyncClient, creds) -> None:
    sim = await serve()
    auth = creds.bearer(creds.org_key)
    tokens = (await http.get(f"{sim.api_url}/users/{creds.account('actor')}/manage/api-tokens", headers=auth)).json()
    # ApiTokenModel: lastAccess is a string, absent for a token never used
    assert {t["id"]: set(t) for t in tokens} == {
        "tok-actor": {"id", "label", "createdAt", "expiry"},
        "tok-actor_scoped": {"id", "label", "createdAt", "expiry"},
        "tok-actor_classic_scopes": {"id", "label", "createdAt", "expiry"},
        "tok-actor_expired": {"id", "label", "createdAt", "lastAccess", "expiry"}}
    assert "tok-actor_revoked" not in {t["id"] for t in tokens}  # a revoked token is gone from the list
    assert {t["id"]: t["expiry"] for t in tokens}["tok-actor_expired"] == "2026-01-31T00:00:00.000Z"
    profile = (await http.get(f"{sim.api_url}/users/{creds.account('inactive')}/manage/profile", headers=auth)).json()
    account = profile["account"]
    assert (account["account_id"], account["account_status"]) == (creds.account("inactive"), "inactive")
    assert {"account_type", "email", "extended_profile", "characteristics"} <= set(account)
    unmanaged = await http.get(f"{sim.api_url}/users/{creds.account('external')}/manage/api-tokens", headers=auth)
    assert (unmanaged.status_code, unmanaged.json()) == (403, {"key": "forbidden.targetUnverified"})
    ghost = await http.get(f"{sim.api_url}/users/557058:nobody/manage/profile", headers=auth)
    assert (ghost.status_code, ghost.json()) == (404, {"key": "accountNotFound"})


async def test_the_directory_does_not_list_service_accounts(serve, http: httpx.AsyncClient, creds) -> None:
    """openapi/README.md: directory users are `accountType: atlassian` only; service accounts live in the
    API-access API, so neither the search nor the lookup by id shows them."""
    sim = await serve()
    base = f"{sim.api_url}/admin/v2/orgs/{sim.state.org.id}/directories/-/users"
    auth = creds.bearer(creds.org_key)
    found = await http.post(f"{base}/search", json={"emails": [creds.email("service")]}, headers=auth)
    assert found.json()["data"] == []
    everyone = (await http.post(f"{base}/search", json={"limit": 100}, headers=auth)).json()["data"]
    assert {u["accountType"] for u in everyone} == {"atlassian"} and len(everyone) == len(sim.state.users) - 1
    by_id = await http.get(f"{base}/{creds.account('service')}", headers=auth)
    assert by_id.status_code == 404
