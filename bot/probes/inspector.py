"""Bot layer: are confluence-check's own credentials accepted.

A refused bot credential must surface as `inspector_misconfigured` and never be blamed on
the actor (docs/causes.md #2); an answer that is not a refusal (a 5xx, a timeout) proves nothing
about the settings and is reported as such.
"""

from __future__ import annotations

from bot.atlassian import Auth, Role
from bot.atlassian.signatures import Kind, classify
from bot.facts import INSPECTOR, ORG, SITE, InspectorLogin, Org, Unknown
from bot.model import StepResult
from bot.needs import Need
from bot.observations import BotCredential, BotRefused, BotTokenOffByPolicy
from bot.probes.pages import Paging, read_list
from bot.probes.registry import ProbeContext, probe

_REFUSALS = (401, 403)


@probe("inspector.site_login", title="Bot's own Atlassian login works", needs={Need.INSPECTOR},
       judge=(SITE,), provides=(INSPECTOR,))
async def inspector_site_login(ctx: ProbeContext) -> StepResult:
    # §2.3: 200 with type "known" proves the identity; 403 envelope / 200 anonymous / 401 do not
    reply = await ctx.call(Role.SITE, "GET", "/wiki/rest/api/user/current", auth=Auth.INSPECTOR, shared=True)
    body = reply.json() if reply.status == 200 else None
    if isinstance(body, dict) and body.get("type") == "known" and body.get("accountId"):
        ctx.provide(INSPECTOR, InspectorLogin(str(body["accountId"])))
        return ctx.passed(f"signed in as {ctx.settings.email}")
    anonymous = isinstance(body, dict) and body.get("type") == "anonymous"
    if not anonymous and reply.status not in _REFUSALS:
        return ctx.unreadable("the bot's login", reply)
    site = await ctx.fact(SITE)
    if isinstance(site, Unknown):
        # a site that is not (known to be) an Atlassian site refuses everyone: not the bot's fault
        return ctx.skipped(f"the site itself could not be confirmed ({site.reason})")
    sig = classify(reply.status, reply.text)
    if sig.kind is Kind.BASIC_DISABLED:
        return _policy_refuses_the_bot(ctx, reply.status)
    why = "answered as anonymous" if anonymous else f"{reply.status}: {sig.label}"
    if sig.kind is Kind.SCOPED_ON_SITE:
        why += " — the bot's token must be a classic (unscoped) token"
    ctx.observe(BotRefused(BotCredential.SITE_LOGIN, why))
    return ctx.failed(
        f"ATLASSIAN_API_TOKEN for {ctx.settings.email} refused ({why})",
        fix="Set ATLASSIAN_EMAIL/ATLASSIAN_API_TOKEN to a site admin and its classic API token.",
    )


def _policy_refuses_the_bot(ctx: ProbeContext, status: int) -> StepResult:
    """'Basic Authentication has been disabled on this instance.' for the bot's own classic token is an
    authentication policy turning API tokens off (docs/atlassian.md §8 A1), not a wrong setting: a new
    token would be refused the same way. The actor's tokens are refused too if the policy covers it."""
    said = f"{status}: 'Basic Authentication has been disabled on this instance.'"
    ctx.observe(BotTokenOffByPolicy(f"The bot's own account ({ctx.settings.email}) is refused the same way ({said}): "
                                    "allow API tokens for it too, or nothing site-side can be checked."))
    return ctx.failed(f"the bot's API token is refused by policy ({said})",
                      fix="Allow API tokens in the authentication policy that holds the bot's account.")


@probe("inspector.org_key", title="Bot's organization API key works", needs={Need.ORG_KEY}, provides=(ORG,))
async def inspector_org_key(ctx: ProbeContext) -> StepResult:
    # §2.6: GET /admin/v1/orgs lists the orgs the key can administer (links.next pages it)
    listing = await read_list(ctx, Role.API, "/admin/v1/orgs", auth=Auth.ORG_KEY, paging=Paging.LINKS_NEXT_CURSOR,
                              items_key="data", shared=True)
    if listing.failed is not None:
        reply = listing.failed
        if reply.status not in _REFUSALS:
            return ctx.unreadable("the organizations this key administers", reply)
        ctx.observe(BotRefused(BotCredential.ORG_KEY, f"GET /admin/v1/orgs answered {reply.status}"))
        return ctx.failed(
            f"ATLASSIAN_ORG_API_KEY refused ({reply.status})",
            fix="Create an organization API key (admin.atlassian.com > Settings > API keys) without scopes.",
        )
    orgs = [str(o["id"]) for o in listing.items if o.get("id")]
    wanted = ctx.settings.org_id
    if wanted and wanted not in orgs:
        if not listing.complete:
            return ctx.errored(f"ATLASSIAN_ORG_ID {wanted} is not among the first {len(orgs)} organizations "
                               f"({listing.where_stopped})")
        detail = f"ATLASSIAN_ORG_ID {wanted} is not among the {len(orgs)} org(s) this key administers"
        ctx.observe(BotRefused(BotCredential.ORG_ID, detail))
        return ctx.failed(detail)
    if not orgs:
        ctx.observe(BotRefused(BotCredential.ORG_KEY, "the key administers no organization"))
        return ctx.failed("the key administers no organization")
    org = wanted or orgs[0]
    ctx.provide(ORG, Org(org))
    if len(orgs) > 1 and not wanted:
        return ctx.warned(f"{len(orgs)} organizations; using {orgs[0]} (set ATLASSIAN_ORG_ID to choose)")
    return ctx.passed(f"organization {org}")
