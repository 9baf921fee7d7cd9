"""Identity layer: does the actor exist, is the account active, what kind of account is it.

The actor is resolved once, by `identity.lookup`, into the typed `Identity` fact every later
probe reads. Admin API shapes: docs/atlassian.md §2.6 and §8 A5 (v2 directory users: camelCase, composite
`status`); the directory search returns the status fields, so they are not read twice.
"""

from __future__ import annotations

from bot.atlassian import Auth, Reply, Role
from bot.facts import (
    ACTOR,
    ACTOR_EMAIL,
    ORG,
    SITE,
    AccountType,
    ActorEmail,
    Claim,
    DirectoryState,
    Identity,
    Source,
    Unknown,
    looks_like_service_account,
)
from bot.model import StepResult
from bot.needs import Need
from bot.observations import AccountKind, AccountLookup, AccountState, AccountStatus
from bot.probes.registry import ProbeContext, probe
from bot.probes.shape import JsonObject, text
from bot.probes.target import caller_on_site
from bot.request import is_email


class _Unreadable(Exception):
    def __init__(self, what: str, reply: Reply) -> None:
        super().__init__(what)
        self.what, self.reply = what, reply


@probe("identity.lookup", title="Actor exists", build=(ORG,), provides=(ACTOR, ACTOR_EMAIL))
async def identity_lookup(ctx: ProbeContext) -> StepResult:
    actor = ctx.request.actor
    org = await ctx.fact(ORG)
    try:
        if not isinstance(org, Unknown):
            user = await _directory_user(ctx, org.org_id, actor)
            where = Source.DIRECTORY
            if user is None and not is_email(actor) and ctx.settings.has_inspector:
                # openapi/README.md: the directory documents person accounts only; an app (service)
                # account id is looked up where Confluence itself knows it
                user = await _site_user(ctx, actor)
                where = Source.SITE if user is not None else Source.BOTH
        elif ctx.settings.has_inspector and not is_email(actor):
            user = await _site_user(ctx, actor)
            where = Source.SITE
        elif is_email(actor):
            return ctx.skipped(f"finding an account by email needs the admin API, and {org.reason}")
        else:
            return ctx.skipped(f"ATLASSIAN_EMAIL/ATLASSIAN_API_TOKEN are not set, and {org.reason}")
    except _Unreadable as exc:
        return ctx.unreadable(exc.what, exc.reply)
    if user is None:
        return _not_found(ctx, actor, where)
    identity = _identity(user, where, None if isinstance(org, Unknown) else org.org_id)
    ctx.observe(AccountLookup(actor, True, where, is_email(actor), looks_like_service_account(actor)))
    ctx.provide(ACTOR, identity)
    if identity.email:
        ctx.provide(ACTOR_EMAIL, ActorEmail(identity.email))
    return ctx.passed(f"{identity.name} ({identity.account_id})")


def _not_found(ctx: ProbeContext, actor: str, where: Source) -> StepResult:
    # an account id missing from the directory alone may be a service account's, which it does not list
    ctx.observe(AccountLookup(actor, False, where, is_email(actor), looks_like_service_account(actor)))
    if looks_like_service_account(actor):
        # openapi/README.md: the admin directory documents `accountType: atlassian` only; service
        # accounts are managed through a separate API, so a directory miss proves nothing for them.
        return ctx.warned(f"{actor} is a service-account address, and service accounts are not always listed "
                          f"in {where.value}: its existence could not be checked here")
    return ctx.failed(f"no account {actor} in {where.value}")


def _identity(user: JsonObject, where: Source, org_id: str | None) -> Identity:
    directory = None
    if where is Source.DIRECTORY:
        directory = DirectoryState(text(user.get("accountStatus")), text(user.get("membershipStatus")),
                                   text(user.get("status")), text(user.get("deactivatedOn")))
    email = user.get("email")
    return Identity(
        account_id=str(user["accountId"]),
        email=email.lower() if isinstance(email, str) and email else None,
        name=str(user.get("name") or user.get("displayName") or user.get("publicName") or user["accountId"]),
        account_type=AccountType.parse(user.get("accountType")),
        claim=Claim.parse(user.get("claimStatus")),
        found_in=where,
        directory=directory,
        org_id=org_id,
    )


