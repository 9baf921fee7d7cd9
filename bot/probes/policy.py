"""Policy layer: organization controls that refuse tokens or addresses (FACTS §1.11, §8 A1–A2)."""

from __future__ import annotations

from typing import Any

from bot.atlassian import Auth, Role
from bot.model import CauseCode, Confidence, StepResult
from bot.probes.registry import Need, ProbeContext, probe


@probe("policy.ip_allowlist", title="IP allowlist", needs={Need.ORG_KEY}, after=("inspector.org_key",))
async def policy_ip_allowlist(ctx: ProbeContext) -> StepResult:
    org = ctx.facts["org_id"]
    reply = await ctx.call(Role.API, "GET", f"/admin/v1/orgs/{org}/policies", auth=Auth.ORG_KEY,
                           params={"type": "ip-allowlist"})
    body = reply.json()
    if reply.status != 200 or not isinstance(body, dict):
        return ctx.errored(f"policies answered {reply.status}")
    enabled = [p for p in body.get("data") or [] if _attr(p, "status") == "enabled"
               and _attr(p, "type") == "ip-allowlist"]
    if not enabled:
        return ctx.passed("no IP allowlist is enabled")
    names = ", ".join(str(_attr(p, "name") or p.get("id")) for p in enabled[:3])
    # The bot cannot see the failing caller's address; an enabled list is a possibility, not proof.
    return ctx.warned(
        f"enabled: {names} — callers outside it get 403 'The IP address has been rejected…'",
        ctx.finding(CauseCode.IP_NOT_ALLOWLISTED, Confidence.POSSIBLE,
                    f"An IP allowlist is enabled ({names}); a caller outside it is refused. Compare the "
                    "caller's egress address (for automation rules: Atlassian's ranges) with the list."),
        fix="Compare the caller's egress IP with Atlassian Administration > Security > IP allowlists.",
    )


def _attr(policy: dict[str, Any], key: str) -> Any:
    return (policy.get("attributes") or {}).get(key)


@probe("policy.api_token_access", title="API-token access policy for external users",
       after=("identity.account_type",))
async def policy_api_token_access(ctx: ProbeContext) -> StepResult:
    external = ctx.facts.get("external")
    if external == "no":
        return ctx.passed("managed account: the external-user API-token policy does not apply")
    if external != "yes":
        return ctx.skipped("whether the account is managed is unknown (needs ATLASSIAN_ORG_API_KEY)")
    # §8 A1: the block is not visible through the admin API and its response body is undocumented
    return ctx.warned(
        "external account: a 'Block API token access for external users' policy would refuse its tokens; "
        "the admin API does not expose that setting",
        ctx.finding(CauseCode.API_TOKEN_BLOCKED, Confidence.POSSIBLE,
                    "The account is external to the organization; if Security > User security > External "
                    "users blocks API token access, its tokens are refused."),
        fix="Check Atlassian Administration > Security > User security > External users > API token access.",
    )
