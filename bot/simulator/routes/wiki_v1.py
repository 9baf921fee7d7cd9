"""Confluence REST v1 (`/wiki/rest/api/...`) as the site and the gateway serve it, after the
"Can use" gate: users, groups, spaces, content, permission check, search (docs/atlassian.md §2.3, §1.13).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.simulator import bodies
from bot.simulator.routes import paging
from bot.simulator.routes.common import Family, WikiContext, WikiRoute, read_json
from bot.simulator.state import DEFAULT_TARGET, Page, Space, User

# docs/atlassian.md §8 A9: the only anonymous user body seen (shape reference).
_ANONYMOUS_PICTURE = {"path": "/images/icons/profilepics/anonymous.svg", "width": 48, "height": 48, "isDefault": True}


# -- shapes -------------------------------------------------------------------------------------

def user_json(ctx: WikiContext, user: User, operations: bool) -> dict[str, Any]:
    """`User` of docs/atlassian.md §2.3 (type known); deactivated people keep resolving with a suffix [R]."""
    suffix = "" if user.active else " (Deactivated)"
    out: dict[str, Any] = {
        "type": "known",
        "accountId": user.account_id,
        "accountType": user.account_type,
        "accountStatus": user.account_status,  # observed on this object by markfluence [R]
        "email": user.email,
        "publicName": user.name,
        "displayName": user.name + suffix,
        "timeZone": "Etc/UTC",
        "profilePicture": {"path": f"/wiki/aa-avatar/{user.account_id}", "width": 48, "height": 48,
                           "isDefault": False},
        "isExternalCollaborator": False,
        "isGuest": ctx.world.is_guest(user),
    }
    if operations:
        out["operations"] = _user_operations(ctx, user)
    else:
        out["_expandable"] = {"operations": "", "personalSpace": ""}
    out["_links"] = {"self": f"{ctx.wiki_base}/rest/api/user?accountId={quote(user.account_id)}",
                     "base": ctx.wiki_base, "context": "/wiki"}
    return out


def _user_operations(ctx: WikiContext, user: User) -> list[dict[str, str]]:
    if not ctx.world.has_confluence_access(user):
        return []
    ops = [{"operation": "use", "targetType": "application"}]  # ≈ "Can use" (docs/atlassian.md §2.3)
    if "atlassian/admin" in ctx.world.confluence_roles(user):
        ops.append({"operation": "administer", "targetType": "application"})
    return ops


def anonymous_json(ctx: WikiContext, operations: bool) -> dict[str, Any]:
    """docs/atlassian.md §8 A9 shape ([I] for Cloud): `type: anonymous` when a credential fell back."""
    out: dict[str, Any] = {"type": "anonymous", "profilePicture": _ANONYMOUS_PICTURE, "displayName": "Anonymous"}
    if operations:
        out["operations"] = [{"operation": "use", "targetType": "application"}]
    out["_links"] = {"self": f"{ctx.wiki_base}/rest/api/user/anonymous", "base": ctx.wiki_base, "context": "/wiki"}
    return out


def space_json(ctx: WikiContext, space: Space, operations: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"id": int(space.id), "key": space.key, "name": space.name, "type": space.type,
                           "status": "current"}
    if operations:
        ops = sorted(ctx.world.space_operations(ctx.viewer, space))
        out["operations"] = [{"operation": op, "targetType": DEFAULT_TARGET[op]} for op in ops]
    else:
        out["_expandable"] = {"operations": "", "permissions": "", "homepage": ""}
    out["_links"] = {"webui": f"/spaces/{space.key}", "self": f"{ctx.wiki_base}/rest/api/space/{space.key}"}
    return out


def content_json(ctx: WikiContext, page: Page) -> dict[str, Any]:
    space = ctx.world.space_by_key(page.space_key)
    assert space is not None
    return {
        "id": page.id, "type": "page", "status": "current", "title": page.title,
        "space": {"id": int(space.id), "key": space.key, "name": space.name, "type": space.type},
        "_links": {"webui": f"/spaces/{space.key}/pages/{page.id}",
                   "self": f"{ctx.wiki_base}/rest/api/content/{page.id}"},
    }


def _paged(ctx: WikiContext, items: list[Any], path: str, default: int = 25, maximum: int = 200) -> dict[str, Any]:
    """v1 `start`/`limit` paging (docs/atlassian.md §2.3): a limit above `maximum` is cut to it (the answer's
    `limit` says so: "may be restricted by fixed system limits"); `_links.next`, relative to
    `/wiki`, when more remains. `path` is the route with its other query parameters."""
    start = _int(ctx.query("start"), 0)
    limit = paging.parse_limit(_int(ctx.query("limit"), default) or default, default, maximum, clamp=True)
    page = paging.window(items, start, limit)
    links = {"base": ctx.wiki_base, "context": "/wiki", "self": f"{ctx.wiki_base}{path}"}
    if page.next_offset is not None and ctx.world.site.v1_next_links:
        joiner = "&" if "?" in path else "?"
        links["next"] = f"{path}{joiner}start={page.next_offset}&limit={limit}"
    return {"results": page.items, "start": start, "limit": limit, "size": len(page.items), "_links": links}


def _int(text: str | None, default: int) -> int:
    try:
        return max(0, int(text)) if text is not None else default
    except ValueError:
        return default


def _content_not_found(page_id: str) -> web.Response:
    return bodies.v1_not_found(f"No content found with id: ContentId{{id={page_id}}}")  # text [I]


# -- handlers -----------------------------------------------------------------------------------

async def user_current(ctx: WikiContext) -> web.Response:
    ops = ctx.expands("operations")
    if ctx.viewer is None:
        return bodies.json_response(anonymous_json(ctx, ops))
    return bodies.json_response(user_json(ctx, ctx.viewer, ops))


async def user_by_account(ctx: WikiContext) -> web.Response:
    account_id = ctx.query("accountId")
    if not account_id:
        return bodies.v1_bad_request("accountId is required")
    user = ctx.world.user_by_id(account_id)
    if user is None:
        return bodies.v1_not_found(f"No user found with accountId: {account_id}")
    return bodies.json_response(user_json(ctx, user, ctx.expands("operations")))


async def user_memberof(ctx: WikiContext) -> web.Response:
    """GroupArrayWithLinks (docs/atlassian.md §2.3). The spec documents only 200 and 403 here, so an unknown
    account is an empty list [I], not a 404."""
    account_id = ctx.query("accountId") or ""
    user = ctx.world.user_by_id(account_id)
    groups = [{"type": "group", "name": g.name, "id": g.id,
               "_links": {"self": f"{ctx.wiki_base}/rest/api/group/by-id?id={g.id}"}}
              for g in (ctx.world.groups_of(user) if user else [])]
    # docs/atlassian.md §2.3: memberof pages by start/limit, default 200
    out = _paged(ctx, groups, f"/rest/api/user/memberof?accountId={quote(account_id)}", default=200)
    out["totalSize"] = len(groups)
    return bodies.json_response(out)


async def space_get(ctx: WikiContext) -> web.Response:
    """404 for a missing space and for one the caller may not view alike (docs/atlassian.md §1.13 [D])."""
    space = ctx.world.space_by_key(ctx.params["key"])
    if space is None or not ctx.world.can_view_space(ctx.viewer, space):
        return bodies.v1_not_found(f"No space with key : {ctx.params['key']}")  # text [I]
    return bodies.json_response(space_json(ctx, space, ctx.expands("operations")))


async def space_list(ctx: WikiContext) -> web.Response:
    wanted = {k.casefold() for k in ctx.query_list("spaceKey")}
    spaces = [s for s in ctx.world.spaces
              if ctx.world.can_view_space(ctx.viewer, s) and (not wanted or s.key.casefold() in wanted)]
    ops = ctx.expands("operations")
    return bodies.json_response(_paged(ctx, [space_json(ctx, s, ops) for s in spaces], "/rest/api/space"))


async def content_get(ctx: WikiContext) -> web.Response:
    page = ctx.world.page_by_id(ctx.params["id"])
    if page is None or not ctx.world.can_read_page(ctx.viewer, page):
        return _content_not_found(ctx.params["id"])
    return bodies.json_response(content_json(ctx, page))


async def content_list(ctx: WikiContext) -> web.Response:
    keys = {k.casefold() for k in ctx.query_list("spaceKey")}
    title = ctx.query("title")
    pages = [p for p in ctx.world.pages if ctx.world.can_read_page(ctx.viewer, p)
             and (not keys or p.space_key.casefold() in keys) and (title is None or p.title == title)]
    return bodies.json_response(_paged(ctx, [content_json(ctx, p) for p in pages], "/rest/api/content"))


async def content_create(ctx: WikiContext) -> web.Response:
    """Create a page; without the space's create permission → PermissionException (docs/atlassian.md §1.13)."""
    if not ctx.request.content_type.startswith("application/json"):
        return bodies.raw("Unsupported Media Type", status=415, content_type="text/plain")
    ok, body = await read_json(ctx.request)
    key = (body or {}).get("space", {}).get("key") if ok and isinstance(body, dict) else None
    if not key or not isinstance(body.get("title"), str):
        return bodies.v1_bad_request("A page needs a title and space.key")
    space = ctx.world.space_by_key(key)
    if space is None or "create" not in ctx.world.space_operations(ctx.viewer, space):
        return bodies.raw(bodies.PERMISSION_EXCEPTION_CREATE_BODY, status=403)
    new_id = str(max([int(p.id) for p in ctx.world.pages if p.id.isdigit()] + [65536]) + 1)
    page = Page(id=new_id, space_key=space.key, title=body["title"])
    ctx.world.pages.append(page)
    return bodies.json_response(content_json(ctx, page))


