"""Credential layer (admin view): the actor's API tokens — expiry and last use (docs/atlassian.md §1.1, §2.7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.atlassian import Auth, Role
from bot.facts import ACTOR, TOKENS, Tokens
from bot.model import StepResult, utcnow
from bot.needs import Need
from bot.observations import TokenList
from bot.probes.registry import ProbeContext, probe

OWN_USE_LEEWAY = timedelta(seconds=5)


@probe("credential.api_tokens", title="Actor's API tokens", needs={Need.ORG_KEY}, build=(ACTOR,),
       provides=(TOKENS,))
async def credential_api_tokens(ctx: ProbeContext) -> StepResult:
    if ctx.request.actor_secret is not None and ctx.request.actor_secret.is_oauth:
        # an OAuth credential is no API token: the account's API tokens say nothing about it
        return ctx.not_needed("the credential is OAuth 2.0, not an API token")
    account_id = (await ctx.require(ACTOR)).account_id
    reply = await ctx.call(Role.API, "GET", f"/users/{account_id}/manage/api-tokens", auth=Auth.ORG_KEY)
    if reply.status in (403, 404):
        # Only managed accounts' tokens are visible to the organization (§3 caveats)
        return ctx.skipped(f"the organization cannot list this account's tokens ({reply.status}: only "
                           "managed accounts' tokens are visible)")
    tokens = reply.json()
    if reply.status != 200 or not isinstance(tokens, list) or not all(isinstance(t, dict) for t in tokens):
        return ctx.unreadable("the token list", reply)
    now = utcnow()
    live = [t for t in tokens if not _expired(t, now)]
    ours = ctx.http.actor_first_use
    callers = [t for t in live if t.get("lastAccess") and not _ours(str(t["lastAccess"]), ours)]
    ctx.provide(TOKENS, Tokens(valid=len(live), never_used=bool(live) and not callers))
    labels = ", ".join(f"'{t.get('label', t.get('id', '?'))}' (created {str(t.get('createdAt', '?'))[:10]})"
                       for t in live[:3])
    last = max((str(t["lastAccess"]) for t in callers), default=None)
    latest = max((t.get("expiry") or "" for t in tokens), default="")[:10] or None
    ours_at = _stamp(ours.isoformat()) if ours is not None and len(callers) < len([t for t in live
                                                                                   if t.get("lastAccess")]) else None
    ctx.observe(TokenList(total=len(tokens), live=len(live), never_used=bool(live) and not callers,
                          last_used=_stamp(last) if last else None, ours=ours_at, labels=labels,
                          latest_expiry=latest))
    if not tokens:
        return ctx.failed("the account has no API token")
    if not live:
        return ctx.failed(f"all {len(tokens)} token(s) expired (latest expiry {latest})")
    desc = f"{len(live)} valid of {len(tokens)}"
    by_us = f"; last used by this check at {ours_at}; before that, " if ours_at else "; "
    if last:
        return ctx.passed(f"{desc}{by_us}last used {_stamp(last)}")
    return ctx.warned(f"{desc}{by_us}never used: {labels}")


def _ours(last_access: str, first_use: datetime | None) -> bool:
    """A lastAccess at or after this run's own first use of the actor's credential is ours, not the
    caller's (a few seconds' leeway for the clocks of two hosts)."""
    if first_use is None:
        return False
    try:
        when = datetime.fromisoformat(last_access.replace("Z", "+00:00"))
    except ValueError:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when >= first_use - OWN_USE_LEEWAY


def _stamp(text: str) -> str:
    return text[:16].replace("T", " ")


def _expired(token: dict[str, Any], now: datetime) -> bool:
    expiry = token.get("expiry")
    if not expiry:
        return False
    try:
        when = datetime.fromisoformat(str(expiry).replace("Z", "+00:00"))
    except ValueError:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=now.tzinfo)
    return when <= now
