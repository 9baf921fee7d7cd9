"""Platform layer: is Atlassian having an incident on Confluence (Statuspage, docs/atlassian.md §2.8)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.atlassian import Role
from bot.model import StepResult
from bot.observations import StatusPage
from bot.probes.registry import ProbeContext, probe
from bot.probes.shape import JsonObject

_OPEN = {"investigating", "identified", "monitoring"}


@probe("platform.status", title="Atlassian status page")
async def platform_status(ctx: ProbeContext) -> StepResult:
    # No credential ever goes to the status host (docs/architecture.md §Security): Auth.NONE.
    reply = await ctx.call(Role.STATUS, "GET", "/api/v2/summary.json", shared=True)
    body = reply.json()
    if reply.status != 200 or not isinstance(body, dict):
        return ctx.unreadable("the status page", reply)
    incidents = [i for i in body.get("incidents") or [] if isinstance(i, dict) and i.get("status") in _OPEN]
    degraded = [c.get("name", "?") for c in body.get("components") or []
                if isinstance(c, dict) and c.get("status") not in (None, "operational")]
    if not incidents and not degraded:
        ctx.observe(StatusPage(incident=False, degraded=False, summary="All Systems Operational"))
        return ctx.passed((body.get("status") or {}).get("description") or "All Systems Operational")
    summary = _describe(incidents, degraded)
    url = (incidents[0].get("shortlink") or ctx.settings.status_url) if incidents else None
    ctx.observe(StatusPage(incident=bool(incidents), degraded=bool(degraded), summary=summary, url=url))
    status = ctx.request.observed_status
    # Only 5xx/timeouts are blamed on an incident (docs/causes.md #3); a 401/403 is not an outage symptom.
    if incidents and status is not None and status >= 500:
        return ctx.failed(summary)
    return ctx.warned(f"{summary} (the reported failure does not look like an outage symptom)")


def _describe(incidents: Sequence[JsonObject], degraded: list[str]) -> str:
    if incidents:
        first = incidents[0]
        more = f" (+{len(incidents) - 1} more)" if len(incidents) > 1 else ""
        return f"incident: {first.get('name', '?')} [{first.get('impact', '?')}, {first.get('status')}]{more}"
    return f"degraded: {', '.join(degraded[:4])}"
