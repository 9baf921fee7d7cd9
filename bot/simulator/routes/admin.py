"""The admin side of the API listener: organization admin API (`/admin/...`) and the
user-management API (`/users/{account_id}/manage/...`), both behind `Authorization: Bearer
<org API key>` (docs/atlassian.md §2.6, §2.7, §8 A5, §8 A9). Shapes live in `admin_shapes`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.simulator import bodies
from bot.simulator.credentials import AuthKind, parse_authorization
from bot.simulator.routes import admin_shapes as shapes
from bot.simulator.routes import paging
from bot.simulator.routes.common import read_json
from bot.simulator.runtime import RUNTIME
from bot.simulator.state import User, World


@dataclass(frozen=True)
class AdminContext:
    request: web.Request
    world: World
    api_url: str
    params: dict[str, str]


AdminHandler = Callable[[AdminContext], Awaitable[web.Response]]


def _error(status: int, code: str, title: str, detail: str) -> web.Response:
    return bodies.raw(shapes.api_error(status, code, title, detail), status=status)


class AdminApi(Enum):
    """Each admin API answers errors in its own form (openapi/README.md)."""

    ORG_V1 = "org-v1"  # /admin/v1: ProxyError {code, message} for 401/429, ApplicationError lists else
    ORG_V2 = "org-v2"  # /admin/v2: Errors {"errors": [{code, title, …}]} (codes ADMIN-UAM-…)
    USERS = "users"  # /users/{id}/manage: {"key": …}


def _api_of(path: str) -> AdminApi:
    if path.startswith("/users/"):
        return AdminApi.USERS
    return AdminApi.ORG_V1 if path.startswith("/admin/v1/") else AdminApi.ORG_V2


def _unauthenticated(api: AdminApi) -> web.Response:
    # docs/atlassian.md §8 A9: a missing or wrong org key, or a Basic user token [R], is a 401.
    if api is AdminApi.USERS:
        return bodies.raw(shapes.user_management_error("unauthorized"), status=401)
    if api is AdminApi.ORG_V1:
        return bodies.raw(bodies.proxy_error(401, "Unauthorized"), status=401)  # Error.Unauthenticated
    return _error(401, "ADMIN-UAM-401-1", "Unauthenticated",
                  "The request is not authenticated: send a valid organization API key as a Bearer token.")


def _org_not_found(api: AdminApi) -> web.Response:
    if api is AdminApi.ORG_V1:
        return _error(404, "ADMIN-404-2", "Organization not found", "No organization with this id.")
    return _error(404, "ADMIN-UAM-404-2", "Organization not found", "No organization with this id.")  # §8 A9


def _user_not_found(ctx: AdminContext) -> web.Response:
    if _api_of(ctx.request.path) is AdminApi.USERS:
        return bodies.raw(shapes.user_management_error("accountNotFound"), status=404)
    account_id = ctx.params["account"]
    return _error(404, "ADMIN-UAM-404-1", "Unknown Resource", f"No user with account id {account_id}.")


def _cursor_links(current: str | None, next_state: dict[str, Any] | None) -> dict[str, str]:
    """LinkPageCursor (admin spec): cursor strings; a link that does not exist is left out (the
    spec types them as strings, never null)."""
    links = {"self": current} if current else {}
    if next_state is not None:
        links["next"] = paging.encode_cursor(next_state)
    return links


def _bad_cursor(detail: str) -> web.Response:
    return _error(400, "ADMIN-400-1", "Invalid page cursor", detail)  # ApplicationError code list


def _list_param(request: web.Request, name: str) -> list[str]:
    return [v for raw in request.query.getall(name, []) for v in raw.split(",") if v]


# -- org, policies ------------------------------------------------------------------------------

_V1_PAGE = 20  # orgs and policies: the page size is not documented and not settable [I]


def _v1_page(ctx: AdminContext, items: list[Any], url: str) -> dict[str, Any] | web.Response:
    """OrgPage / PolicyPage paging: `cursor` in, `links.next` a URL carrying the next cursor out."""
    cursor = ctx.request.query.get("cursor")
    try:
        offset = paging.decode_cursor(cursor)["offset"] if cursor else 0
    except paging.BadPage as exc:
        return _bad_cursor(str(exc))
    page = paging.window(items, offset, _V1_PAGE)
    joiner = "&" if "?" in url else "?"
    links = {"self": f"{url}{joiner}cursor={cursor}" if cursor else url}
    out: dict[str, Any] = {"data": page.items, "links": links}
    if page.next_offset is not None:
        next_cursor = paging.encode_cursor({"offset": page.next_offset})
        links["next"] = f"{url}{joiner}cursor={next_cursor}"
        out["next_cursor"] = next_cursor
    return out


async def list_orgs(ctx: AdminContext) -> web.Response:
    page = _v1_page(ctx, [shapes.org_json(ctx.world.org, ctx.api_url)], f"{ctx.api_url}/admin/v1/orgs")
    if isinstance(page, web.Response):
        return page
    page.pop("next_cursor", None)
    return bodies.json_response(page)


async def get_org(ctx: AdminContext) -> web.Response:
    return bodies.json_response({"data": shapes.org_json(ctx.world.org, ctx.api_url)})


async def list_policies(ctx: AdminContext) -> web.Response:
    """PolicyPage: `links` are URLs, `meta.next` the bare cursor (admin spec)."""
    wanted = ctx.request.query.get("type")
    data = [shapes.policy_json(ctx.world, p, ctx.api_url) for p in ctx.world.policies
            if wanted is None or p.type == wanted]
    url = f"{ctx.api_url}/admin/v1/orgs/{ctx.world.org.id}/policies" + (f"?type={quote(wanted)}" if wanted else "")
    page = _v1_page(ctx, data, url)
    if isinstance(page, web.Response):
        return page
    next_cursor = page.pop("next_cursor", None)
    page["meta"] = {"next": next_cursor, "page_size": _V1_PAGE}
    return bodies.json_response(page)


async def get_policy(ctx: AdminContext) -> web.Response:
    policy = next((p for p in ctx.world.policies if p.id == ctx.params["policy"]), None)
    if policy is None:
        return _error(404, "ADMIN-404-5", "Policy not found", "No policy with this id.")  # ApplicationError
    return bodies.json_response({"data": shapes.policy_json(ctx.world, policy, ctx.api_url)})


# -- managed accounts (v1) ----------------------------------------------------------------------

_USERS_PAGE = 100  # GET /admin/v1/orgs/{orgId}/users: the page size is not documented and not settable [I]


async def list_org_users(ctx: AdminContext) -> web.Response:
    """UserPage (admin spec `getUsers`): the org's managed accounts, service accounts (`app`)
    included, snake_case; `cursor` in, `links.next` a URL carrying the next cursor out, `meta.total`."""
    managed = [u for u in ctx.world.users if u.claim_status == "managed"]
    url = f"{ctx.api_url}/admin/v1/orgs/{ctx.world.org.id}/users"
    cursor = ctx.request.query.get("cursor")
    try:
        offset = paging.decode_cursor(cursor)["offset"] if cursor else 0
    except paging.BadPage as exc:
        return _bad_cursor(str(exc))
    page = paging.window(managed, offset, _USERS_PAGE)
    links = {"self": f"{url}?cursor={cursor}" if cursor else url}
    if page.next_offset is not None:
        links["next"] = f"{url}?cursor={paging.encode_cursor({'offset': page.next_offset})}"
    data = [shapes.org_user(ctx.world, u, ctx.api_url) for u in page.items]
    return bodies.json_response({"data": data, "links": links, "meta": {"total": len(managed)}})


# -- directory users ----------------------------------------------------------------------------

async def search_users(ctx: AdminContext) -> web.Response:
    """docs/atlassian.md §8 A5a; `searchTerm` with `emails` → 400."""
    ok, body = await read_json(ctx.request)
    if not ok or not isinstance(body, dict | None):
        return _error(400, "ADMIN-UAM-400-1", "Bad Request", "The body must be a JSON object.")  # code [I]
    body = body or {}
    if body.get("searchTerm") and body.get("emails"):
        return _error(400, "ADMIN-UAM-400-1", "Bad Request", "searchTerm and emails cannot be used together.")
    if isinstance(body.get("cursor"), str):
        # "If present, all other parameters are discarded": the cursor carries the query.
        try:
            state = paging.decode_cursor(body["cursor"])
        except paging.BadPage as exc:
            return _error(400, "ADMIN-UAM-400-1", "Bad Request", str(exc))
        body, offset = state.get("query") or {}, state["offset"]
    else:
        offset = 0
    try:
        limit = paging.parse_limit(body.get("limit"), 50, 100)  # MultiDirectoryUserSearchRequest.limit
    except paging.BadPage as exc:
        return _error(400, "ADMIN-UAM-400-1", "Bad Request", str(exc))
    expand = set(body.get("expand") or [])
    users = [u for u in ctx.world.users if _matches(ctx.world, u, body)]
    page = paging.window(users, offset, limit)
    data = [shapes.directory_user(ctx.world, u, expand, ctx.api_url) for u in page.items]
    next_state = None if page.next_offset is None else {"offset": page.next_offset, "query": body}
    return bodies.json_response({"data": data, "links": _cursor_links(None, next_state)})


def _matches(world: World, user: User, body: dict[str, Any]) -> bool:
    emails = {e.casefold() for e in body.get("emails") or []}
    term = str(body.get("searchTerm") or "").casefold()
    roles = set(world.confluence_roles(user)) | set(user.platform_roles)
    checks = [
        in_directory(user),
        not body.get("accountIds") or user.account_id in body["accountIds"],
        not emails or user.email.casefold() in emails,
        not term or term in user.name.casefold() or term in user.email.casefold(),
        not body.get("accountStatus") or user.account_status in body["accountStatus"],
        not body.get("membershipStatus") or user.membership_status in body["membershipStatus"],
        not body.get("status") or user.composite_status in body["status"],
        not body.get("claimStatus") or user.claim_status == body["claimStatus"],
        not body.get("roleIds") or bool(roles & set(body["roleIds"])),
        not body.get("resourceIds")
        or (world.cloud_ari() in body["resourceIds"] and bool(world.confluence_roles(user))),
        not body.get("groupIds") or any(g.id in body["groupIds"] for g in world.groups_of(user)),
        not body.get("emailDomains") or user.email.rsplit("@", 1)[-1].casefold() in
        {d.casefold() for d in body["emailDomains"]},
    ]
    return all(checks)


def in_directory(user: User) -> bool:
    """The admin directory documents `accountType: atlassian` only (openapi/README.md): service
    accounts live in the separate API-access API, so directory search and lookup do not show them
    [I from the spec's enum]."""
    return user.account_type != "app"


async def get_user(ctx: AdminContext) -> web.Response:
    user = ctx.world.user_by_id(ctx.params["account"])
    if user is None or not in_directory(user):
        return _user_not_found(ctx)
    data = shapes.directory_user(ctx.world, user, {"platformRoles"}, ctx.api_url)
    return bodies.json_response({"data": data})


async def get_role_assignments(ctx: AdminContext) -> web.Response:
    """docs/atlassian.md §8 A5c: `limit` default 20, max 100; filters `resourceIds`, `resourceOwners`, `roleIds`,
    `directoryIds`; the cursor carries them all ("if present, all other parameters are discarded")."""
    user = ctx.world.user_by_id(ctx.params["account"])
    if user is None:
        return _user_not_found(ctx)
    cursor = ctx.request.query.get("cursor")
    try:
        if cursor:
            state = paging.decode_cursor(cursor)
            query, offset = state.get("query") or {}, state["offset"]
        else:
            query = {name: _list_param(ctx.request, name)
                     for name in ("resourceIds", "resourceOwners", "roleIds", "directoryIds")}
            query["limit"] = paging.parse_limit(ctx.request.query.get("limit"), 20, 100)
            offset = 0
    except paging.BadPage as exc:
        return _error(400, "ADMIN-UAM-400-1", "Bad Request", str(exc))
    ids, owners, role_ids = query.get("resourceIds"), query.get("resourceOwners"), set(query.get("roleIds") or [])
    data = [a for a in shapes.role_assignments(ctx.world, user)
            if (not ids or a["resourceId"] in ids) and (not owners or a["resourceOwner"] in owners)
            and (not role_ids or role_ids & set(a["roles"]))]
    page = paging.window(data, offset, int(query.get("limit") or 20))
    next_state = None if page.next_offset is None else {"offset": page.next_offset, "query": query}
    return bodies.json_response({"data": page.items, "links": _cursor_links(cursor, next_state)})


# -- user management (managed accounts only, docs/atlassian.md §2.7) ----------------------------------------

def _managed_user(ctx: AdminContext) -> User | web.Response:
    user = ctx.world.user_by_id(ctx.params["account"])
    if user is None:
        return _user_not_found(ctx)
    if user.claim_status != "managed":
        # "Only managed accounts" (docs/atlassian.md §2.7): the spec's 403 "Cannot manage an unverified target account".
        return bodies.raw(shapes.user_management_error("forbidden.targetUnverified"), status=403)
    if user.account_status == "closed":
        # a closed (deleted) account is still listed by the org, but has nothing left to manage [I]
        return _user_not_found(ctx)
    return user


async def list_api_tokens(ctx: AdminContext) -> web.Response:
    user = _managed_user(ctx)
    if isinstance(user, web.Response):
        return user
    return bodies.json_response(shapes.api_tokens_json(user))


async def get_profile(ctx: AdminContext) -> web.Response:
    user = _managed_user(ctx)
    if isinstance(user, web.Response):
        return user
    return bodies.json_response(shapes.profile_json(user))


_ORG = r"^/admin/v1/orgs/(?P<org>[^/]+)"
_DIR = r"^/admin/v2/orgs/(?P<org>[^/]+)/directories/(?P<dir>[^/]+)/users"
ROUTES: tuple[tuple[str, str, AdminHandler], ...] = (
    ("GET", r"^/admin/v1/orgs$", list_orgs),
    ("GET", _ORG + r"$", get_org),
    ("GET", _ORG + r"/policies$", list_policies),
    ("GET", _ORG + r"/users$", list_org_users),
    ("GET", _ORG + r"/policies/(?P<policy>[^/]+)$", get_policy),
    ("POST", _DIR + r"/search$", search_users),
    ("GET", _DIR + r"/(?P<account>[^/]+)$", get_user),
    ("GET", _DIR + r"/(?P<account>[^/]+)/role-assignments$", get_role_assignments),
    ("GET", r"^/users/(?P<account>[^/]+)/manage/api-tokens$", list_api_tokens),
    ("GET", r"^/users/(?P<account>[^/]+)/manage/profile$", get_profile),
)


def _route(method: str, path: str) -> tuple[AdminHandler, dict[str, str]] | web.Response:
    path_known = False
    for route_method, pattern, handler in ROUTES:
        found = re.match(pattern, path)
        if found is None:
            continue
        if route_method == method or (method == "HEAD" and route_method == "GET"):
            return handler, found.groupdict()
        path_known = True
    if path_known:
        return bodies.raw('{"code":405,"message":"Method Not Allowed"}', status=405)  # ProxyError [I]
    return bodies.raw(bodies.GATEWAY_NOT_FOUND_BODY, status=404)


def _scope_error(world: World, params: dict[str, str], api: AdminApi) -> web.Response | None:
    if "org" in params and params["org"] != world.org.id:
        return _org_not_found(api)
    if "dir" in params and params["dir"] not in ("-", world.org.directory_id):
        return _error(404, "ADMIN-UAM-404-1", "Not Found", "No directory with this id.")  # code [I]
    return None


async def handle_admin(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    world = runtime.world
    routed = _route(request.method, request.path)
    if isinstance(routed, web.Response):
        return routed
    presented = parse_authorization(request.headers.get("Authorization"))
    if presented.kind is not AuthKind.BEARER or not presented.bearer or not world.is_org_key(presented.bearer):
        return _unauthenticated(_api_of(request.path))
    handler, params = routed
    failure = _scope_error(world, params, _api_of(request.path))
    if failure is not None:
        return failure
    return await handler(AdminContext(request, world, runtime.api_url, params))
