"""Product layer: does the account hold a Confluence role on this site (docs/atlassian.md §1.8, §1.9, §8 A5–A6).

Blaming product access needs direct evidence (docs/causes.md rule 1): the admin API's role
assignments read to the end, or Confluence's own check-access-by-email answer.
"""

from __future__ import annotations

from bot.atlassian import Auth, Role
from bot.facts import ACCESS, ACTOR, ACTOR_EMAIL, GROUPS, INSPECTOR, ORG, SITE, Access, Groups, Unknown
from bot.model import StepResult
from bot.needs import Need
from bot.observations import AccessByEmail, RoleList
from bot.probes.pages import Paging, read_list
from bot.probes.registry import ProbeContext, probe
from bot.probes.shape import array

_LICENSED = {"atlassian/user", "atlassian/admin"}
ROLE_PAGE_LIMIT = 100  # the role-assignments maximum (admin spec: limit 1–100)
MEMBEROF_LIMIT = 200  # v1 memberof: default and usual system maximum (openapi/README.md)


@probe("product.role", title="Confluence access on this site", needs={Need.ORG_KEY}, build=(ORG, ACTOR, SITE),
       provides=(ACCESS,))
async def product_role(ctx: ProbeContext) -> StepResult:
    org, identity, site = await ctx.require(ORG), await ctx.require(ACTOR), await ctx.require(SITE)
    # §8 A5c: filtered to this site's ARI so roles on other sites cannot crowd it out of the pages read
    listing = await read_list(
        ctx, Role.API, f"/admin/v2/orgs/{org.org_id}/directories/-/users/{identity.account_id}/role-assignments",
        auth=Auth.ORG_KEY, paging=Paging.LINKS_NEXT_CURSOR, items_key="data",
        params={"resourceIds": site.ari, "limit": ROLE_PAGE_LIMIT})
    if listing.failed is not None:
        return ctx.unreadable("the account's role assignments", listing.failed)
    roles: dict[str, list[str]] = {}
    for entry in listing.items:
        if entry.get("resourceId") != site.ari:
            continue
        for assignment in array(entry.get("roleAssignments")):
            if isinstance(assignment, dict) and assignment.get("role"):
                roles[str(assignment["role"])] = [str(m) for m in assignment.get("roleAssignmentMethods") or []]
    licensed = sorted(r for r in roles if r in _LICENSED)
    how = ", ".join(f"{r} ({'/'.join(roles[r]) or 'direct'})" for r in licensed)
    ctx.observe(RoleList(bool(licensed), "atlassian/guest" in roles, how, listing.complete, site.name))
    if licensed:
        ctx.provide(ACCESS, Access(how))
        return ctx.passed(f"Confluence role: {how}")
    cut = "" if listing.complete else f" (the list was not read to its end: {listing.where_stopped})"
    if "atlassian/guest" in roles:
        return ctx.failed(f"Confluence role: atlassian/guest only{cut}")
    return ctx.failed(f"no Confluence role on this site{cut}")


@probe("product.access_by_email", title="Confluence says the account has access", needs={Need.INSPECTOR},
       build=(ORG, ACTOR_EMAIL), judge=(INSPECTOR,))
async def product_access_by_email(ctx: ProbeContext) -> StepResult:
    org = await ctx.fact(ORG)
    if ctx.settings.org_api_key is not None and not isinstance(org, Unknown):
        return ctx.not_needed("ATLASSIAN_ORG_API_KEY is set and the admin API's role assignments decide")
    email = (await ctx.require(ACTOR_EMAIL)).email
    # §8 A6: experimental v2 route; answers emailsWithoutAccess / invalidEmails
    reply = await ctx.call(Role.SITE, "POST", "/wiki/api/v2/user/access/check-access-by-email",
                           auth=Auth.INSPECTOR, json={"emails": [email]})
    body = reply.json()
    if reply.status == 404:
        login = await ctx.fact(INSPECTOR)
        if isinstance(login, Unknown):
            return ctx.skipped("the bot's own login was not accepted, so this answer means nothing")
        return ctx.skipped("check-access-by-email answered 404: the bot's account may not check access on this site")
    if reply.status == 503:
        # §8 A6: 503 is "API is disabled on site"; after retries it may also be an outage: either way unchecked
        return ctx.skipped("check-access-by-email answered 503: the site disabled this API (or is unavailable)")
    if reply.status != 200 or not isinstance(body, dict):
        return ctx.unreadable("check-access-by-email", reply)
    if email in {str(e).lower() for e in body.get("invalidEmails") or []}:
        # openapi/README.md: invalidEmails is a malformed address in the request, not a missing account
        return ctx.warned(f"Confluence calls {email} a malformed email address, so it could not check it")
    if email in {str(e).lower() for e in body.get("emailsWithoutAccess") or []}:
        # Without the admin API a deactivated, suspended or unknown account looks the same here.
        ctx.observe(AccessByEmail(email, has_access=False))
        return ctx.failed(f"{email} has no access to Confluence on this site")
    ctx.observe(AccessByEmail(email, has_access=True))
    return ctx.passed(f"{email} has Confluence access")


@probe("product.groups", title="Actor's groups", needs={Need.INSPECTOR}, build=(ACTOR,), judge=(INSPECTOR,),
       provides=(GROUPS,))
async def product_groups(ctx: ProbeContext) -> StepResult:
    account_id = (await ctx.require(ACTOR)).account_id
    # §2.3: v1 memberof — GroupArrayWithLinks, paged by start/limit
    listing = await read_list(ctx, Role.SITE, "/wiki/rest/api/user/memberof", auth=Auth.INSPECTOR,
                              paging=Paging.START_LIMIT, items_key="results",
                              params={"accountId": account_id, "limit": MEMBEROF_LIMIT})
    if listing.failed is not None:
        return ctx.unreadable("the account's groups", listing.failed)
    groups = [g for g in listing.items if g.get("name")]
    ctx.provide(GROUPS, Groups(frozenset(str(g["id"]) for g in groups if g.get("id")),
                               tuple(str(g["name"]) for g in groups), listing.complete))
    names = ", ".join(str(g["name"]) for g in groups[:8])
    more = f" (+{len(groups) - 8})" if len(groups) > 8 else ""
    if not listing.complete:
        return ctx.warned(f"member of {names}{more} — {listing.where_stopped}")
    if not groups:
        return ctx.warned("in no groups: access can only come from direct grants")
    return ctx.passed(f"member of {names}{more}")