async def _directory_user(ctx: ProbeContext, org: str, actor: str) -> JsonObject | None:
    if is_email(actor):
        # §8 A5a: the "find a user by email" call; `emails` is an exact match
        reply = await ctx.call(Role.API, "POST", f"/admin/v2/orgs/{org}/directories/-/users/search",
                               auth=Auth.ORG_KEY, json={"emails": [actor], "limit": 10})
        body = reply.json()
        if reply.status != 200 or not isinstance(body, dict) or not isinstance(body.get("data", []), list):
            raise _Unreadable("the directory search", reply)
        matches = [u for u in body.get("data") or []
                   if isinstance(u, dict) and u.get("accountId") and (u.get("email") or "").lower() == actor]
        return matches[0] if matches else None
    reply = await ctx.call(Role.API, "GET", f"/admin/v2/orgs/{org}/directories/-/users/{actor}",
                           auth=Auth.ORG_KEY)
    if reply.status == 404:
        return None
    body = reply.json()
    data = body.get("data") if isinstance(body, dict) else None
    if reply.status != 200 or not isinstance(data, dict) or not data.get("accountId"):
        raise _Unreadable("the directory user", reply)
    return data


async def _site_user(ctx: ProbeContext, account_id: str) -> JsonObject | None:
    # §2.3: v1 GET /wiki/rest/api/user?accountId= — 404 when there is no such user
    reply = await ctx.call(Role.SITE, "GET", "/wiki/rest/api/user", auth=Auth.INSPECTOR,
                           params={"accountId": account_id})
    if reply.status == 404:
        return None
    body = reply.json()
    if reply.status != 200 or not isinstance(body, dict) or not body.get("accountId"):
        raise _Unreadable("the site's user record", reply)
    return body


@probe("identity.account_status", title="Account is active", needs={Need.ORG_KEY}, build=(ACTOR,))
async def identity_account_status(ctx: ProbeContext) -> StepResult:
    identity = await ctx.require(ACTOR)
    data = identity.directory
    if data is None:
        return ctx.skipped("the account was found on the site, not in the organization's directory: its status "
                           "needs the admin API")
    account, membership, status = data.account_status, data.membership_status, data.status
    seen = f"accountStatus={account}, membershipStatus={membership}, status={status}"
    # §1.10: inactive/closed = deactivated; for_deletion = scheduled for deletion
    page = identity.admin_page
    if account in ("inactive", "closed") or status in ("deactivated", "for_deletion"):
        ctx.observe(AccountStatus(AccountState.DEACTIVATED, seen, data.deactivated_on, admin_page=page))
        since = f" since {data.deactivated_on}" if data.deactivated_on else ""
        return ctx.failed(f"deactivated{since} ({seen})")
    if membership in ("suspended", "no_membership") or status in ("suspended", "not_invited"):
        ctx.observe(AccountStatus(AccountState.SUSPENDED, seen, admin_page=page))
        return ctx.failed(f"no active membership ({seen})")
    if account != "active":
        return ctx.errored(f"the directory did not say whether the account is active ({seen})")
    ctx.observe(AccountStatus(AccountState.ACTIVE, seen, admin_page=page))
    return ctx.passed(seen)


@probe("identity.account_type", title="Kind of account", build=(ACTOR,), judge=(SITE,))
async def identity_account_type(ctx: ProbeContext) -> StepResult:
    identity = await ctx.fact(ACTOR)
    if isinstance(identity, Unknown) and looks_like_service_account(ctx.request.actor):
        # The address alone says what kind of account this is (docs/atlassian.md §1.7): the admin directory does
        # not list service accounts (openapi/README.md), so a directory miss must not hide it.
        return await _service_account(ctx)
    if isinstance(identity, Unknown):
        identity = await ctx.require(ACTOR)  # ends the probe as `skip`, with the reason
    managed = {Claim.MANAGED: ", managed by the organization",
               Claim.UNMANAGED: ", external (not managed)"}.get(identity.claim, "")
    if identity.account_type is AccountType.APP or looks_like_service_account(identity.email or ""):
        return await _service_account(ctx)
    ctx.observe(AccountKind(identity.account_type, identity.claim))
    if identity.account_type is AccountType.CUSTOMER:
        return ctx.warned("customer account (service-desk portal only): it cannot use Confluence",
                          fix="Use a licensed Atlassian account for API calls.")
    if identity.account_type is AccountType.PERSON:
        return ctx.passed(f"person (atlassian account{managed})")
    return ctx.skipped("the lookup did not say which kind of account this is")


async def _service_account(ctx: ProbeContext) -> StepResult:
    # §1.7: service accounts only hold scoped tokens, which the site URL never accepts (§1.5)
    ctx.observe(AccountKind(AccountType.APP, Claim.UNKNOWN))
    summary = "service account: only scoped tokens, only through the gateway"
    if ctx.request.actor_secret is not None and ctx.request.actor_secret.is_oauth:
        # its OAuth 2.0 credential is no scoped API token: the oauth steps judge where it was sent
        return ctx.passed("service account, tested with its OAuth 2.0 credential (gateway only)")
    on_site = caller_on_site(ctx.request, ctx.settings)
    if on_site is None:
        return ctx.warned(summary)
    if not on_site:
        return ctx.passed(summary + "; the failing call already uses the gateway")
    return ctx.failed(summary + "; the failing call goes to the site URL")