async def permission_check(ctx: WikiContext) -> web.Response:
    """`{"hasPermission": bool, "errors": [Message]}`; Message = {translation, args} [I] (docs/atlassian.md §2.3)."""
    page = ctx.world.page_by_id(ctx.params["id"])
    if page is None or not ctx.world.can_read_page(ctx.viewer, page):
        return _content_not_found(ctx.params["id"])
    ok, body = await read_json(ctx.request)
    subject = body.get("subject") if ok and isinstance(body, dict) else None
    operation = body.get("operation") if isinstance(body, dict) else None
    if not isinstance(subject, dict) or operation not in ("read", "update", "delete"):
        return bodies.v1_bad_request("subject and operation (read, update, delete) are required")
    allowed, errors = _subject_may(ctx, subject, operation, page)
    return bodies.json_response({"hasPermission": allowed, "errors": [{"translation": e, "args": []} for e in errors]})


def _subject_may(ctx: WikiContext, subject: dict[str, Any], operation: str, page: Page) -> tuple[bool, list[str]]:
    world, ident = ctx.world, str(subject.get("identifier", ""))
    space = world.space_by_key(page.space_key)
    assert space is not None
    needed = {"read": "read", "update": "create", "delete": "delete"}[operation]
    if subject.get("type") == "group":
        group = world.group(ident)
        if group is None:
            return False, [f"No group found with name: {ident}"]
        granted = {p.operation for p in space.permissions if p.principal.type == "group"
                   and p.principal.id in (group.id, group.name) and p.grants_operation}
        return needed in granted and page.restricted_to is None, []
    user = world.user_by_id(ident)
    if user is None:
        return False, [f"No user found with accountId: {ident}"]
    if not world.has_confluence_access(user):
        return False, ["User is not permitted to use Confluence"]  # wording [I]
    ops = world.space_operations(user, space)
    restricted = page.restricted_to is not None and user.account_id not in page.restricted_to
    return needed in ops and "read" in ops and not restricted, []


