"""JSON shapes of the organization admin API and the user-management API (docs/atlassian.md §2.6, §2.7,
§8 A5): directory users (camelCase), role assignments, policies, orgs, profiles and API tokens
(snake_case where Atlassian uses it), and the ApiErrorResponse error model (§8 A9).
"""

from __future__ import annotations

import uuid
from typing import Any

from bot.simulator import bodies
from bot.simulator.state import CONFLUENCE_ACCESS_ROLES, Org, Policy, User, World, parse_time, wire_time

_ADDED_TO_ORG = "2024-02-01T10:00:00.000Z"  # the world does not model history


def api_error(status: int, code: str, title: str, detail: str) -> str:
    """`{"errors":[{id, code, status, title, detail}]}`: the admin spec's `Errors` (v2 routes, codes
    ADMIN-UAM-…) and its v1 `ApplicationError` lists (codes ADMIN-…); docs/atlassian.md §8 A9; detail texts [I]."""
    error = {"id": str(uuid.uuid4()), "code": code, "status": str(status), "title": title, "detail": detail}
    return bodies.dumps({"errors": [error]})


def user_management_error(key: str) -> str:
    """The user-management API's `{"key": …}` errors (its spec: unauthorized, accountNotFound,
    forbidden, forbidden.targetUnverified, …; openapi/README.md)."""
    return bodies.dumps({"key": key})


def org_json(org: Org, api_url: str) -> dict[str, Any]:
    """docs/atlassian.md §2.6 Orgs."""
    base = f"{api_url}/admin/v1/orgs/{org.id}"
    return {
        "id": org.id, "type": "orgs", "attributes": {"name": org.name},
        "relationships": {"domains": {"links": {"related": f"{base}/domains"}},
                          "users": {"links": {"related": f"{base}/users"}}},
        "links": {"self": base},
    }


def _avatar(user: User) -> str:
    return f"https://avatar-management.services.atlassian.com/default/{user.account_id}"


def _last_active(user: User) -> str | None:
    stamps = [t.last_access for t in user.tokens if t.last_access]
    return wire_time(max(stamps, key=parse_time)) if stamps else None


def product_access(world: World, user: User) -> list[dict[str, Any]]:
    """productAccess[{key, id, lastActiveTimestamp}] (docs/atlassian.md §2.6): products the user holds a role on."""
    if not set(world.confluence_roles(user)) & set(CONFLUENCE_ACCESS_ROLES):
        return []
    return [{"key": "confluence", "id": world.cloud_ari(), "lastActiveTimestamp": _last_active(user)}]


def org_user(world: World, user: User, api_url: str) -> dict[str, Any]:
    """A managed account as `GET /admin/v1/orgs/{orgId}/users` lists it (admin spec `User`,
    docs/atlassian.md §2.6: snake_case); `last_active` and `product_access[].last_active` only when known."""
    out: dict[str, Any] = {
        "account_id": user.account_id,
        "account_type": user.account_type,
        "account_status": user.account_status,
        "name": user.name,
        "picture": _avatar(user),
        "email": user.email,
        "access_billable": bool(product_access(world, user)),
    }
    last = _last_active(user)
    if last is not None:
        out["last_active"] = last
    products = []
    for _ in product_access(world, user):
        product: dict[str, Any] = {"key": "confluence", "name": "Confluence", "url": f"{world.site.name}.atlassian.net"}
        if last is not None:
            product["last_active"] = last
        products.append(product)
    out["product_access"] = products
    out["links"] = {"self": f"{api_url}/users/{user.account_id}/manage/profile"}
    return out


