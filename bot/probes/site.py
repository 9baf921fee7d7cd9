"""Site layer: is the URL an Atlassian Cloud site, and what is its cloudId (FACTS §2.1)."""

from __future__ import annotations

from urllib.parse import urlsplit

from bot.atlassian import Role
from bot.model import CauseCode, Confidence, StepResult
from bot.probes.registry import ProbeContext, probe


@probe("site.tenant", title="Site is an Atlassian Cloud site")
async def site_tenant(ctx: ProbeContext) -> StepResult:
    # GET {site}/_edge/tenant_info needs no auth and answers {"cloudId": ...} (§2.1)
    reply = await ctx.call(Role.SITE, "GET", "/_edge/tenant_info")
    body = reply.json()
    cloud_id = body.get("cloudId") if reply.status == 200 and isinstance(body, dict) else None
    if not cloud_id:
        # §8 A8: an unknown subdomain answers 404 "Site temporarily unavailable"
        return ctx.failed(
            f"{ctx.settings.site_url} gave no cloudId ({reply.status})",
            ctx.finding(CauseCode.SITE_NOT_FOUND, Confidence.CONFIRMED,
                        f"{ctx.settings.site_url}/_edge/tenant_info answered {reply.status} without a cloudId."),
        )
    gateway = f"{ctx.settings.api_url}/ex/confluence/{cloud_id}"
    ctx.facts.update(cloud_id=cloud_id, gateway=gateway,
                     site_name=urlsplit(ctx.settings.site_url or "").hostname or "this site")
    return ctx.passed(f"cloudId {cloud_id}")
