"""Credential layer (admin view): the actor's API tokens — expiry and last use (docs/atlassian.md §1.1, §2.7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.atlassian import Auth, Role
from bot.facts import ACTOR, TOKENS, TOKENS_ASKED, OwnUse, Tokens
from bot.model import StepResult, utcnow
from bot.needs import Need
from bot.observations import TokenList
from bot.probes.registry import ProbeContext, probe
from bot.probes.shape import JsonObject

OWN_USE_LEEWAY = timedelta(seconds=5)
EARLIER_RUN_SPAN = timedelta(minutes=2)  # an earlier run's uses: from its first one to the end of its replays


@probe("credential.api_tokens", title="Actor's API tokens", needs={Need.ORG_KEY}, build=(ACTOR,),
       provides=(TOKENS, TOKENS_ASKED))
async def credential_api_tokens(ctx: ProbeContext) -> StepResult:
    if ctx.request.actor_secret is not None and ctx.request.actor_secret.is_oauth:
        # an OAuth credential is no API token: the account's API tokens say nothing about it
        return ctx.not_needed("the credential is OAuth 2.0, not an API token")
    account_id = (await ctx.require(ACTOR)).account_id
    # the replays wait for this, not for the answer: they go in the same round trip (see `_callers_last`)
    ctx.provide(TOKENS_ASKED, utcnow())
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
    stamps = [str(t["lastAccess"]) for t in live if t.get("lastAccess")]
    # read now: a use of ours sent after the list was answered cannot be in it
    last, known, ours = _callers_last(stamps, ctx.http.actor_first_use, ctx.request.own_use)
    never_used = bool(live) and known and last is None
    ctx.provide(TOKENS, Tokens(valid=len(live), never_used=never_used))
    labels = ", ".join(f"'{t.get('label', t.get('id', '?'))}' (created {str(t.get('createdAt', '?'))[:10]})"
                       for t in live[:3])
    latest = max((t.get("expiry") or "" for t in tokens), default="")[:10] or None
    ours_at = _stamp(ours.isoformat()) if ours is not None else None
    ctx.observe(TokenList(total=len(tokens), live=len(live), never_used=never_used,
                          last_used=_stamp(last) if last else None, ours=ours_at, labels=labels,
                          latest_expiry=latest, caller_last=last, caller_known=known))
    if not tokens:
        return ctx.failed("the account has no API token")
    if not live:
        return ctx.failed(f"all {len(tokens)} token(s) expired (latest expiry {latest})")
    desc = f"{len(live)} valid of {len(tokens)}"
    by_us = f"; last used by this check at {ours_at}; before that, " if ours_at else "; "
    if not known:
        return ctx.passed(f"{desc}{by_us}the caller's last use is not known (ours replaced it)")
    if last:
        return ctx.passed(f"{desc}{by_us}last used {_stamp(last)}")
    return ctx.warned(f"{desc}{by_us}never used: {labels}")


def _callers_last(stamps: list[str], this_run: datetime | None,
                  earlier: OwnUse | None) -> tuple[str | None, bool, datetime | None]:
    """The caller's last use among the live tokens' lastAccess `stamps` (None: never), whether that is
    known, and our own use that some stamp is (None: none is).

    A token keeps one lastAccess, so a use of ours replaces the caller's. An earlier run's use
    (`earlier`, from the history) is ours within that run's span, and the caller's use before it is
    what that run's list showed. This run's replays go out in the round trip that reads the list
    (`this_run`: our first use, if sent before the list was answered), so the list may already show
    one: a later stamp at or after it is ours, and the caller's use before it is then unknown."""
    callers: list[str] = []
    hidden, ours = False, None
    for stamp in stamps:
        if earlier is not None and _ours(stamp, earlier.at, earlier.at + EARLIER_RUN_SPAN):
            ours = max(earlier.at, ours or earlier.at)
            if not earlier.caller_known:
                hidden = True
            elif earlier.caller_before:
                callers.append(earlier.caller_before)
        elif this_run is not None and _ours(stamp, this_run, None):
            hidden, ours = True, max(this_run, ours or this_run)
        else:
            callers.append(stamp)
    return (None, False, ours) if hidden else (max(callers, default=None), True, ours)


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
