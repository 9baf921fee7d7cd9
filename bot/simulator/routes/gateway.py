"""The Confluence gateway on the API listener: `/ex/confluence/{cloudId}/wiki/...`. It accepts
classic and scoped tokens (docs/atlassian.md §1.5, §2.2) and OAuth 2.0 access tokens as Bearer, checks scopes
(§1.6; an OAuth token against the operation's scopes in Atlassian's OpenAPI files), answers its own
`{code, message}` errors (§8 A8 [I]) and then serves the same resources as the site.
"""

from __future__ import annotations

import re

from aiohttp import web

from bot.openapi.scopes import scopes_for
from bot.simulator import bodies
from bot.simulator.credentials import (
    AuthKind,
    Presented,
    blocked_external,
    match_basic,
    parse_authorization,
    service_account_bearer,
)
from bot.simulator.routes.common import Caller, WikiRoute, mark_used
from bot.simulator.routes.confluence import serve_wiki
from bot.simulator.routes.oauth import bearer_token, known_bearer
from bot.simulator.routes.scopes import scope_allows
from bot.simulator.runtime import RUNTIME
from bot.simulator.state import World, utcnow

PREFIX = "/ex/confluence/"
_PATH = re.compile(r"^/ex/confluence/(?P<cloud>[^/]+)(?P<rest>/.*)?$")


def _unauthorized() -> web.Response:
    return bodies.raw(bodies.GATEWAY_UNAUTHORIZED_BODY, status=401)  # docs/atlassian.md §8 A8 [I]


def _scope_mismatch() -> web.Response:
    # docs/atlassian.md §0.1 / §1.6 [R]: body plus x-failure-category.
    return bodies.raw(bodies.SCOPE_MISMATCH_BODY, status=401,
                      headers={"x-failure-category": bodies.SCOPE_FAILURE_CATEGORY})


def _oauth_caller(world: World, presented: Presented, route: WikiRoute, method: str,
                  path: str) -> Caller | web.Response:
    """An OAuth access token: expired, for other sites only, or of an inactive account → 401 (the
    gateway's envelope [I]); a scope the operation needs is missing → the scope 401 (§1.6)."""
    token = bearer_token(world, presented)
    if token is None or not token.reaches(world.site.cloud_id, world.site.cloud_id):
        return _unauthorized()
    user = world.user_by_id(token.account_id)
    if user is None or not user.active:
        return _unauthorized()
    needed = scopes_for(method, "/" + path.lstrip("/"))
    allowed = needed.allows(token.scopes) if needed is not None else scope_allows(route.name, token.scopes)
    if not allowed:
        return _scope_mismatch()
    return Caller(user=user)


def authenticate_gateway(world: World, presented: Presented, route: WikiRoute, method: str = "GET",
                         path: str = "") -> Caller | web.Response:
    """No anonymous access at the gateway; passwords, org keys, unknown, expired or revoked
    tokens and inactive owners are all a 401 (docs/atlassian.md §1.10: deactivated → 401)."""
    if known_bearer(world, presented):
        return _oauth_caller(world, presented, route, method, path)
    found = service_account_bearer(world, presented)
    if found is None:
        match = match_basic(world, presented)
        if match.user is None or match.token is None:
            return _unauthorized()
        found = (match.user, match.token)
    user, token = found
    if not token.usable(utcnow()) or not user.active:
        return _unauthorized()
    if presented.kind is AuthKind.BASIC and (blocked_external(world, user) or world.api_tokens_off(user)):
        # The policy blocks the token wherever it is used; same body as the site (docs/atlassian.md §8 A1 [I]).
        return bodies.raw(bodies.BASIC_AUTH_DISABLED_BODY, status=403)
    if token.kind == "scoped" and not scope_allows(route.name, token.scopes):
        return _scope_mismatch()
    mark_used(token)
    return Caller(user=user, token=token)


async def handle_gateway(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    world = runtime.world
    found = _PATH.match(request.path)
    if found is None or found["cloud"] != world.site.cloud_id or not world.site.exists:
        return bodies.raw(bodies.GATEWAY_NOT_FOUND_BODY, status=404)  # unknown cloudId, docs/atlassian.md §8 A8 [I]
    if world.ip_blocked(request.remote):
        # docs/atlassian.md §8 A2: not stated for the gateway; "lean filtered too" [I].
        return bodies.raw(bodies.IP_REJECTED_BODY, status=403)
    presented = parse_authorization(request.headers.get("Authorization"))
    base = f"{runtime.api_url}{PREFIX}{world.site.cloud_id}"

    def authenticate(route: WikiRoute) -> Caller | web.Response:
        return authenticate_gateway(world, presented, route, request.method, found["rest"] or "/")

    return await serve_wiki(request, world, "gateway", base, found["rest"] or "/", authenticate)
