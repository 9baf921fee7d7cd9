"""Credential layer (admin view): the actor's API tokens — expiry and last use (FACTS §1.1, §2.7)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.atlassian import Auth, Role
from bot.facts import ACTOR, TOKENS, Tokens
from bot.model import CauseCode, Confidence, StepResult, utcnow
from bot.probes.registry import Need, ProbeContext, probe

_FAILURE_STATUSES = (401, 403, 404)


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
    never_used = bool(live) and not any(t.get("lastAccess") for t in live)
    ctx.provide(TOKENS, Tokens(valid=len(live), never_used=never_used))
    if not tokens:
        return ctx.failed("the account has no API token", ctx.finding(
            CauseCode.TOKEN_EXPIRED, Confidence.CONFIRMED,
            "The account has no API token at all: whatever the caller sends cannot be one of its tokens."))
    if not live:
        latest = max((t.get("expiry") or "" for t in tokens), default="?")
        return ctx.failed(f"all {len(tokens)} token(s) expired (latest expiry {latest[:10]})", ctx.finding(
            CauseCode.TOKEN_EXPIRED, Confidence.CONFIRMED,
            f"Every API token of the account has expired (latest expiry {latest[:10]})."))
    return _judge_live(ctx, tokens, live)


def _judge_live(ctx: ProbeContext, tokens: list[dict[str, Any]], live: list[dict[str, Any]]) -> StepResult:
    used = [t for t in live if t.get("lastAccess")]
    desc = f"{len(live)} valid of {len(tokens)}"
    if used:
        last = max(t["lastAccess"] for t in used)
        return ctx.passed(f"{desc}; last used {last[:16].replace('T', ' ')}")
    labels = ", ".join(f"'{t.get('label', t.get('id', '?'))}' (created {str(t.get('createdAt', '?'))[:10]})"
                       for t in live[:3])
    reported = ctx.request.observed_status
    if reported in _FAILURE_STATUSES:
        # CAUSES.md hard case: a never-used token while calls fail means the failing request does not
        # present that token as Basic email:token to a URL that accepts it (§1.14, field report 1).
        return ctx.failed(f"{desc}; none ever used: {labels}", ctx.finding(
            CauseCode.CREDENTIAL_REJECTED, Confidence.LIKELY,
            f"The account's valid token(s) {labels} have never been used, yet the call fails with "
            f"{reported}: the failing request is not presenting that token as Basic email:token to a URL "
            "that accepts it (a missing or malformed Authorization header, another token, or a scoped "
            "token on the site URL)." + ("" if ctx.request.actor_secret else
                                          " Replaying with the actor's token (--actor-token-stdin) tells which.")))
    return ctx.warned(f"{desc}; none ever used: {labels}")


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
