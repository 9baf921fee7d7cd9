"""Content layer: space permissions and page restrictions for the actor (docs/atlassian.md §1.13, §2.3–2.4).

Checked with the bot's own (site admin) login on the actor's behalf, so no actor token is
needed. The space's permissions are fetched as soon as the space id is known (from the key,
or from the page the endpoint names via v2 `GET /pages/{id}`), while the actor's identity and
groups are still being read; they are only needed to judge the list.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum

from bot.atlassian import Auth, Reply, Role
from bot.facts import ACTOR, GROUPS, INSPECTOR, SPACE, Space, SpaceAccess, Unknown
from bot.model import StepResult
from bot.needs import Need
from bot.observations import Absent, PageCheck, SpaceGrant
from bot.probes.pages import Listing, Paging, read_list
from bot.probes.registry import ProbeContext, probe
from bot.probes.shape import JsonObject, member
from bot.request import page_id_of, space_key_of

PERMISSIONS_LIMIT = 250  # v2 space permissions: maximum page size (default 25)
_WRITES = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class _Located:
    id: str
    key: str | None


@probe("content.space", title="Actor may use the space", needs={Need.INSPECTOR, Need.SPACE},
       judge=(INSPECTOR, ACTOR, GROUPS), provides=(SPACE,))
async def content_space(ctx: ProbeContext) -> StepResult:
    located = await _locate(ctx)
    if isinstance(located, StepResult):
        return located
    listing, key = await asyncio.gather(_permissions(ctx, located.id), _key_of(ctx, located))
    label = key or f"id {located.id}"
    if listing.failed is not None:
        return ctx.unreadable(f"the permissions of space {label}", listing.failed)
    roles = await _space_roles(ctx, located.id, listing.items)  # read before the actor is known, too
    identity = await ctx.require(ACTOR)  # never a content cause for an account that could not be read
    groups = await ctx.fact(GROUPS)
    needed = _needed_operations(ctx)
    principals = {identity.account_id, *(() if isinstance(groups, Unknown) else groups.ids)}
    missing = [op for op in needed if not _granted(listing.items, principals, op)
               and not (roles is not None and roles.grants(listing.items, principals, op))]
    page_link = f"{ctx.settings.site_url}/wiki/spaces/{key}/settings/permissions" if key else None
    if not missing:
        ctx.provide(SPACE, Space(located.id, key or located.id, SpaceAccess.GRANTED))
        ctx.observe(SpaceGrant(label, ()))
        return ctx.passed(f"space {label}: {', '.join(_name(op) for op in needed)} granted")
    what = " / ".join(_name(op) for op in missing)
    if isinstance(groups, Unknown):
        return ctx.warned(f"no direct grant of {what} in {label}; group grants could not be checked "
                          f"({groups.reason})")
    role_doubts = [doubt for op in missing for doubt in _role_doubts(roles, listing.items, op)]
    doubts = _doubts(listing, groups.complete) + list(dict.fromkeys(role_doubts))
    ctx.observe(SpaceGrant(label, tuple(_name(op) for op in missing), tuple(doubts), page_link))
    if doubts:
        return ctx.failed(f"no {what} permission found in space {label} ({'; '.join(doubts)})")
    ctx.provide(SPACE, Space(located.id, key or located.id, SpaceAccess.MISSING))
    return ctx.failed(f"no {what} permission in space {label}")


class RoleMode(StrEnum):
    """`GET /wiki/api/v2/space-role-mode` (confluence-v2 spec): roles grant only once a site uses them."""

    PRE_ROLES = "PRE_ROLES"
    ROLES_TRANSITION = "ROLES_TRANSITION"
    ROLES = "ROLES"


@dataclass(frozen=True)
class _Roles:
    """Space roles as read for this space: the site's mode and who holds which role (None: unreadable)."""

    mode: RoleMode | None
    assignments: Listing | None

    def grants(self, perms: list[JsonObject], principals: set[str], op: Operation) -> bool:
        if self.mode is RoleMode.PRE_ROLES or self.assignments is None or self.assignments.failed is not None:
            return False
        granting = _role_ids(perms, op)
        return any(a.get("roleId") in granting and _principal(a)[0] in ("USER", "GROUP")
                   and _principal(a)[1] in principals for a in self.assignments.items)


