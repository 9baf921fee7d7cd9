"""Identity layer: does the actor exist, is the account active, what kind of account is it.

Admin API shapes: FACTS §2.6 and §8 A5 (v2 directory users: camelCase, composite `status`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from bot.atlassian import Auth, Role
from bot.model import CauseCode, Confidence, StepResult
from bot.probes.registry import Need, ProbeContext, probe
from bot.request import is_email


@probe("identity.lookup", title="Actor exists", wait_for=("inspector.org_key",))
async def identity_lookup(ctx: ProbeContext) -> StepResult:
    actor = ctx.request.actor
    if ctx.facts.get("org_id"):
        user = await _directory_user(ctx, actor)
        where = "the organization's directory"
    elif ctx.settings.has_inspector and not is_email(actor):
        user = await _site_user(ctx, actor)
        where = "this site"
    elif is_email(actor):
        return ctx.skipped("finding an account by email needs the admin API: ATLASSIAN_ORG_API_KEY is not "
                           "set (or was refused)")
    else:
        return ctx.skipped("ATLASSIAN_ORG_API_KEY and ATLASSIAN_EMAIL/ATLASSIAN_API_TOKEN are not set")
    if user is None:
        return ctx.failed(f"no account {actor} in {where}", ctx.finding(
            CauseCode.ACTOR_NOT_FOUND, Confidence.CONFIRMED, f"{where.capitalize()} has no account {actor}."))
    ctx.facts["user"] = user
    ctx.facts["account_id"] = user["accountId"]
    if user.get("email"):
        ctx.facts["actor_email"] = user["email"].lower()
        if ctx.http.actor_email is None:
            ctx.http.set_actor_email(user["email"].lower())
    if ctx.facts.get("org_id"):
        ctx.facts["admin_user_page"] = (
            f"https://admin.atlassian.com/o/{ctx.facts['org_id']}/users/{user['accountId']}")
    return ctx.passed(f"{user.get('name') or user.get('displayName') or actor} ({user['accountId']})")


async def _directory_user(ctx: ProbeContext, actor: str) -> dict[str, Any] | None:
    org = ctx.facts["org_id"]
    if is_email(actor):
        # §8 A5a: the "find a user by email" call; `emails` is an exact match
        reply = await ctx.call(Role.API, "POST", f"/admin/v2/orgs/{org}/directories/-/users/search",
                               auth=Auth.ORG_KEY, json={"emails": [actor], "limit": 10})
        body = reply.json()
        if reply.status != 200 or not isinstance(body, dict):
            raise LookupError(f"directory search answered {reply.status}")
        matches = [u for u in body.get("data") or [] if (u.get("email") or "").lower() == actor]
        return matches[0] if matches else None
    reply = await ctx.call(Role.API, "GET", f"/admin/v2/orgs/{org}/directories/-/users/{actor}",
                           auth=Auth.ORG_KEY)
    if reply.status == 404:
        return None
    body = reply.json()
    if reply.status != 200 or not isinstance(body, dict):
        raise LookupError(f"directory user answered {reply.status}")
    return body.get("data")


async def _site_user(ctx: ProbeContext, account_id: str) -> dict[str, Any] | None:
    # §2.3: v1 GET /wiki/rest/api/user?accountId= — 404 when there is no such user
    reply = await ctx.call(Role.SITE, "GET", "/wiki/rest/api/user", auth=Auth.INSPECTOR,
                           params={"accountId": account_id})
    if reply.status == 404:
        return None
    body = reply.json()
    if reply.status != 200 or not isinstance(body, dict):
        raise LookupError(f"user lookup answered {reply.status}")
    return body


@probe("identity.account_status", title="Account is active", needs={Need.ORG_KEY},
       after=("identity.lookup",))
async def identity_account_status(ctx: ProbeContext) -> StepResult:
    org, account_id = ctx.facts.get("org_id"), ctx.facts["account_id"]
    if not org:
        return ctx.skipped("account status needs the admin API (ATLASSIAN_ORG_API_KEY)")
    reply = await ctx.call(Role.API, "GET", f"/admin/v2/orgs/{org}/directories/-/users/{account_id}",
                           auth=Auth.ORG_KEY)
    body = reply.json()
    data = body.get("data") if isinstance(body, dict) else None
    if reply.status != 200 or not isinstance(data, dict):
        return ctx.errored(f"directory user answered {reply.status}")
    ctx.facts["user"] = {**ctx.facts.get("user", {}), **data}
    account, membership, status = data.get("accountStatus"), data.get("membershipStatus"), data.get("status")
    seen = f"accountStatus={account}, membershipStatus={membership}, status={status}"
    # §1.10: inactive/closed = deactivated; for_deletion = scheduled for deletion
    if account in ("inactive", "closed") or status in ("deactivated", "for_deletion"):
        since = f" since {data['deactivatedOn']}" if data.get("deactivatedOn") else ""
        return ctx.failed(f"deactivated{since} ({seen})", ctx.finding(
            CauseCode.ACCOUNT_DEACTIVATED, Confidence.CONFIRMED,
            f"The admin API reports the account as {account}{since} ({seen}); its tokens stop working."))
    if membership in ("suspended", "no_membership") or status in ("suspended", "not_invited"):
        return ctx.failed(f"no active membership ({seen})", ctx.finding(
            CauseCode.ACCOUNT_SUSPENDED, Confidence.CONFIRMED,
            f"The account is active but its directory membership is {membership} ({seen})."))
    return ctx.passed(seen)


@probe("identity.account_type", title="Kind of account", after=("identity.lookup",))
async def identity_account_type(ctx: ProbeContext) -> StepResult:
    user = ctx.facts.get("user") or {}
    kind = user.get("accountType")
    claim = user.get("claimStatus")
    ctx.facts["external"] = "yes" if claim == "unmanaged" else "no" if claim == "managed" else ""
    managed = {"managed": ", managed by the organization", "unmanaged": ", external (not managed)"}.get(claim, "")
    if kind == "app":
        return _service_account(ctx)
    if kind == "customer":
        return ctx.warned("customer account (service-desk portal only): it cannot use Confluence",
                          fix="Use a licensed Atlassian account for API calls.")
    if kind == "atlassian":
        return ctx.passed(f"person (atlassian account{managed})")
    return ctx.skipped(f"the lookup did not say which kind of account this is ({kind or 'no accountType'})")


def _service_account(ctx: ProbeContext) -> StepResult:
    # §1.7: service accounts only hold scoped tokens, which the site URL never accepts (§1.5)
    failing = ctx.request.failing
    gateway = ctx.facts.get("gateway")
    summary = "service account (accountType app): only scoped tokens, only through the gateway"
    if failing is None:
        return ctx.warned(summary, ctx.finding(
            CauseCode.SCOPED_TOKEN_SITE_URL, Confidence.POSSIBLE,
            "A service account's tokens are all scoped: if the caller uses the site URL, it can never work."))
    if urlsplit(failing.url).netloc == urlsplit(ctx.settings.site_url or "").netloc:
        facts = {"gateway_url": f"{gateway}{failing.path}"} if gateway else {}
        return ctx.failed(summary + "; the failing call goes to the site URL", ctx.finding(
            CauseCode.SCOPED_TOKEN_SITE_URL, Confidence.CONFIRMED,
            f"{ctx.request.actor} is a service account (its tokens are always scoped) and the failing call "
            f"goes to the site URL {failing.describe()}, which never accepts scoped tokens (FACTS §1.5, §1.7).",
            **facts))
    return ctx.passed(summary + "; the failing call already uses the gateway")
