"""The only code that writes a run's Slack thread: parent, live step list, verdict, parent edit.

One run unfolds as: the parent message (actor, site, run id) → one step-list reply that is
edited as probes finish → the verdict reply with its buttons → the parent edited to show the
verdict at a glance. Every write waits for the channel's slot (`ChannelPacer`, ~1 per second,
FACTS §2.1/§2.2), so step-list edits coalesce: each edit shows the latest state, and the final
state is always sent. A 429 is retried after its `Retry-After` (FACTS §2.6). Where Slack says
`not_in_channel` or `channel_not_found` (FACTS §2.5) the asker is told privately how to fix it,
the run goes on, and its verdict is sent privately too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.engine import RunHandle
from bot.model import Run
from bot.render import blocks
from bot.render.blocks import Message
from bot.slack.failures import new_error_id
from bot.slack.pacer import ChannelPacer
from bot.slack.private import Place, tell_privately

log = logging.getLogger(__name__)

CHANNEL_ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
_ATTEMPTS = 3  # on top of slack-sdk's own rate-limit retries


class CannotPost(Exception):
    """Slack will not take the bot's messages in this conversation (FACTS §2.5)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def _progress(run: Run) -> tuple[int, bool, bool]:
    return len(run.steps), run.finished, run.interrupted


def _retry_after(exc: SlackApiError) -> float | None:
    """Seconds Slack asked us to wait, for a 429 / `ratelimited`; None for any other error."""
    response = exc.response
    if response.status_code != 429 and response.get("error") not in ("ratelimited", "rate_limited"):
        return None
    headers = {k.lower(): v for k, v in (response.headers or {}).items()}
    value = headers.get("retry-after", "1")
    try:
        return max(0.0, float(value[0] if isinstance(value, list) else value))
    except ValueError:
        return 1.0


FIRST_RESULTS_WAIT_S = 0.6


async def _first_results(run: Run) -> None:
    """Give the first probes a moment, so the step list appears with results already in it
    (the next edit can only follow a second later: FACTS §2.1)."""
    deadline = time.monotonic() + FIRST_RESULTS_WAIT_S
    while not any(step.evidence for step in run.steps) and not run.finished and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


class RunThread:
    """Writes one run into its Slack thread (or, when it cannot post, to the asker privately)."""

    def __init__(self, client: AsyncWebClient, pacer: ChannelPacer, place: Place, *,
                 bot_user: str | None = None, on_parent: Callable[[str], Any] | None = None) -> None:
        self._client = client
        self._pacer = pacer
        self._place = place
        self._bot_user = bot_user
        self._on_parent = on_parent
        self._rev = 0
        self._shown: tuple[int, bool, bool] | None = None

    async def follow(self, handle: RunHandle) -> Run:
        """Post the run as it unfolds and return it finished (or as far as it got)."""
        run = handle.run
        try:
            parent = self._place.thread_ts or await self._post_parent(run)
            await _first_results(run)
            steps_ts = await self._post(lambda: self._render_steps(run), parent)
        except CannotPost as exc:
            return await self._follow_privately(handle, exc.error)
        await self._stream(handle, steps_ts)
        try:
            run = await handle.wait()
        except Exception:
            error_id = new_error_id()
            log.exception("run %s failed (error id %s)", run.run_id, error_id)
            await self._post(lambda: blocks.failed_message(error_id), parent)
            return run
        # The verdict matters most, then the parent at a glance; the step list's last edit comes after.
        await self._post(lambda: blocks.verdict_message(run), parent)
        await self._edit(parent, lambda: blocks.parent_message(run, user=self._place.user, rev=self._next_rev()))
        if self._shown != _progress(run):
            await self._edit(steps_ts, lambda: self._render_steps(run), optional=True)
        return run

    async def tell_interrupted(self, run: Run) -> None:
        """Say in the thread that a restart cut the run short, and show it on the parent."""
        parent = self._place.thread_ts
        if parent is None:
            return
        await self._post(lambda: blocks.interrupted_message(run), parent)
        await self._edit(parent, lambda: blocks.parent_message(run, rev=self._next_rev()))

    # --- the three phases -----------------------------------------------------------------------

    async def _post_parent(self, run: Run) -> str:
        ts = await self._post(lambda: blocks.parent_message(run, user=self._place.user), None)
        if self._on_parent is not None:
            self._on_parent(ts)
        return ts

    async def _stream(self, handle: RunHandle, steps_ts: str) -> None:
        """Edit the step list as steps finish: one edit per slot, always ending on the final state."""
        run = handle.run
        changed = asyncio.Event()
        finished = False

        async def watch() -> None:
            nonlocal finished
            async for _ in handle:
                changed.set()
            finished = True
            changed.set()

        watcher = asyncio.create_task(watch())
        try:
            while not finished:
                await changed.wait()
                changed.clear()
                # Wait for a free slot without taking it: if the run ends meanwhile, the verdict
                # goes first and the step list's final edit follows it (see `follow`).
                delay = self._pacer.ready_in(self._place.channel)
                if delay > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(watcher), delay)
                if not finished and self._shown != _progress(run):
                    await self._edit(steps_ts, lambda: self._render_steps(run), optional=True)
        finally:
            watcher.cancel()

    async def _follow_privately(self, handle: RunHandle, error: str) -> Run:
        log.info("cannot post in %s (%s); run %s goes on privately", self._place.channel, error,
                 handle.run.run_id)
        notice = blocks.cannot_post_message(handle.run, error, bot_user=self._bot_user)
        await tell_privately(self._client, self._place, notice)
        run = await handle.wait()
        await tell_privately(self._client, self._place, blocks.private_verdict_message(run))
        return run

    # --- writes -------------------------------------------------------------------------------

    def _render_steps(self, run: Run) -> Message:
        self._shown = _progress(run)  # rendered inside the slot: the newest state wins
        return blocks.steps_message(run, rev=self._next_rev())

    def _next_rev(self) -> int:
        self._rev += 1
        return self._rev

    async def _post(self, build: Callable[[], Message], thread_ts: str | None) -> str:
        response = await self._write("chat_postMessage", build, thread_ts=thread_ts)
        return str(response["ts"])

    async def _edit(self, ts: str, build: Callable[[], Message], *, optional: bool = False) -> None:
        try:
            await self._write("chat_update", build, ts=ts)
        except (SlackApiError, CannotPost) as exc:
            if not optional:
                raise
            # a lost progress edit is harmless: the next one (and the final one) shows everything
            log.warning("skipped a step-list edit in %s: %s", self._place.channel, exc)

    async def _write(self, method: str, build: Callable[[], Message], **kwargs: Any) -> Any:
        channel = self._place.channel
        for attempt in range(_ATTEMPTS):
            async with self._pacer.slot(channel):
                message = build()
                try:
                    return await getattr(self._client, method)(channel=channel, **message, **kwargs)
                except SlackApiError as exc:
                    if exc.response.get("error") in CHANNEL_ERRORS:
                        raise CannotPost(exc.response["error"]) from None
                    delay = _retry_after(exc)
                    if delay is None or attempt == _ATTEMPTS - 1:
                        raise
                    log.info("Slack rate-limited %s in %s; retrying in %.1f s", method, channel, delay)
                    await asyncio.sleep(delay)  # still holding the slot: the whole channel waits
        raise AssertionError("unreachable")
