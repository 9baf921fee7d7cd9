"""Confluence REST v2 (`/wiki/api/v2/...`) after the "Can use" gate: spaces, space permissions,
pages, check-access-by-email and users-bulk (docs/atlassian.md §2.4, §8 A6). "Not visible" is a 404 here.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.simulator import bodies
from bot.simulator.routes import paging
from bot.simulator.routes.common import Family, WikiContext, WikiRoute, read_json
from bot.simulator.state import DEFAULT_TARGET, Page, Space, User

_CREATED_AT = "2025-01-15T09:00:00.000Z"  # fixed: the world does not model history
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def space_v2(ctx: WikiContext, space: Space) -> dict[str, Any]:
    """`Space` fields of docs/atlassian.md §2.4 as the v2 spec types them: an unknown author, owner,
    description or icon is absent (strings and objects there, never null)."""
    author = next((p.principal.id for p in space.permissions if p.principal.type == "user"), None)
    out: dict[str, Any] = {
        "id": space.id, "key": space.key, "name": space.name, "type": space.type, "status": "current",
        "createdAt": _CREATED_AT, "_links": {"webui": f"/spaces/{space.key}"},
    }
    if author is not None:
        out["authorId"] = out["spaceOwnerId"] = author
    homepage = ctx.world.homepage_id(space)
    if homepage is not None:
        out["homepageId"] = homepage
    if ctx.query("include-operations") == "true":
        ops = sorted(ctx.world.space_operations(ctx.viewer, space))
        # the spec's include-* fields are {results, meta, _links} objects
        out["operations"] = {"results": [{"operation": op, "targetType": DEFAULT_TARGET[op]} for op in ops],
                             "meta": {"hasMore": False}}
    return out


def page_v2(ctx: WikiContext, page: Page) -> dict[str, Any]:
    space = ctx.world.space_by_key(page.space_key)
    assert space is not None
    return {
        "id": page.id, "status": "current", "title": page.title, "spaceId": space.id,
        "position": 0, "ownerId": None, "createdAt": _CREATED_AT,
        "version": {"number": 1, "message": "", "minorEdit": False, "createdAt": _CREATED_AT},
        "_links": {"webui": f"/spaces/{space.key}/pages/{page.id}",
                   "editui": f"/pages/resumedraft.action?draftId={page.id}", "tinyui": f"/x/{page.id}"},
    }


def user_v2(user: User) -> dict[str, Any]:
    """users-bulk item (docs/atlassian.md §2.4)."""
    return {
        "accountId": user.account_id, "accountType": user.account_type, "accountStatus": user.account_status,
        "displayName": user.name, "email": user.email, "publicName": user.name,
        "profilePicture": {"path": f"/wiki/aa-avatar/{user.account_id}", "width": 48, "height": 48, "isDefault": False},
        "timeZone": "Etc/UTC", "isExternalCollaborator": False,
    }


def v2_page(ctx: WikiContext, items: list[Any], default: int = 25, maximum: int = 250) -> web.Response:
    """`{"results": [...], "_links": {"next"?, "base"}}` for one page (see `paging`): `limit` outside
    1..maximum or a bad cursor is a 400 (the spec's bounds; the operations document 400 for an
    invalid request)."""
    try:
        limit = paging.parse_limit(ctx.query("limit"), default, maximum)
        cursor = ctx.query("cursor")
        offset = paging.decode_cursor(cursor)["offset"] if cursor else 0
    except paging.BadPage as exc:
        return bodies.v2_bad_request(str(exc))
    page = paging.window(items, offset, limit)
    links: dict[str, str] = {}
    headers: dict[str, str] = {}
    if page.next_offset is not None:
        # Relative to the site even through the gateway: `/wiki/api/v2/…` [I]; other query
        # parameters are kept, the cursor replaced (spec: "the relative URL in the Link header").
        path = ctx.request.path[ctx.request.path.index("/wiki/"):]
        query = [(k, v) for k, v in ctx.request.query.items() if k != "cursor"]
        query.append(("cursor", paging.encode_cursor({"offset": page.next_offset})))
        links["next"] = f"{path}?{urlencode(query)}"
        headers["Link"] = f'<{links["next"]}>; rel="next", <{ctx.wiki_base}>; rel="base"'
    links["base"] = ctx.wiki_base
    return bodies.json_response({"results": page.items, "_links": links}, headers=headers)


def _visible_space(ctx: WikiContext) -> Space | None:
    space = ctx.world.space_by_id(ctx.params["id"])
    return space if space is not None and ctx.world.can_view_space(ctx.viewer, space) else None


async def spaces_list(ctx: WikiContext) -> web.Response:
    keys = {k.casefold() for k in ctx.query_list("keys")}
    ids = set(ctx.query_list("ids"))
    spaces = [s for s in ctx.world.spaces if ctx.world.can_view_space(ctx.viewer, s)
              and (not keys or s.key.casefold() in keys) and (not ids or s.id in ids)]
    return v2_page(ctx, [space_v2(ctx, s) for s in spaces])


async def space_get(ctx: WikiContext) -> web.Response:
    space = _visible_space(ctx)
    if space is None:
        return bodies.v2_named_not_found("space", ctx.params["id"])
    return bodies.json_response(space_v2(ctx, space))


async def space_permissions(ctx: WikiContext) -> web.Response:
    """Who holds what (docs/atlassian.md §2.4); the caller must be able to view the space."""
    space = _visible_space(ctx)
    if space is None:
        return bodies.v2_named_not_found("space", ctx.params["id"])
    results = []
    for index, perm in enumerate(space.permissions):
        principal_id = perm.principal.id
        if perm.principal.type == "group":
            group = ctx.world.group(principal_id)
            principal_id = group.id if group else principal_id
        results.append({"id": f"{space.id}{index:04d}", "principal": {"type": perm.principal.type, "id": principal_id},
                        "operation": {"key": perm.operation, "targetType": perm.target_type}})
    return v2_page(ctx, results)


async def space_role_mode(ctx: WikiContext) -> web.Response:
    """`{"mode": PRE_ROLES | ROLES_TRANSITION | ROLES}` (confluence-v2 spec; docs/atlassian.md §2.4)."""
    return bodies.json_response({"mode": ctx.world.site.space_role_mode})


async def space_role_assignments(ctx: WikiContext) -> web.Response:
    """Who holds which role in a space: `{principal: {principalType, principalId}, roleId}`, paged like
    every v2 list, filtered by `role-id` and `principal-type` + `principal-id` (the spec wants both)."""
    space = _visible_space(ctx)
    if space is None:
        return bodies.v2_named_not_found("space", ctx.params["id"])
    role_id, kind, who = ctx.query("role-id"), ctx.query("principal-type"), ctx.query("principal-id")
    if (kind is None) != (who is None):
        return bodies.v2_bad_request("principal-type and principal-id go together")
    results = []
    for assignment in space.role_assignments:
        principal_id = assignment.principal_id
        if assignment.principal_type == "GROUP":
            group = ctx.world.group(principal_id)
            principal_id = group.id if group else principal_id
        if (role_id and assignment.role_id != role_id) or (kind and (assignment.principal_type, principal_id) != (
                kind, who)):
            continue
        results.append({"principal": {"principalType": assignment.principal_type, "principalId": principal_id},
                        "roleId": assignment.role_id})
    return v2_page(ctx, results)


async def page_get(ctx: WikiContext) -> web.Response:
    page = ctx.world.page_by_id(ctx.params["id"])
    if page is None or not ctx.world.can_read_page(ctx.viewer, page):
        return bodies.v2_named_not_found("page", ctx.params["id"])
    return bodies.json_response(page_v2(ctx, page))


async def check_access_by_email(ctx: WikiContext) -> web.Response:
    """docs/atlassian.md §8 A6: 1–100 emails → `emailsWithoutAccess`, `invalidEmails` (the documented fields only)."""
    ok, body = await read_json(ctx.request)
    emails = body.get("emails") if ok and isinstance(body, dict) else None
    if not isinstance(emails, list) or not 1 <= len(emails) <= 100 or not all(isinstance(e, str) for e in emails):
        return bodies.v2_bad_request("emails must hold 1 to 100 addresses")
    invalid = [e for e in emails if not _EMAIL.match(e)]
    without = []
    for email in emails:
        if email in invalid:
            continue
        user = ctx.world.user_by_email(email)
        if user is None or not ctx.world.has_confluence_access(user):
            without.append(email)
    return bodies.json_response({"emailsWithoutAccess": without, "invalidEmails": invalid})


async def users_bulk(ctx: WikiContext) -> web.Response:
    """docs/atlassian.md §8 A6: `accountIds` 1–250; unknown ids are left out."""
    ok, body = await read_json(ctx.request)
    ids = body.get("accountIds") if ok and isinstance(body, dict) else None
    if not isinstance(ids, list) or not 1 <= len(ids) <= 250:
        return bodies.v2_bad_request("accountIds must hold 1 to 250 ids")
    users = [u for u in (ctx.world.user_by_id(str(i)) for i in ids) if u is not None]
    return bodies.json_response({"results": [user_v2(u) for u in users], "_links": {"base": ctx.wiki_base}})


async def folder_get(ctx: WikiContext) -> web.Response:
    """The world holds no folders: a folder read is the named 404. The route exists so the gateway's
    scope check (read:folder:confluence) answers as Atlassian does (https://jira.atlassian.com/browse/CONFCLOUD-83234)."""
    return bodies.v2_named_not_found("folder", ctx.params["id"])


_P = r"^/wiki/api/v2"
V2_ROUTES: tuple[WikiRoute, ...] = (
    WikiRoute("v2.spaces", "GET", _P + r"/spaces$", spaces_list, Family.V2),
    WikiRoute("v2.space", "GET", _P + r"/spaces/(?P<id>[^/]+)$", space_get, Family.V2),
    WikiRoute("v2.space.permissions", "GET", _P + r"/spaces/(?P<id>[^/]+)/permissions$", space_permissions,
              Family.V2),
    WikiRoute("v2.space.role-assignments", "GET", _P + r"/spaces/(?P<id>[^/]+)/role-assignments$",
              space_role_assignments, Family.V2),
    WikiRoute("v2.space-role-mode", "GET", _P + r"/space-role-mode$", space_role_mode, Family.V2),
    WikiRoute("v2.page", "GET", _P + r"/pages/(?P<id>[^/]+)$", page_get, Family.V2),
    WikiRoute("v2.folder", "GET", _P + r"/folders/(?P<id>[^/]+)$", folder_get, Family.V2),
    WikiRoute("v2.check-access-by-email", "POST", _P + r"/user/access/check-access-by-email$",
              check_access_by_email, Family.V2, anonymous=False),
    WikiRoute("v2.users-bulk", "POST", _P + r"/users-bulk$", users_bulk, Family.V2, anonymous=False),
)
