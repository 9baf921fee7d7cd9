"""`/confluence-check tokens` and `/confluence-check compare` in Slack, each in a thread of its own.

Tokens: the org-wide token sweep.
The parent says the sweep started (and, edited at the end, what it found at a glance); the thread
gets the summary (counts per action, the accounts that could not be read) and the full list as a
CSV file, uploaded the way Slack takes files now (`files.getUploadURLExternal`, the bytes to the
URL it hands out, `files.completeUploadExternal` sharing it in the thread: slack_sdk's
`files_upload_v2`; the old `files.upload` is retired). Every write goes through the channel's
outbox, at the channel's pace. Where the bot cannot post, the asker is told privately, with the
summary, and no file is shared.

Compare: the parent names both accounts; both are diagnosed at once (two runs kept in history with
this thread as their origin), and the thread gets both verdicts and the differences, those that
explain the failure first.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import weakref
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from typing import Any, TypeVar

from slack_sdk.errors import SlackApiError

from bot.checker import Checker
from bot.errors import ConfluenceCheckError
from bot.render.compare import compare_mrkdwn_lines, verdict_line
from bot.render.tokens import action_groups, format_tokens_csv
from bot.slack.escape import escape
from bot.slack.outbox import Priority
from bot.slack.private import Place, tell_privately
from bot.slack.services import Services
from bot.slack.text import CompareCommand, TokensCommand
from bot.slack.thread import CHANNEL_ERRORS
from bot.store import HistoryStore, leases
from bot.tokens import Progress, SweepOptions, TokenSweep, sweep

log = logging.getLogger(__name__)

Message = dict[str, Any]
PROGRESS_EVERY_S = 10.0
_NAMED_UNREAD = 10  # accounts named in the summary; all of them are in the file's absence and the count


# Sweeps in progress, per app (its checker): one at a time, since each reads every account with the
# same org key and a second would only halve the pace of both. Across processes (replicas on one
# database), a lease in the history database holds the same rule (`bot.store.leases`).
_SWEEPING: weakref.WeakKeyDictionary[Checker, Place] = weakref.WeakKeyDictionary()
T = TypeVar("T")
SWEEP_LEASE_S = 120.0  # renewed every third of it while the sweep runs; a dead process's lease runs out


async def sweep_tokens_in_thread(services: Services, command: TokensCommand, place: Place) -> TokenSweep | None:
    """Run the sweep and report it at `place`; the sweep (None when the bot has no org key, its key was
    refused, or another sweep is running: the asker is told which)."""
    if services.settings.org_api_key is None:  # told before anything is posted (no file paths: a Slack user reads it)
        await tell_privately(services.client, place, _simple(
            ":warning: The token sweep reads the organization's accounts with the bot's organization API key, "
            "and `ATLASSIAN_ORG_API_KEY` is not set: ask whoever runs the bot to set it."))
        return None
    running = _SWEEPING.get(services.checker)
    owner = secrets.token_hex(8)
    if running is None:
        held = await _take_lease(services, owner, place)
        running = Place(*held.split(" ", 1)) if held is not None and " " in held else None
    if running is not None:
        await tell_privately(services.client, place, _simple(
            f":hourglass: A token sweep started by <@{escape(running.user)}> is still running; its list will "
            f"be in its thread in <#{escape(running.channel)}>."))
        return None
    _SWEEPING[services.checker] = place
    renewing = asyncio.ensure_future(_keep_lease(services, owner))
    try:
        return await _sweep_and_report(services, command, place)
    finally:
        _SWEEPING.pop(services.checker, None)
        renewing.cancel()
        await _lease_call(services, lambda store: leases.release(store.db, leases.TOKEN_SWEEP, owner))


async def _take_lease(services: Services, owner: str, place: Place) -> str | None:
    """Who else holds the sweep lease ("CHANNEL USER"), or None when it is now ours (or the database
    could not be asked: the sweep then runs under this process's guard alone)."""
    holder = f"{place.channel} {place.user}"
    return await _lease_call(services, lambda store: leases.take(store.db, leases.TOKEN_SWEEP, owner, holder,
                                                                  SWEEP_LEASE_S))


async def _keep_lease(services: Services, owner: str) -> None:
    while True:
        await asyncio.sleep(SWEEP_LEASE_S / 3)
        kept = await _lease_call(services, lambda store: leases.renew(store.db, leases.TOKEN_SWEEP, owner,
                                                                       SWEEP_LEASE_S))
        if kept is False:
            log.warning("the token sweep's lease ran out and was taken by another process")
            return


async def _lease_call(services: Services, work: Callable[[HistoryStore], T]) -> T | None:
    try:
        return await services.history.call(work)
    except Exception:  # the history database is down: missing, never a reason to refuse or stop a sweep
        log.warning("the token sweep's lease could not be read or written", exc_info=True)
        return None


async def _sweep_and_report(services: Services, command: TokensCommand, place: Place) -> TokenSweep | None:
    parent = await _write(services, place, "chat_postMessage", started_message(place.user))
    options = SweepOptions(command.expiring_days, command.unused_days)
    progress = _ParentProgress(services, place, parent)
    try:
        report = await sweep(services.settings, options, transport=services.checker.transport,
                             on_progress=progress.show)
    except ConfluenceCheckError as exc:
        message = _simple(f":warning: The token sweep could not start: {escape(str(exc))}")
        if parent is not None:
            await _write(services, place, "chat_postMessage", message, thread_ts=parent)
        else:
            await tell_privately(services.client, place, message)
        return None
    summary = summary_message(report)
    if parent is None:
        await tell_privately(services.client, place, summary)
        return report
    await _write(services, place, "chat_postMessage", summary, thread_ts=parent)
    await _upload(services, place, report, parent)
    # the same key as the progress edits: one still waiting is replaced, never sent after this
    await _write(services, place, "chat_update", glance_message(report, place.user), key=_progress_key(parent),
                 ts=parent)
    return report


async def _write(services: Services, place: Place, method: str, message: Message, *, key: Hashable | None = None,
                 **where: str) -> str | None:
    """One write in the channel at its pace; the message's ts, or None when the bot may not post there
    (the asker is then told privately, once: on the first write)."""
    async def send() -> Any:
        return await getattr(services.client, method)(channel=place.channel, **message, **where)

    try:
        response = await services.outbox.write(place.channel, send, priority=Priority.VERDICT, key=key)
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error not in CHANNEL_ERRORS:
            raise
        if method == "chat_postMessage" and "thread_ts" not in where:
            await tell_privately(services.client, place, _simple(
                f":warning: I can't post in this channel (`{escape(str(error))}`): invite me with "
                "`/invite @confluence-check` to get the full list as a file. The summary follows here."))
        return None
    return str(response.get("ts") or where.get("ts") or "")


async def _upload(services: Services, place: Place, report: TokenSweep, parent: str) -> None:
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    content = format_tokens_csv(report)

    async def send() -> Any:
        return await services.client.files_upload_v2(
            channel=place.channel, thread_ts=parent, content=content,
            filename=f"api-tokens-{day}.csv", title=f"API tokens of the organization, {day}",
            initial_comment=f"All {len(report.tokens)} token(s), one row each (the columns of `tokens --csv`).")

    try:
        await services.outbox.write(place.channel, send, priority=Priority.DETAIL)
    except SlackApiError as exc:
        log.warning("could not upload the token list in %s: %s", place.channel, exc.response.get("error"))
        await _write(services, place, "chat_postMessage", _simple(
            f":warning: The CSV file could not be uploaded (`{escape(str(exc.response.get('error')))}`): "
            "the app needs the `files:write` scope (see the README); `confluence-check tokens --csv` gives "
            "the same list."), thread_ts=parent)


class _ParentProgress:
    """The parent's count of accounts read, edited in at most every `PROGRESS_EVERY_S` (a long sweep
    shows it is moving; an edit still waiting for the channel's slot is replaced by the newer count)."""

    def __init__(self, services: Services, place: Place, parent: str | None) -> None:
        self._services, self._place, self._parent = services, place, parent
        self._last = time.monotonic()

    def show(self, progress: Progress) -> None:
        now = time.monotonic()
        if self._parent is None or progress.done or now - self._last < PROGRESS_EVERY_S:
            return
        self._last = now
        total = max(progress.total or 0, progress.listed)
        message = started_message(self._place.user, f"{progress.read:,} of {total:,} accounts read")
        client, channel, ts = self._services.client, self._place.channel, self._parent

        async def send() -> Any:
            return await client.chat_update(channel=channel, ts=ts, **message)

        edit = self._services.outbox.submit(channel, send, priority=Priority.STEPS, key=_progress_key(ts))
        edit.add_done_callback(lambda f: f.cancelled() or f.exception())  # a lost count is no failure


def _progress_key(parent: str) -> tuple[str, str]:
    return ("tokens parent", parent)


def started_message(user: str, progress: str | None = None) -> Message:
    return _simple(f":key: *confluence-check* · sweeping every API token of the organization "
                   f"(started by <@{escape(user)}>)…" + (f"\n{progress}" if progress else ""))


def glance_message(report: TokenSweep, user: str) -> Message:
    if report.not_checked:
        glance = f":warning: {len(report.flagged)} flagged; {len(report.not_checked)} account(s) could not be read"
    elif report.flagged:
        glance = f":red_circle: {len(report.flagged)} of {len(report.tokens)} token(s) need attention"
    else:
        glance = f":white_check_mark: nothing to do ({len(report.tokens)} token(s))"
    return _simple(f":key: *confluence-check* · API tokens of the organization (started by <@{escape(user)}>)\n"
                   f"{glance} · {report.checked_accounts} account(s) read — details in the thread")


def summary_message(report: TokenSweep) -> Message:
    """Counts per action and the unread accounts; the rows themselves are in the CSV file."""
    lines = [f"*API tokens of organization `{escape(report.org_id or '?')}`*: {report.checked_accounts} "
             f"account(s) read, {len(report.tokens)} token(s), {len(report.flagged)} flagged"]
    for _, head, rows in action_groups(report):
        accounts = ", ".join(escape(r.email or r.account_id) for r in rows[:3])
        more = f" and {len(rows) - 3} more" if len(rows) > 3 else ""
        lines.append(f"• *{len(rows)}* × {escape(head)} ({accounts}{more})")
    if not report.flagged and not report.not_checked:
        lines.append("Nothing to do: no token is expired, expiring, unused or on an inactive account.")
    if report.unmanaged:
        lines.append(f"{report.unmanaged} account(s) are not managed by the organization (their tokens are not "
                     "its to read).")
    if report.not_checked:
        named = ", ".join(f"`{escape(u.account_id or 'the account list')}`"
                          for u in report.not_checked[:_NAMED_UNREAD])
        more = f" and {len(report.not_checked) - _NAMED_UNREAD} more" if len(report.not_checked) > _NAMED_UNREAD else ""
        lines.append(f":warning: {len(report.not_checked)} account(s) could not be read, so the list is "
                     f"incomplete: {named}{more}")
    return _simple("\n".join(lines))


def _simple(text: str) -> Message:
    return {"text": text[:3000], "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}]}


async def compare_in_thread(services: Services, command: CompareCommand, place: Place) -> None:
    """Post the parent, diagnose both accounts at once, and write the comparison in the thread."""
    actor, good = command.actor.actor, command.known_good.actor
    head = (f":scales: *confluence-check* · comparing `{escape(actor)}` (failing) with `{escape(good)}` (works) "
            f"on {escape(services.settings.site_url)} (started by <@{escape(place.user)}>)")
    # two runs: they take two places in the run queue (MAX_CONCURRENT_RUNS), or its only one, and wait their turn
    queue = services.run_queue
    tickets = [queue.enter() for _ in range(min(2, queue.limit))]
    queued = not all(t.granted.is_set() for t in tickets)
    waiting = f" · queued ({min(queue.ahead(t) for t in tickets if not t.granted.is_set())} ahead)" if queued else ""
    try:
        parent = await _write(services, place, "chat_postMessage", _simple(head + waiting))
        origin = {"slack_channel": place.channel, "slack_user": place.user}
        if parent:
            origin["slack_thread_ts"] = parent
        for ticket in tickets:
            await queue.wait(ticket)
        comparison = await services.checker.compare(command.actor, command.known_good, via="slack", origin=origin)
    finally:
        for ticket in tickets:
            queue.leave(ticket)
    lines = [escape(verdict_line(comparison.actor_run)), escape(verdict_line(comparison.good_run)), "",
             "*Differences* (those that explain the failure first):",
             *compare_mrkdwn_lines(comparison, escape)]
    message = _simple("\n".join(lines))
    if parent is None:
        await tell_privately(services.client, place, message)
    else:
        await _write(services, place, "chat_postMessage", message, thread_ts=parent)
