"""Watches: an account checked again every interval, told about only when something changes.

`serve` runs the watches that are due (`WatchRunner.run_due`, claimed in the history database so a
due watch runs once across processes: `bot.store.watches`) and hands what is worth telling to the
Slack adapter as `Notice`s:

- `FIRST`: the first verdict of a new watch (so a channel the bot cannot post to shows up at once);
- `CHANGED`: the verdict changed (failing → fixed, fixed → failing, another cause);
- `TROUBLE`: the check itself cannot be done (the bot's own settings are refused, or Atlassian's
  answers could not be read): said once, not every interval, until it ends (`RECOVERED`);
- `EXPIRING`: an API token of the actor expires within 30, 7 or 1 days: each threshold once per token.

The decision (`assess`) is a pure function of the watch's stored state, the run and the tokens, so it
is tested without time passing; the clock is injected everywhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from bot.atlassian import Atlassian, Auth, RequestFailed, Role
from bot.atlassian.hosts import HostGuard
from bot.checker import Checker
from bot.config import Settings
from bot.errors import HistoryError, UsageError
from bot.facts import ACTOR, Identity
from bot.model import CauseCode, Outcome, Run, StepStatus, iso, utcnow
from bot.request import CheckRequest, parse_actor, parse_endpoint
from bot.store import AsyncHistory, Via
from bot.store.watches import Watch, claim_due, finish_run, new_watch_id

log = logging.getLogger(__name__)

DEFAULT_EVERY = "6h"
WARN_DAYS = (30, 7, 1)  # an expiring token is told about when it gets this close, once per threshold
CLAIM_AT_ONCE = 16  # watches one process claims per look; the rest wait for its next look
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_EVERY = re.compile(r"^(\d+)\s*([smhdw]?)$", re.IGNORECASE)
_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,}$")  # a Slack conversation id (public, private, DM)


def parse_every(text: str, minimum_s: int) -> int:
    """`90s`, `30m`, `6h`, `1d`, `2w` (a bare number: seconds) → seconds. :raises UsageError:"""
    m = _EVERY.match(text.strip())
    if m is None or int(m.group(1)) == 0:
        raise UsageError(f"an interval is a number and a unit (s, m, h, d or w), e.g. 6h; got {text!r}")
    seconds = int(m.group(1)) * _UNITS[(m.group(2) or "s").lower()]
    if seconds < minimum_s:
        raise UsageError(f"{text} is shorter than the shortest interval, {describe_every(minimum_s)} "
                         "(WATCH_MIN_INTERVAL_S)")
    return seconds


def describe_every(seconds: int) -> str:
    for unit, size in sorted(_UNITS.items(), key=lambda u: -u[1]):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"  # pragma: no cover - seconds always divide


class Trouble(StrEnum):
    """Why a watch's check says nothing about the account: the bot's own reasons."""

    INSPECTOR = "inspector_misconfigured"  # the bot's own credentials or settings are refused
    NETWORK = "network"  # Atlassian's answers could not be read (timeouts, resets, 5xx)
    ERROR = "error"  # the check itself failed (the history could not be written, a bug)


class NoticeKind(StrEnum):
    FIRST = "first"
    CHANGED = "changed"
    TROUBLE = "trouble"
    RECOVERED = "recovered"
    EXPIRING = "expiring"


@dataclass(frozen=True)
class TokenExpiry:
    token_id: str
    label: str
    expires: datetime


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    text: str  # plain words; the adapter escapes and formats them


def verdict_key(run: Run) -> str | None:
    """What a watch compares between runs: outcome and cause (the confidence may move without news)."""
    if run.verdict is None or run.outcome is None:
        return None
    return f"{run.outcome.value}:{run.verdict.cause.value}"


def trouble_of(run: Run | None) -> tuple[Trouble, str] | None:
    """The bot's own reason why this run says nothing about the account, if any."""
    if run is None or run.verdict is None:
        return Trouble.ERROR, "the check did not finish"
    if run.verdict.cause is CauseCode.INSPECTOR_MISCONFIGURED:
        return Trouble.INSPECTOR, run.verdict.title
    lost = [s for s in run.steps if s.status is StepStatus.ERROR]
    if run.outcome is Outcome.INCONCLUSIVE and lost:
        return Trouble.NETWORK, f"{len(lost)} answer(s) from Atlassian could not be read ({lost[0].summary})"
    return None


