"""The Confluence request pipeline shared by the site and the gateway: route match (404 XML /
405), XSRF filter, the front's authentication, removed endpoints (410), the "Can use" gate, then
the resource handler. The front (site or gateway) supplies only `authenticate`.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from bot.simulator import bodies
from bot.simulator.routes.common import Caller, Role, WikiContext, WikiRoute, admit, refusal
from bot.simulator.routes.wiki_v1 import V1_ROUTES
from bot.simulator.routes.wiki_v2 import V2_ROUTES
from bot.simulator.state import World

ROUTES: tuple[WikiRoute, ...] = V1_ROUTES + V2_ROUTES

Authenticate = Callable[[WikiRoute], Caller | web.Response]

_XSRF_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def find_route(method: str, path: str) -> tuple[WikiRoute, dict[str, str]] | bool:
    """(route, params); False when no route has this path (404); True when only the method
    differs (405)."""
    wanted = "GET" if method == "HEAD" else method
    path_known = False
    for route in ROUTES:
        params = route.match(path)
        if params is None:
            continue
        if route.method == wanted:
            return route, params
        path_known = True
    return path_known


def _xsrf_blocked(request: web.Request) -> bool:
    """docs/atlassian.md §1.12: form and multipart POSTs need `X-Atlassian-Token: no-check`."""
    if request.content_type not in _XSRF_TYPES:
        return False
    return request.headers.get("X-Atlassian-Token", "").strip().lower() != "no-check"


def _removed(world: World, route: WikiRoute, path: str, role: Role) -> bool:
    """A route the world removed, or one of the v1 routes Atlassian removed, reached through the
    gateway (openapi/README.md, docs/atlassian.md §1.15: 410 through OAuth/the gateway, still 200 with Basic on the
    site)."""
    if route.gone_at_gateway and role == "gateway":
        return True
    return any(r.path == path and role in r.roles for r in world.removed_endpoints)


async def serve_wiki(request: web.Request, world: World, role: Role, base_url: str, path: str,
                     authenticate: Authenticate) -> web.Response:
    """Answer one Confluence request; `path` starts at /wiki (the gateway strips its prefix)."""
    found = find_route(request.method, path)
    if found is False:
        return bodies.not_found_xml(str(request.url))  # docs/atlassian.md §0.1 / §1.17; v2 unknown paths too [I]
    if found is True:
        return bodies.method_not_allowed(request.method)  # docs/atlassian.md §0.1
    assert not isinstance(found, bool)
    route, params = found
    if route.xsrf and _xsrf_blocked(request):
        return bodies.raw(bodies.XSRF_FAILED_BODY, status=403, content_type="text/plain")
    outcome = authenticate(route)
    if isinstance(outcome, web.Response):
        return outcome
    if _removed(world, route, path, role):
        # docs/atlassian.md §8 A11: the recorded 410 says authorized:true, so it comes after authentication.
        return bodies.raw(bodies.GONE_410_BODY, status=410)
    allowed, viewer = admit(world, route, outcome)
    if not allowed:
        return refusal(route.family)
    return await route.handler(WikiContext(request, world, role, base_url, params, viewer))