async def _space_roles(ctx: ProbeContext, space_id: str, perms: list[JsonObject]) -> _Roles | None:
    """When a role principal holds a grant (space role mode), the site's mode and the space's role
    assignments, read at once; None when no grant goes to a role."""
    if not any(member(p.get("principal")).get("type") == "role" for p in perms):
        return None
    mode_reply, assignments = await asyncio.gather(
        ctx.call(Role.SITE, "GET", "/wiki/api/v2/space-role-mode", auth=Auth.INSPECTOR),
        read_list(ctx, Role.SITE, f"/wiki/api/v2/spaces/{space_id}/role-assignments", auth=Auth.INSPECTOR,
                  paging=Paging.LINKS_NEXT_URL, items_key="results", params={"limit": PERMISSIONS_LIMIT}))
    body = mode_reply.json()
    mode = None
    if mode_reply.status == 200 and isinstance(body, dict) and body.get("mode") in RoleMode.__members__:
        mode = RoleMode(body["mode"])
    return _Roles(mode, assignments)


def _role_ids(perms: list[JsonObject], op: Operation) -> set[str]:
    return {str(member(p.get("principal")).get("id")) for p in perms
            if _matches(p, op) and member(p.get("principal")).get("type") == "role"}


def _principal(assignment: JsonObject) -> tuple[str, str]:
    principal = member(assignment.get("principal"))
    return str(principal.get("principalType")), str(principal.get("principalId"))


def _role_doubts(roles: _Roles | None, perms: list[JsonObject], op: Operation) -> list[str]:
    """Why a grant to a space role may still reach the account (each lowers the finding to `possible`)."""
    granting = _role_ids(perms, op)
    if roles is None or not granting or roles.mode is RoleMode.PRE_ROLES:
        return []
    if roles.mode is None or roles.assignments is None or roles.assignments.failed is not None:
        return [f"{_name(op)} is granted to space roles, and who holds them could not be read"]
    if not roles.assignments.complete:
        return [f"the space's role assignments were not read to their end ({roles.assignments.where_stopped})"]
    classes = sorted({_principal(a)[1] for a in roles.assignments.items
                      if a.get("roleId") in granting and _principal(a)[0] not in ("USER", "GROUP")})
    if classes:
        return [f"{_name(op)} is granted through a space role held by {', '.join(classes)}, which this check "
                "cannot resolve to accounts"]
    return []


async def _locate(ctx: ProbeContext) -> _Located | StepResult:
    """The space id: from the key (v2 spaces?keys=) or from the page (v2 pages/{id} → spaceId)."""
    key = space_key_of(ctx.request)
    if key is not None:
        # §2.4: v2 spaces by key gives the numeric id the permissions route needs
        reply = await ctx.call(Role.SITE, "GET", "/wiki/api/v2/spaces", auth=Auth.INSPECTOR, params={"keys": key})
        body = reply.json()
        if reply.status != 200 or not isinstance(body, dict) or not isinstance(body.get("results"), list):
            return await _not_readable(ctx, f"space {key}", reply)
        found = [s for s in body["results"] if isinstance(s, dict) and s.get("id") and s.get("key") == key]
        if not found:
            return await _absent(ctx, f"space {key} does not exist (or the bot's account cannot see it)",
                                 "Check the space key: it is case-sensitive and shown in the space's URL.")
        return _Located(str(found[0]["id"]), key)
    page_id = page_id_of(ctx.request)
    assert page_id is not None  # Need.SPACE: a space key or a page id
    # openapi/README.md: v2 GET /pages/{id} replaces the removed v1 content/{id}; it carries spaceId
    reply = await ctx.call(Role.SITE, "GET", f"/wiki/api/v2/pages/{page_id}", auth=Auth.INSPECTOR)
    body = reply.json()
    if reply.status == 404:
        return await _absent(ctx, f"page {page_id} does not exist (or the bot's account cannot see it): its space "
                             "is unknown", None, blocks=False)
    space_id = body.get("spaceId") if reply.status == 200 and isinstance(body, dict) else None
    if not space_id:
        return await _not_readable(ctx, f"page {page_id}", reply)
    return _Located(str(space_id), None)


async def _not_readable(ctx: ProbeContext, what: str, reply: Reply) -> StepResult:
    if reply.status in (401, 403, 404):
        login = await ctx.fact(INSPECTOR)
        if isinstance(login, Unknown):
            return ctx.skipped(f"the bot's own login was not accepted, so {what} could not be read")
    return ctx.unreadable(what, reply)


async def _absent(ctx: ProbeContext, summary: str, fix: str | None, *, blocks: bool = True) -> StepResult:
    login = await ctx.fact(INSPECTOR)
    if isinstance(login, Unknown):
        return ctx.skipped(f"the bot's own login was not accepted, so an absence proves nothing ({login.reason})")
    if blocks:
        ctx.observe(Absent(summary, fix))
    return ctx.warned(summary, fix=fix)


