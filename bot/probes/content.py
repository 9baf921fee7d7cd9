"""Content layer: space permissions and page restrictions for the actor (FACTS §1.13, §2.3–2.4).

Checked with the bot's own (site admin) login on the actor's behalf, so no actor token is
needed: who may read the space, and `permission/check` for the page.
"""

from __future__ import annotations

from typing import Any

from bot.atlassian import Auth, Role
from bot.model import CauseCode, Confidence, StepResult
from bot.probes.registry import NEED_REASON, Need, ProbeContext, probe
from bot.request import page_id_of, space_key_of

_MAX_PAGES = 5
_WRITES = ("POST", "PUT", "PATCH", "DELETE")


@probe("content.space", title="Actor may use the space", needs={Need.INSPECTOR},
       after=("identity.lookup", "inspector.site_login"), wait_for=("product.groups",))
async def content_space(ctx: ProbeContext) -> StepResult:
    key = space_key_of(ctx.request) or await _space_of_page(ctx)
    if key is None:
        return ctx.skipped(NEED_REASON[Need.SPACE])
    # §2.4: v2 spaces by key gives the numeric id the permissions route needs
    reply = await ctx.call(Role.SITE, "GET", "/wiki/api/v2/spaces", auth=Auth.INSPECTOR, params={"keys": key})
    body = reply.json()
    found = (body.get("results") or []) if reply.status == 200 and isinstance(body, dict) else []
    if not found:
        return ctx.warned(f"space {key} not found by the bot's account ({reply.status}): check the key")
    space = found[0]
    ctx.facts["space_id"] = space["id"]
    ctx.facts["space_permissions_page"] = f"{ctx.settings.site_url}/wiki/spaces/{key}/settings/permissions"
    perms = await _permissions(ctx, space["id"])
    if perms is None:
        return ctx.errored("space permissions could not be read")
    needed = _needed_operations(ctx)
    principals = {ctx.facts["account_id"], *ctx.facts.get("group_ids", [])}
    missing = [op for op in needed if not _granted(perms, principals, op)]
    if "group_ids" not in ctx.facts and missing:
        return ctx.warned(f"no direct grant of {', '.join(missing)} in {key}; group grants could not be "
                          "checked (actor's groups unknown)")
    if missing:
        ctx.facts["space_missing"] = "yes"
        return ctx.failed(f"no {' / '.join(missing)} permission in space {key}", ctx.finding(
            CauseCode.SPACE_PERMISSION_MISSING, Confidence.CONFIRMED,
            f"Space {key} grants {' / '.join(missing)} neither to the account nor to any of its groups.",
            space_permissions_page=ctx.facts["space_permissions_page"]))
    return ctx.passed(f"space {key}: {', '.join(needed)} granted")


async def _space_of_page(ctx: ProbeContext) -> str | None:
    """The space of the page the endpoint names, read as the bot (§2.3 content, expand=space)."""
    page_id = page_id_of(ctx.request)
    if page_id is None:
        return None
    reply = await ctx.call(Role.SITE, "GET", f"/wiki/rest/api/content/{page_id}", auth=Auth.INSPECTOR,
                           params={"expand": "space"})
    body = reply.json()
    space = body.get("space") if reply.status == 200 and isinstance(body, dict) else None
    return space.get("key") if isinstance(space, dict) else None


async def _permissions(ctx: ProbeContext, space_id: str) -> list[dict[str, Any]] | None:
    out: list[dict[str, Any]] = []
    target: str = f"/wiki/api/v2/spaces/{space_id}/permissions"
    for _ in range(_MAX_PAGES):
        reply = await ctx.call(Role.SITE, "GET", target, auth=Auth.INSPECTOR)
        body = reply.json()
        if reply.status != 200 or not isinstance(body, dict):
            return None
        out.extend(body.get("results") or [])
        nxt = (body.get("_links") or {}).get("next")
        if not nxt:
            return out
        target = nxt  # a site-relative link (§2.4)
    return out


def _needed_operations(ctx: ProbeContext) -> list[str]:
    failing = ctx.request.failing
    if failing is not None and failing.method in _WRITES and "/content" in failing.path:
        return ["read", "create"]
    return ["read"]


def _granted(perms: list[dict[str, Any]], principals: set[str], operation: str) -> bool:
    return any((p.get("principal") or {}).get("id") in principals
               and (p.get("operation") or {}).get("key") == operation for p in perms)


@probe("content.page", title="No page restriction blocks the actor", needs={Need.PAGE, Need.INSPECTOR},
       after=("identity.lookup", "inspector.site_login"), wait_for=("content.space",))
async def content_page(ctx: ProbeContext) -> StepResult:
    page_id = page_id_of(ctx.request)
    failing = ctx.request.failing
    operation = "update" if failing is not None and failing.method in ("PUT", "PATCH") else "read"
    # §2.3: read-only permission check for a subject on a content id
    reply = await ctx.call(Role.SITE, "POST", f"/wiki/rest/api/content/{page_id}/permission/check",
                           auth=Auth.INSPECTOR,
                           json={"subject": {"type": "user", "identifier": ctx.facts["account_id"]},
                                 "operation": operation})
    body = reply.json()
    if reply.status == 404:
        return ctx.warned(f"page {page_id} does not exist (or the bot cannot see it)")
    if reply.status != 200 or not isinstance(body, dict) or "hasPermission" not in body:
        return ctx.errored(f"permission check answered {reply.status}")
    if body["hasPermission"]:
        return ctx.passed(f"may {operation} page {page_id}")
    ctx.facts["page_url"] = f"{ctx.settings.site_url}/wiki/pages/viewpage.action?pageId={page_id}"
    if ctx.facts.get("space_missing"):
        return ctx.failed(f"may not {operation} page {page_id} (the space permission is missing first)")
    space_ok = ctx.upstream_ok("content.space") and ctx.results["content.space"].status.value == "pass"
    return ctx.failed(f"may not {operation} page {page_id}", ctx.finding(
        CauseCode.PAGE_RESTRICTED, Confidence.CONFIRMED if space_ok else Confidence.LIKELY,
        f"Confluence's permission check says the account may not {operation} page {page_id}"
        + (" although it may use the space: a page restriction denies it." if space_ok else "."),
        page_url=ctx.facts["page_url"]))
