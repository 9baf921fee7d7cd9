"""Site layer: is the URL an Atlassian Cloud site, and what is its cloudId (docs/atlassian.md §2.1)."""

from __future__ import annotations

from urllib.parse import urlsplit

from bot.atlassian import Role
from bot.atlassian.limits import cloud_id_of
from bot.config import Settings
from bot.facts import SITE, Site
from bot.model import StepResult
from bot.observations import SiteAnswer, Unreadable
from bot.probes.registry import ProbeContext, probe

# the lifecycle states a Data Center node's /status reports (Atlassian's KB "Jira 'status' endpoint
# response meanings"; Confluence's is the same endpoint, CONFSERVER-102144)
_DC_STATES = ("STARTING", "STOPPING", "FIRST_RUN", "RUNNING", "MAINTENANCE", "ERROR")


@probe("site.tenant", title="Site is an Atlassian Cloud site", provides=(SITE,))
async def site_tenant(ctx: ProbeContext) -> StepResult:
    # GET {site}/_edge/tenant_info needs no auth and answers {"cloudId": ...} (§2.1); the same for every run
    reply = await ctx.call(Role.SITE, "GET", "/_edge/tenant_info", shared=True)
    body = reply.json()
    cloud_id = cloud_id_of(body) if reply.status == 200 else None
    if cloud_id is not None:
        ctx.provide(SITE, site_of(ctx.settings, cloud_id))
        ctx.observe(SiteAnswer(ctx.settings.site_url or "", reply.status, cloud_id))
        return ctx.passed(f"cloudId {cloud_id}")
    if 400 <= reply.status < 500 and reply.status != 429:
        if await _data_center(ctx):
            ctx.observe(SiteAnswer(ctx.settings.site_url or "", reply.status, None, data_center=True))
            return ctx.failed(
                f"{ctx.settings.site_url} is a Confluence Data Center/Server instance ({reply.status} on "
                "/_edge/tenant_info; /status says RUNNING)")
        # §8 A8: an unknown subdomain answers 404 "Site temporarily unavailable". Only a client error
        # says the site is not there; a 5xx or an unreadable 200 says nothing about it.
        ctx.observe(SiteAnswer(ctx.settings.site_url or "", reply.status, None))
        return ctx.failed(f"{ctx.settings.site_url} gave no cloudId ({reply.status})")
    if reply.status == 200 and isinstance(body, dict) and body.get("cloudId"):  # it goes into every gateway URL
        ctx.observe(Unreadable("the site's cloudId"))
        return ctx.errored(f"the site's cloudId could not be read ({reply.status} with a cloudId that is not a "
                           "UUID): not evidence either way")
    return ctx.unreadable("the site's cloudId", reply)


def site_of(settings: Settings, cloud_id: str) -> Site:
    """The site fact for the configured site, once its cloudId is known (read now, or kept)."""
    gateway = f"{settings.api_url}/ex/confluence/{cloud_id}"  # docs/atlassian.md §2.2
    return Site(cloud_id, gateway, urlsplit(settings.site_url or "").hostname or "this site")


async def _data_center(ctx: ProbeContext) -> bool:
    """True when `GET {site}/status` answers a Data Center node's state, e.g. 200 {"state":"RUNNING"}
    (https://jira.atlassian.com/browse/CONFSERVER-102144; asked only when tenant_info gave no cloudId)."""
    reply = await ctx.call(Role.SITE, "GET", "/status", shared=True)
    body = reply.json()
    return reply.status in (200, 500, 503) and isinstance(body, dict) and body.get("state") in _DC_STATES
