"""What the Confluence routes share between the site and the gateway: the route record, the
caller after authentication, the request context, and the "Can use" gate with its refusals.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from aiohttp import web

from bot.simulator import bodies
from bot.simulator.state import Token, User, World, utcnow

Role = Literal["site", "gateway"]


class Family(StrEnum):
    """Which refusal a route gives a caller without "Can use" (docs/atlassian.md §0, §0.1)."""

    V1 = "v1"  # Stackless 403 envelope
    V1_SEARCH = "v1-search"  # "Current user not permitted to use Confluence"
    V2 = "v2"  # bare v2 404


@dataclass(frozen=True)
class Caller:
    """Who the request runs as after authentication. `user` None = anonymous.
    `refused`: a credential was refused outright (Bearer on the site, docs/atlassian.md §0.1), so even an
    anonymous-access site does not serve it the anonymous view."""

    user: User | None = None
    token: Token | None = None
    refused: bool = False


@dataclass
class WikiContext:
    request: web.Request
    world: World
    role: Role
    base_url: str  # site URL, or the gateway's http://host/ex/confluence/<cloudId>
    params: dict[str, str]
    viewer: User | None = None  # after the gate: None = an allowed anonymous visitor

    @property
    def wiki_base(self) -> str:
        return f"{self.base_url}/wiki"

    def query(self, name: str, default: str | None = None) -> str | None:
        return self.request.query.get(name, default)

    def query_list(self, name: str) -> list[str]:
        """Repeated or comma-separated query values."""
        return [v.strip() for raw in self.request.query.getall(name, []) for v in raw.split(",") if v.strip()]

    def expands(self, name: str) -> bool:
        return name in self.query_list("expand")


Handler = Callable[[WikiContext], Awaitable[web.Response]]


@dataclass(frozen=True)
class WikiRoute:
    name: str  # key into the gateway scope table (routes/scopes.py)
    method: str
    pattern: str  # regex over the path below the Confluence root, e.g. ^/wiki/rest/api/space/(?P<key>[^/]+)$
    handler: Handler
    family: Family
    anonymous: bool = True  # an anonymous visitor may use it on an anonymous-access site
    xsrf: bool = False  # form/multipart POST needs X-Atlassian-Token: no-check (docs/atlassian.md §1.12)
    gone_at_gateway: bool = False  # removed from the spec since 2025; 410 through the gateway (docs/atlassian.md §1.15)

    def match(self, path: str) -> dict[str, str] | None:
        found = re.match(self.pattern, path)
        return found.groupdict() if found else None


def refusal(family: Family) -> web.Response:
    """The answer to a caller without "Can use": identical for no credential, a rejected
    credential and a good credential without product access (docs/atlassian.md §0 — the whole point)."""
    if family is Family.V2:
        return bodies.raw(bodies.V2_NOT_FOUND_BODY, status=404)
    if family is Family.V1_SEARCH:
        return bodies.raw(bodies.NOT_PERMITTED_403_BODY, status=403)
    return bodies.raw(bodies.STACKLESS_403_BODY, status=403)


def admit(world: World, route: WikiRoute, caller: Caller) -> tuple[bool, User | None]:
    """(allowed, viewer). A user needs Confluence access (docs/atlassian.md §1.8–§1.10); an anonymous
    caller is allowed only on an anonymous-access site, for routes open to it (docs/atlassian.md §1.17)."""
    if caller.user is not None:
        return world.has_confluence_access(caller.user), caller.user
    allowed = world.site.anonymous_access and route.anonymous and not caller.refused
    return allowed, None


def mark_used(token: Token) -> None:
    """An accepted token's lastAccess moves to now (docs/atlassian.md §2.7 `lastAccess`)."""
    token.last_access = utcnow().strftime("%Y-%m-%dT%H:%M:%S.000Z")


async def read_json(request: web.Request) -> tuple[bool, Any]:
    """(ok, payload) — ok False for a body that is not JSON."""
    text = await request.text()
    try:
        return True, json.loads(text) if text.strip() else None
    except json.JSONDecodeError:
        return False, None