async def _key_of(ctx: ProbeContext, located: _Located) -> str | None:
    """The space key for messages and links, read alongside the permissions (never on the critical path)."""
    if located.key is not None:
        return located.key
    reply = await ctx.call(Role.SITE, "GET", "/wiki/api/v2/spaces", auth=Auth.INSPECTOR, params={"ids": located.id})
    body = reply.json()
    found = body.get("results") if reply.status == 200 and isinstance(body, dict) else None
    if isinstance(found, list) and found and isinstance(found[0], dict) and found[0].get("key"):
        return str(found[0]["key"])
    return None


async def _permissions(ctx: ProbeContext, space_id: str) -> Listing:
    # §2.4: the v2 list, 250 a page, following _links.next (a site-relative URL)
    return await read_list(ctx, Role.SITE, f"/wiki/api/v2/spaces/{space_id}/permissions", auth=Auth.INSPECTOR,
                           paging=Paging.LINKS_NEXT_URL, items_key="results", params={"limit": PERMISSIONS_LIMIT})


Operation = tuple[str, str]  # (operation.key, operation.targetType)


def _needed_operations(ctx: ProbeContext) -> list[Operation]:
    failing = ctx.request.failing
    needed: list[Operation] = [("read", "space")]
    if failing is not None and failing.method in _WRITES:
        path = failing.path
        # §2.4: targetType tells what the operation applies to: create on comment is not create on page
        for marker, target in (("comment", "comment"), ("attachment", "attachment"), ("blogpost", "blogpost"),
                               ("/content", "page"), ("/pages", "page")):
            if marker in path:
                needed.append(("create", target))
                break
    return needed


def _name(op: Operation) -> str:
    return op[0] if op[1] == "space" else f"{op[0]} {op[1]}"


def _matches(perm: JsonObject, op: Operation) -> bool:
    operation = perm.get("operation")
    if not isinstance(operation, dict) or operation.get("key") != op[0]:
        return False
    target = operation.get("targetType")
    return target is None or target == op[1]  # no targetType given: do not claim it is missing


def _granted(perms: list[JsonObject], principals: set[str], op: Operation) -> bool:
    return any(_matches(p, op) and member(p.get("principal")).get("id") in principals for p in perms)


def _doubts(listing: Listing, groups_complete: bool) -> list[str]:
    """Why an absence from the list is not proof (each lowers the finding to `possible`)."""
    doubts = []
    if not listing.complete:
        doubts.append(f"the permission list was not read to its end ({listing.where_stopped})")
    if not groups_complete:
        doubts.append("the account's group list was not read to its end")
    return doubts


@probe("content.page", title="No page restriction blocks the actor", needs={Need.PAGE, Need.INSPECTOR},
       build=(ACTOR,), judge=(SPACE, INSPECTOR))
async def content_page(ctx: ProbeContext) -> StepResult:
    page_id = page_id_of(ctx.request)
    failing = ctx.request.failing
    operation = "update" if failing is not None and failing.method in ("PUT", "PATCH") else "read"
    account_id = (await ctx.require(ACTOR)).account_id
    # §2.3: read-only permission check for a subject on a content id
    reply = await ctx.call(Role.SITE, "POST", f"/wiki/rest/api/content/{page_id}/permission/check",
                           auth=Auth.INSPECTOR,
                           json={"subject": {"type": "user", "identifier": account_id}, "operation": operation})
    body = reply.json()
    if reply.status == 404:
        return await _absent(ctx, f"page {page_id} does not exist (or the bot's account cannot see it)",
                             "Check the page id in the failing call.")
    if reply.status != 200 or not isinstance(body, dict) or not isinstance(body.get("hasPermission"), bool):
        return await _not_readable(ctx, "the permission check", reply)
    page_url = f"{ctx.settings.site_url}/wiki/pages/viewpage.action?pageId={page_id}"
    space = await ctx.fact(SPACE)
    granted = None if isinstance(space, Unknown) or space.access is None else space.access is SpaceAccess.GRANTED
    ctx.observe(PageCheck(str(page_id), operation, bool(body["hasPermission"]), granted, page_url))
    if body["hasPermission"]:
        return ctx.passed(f"may {operation} page {page_id}")
    if granted is False:
        return ctx.failed(f"may not {operation} page {page_id} (the space permission is missing first)")
    return ctx.failed(f"may not {operation} page {page_id}")