async def search(ctx: WikiContext) -> web.Response:
    """CQL search over visible pages; understands `space = KEY` and `title ~ "text"` only."""
    cql = ctx.query("cql")
    if not cql:
        return bodies.v1_bad_request("cql is required")
    pages = [p for p in ctx.world.pages if ctx.world.can_read_page(ctx.viewer, p) and _cql_matches(cql, p)]
    results = [{"content": content_json(ctx, p), "title": p.title, "excerpt": "",
                "url": f"/spaces/{p.space_key}/pages/{p.id}", "entityType": "content"} for p in pages]
    out = _paged(ctx, results, f"/rest/api/search?cql={quote(cql)}")
    out.update({"totalSize": len(results), "cqlQuery": cql, "searchDuration": 12})
    return bodies.json_response(out)


def _cql_matches(cql: str, page: Page) -> bool:
    space = re.search(r"space(?:\.key)?\s*=\s*\"?([A-Za-z0-9~_-]+)\"?", cql)
    title = re.search(r"title\s*~\s*\"([^\"]*)\"", cql)
    if space and space.group(1).casefold() != page.space_key.casefold():
        return False
    return not (title and title.group(1).casefold() not in page.title.casefold())


async def group_member_gone(ctx: WikiContext) -> web.Response:
    """Removed from Confluence Cloud: the group member listing answers GoneException on the site too
    (https://github.com/atlassian-api/atlassian-python-api/pull/1594, Oct 2025)."""
    return bodies.raw(bodies.GONE_410_BODY, status=410)


_P = r"^/wiki/rest/api"
V1_ROUTES: tuple[WikiRoute, ...] = (
    WikiRoute("v1.user.current", "GET", _P + r"/user/current$", user_current, Family.V1),
    WikiRoute("v1.user", "GET", _P + r"/user$", user_by_account, Family.V1, anonymous=False),
    WikiRoute("v1.user.memberof", "GET", _P + r"/user/memberof$", user_memberof, Family.V1, anonymous=False),
    # openapi/README.md: deprecated in 2024, gone from the spec since 2025-08; 410 at the gateway
    WikiRoute("v1.space", "GET", _P + r"/space/(?P<key>[^/]+)$", space_get, Family.V1, gone_at_gateway=True),
    WikiRoute("v1.spaces", "GET", _P + r"/space$", space_list, Family.V1, gone_at_gateway=True),
    WikiRoute("v1.content", "GET", _P + r"/content/(?P<id>[^/]+)$", content_get, Family.V1, gone_at_gateway=True),
    WikiRoute("v1.content.list", "GET", _P + r"/content$", content_list, Family.V1_SEARCH),
    WikiRoute("v1.content.create", "POST", _P + r"/content$", content_create, Family.V1, xsrf=True),
    WikiRoute("v1.content.permission", "POST", _P + r"/content/(?P<id>[^/]+)/permission/check$",
              permission_check, Family.V1, anonymous=False),
    WikiRoute("v1.search", "GET", _P + r"/search$", search, Family.V1_SEARCH),
    WikiRoute("v1.group.member", "GET", _P + r"/group/(?P<name>[^/]+)/member$", group_member_gone, Family.V1),
)
