"""Product layer: does the account hold a Confluence role on this site (FACTS §1.8, §1.9, §8 A5–A6).

Blaming product access needs direct evidence (CAUSES.md rule 1): the admin API's role
assignments, or Confluence's own check-access-by-email answer.
"""

from __future__ import annotations

from typing import Any

from bot.atlassian import Auth, Role
from bot.model import CauseCode, Confidence, StepResult
from bot.probes.registry import Need, ProbeContext, probe

_LICENSED = {"atlassian/user", "atlassian/admin"}
_MAX_PAGES = 5


@probe("product.role", title="Confluence access on this site", needs={Need.ORG_KEY},
       after=("identity.lookup", "site.tenant"))
async def product_role(ctx: ProbeContext) -> StepResult:
    org, account_id = ctx.facts.get("org_id"), ctx.facts["account_id"]
    if not org:
        return ctx.skipped("role assignments need the admin API (ATLASSIAN_ORG_API_KEY)")
    resource = f"ari:cloud:confluence::site/{ctx.facts['cloud_id']}"  # §8 A5c ARI form
    assignments = await _role_assignments(ctx, org, account_id)
    if assignments is None:
        return ctx.errored("role assignments could not be read")
    roles = {a.get("role"): a.get("roleAssignmentMethods") or []
             for entry in assignments if entry.get("resourceId") == resource
             for a in entry.get("roleAssignments") or []}
    licensed = sorted(r for r in roles if r in _LICENSED)
    if licensed:
        how = ", ".join(f"{r} ({'/'.join(roles[r]) or 'direct'})" for r in licensed)
        return ctx.passed(f"Confluence role: {how}")
    if "atlassian/guest" in roles:
        return ctx.failed("Confluence role: atlassian/guest only", ctx.finding(
            CauseCode.GUEST_ACCESS_ONLY, Confidence.CONFIRMED,
            "The admin API shows the account only as a Confluence guest on this site (atlassian/guest): "
            "guests reach one assigned space and nothing else (FACTS §1.9)."))
    others = sorted({r for entry in assignments for a in entry.get("roleAssignments") or []
                     for r in [a.get("role")] if r}) or ["none"]
    return ctx.failed("no Confluence role on this site", ctx.finding(
        CauseCode.NO_CONFLUENCE_ACCESS, Confidence.CONFIRMED,
        f"The admin API lists no Confluence role for the account on {ctx.facts.get('site_name')} "
        f"(its roles elsewhere: {', '.join(others)}); without one, every call gets the headline 403."))


async def _role_assignments(ctx: ProbeContext, org: str, account_id: str) -> list[dict[str, Any]] | None:
    path = f"/admin/v2/orgs/{org}/directories/-/users/{account_id}/role-assignments"
    out: list[dict[str, Any]] = []
    params: dict[str, str] = {}
    for _ in range(_MAX_PAGES):  # links.next is a cursor (§8 A5)
        reply = await ctx.call(Role.API, "GET", path, auth=Auth.ORG_KEY, params=params or None)
        body = reply.json()
        if reply.status != 200 or not isinstance(body, dict):
            return None
        out.extend(body.get("data") or [])
        cursor = (body.get("links") or {}).get("next")
        if not cursor:
            return out
        params = {"cursor": cursor}
    return out


@probe("product.access_by_email", title="Confluence says the account has access", needs={Need.INSPECTOR},
       after=("site.tenant", "inspector.site_login"), wait_for=("identity.lookup",))
async def product_access_by_email(ctx: ProbeContext) -> StepResult:
    if ctx.settings.org_api_key is not None and ctx.facts.get("org_id"):
        return ctx.not_needed("ATLASSIAN_ORG_API_KEY is set and the admin API's role assignments decide")
    email = ctx.facts.get("actor_email") or (ctx.request.actor if "@" in ctx.request.actor else None)
    if not email:
        return ctx.skipped("the actor's email is unknown (give an email address, or set ATLASSIAN_ORG_API_KEY)")
    # §8 A6: experimental v2 route; answers emailsWithoutAccess / invalidEmails
    reply = await ctx.call(Role.SITE, "POST", "/wiki/api/v2/user/access/check-access-by-email",
                           auth=Auth.INSPECTOR, json={"emails": [email]})
    body = reply.json()
    if reply.status in (404, 503):
        meaning = "the bot's account may not check access" if reply.status == 404 else "the API is disabled"
        return ctx.skipped(f"check-access-by-email answered {reply.status}: {meaning} on this site")
    if reply.status != 200 or not isinstance(body, dict):
        return ctx.errored(f"check-access-by-email answered {reply.status}")
    lowered = {e.lower() for e in body.get("emailsWithoutAccess") or []}
    if email in {e.lower() for e in body.get("invalidEmails") or []}:
        return ctx.failed(f"{email} is not a valid account email here", ctx.finding(
            CauseCode.ACTOR_NOT_FOUND, Confidence.LIKELY, f"Confluence lists {email} as an invalid email."))
    if email in lowered:
        # Without the admin API a deactivated or suspended account looks the same here, so `likely`.
        return ctx.failed(f"{email} has no access to Confluence on this site", ctx.finding(
            CauseCode.NO_CONFLUENCE_ACCESS, Confidence.LIKELY,
            f"Confluence's check-access-by-email lists {email} among the emails without access to this site "
            "(a deactivated or suspended account would be listed too: ATLASSIAN_ORG_API_KEY tells them apart)."))
    return ctx.passed(f"{email} has Confluence access")


@probe("product.groups", title="Actor's groups", needs={Need.INSPECTOR},
       after=("identity.lookup", "inspector.site_login"))
async def product_groups(ctx: ProbeContext) -> StepResult:
    account_id = ctx.facts["account_id"]
    # §2.3: v1 memberof — GroupArrayWithLinks
    reply = await ctx.call(Role.SITE, "GET", "/wiki/rest/api/user/memberof", auth=Auth.INSPECTOR,
                           params={"accountId": account_id, "limit": 200})
    body = reply.json()
    if reply.status != 200 or not isinstance(body, dict):
        return ctx.errored(f"memberof answered {reply.status}")
    groups = [g for g in body.get("results") or [] if g.get("name")]
    ctx.facts["group_ids"] = [g.get("id") for g in groups if g.get("id")]
    ctx.facts["group_names"] = [g["name"] for g in groups]
    if not groups:
        return ctx.warned("in no groups: access can only come from direct grants")
    names = ", ".join(g["name"] for g in groups[:8])
    more = f" (+{len(groups) - 8})" if len(groups) > 8 else ""
    return ctx.passed(f"member of {names}{more}")