def assess(watch: Watch, run: Run | None, tokens: Sequence[TokenExpiry] | None, now: datetime) -> tuple[
        Watch, list[Notice]]:
    """The watch's new state after `run` (None: the check failed), and what to tell."""
    notices: list[Notice] = []
    state = watch
    if run is not None:
        state = replace(state, last_run_id=run.run_id, last_checked_at=iso(now))
    trouble = trouble_of(run)
    if trouble is not None:
        kind, detail = trouble
        if state.trouble != kind.value:
            notices.append(Notice(NoticeKind.TROUBLE, f"I cannot check {watch.actor} right now: {detail}. "
                                                      "I will say so once more when checks work again."))
            state = replace(state, trouble=kind.value)
    else:
        assert run is not None and run.verdict is not None
        key = verdict_key(run)
        if state.trouble is not None:
            notices.append(Notice(NoticeKind.RECOVERED, f"Checks of {watch.actor} work again."))
            state = replace(state, trouble=None)
        if state.verdict is None:
            notices.append(Notice(NoticeKind.FIRST, f"Now watching {watch.actor} every "
                                                    f"{describe_every(watch.every_s)}: {_verdict_words(run)}"))
        elif state.verdict != key:
            notices.append(Notice(NoticeKind.CHANGED, f"{watch.actor} changed: {_was(state.verdict)} → "
                                                      f"{_verdict_words(run)}"))
        state = replace(state, verdict=key)
    if tokens is not None:
        state, told = _expiring(state, tokens, now)
        notices += told
    return state, notices


def _verdict_words(run: Run) -> str:
    assert run.verdict is not None
    if run.verdict.cause is CauseCode.OK:
        return f"no problem found (run {run.run_id})"
    return f"{run.verdict.title} [{run.verdict.cause.value}] (run {run.run_id})"


def _was(key: str) -> str:
    outcome, _, cause = key.partition(":")
    return "no problem found" if outcome == Outcome.OK.value else f"{outcome} [{cause}]"


def _expiring(state: Watch, tokens: Sequence[TokenExpiry], now: datetime) -> tuple[Watch, list[Notice]]:
    """One notice per token that crossed a threshold it was not told about (the nearest one only: a
    token first seen 5 days before it expires is told "7 days", and never "30 days" after)."""
    warned = {w for w in state.warned if w.split(":", 1)[0] in {t.token_id for t in tokens}}  # gone: forgotten
    notices = []
    for token in sorted(tokens, key=lambda t: t.expires):
        days = (token.expires - now).total_seconds() / 86400
        crossed = [d for d in WARN_DAYS if 0 < days <= d]
        if not crossed:
            continue
        marks = {f"{token.token_id}:{d}" for d in crossed}
        if f"{token.token_id}:{min(crossed)}" not in warned:
            left = f"{days:.0f} days" if days >= 1.5 else "less than 2 days" if days >= 1 else "less than a day"
            notices.append(Notice(NoticeKind.EXPIRING, f"API token '{token.label}' of {state.actor} expires in "
                                                       f"{left} ({token.expires:%Y-%m-%d %H:%M} UTC): create a new "
                                                       "one and update whatever uses it before then."))
        warned |= marks
    return replace(state, warned=frozenset(warned)), notices


async def read_token_expiries(checker: Checker, account_id: str) -> list[TokenExpiry] | None:
    """The actor's API tokens that expire (User management API, with the org key), or None when they
    cannot be read (no org key, an account the org does not manage, a failed request)."""
    settings = checker.settings
    if settings.org_api_key is None:
        return None
    try:
        async with Atlassian(settings, transport=checker.transport) as http:
            reply = await http.call(Role.API, "GET", f"/users/{account_id}/manage/api-tokens", auth=Auth.ORG_KEY)
    except RequestFailed:
        return None
    body = reply.json()
    if reply.status != 200 or not isinstance(body, list):
        return None
    out = []
    for token in body:
        if not isinstance(token, dict) or not token.get("id") or not token.get("expiry"):
            continue
        with contextlib.suppress(ValueError):
            when = datetime.fromisoformat(str(token["expiry"]).replace("Z", "+00:00"))
            out.append(TokenExpiry(str(token["id"]), str(token.get("label") or token["id"]),
                                   when if when.tzinfo else when.replace(tzinfo=UTC)))
    return out


@dataclass(frozen=True)
class WatchOptions:
    actor: str
    endpoint: str | None = None
    space: str | None = None
    every: str = DEFAULT_EVERY
    channel: str | None = None


