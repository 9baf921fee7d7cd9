"""Credential layer (admin view): the actor's API tokens — expiry and last use (docs/atlassian.md §1.1, §2.7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.atlassian import Auth, Role
from bot.facts import ACTOR, TOKENS, Tokens
from bot.model import StepResult, utcnow
from bot.needs import Need
from bot.observations import TokenList
from bot.probes.registry import ProbeContext, probe
from bot.probes.shape import JsonObject

OWN_USE_LEEWAY = timedelta(seconds=5)
EARLIER_RUN_SPAN = timedelta(minutes=2)  # an earlier run's uses: from its first one to the end of its replays


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
    # our own uses: this run's (when it replayed first) and the last one of an earlier run (the history);
    # a lastAccess that is one of them is not the caller's, whose last use before ours was kept with it
    earlier = ctx.request.own_use
    uses: list[tuple[datetime, datetime | None]] = [(u, None) for u in (ctx.http.actor_first_use,) if u]
    uses += [(earlier.at, earlier.at + EARLIER_RUN_SPAN)] if earlier else []
    stamped = [t for t in live if t.get("lastAccess")]
    callers = [t for t in stamped if not any(_ours(str(t["lastAccess"]), *u) for u in uses)]
    last = max([str(t["lastAccess"]) for t in callers]
               + ([earlier.caller_before] if earlier and earlier.caller_before and len(callers) < len(stamped)
                  else []), default=None)
    never_used = bool(live) and last is None
    ctx.provide(TOKENS, Tokens(valid=len(live), never_used=never_used))
    labels = ", ".join(f"'{t.get('label', t.get('id', '?'))}' (created {str(t.get('createdAt', '?'))[:10]})"
                       for t in live[:3])
    latest = max((t.get("expiry") or "" for t in tokens), default="")[:10] or None
    ours_at = _stamp(max(u for u, _ in uses).isoformat()) if uses and len(callers) < len(stamped) else None
    ctx.observe(TokenList(total=len(tokens), live=len(live), never_used=never_used,
                          last_used=_stamp(last) if last else None, ours=ours_at, labels=labels,
                          latest_expiry=latest, caller_last=last))
    if not tokens:
        return ctx.failed("the account has no API token")
    if not live:
        return ctx.failed(f"all {len(tokens)} token(s) expired (latest expiry {latest})")
    desc = f"{len(live)} valid of {len(tokens)}"
    by_us = f"; last used by this check at {ours_at}; before that, " if ours_at else "; "
    if last:
        return ctx.passed(f"{desc}{by_us}last used {_stamp(last)}")
    return ctx.warned(f"{desc}{by_us}never used: {labels}")


def _ours(last_access: str, use: datetime, until: datetime | None) -> bool:
    """A lastAccess from one of our own uses of the actor's credential (from `use`, a few seconds' leeway
    for the clocks of two hosts, to `until`, None for this run) is ours, not the caller's."""
    try:
        when = datetime.fromisoformat(last_access.replace("Z", "+00:00"))
    except ValueError:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when >= use - OWN_USE_LEEWAY and (until is None or when <= until)


def _stamp(text: str) -> str:
    return text[:16].replace("T", " ")


def _expired(token: JsonObject, now: datetime) -> bool:
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
