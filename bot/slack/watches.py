"""Watches in Slack: `/confluence-check watch …`, the notices `serve` posts, the App Home lines.

A watch made in Slack posts into the channel it was asked in. Its notices (`bot.watches.Notice`)
are one message per check that has something to tell, written through the channel's outbox at
the channel's pace, so a watch never crowds out a run's thread.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.errors import UsageError
from bot.slack.blocks import Message
from bot.slack.escape import escape
from bot.slack.outbox import Priority
from bot.slack.private import Place, tell_privately
from bot.slack.services import Services
from bot.slack.text import WatchCommand, WatchListCommand, WatchRemoveCommand
from bot.slack.visibility import visible_to
from bot.store import Via
from bot.store.owner import this_process
from bot.store.watches import Watch, add_watch, get_watch, list_watches, remove_watch
from bot.watches import Notice, NoticeKind, WatchOptions, WatchRunner, describe_every, new_watch

_GLYPH = {NoticeKind.FIRST: ":eyes:", NoticeKind.CHANGED: ":bell:", NoticeKind.TROUBLE: ":warning:",
          NoticeKind.RECOVERED: ":white_check_mark:", NoticeKind.EXPIRING: ":hourglass_flowing_sand:"}


async def answer_watch(services: Services, place: Place, command: WatchCommand | WatchListCommand |
                       WatchRemoveCommand) -> None:
    """Add a watch into this channel (said in the channel), list the watches, or remove one (said privately)."""
    if isinstance(command, WatchListCommand):
        watches = await visible_watches(services, place.user, place.channel)
        lines = [watch_line(w) for w in watches] or ["No watches here yet: `/confluence-check watch ACTOR every 6h`."]
        await tell_privately(services.client, place, _message("Watches", lines))
    elif isinstance(command, WatchRemoveCommand):
        watch_id = command.watch_id
        found = await services.history.call(lambda s: get_watch(s.db, watch_id))
        if found is None or not await services.history.call(lambda s: remove_watch(s.db, watch_id)):
            raise UsageError(f"no watch {watch_id[:40]!r}: `/confluence-check watch list` shows their ids")
        await tell_privately(services.client, place, _message("Watches", [f"Removed watch `{escape(watch_id)}` "
                                                                          f"of `{escape(found.actor)}`."]))
    else:
        options = WatchOptions(command.actor, command.endpoint, command.space, command.every, place.channel)
        watch = new_watch(options, services.settings, created_by=place.user, now=time.time())
        await services.history.call(lambda s: add_watch(s.db, watch))
        text = (f"<@{place.user}> asked me to watch `{escape(watch.actor)}` here every "
                f"{describe_every(watch.every_s)} (`{watch.id}`): I will post when its verdict changes or one of "
                "its API tokens nears expiry, and nothing while nothing changes.")
        try:
            await services.outbox.write(place.channel, lambda: services.client.chat_postMessage(
                channel=place.channel, text=text, blocks=_message("", [text])["blocks"]), priority=Priority.NOTICE)
        except SlackApiError as exc:  # the watch is kept: once invited, its notices arrive
            error = exc.response.get("error") if exc.response is not None else "error"
            await tell_privately(services.client, place, _message("Watches", [
                f"The watch `{watch.id}` of `{escape(watch.actor)}` is saved, but I cannot post in this channel "
                f"({escape(str(error))}): invite me (`/invite @confluence-check`) so its notices arrive."]))


def notice_message(watch: Watch, notices: Sequence[Notice]) -> Message:
    lines = [f"{_GLYPH[n.kind]} {escape(n.text)}" for n in notices]
    lines.append(f"_watch `{watch.id}`, every {describe_every(watch.every_s)} · "
                 f"`/confluence-check watch remove {watch.id}` to stop_")
    return _message("", lines)


def watch_line(watch: Watch) -> str:
    """One watch, as the Home tab and `watch list` show it (escaped mrkdwn)."""
    where = f"<#{watch.channel}>" if watch.channel else "no channel"
    state = escape(watch.verdict or "not checked yet") + (f", cannot check: {escape(watch.trouble)}"
                                                           if watch.trouble else "")
    due = datetime.fromtimestamp(watch.next_due, UTC)
    target = f" {escape(watch.endpoint)}" if watch.endpoint else ""
    return (f"`{watch.id}` `{escape(watch.actor)}`{target} every {describe_every(watch.every_s)} in {where}: "
            f"{state} · next check {due:%Y-%m-%d %H:%M} UTC")


async def visible_watches(services: Services, user: str, conversation: str | None) -> list[Watch]:
    """The watches `user` may see from `conversation` (None: the Home tab), by the rule runs follow
    (`bot.slack.visibility`): those posting into this conversation, the user's own, and the CLI's
    watches that post nowhere."""
    watches = await services.history.call(lambda s: list_watches(s.db))
    return [w for w in watches if visible_to(user, conversation, {
        "via": Via.WATCH.value, "slack_channel": w.channel, "slack_user": w.created_by})]


async def home_lines(services: Services, user: str) -> list[str]:
    return [watch_line(w) for w in await visible_watches(services, user, None)]


def watch_runner(services: Services, *, clock: Callable[[], float] = time.time) -> WatchRunner:
    """The runner of due watches: through the app's checker, notices to their channels at the channel's pace."""
    owner = this_process()

    async def post(watch: Watch, notices: Sequence[Notice]) -> None:
        channel = watch.channel
        assert channel is not None
        message = notice_message(watch, notices)
        await services.outbox.write(channel, lambda: services.client.chat_postMessage(
            channel=channel, text=message["text"], blocks=message["blocks"]), priority=Priority.NOTICE)

    return WatchRunner(services.checker, services.history, post, owner=f"{owner.host}/{owner.pid}/{owner.nonce}",
                       clock=clock)


def start_watching(services: Services) -> asyncio.Task[None]:
    """`serve`'s watch loop: a look for due watches every quarter of the shortest interval (at most every
    15 s), so a watch runs at most that late."""
    every_s = min(15.0, max(0.25, services.settings.watch_min_interval_s / 4))
    return asyncio.create_task(watch_runner(services).run_forever(every_s), name="watches")


def _message(title: str, lines: Sequence[str]) -> Message:
    text = "\n".join(lines)
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}}]
    return {"text": (f"{title}: " if title else "") + text[:3000], "blocks": blocks}