def new_watch(options: WatchOptions, settings: Settings, *, created_by: str, now: float) -> Watch:
    """A watch from what was typed, checked (due at once). :raises UsageError: (or HostNotAllowed)"""
    settings.require("ATLASSIAN_SITE_URL")
    endpoint = None
    if options.endpoint:
        endpoint = parse_endpoint(options.endpoint, HostGuard(settings.site_url or "", settings.api_url)).describe()
    channel = options.channel.strip() if options.channel else None
    if channel is not None and not _CHANNEL.match(channel):
        raise UsageError(f"--channel takes a Slack channel id such as C0123ABCD (the channel's details show it), "
                         f"not {channel[:40]!r}")
    space = options.space.strip() if options.space else None
    return Watch(id=new_watch_id(), actor=parse_actor(options.actor), every_s=parse_every(
        options.every, settings.watch_min_interval_s), created_by=created_by, created_at=iso(utcnow()),
        next_due=now, endpoint=endpoint, space=space or None, channel=channel)


Post = Callable[[Watch, Sequence[Notice]], Awaitable[None]]


class WatchRunner:
    """Runs the due watches of the history database through one `Checker`, and posts what changed."""

    def __init__(self, checker: Checker, history: AsyncHistory, post: Post, *, owner: str,
                 clock: Callable[[], float] = time.time) -> None:
        self.checker = checker
        self.history = history
        self.post = post
        self.owner = owner
        self.clock = clock

    async def run_due(self) -> list[Watch]:
        """Claim the watches due now and run them side by side; their new states."""
        now = self.clock()
        claimed = await self.history.call(lambda s: claim_due(s.db, self.owner, now=now, limit=CLAIM_AT_ONCE))
        done = []
        for watch, outcome in zip(claimed, await asyncio.gather(*(self.run_one(w) for w in claimed),
                                                                 return_exceptions=True), strict=True):
            if isinstance(outcome, Watch):
                done.append(outcome)
            elif isinstance(outcome, Exception):  # its lease runs out and another look runs it again
                log.error("watch %s failed: %s", watch.id, outcome)
            else:
                raise outcome  # a cancellation: serve is stopping
        return done

    async def run_one(self, watch: Watch) -> Watch:
        """Check a claimed watch, tell what changed, store its state and its next time."""
        run, tokens = await self._check(watch)
        state, notices = assess(watch, run, tokens, datetime.fromtimestamp(self.clock(), UTC))
        if notices and watch.channel:
            try:
                await self.post(watch, notices)
            except Exception as exc:  # untold: the state stays as it was, so the next check tells it
                log.warning("could not post about watch %s in %s: %s", watch.id, watch.channel, exc)
                state = replace(watch, last_run_id=state.last_run_id, last_checked_at=state.last_checked_at)
        next_due = self.clock() + watch.every_s
        if not await self.history.call(lambda s: finish_run(s.db, state, self.owner, next_due=next_due)):
            log.info("watch %s was removed or taken over while it ran", watch.id)
        return state

    async def _check(self, watch: Watch) -> tuple[Run | None, list[TokenExpiry] | None]:
        settings = self.checker.settings
        try:
            failing = None
            if watch.endpoint:
                failing = parse_endpoint(watch.endpoint, HostGuard(settings.site_url or "", settings.api_url))
            request = CheckRequest(actor=watch.actor, failing=failing, space=watch.space)
            origin = {"slack_channel": watch.channel} if watch.channel else {}
            handle = self.checker.start(request, via=Via.WATCH, origin=origin)
            try:
                run = await handle.wait()
            except HistoryError as exc:
                run = exc.run if isinstance(exc.run, Run) else handle.run
        except Exception as exc:  # told as the bot's own trouble, once
            log.warning("watch %s could not run: %s", watch.id, exc)
            return None, None
        facts = handle.facts
        if facts is None:
            return run, None
        identity = facts.peek(ACTOR)
        if not isinstance(identity, Identity):
            return run, None
        return run, await read_token_expiries(self.checker, identity.account_id)

    async def run_forever(self, every_s: float) -> None:
        """Look for due watches every `every_s` seconds until cancelled."""
        while True:
            try:
                await self.run_due()
            except Exception:  # the next look tries again; serving goes on
                log.exception("could not run due watches")
            await asyncio.sleep(every_s)


def watch_to_json(watch: Watch) -> dict[str, Any]:
    """A watch as `watch list --json` prints it."""
    return {**watch.to_dict(), "every": describe_every(watch.every_s),
            "next_due": iso(datetime.fromtimestamp(watch.next_due, UTC))}
