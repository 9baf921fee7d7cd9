"""Policy layer: organization controls that refuse tokens or addresses (docs/atlassian.md §1.11, §8 A1–A2)."""

from __future__ import annotations

from bot.atlassian import Auth, Role
from bot.facts import ACTOR, ORG, Claim
from bot.model import StepResult
from bot.needs import Need
from bot.observations import AccountKind, IpAllowlist
from bot.probes.pages import Paging, read_list
from bot.probes.registry import ProbeContext, probe
from bot.probes.shape import JsonObject

EXTERNAL_USERS_PAGE = "admin.atlassian.com > Security > External users"


@probe("policy.ip_allowlist", title="IP allowlist", needs={Need.ORG_KEY}, build=(ORG,))
async def policy_ip_allowlist(ctx: ProbeContext) -> StepResult:
    org = (await ctx.require(ORG)).org_id
    # §2.6 policies, paged by links.next
    listing = await read_list(ctx, Role.API, f"/admin/v1/orgs/{org}/policies", auth=Auth.ORG_KEY,
                              paging=Paging.LINKS_NEXT_CURSOR, items_key="data", params={"type": "ip-allowlist"},
                              shared=True)
    if listing.failed is not None:
        return ctx.unreadable("the organization's policies", listing.failed)
    enabled = [p for p in listing.items if _attr(p, "status") == "enabled" and _attr(p, "type") == "ip-allowlist"]
    ctx.observe(IpAllowlist(tuple(str(_attr(p, "name") or p.get("id")) for p in enabled[:3]), listing.complete))
    if not enabled:
        if not listing.complete:
            return ctx.warned(f"no enabled IP allowlist among the policies read ({listing.where_stopped})")
        return ctx.passed("no IP allowlist is enabled")
    names = ", ".join(str(_attr(p, "name") or p.get("id")) for p in enabled[:3])
    # The bot cannot see the failing caller's address; an enabled list is a possibility, not proof.
    return ctx.warned(
        f"enabled: {names} — callers outside it get 403 'The IP address has been rejected…'",
        fix="Compare the caller's egress IP with Atlassian Administration > Security > IP allowlists.",
    )


def _attr(policy: JsonObject, key: str) -> object:
    attributes = policy.get("attributes")
    return attributes.get(key) if isinstance(attributes, dict) else None


@probe("policy.api_token_access", title="API-token access policy for external users", build=(ACTOR,))
async def policy_api_token_access(ctx: ProbeContext) -> StepResult:
    identity = await ctx.require(ACTOR)
    ctx.observe(AccountKind(identity.account_type, identity.claim))
    if identity.claim is Claim.MANAGED:
        return ctx.passed("managed account: the external-user API-token policy does not apply")
    if identity.claim is not Claim.UNMANAGED:
        return ctx.skipped("whether the organization manages the account is unknown (the admin directory says so; "
                           "needs ATLASSIAN_ORG_API_KEY)")
    # §8 A1: the block is not visible through the admin API and its response body is undocumented
    return ctx.warned(
        "external account: a 'Block API token access for external users' policy would refuse its tokens; "
        "no Atlassian API exposes that setting",
        fix=f"Check {EXTERNAL_USERS_PAGE} > API token access.",
    )