def directory_user(world: World, user: User, expand: set[str], api_url: str) -> dict[str, Any]:
    """MultiDirectoryUser / the `data` of GET …/users/{accountId} (docs/atlassian.md §2.6, §8 A5a)."""
    out: dict[str, Any] = {
        "accountId": user.account_id,
        "accountType": user.account_type,
        "status": user.composite_status,
        "accountStatus": user.account_status,
        "membershipStatus": user.membership_status,
        "addedToOrg": _ADDED_TO_ORG,
        "name": user.name,
        "nickname": user.name.split(" ")[0],
        "email": user.email,
        "emailVerified": True,
        "claimStatus": user.claim_status,
        "picture": _avatar(user),
        "avatar": _avatar(user),
        "managementSource": None,
        "mfaEnabled": False,
        "jobTitle": None, "department": None, "organization": None, "location": None,
        "timeZone": "Etc/UTC",
        "counts": {"resources": len(role_assignments(world, user))},
        "deactivatedOn": None if user.active else "2026-10-01T00:00:00.000Z",
        "forDeletion": False,
    }
    for optional in ("jobTitle", "department", "organization", "location", "deactivatedOn"):
        if out[optional] is None:
            del out[optional]  # strings in the spec, never null: absent when unknown
    if "platformRoles" in expand:
        out["platformRoles"] = list(user.platform_roles)  # only when expanded (docs/atlassian.md §8 A5a [R])
    if "productAccess" in expand:
        out["productAccess"] = product_access(world, user)
    if "groups" in expand:
        out["groups"] = [{"id": g.id, "name": g.name, "description": None} for g in world.groups_of(user)]
    out["links"] = {"self": f"{api_url}/admin/v2/orgs/{world.org.id}/directories/-/users/{user.account_id}"}
    return out


def role_assignments(world: World, user: User) -> list[dict[str, Any]]:
    """docs/atlassian.md §8 A5c: one entry per resource — the user's other resources first (in the world's order;
    Atlassian's order is not documented [I]), then this Confluence site when the user holds a role on
    it; resourceOwner "confluence" is [I]. Platform roles are left out (their resource id is not known)."""
    entries = [_assignment(world, user, other.resource_id, other.resource_owner,
                           {role: ["direct"] for role in other.roles}) for other in user.other_resources]
    held = world.confluence_roles(user)
    if held:
        entries.append(_assignment(world, user, world.cloud_ari(), "confluence", held))
    return entries


def _assignment(world: World, user: User, resource_id: str, owner: str,
                held: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "resourceId": resource_id,
        "resourceOwner": owner,
        "roles": list(held),
        "roleAssignments": [{"role": role, "roleAssignmentMethods": methods} for role, methods in held.items()],
        "directoryId": world.org.directory_id,
        "userDirectoryStatus": user.membership_status,
    }


def policy_json(world: World, policy: Policy, api_url: str) -> dict[str, Any]:
    """docs/atlassian.md §2.6 Policies in the admin spec's PolicyModel: the rule is `AllowIfContainedRule`
    `{"in": [CIDR…]}`, each resource `{id, applicationStatus}`."""
    return {
        "id": policy.id,
        "type": "policy",
        "attributes": {
            "type": policy.type, "name": policy.name, "status": policy.status,
            "rule": {"in": list(policy.cidrs)},  # AllowIfContainedRule (admin spec)
            "resources": [{"id": world.cloud_ari(r), "applicationStatus": "applied"} for r in policy.resources],
            "createdAt": "2025-06-01T09:00:00.000Z", "updatedAt": "2026-09-01T09:00:00.000Z",
        },
        "links": {"self": f"{api_url}/admin/v1/orgs/{world.org.id}/policies/{policy.id}"},
    }


def profile_json(user: User) -> dict[str, Any]:
    """docs/atlassian.md §2.7 `GET /users/{account_id}/manage/profile` — snake_case."""
    return {"account": {
        "account_id": user.account_id,
        "account_type": user.account_type,
        "account_status": user.account_status,
        "name": user.name,
        "picture": _avatar(user),
        "email": user.email,
        "characteristics": {"not_mentionable": False},
        "nickname": user.name.split(" ")[0],
        "zoneinfo": "Etc/UTC",
        "locale": "en-US",
        "extended_profile": {},  # nothing set; the spec's fields are non-null strings
    }}


def api_tokens_json(user: User) -> list[dict[str, Any]]:
    """docs/atlassian.md §2.7 `[{"id","label","createdAt","lastAccess","expiry"}]`; revoked tokens are gone
    from the list (docs/atlassian.md §1.1: "absent from the list, is dead")."""
    tokens = []
    for token in user.tokens:
        if token.revoked:
            continue
        item = {"id": token.id, "label": token.label, "createdAt": wire_time(token.created_at),
                "expiry": wire_time(token.expiry)}
        if token.last_access is not None:  # ApiTokenModel.lastAccess: a string, absent for a never-used token
            item["lastAccess"] = wire_time(token.last_access)
        tokens.append(item)
    return tokens
