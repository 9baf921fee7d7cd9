"""The only code that writes a run's Slack thread: parent, live step list that becomes the verdict, parent edit.

A run costs at most four writes in its channel, each through the channel's `Outbox` (one write
per second per channel, https://docs.slack.dev/reference/methods/chat.postMessage,
https://docs.slack.dev/reference/methods/chat.update, the most important write first):

1. the parent (actor, site, run id; "queued (n ahead)" while the run waits its turn). It is built
   when its slot comes: a run that finished meanwhile gets a parent that already shows the
   verdict at a glance, which then needs no edit;
2. half a second after the first step has finished (if the run is still going), one thread reply
   with the step list (`Priority.STEPS`). It is built when its slot comes, so it shows every step
   finished by then (the rest pending): the states in between are never sent;
3. when the run ends, that reply edited into the final message: the verdict with its buttons,
   then the complete step list (`Priority.VERDICT`, or `DETAIL` when the parent already shows
   the verdict). A run that ends before the reply's slot came posts the final message at once
   instead, which needs no edit;
4. the parent edited to show the verdict at a glance (only when it was posted before the end).

So in a busy channel verdicts overtake step lists and parents of runs still going, and no write
is spent on a state that a later write replaces. Where Slack says `not_in_channel` or
`channel_not_found` (https://docs.slack.dev/reference/methods/chat.postMessage) the asker is told privately how to fix
it, the run goes on, and
its verdict is sent privately too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.engine import RunHandle
from bot.model import Run
from bot.slack import blocks, steps
from bot.slack.blocks import Message
from bot.slack.failures import new_error_id
from bot.slack.outbox import Outbox, Priority, PriorityOf
from bot.slack.private import Place, tell_privately

log = logging.getLogger(__name__)

CHANNEL_ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
PARENT_FIRST_S = 0.3
# A run that ends this soon after its first step shows its verdict straight away instead of a
# step list first: the list would take the channel's second burst slot and push the verdict to
# the next second (1 write/s). Slower runs still show their first steps within about a second.
LIVE_LIST_AFTER_S = 0.5
NOT_QUEUED: Callable[[], int | None] = lambda: None  # noqa: E731


class CannotPost(Exception):
    """Slack will not take the bot's messages in this conversation (https://docs.slack.dev/reference/methods/chat.postMessage)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class RunThread:
    """Writes one run into its Slack thread (or, when it cannot post, to the asker privately)."""

    def __init__(self, client: AsyncWebClient, outbox: Outbox, place: Place, *,
                 bot_user: str | None = None, on_parent: Callable[[str], Any] | None = None) -> None:
        self._client = client
        self._outbox = outbox
        self._place = place
        self._bot_user = bot_user
        self._on_parent = on_parent
        self._rev = 0
        self._run: Run | None = None
        self._parent_has_verdict = False
        self._reply: asyncio.Future[str] | None = None  # the step-list reply's post
        self._reply_is_final = False  # that post already held the verdict

    async def follow(self, start: Callable[[], Awaitable[RunHandle]], draft: Run, *,
                     queued: Callable[[], int | None] = NOT_QUEUED) -> Run:
        """Post the parent now (built from `draft` while the run waits its turn: `queued()` runs
        ahead), `start()` the run, and write the rest when it ends; return the run."""
        self._run = draft
        parent: asyncio.Future[str] | None = None
        if not self._place.thread_ts:
            parent = self._submit(Priority.PARENT, self._post_parent_now(queued), key="parent",
                                  rank=lambda: Priority.VERDICT if self._finished() else Priority.PARENT)
        try:
            if parent is not None:
                # the asker sees the parent before the run's start takes the event loop for a while
                # (its clients, its first save): a run waits for its parent, unless the channel is busy
                await asyncio.wait({parent}, timeout=PARENT_FIRST_S)
            handle = await start()
        except BaseException:
            if parent is not None:
                _drop(parent)
            raise
        self._run = handle.run
        try:
            parent_ts = self._place.thread_ts or await parent  # type: ignore[misc]
        except CannotPost as exc:
            return await self._follow_privately(handle, exc.error)
        watcher = asyncio.ensure_future(self._watch_steps(handle, parent_ts))
        try:
            run = await handle.wait()
        except Exception:
            error_id = new_error_id()
            log.exception("run %s failed (error id %s)", handle.run.run_id, error_id)
            await self._post(Priority.VERDICT, lambda: blocks.failed_message(error_id), parent_ts)
            return handle.run
        finally:
            watcher.cancel()
        await self._finish(run, parent_ts)
        return run

    async def tell_interrupted(self, run: Run) -> None:
        """Say in the thread that a restart cut the run short, and show it on the parent."""
        parent = self._place.thread_ts
        if parent is None:
            return
        await self._post(Priority.VERDICT, lambda: blocks.interrupted_message(run), parent)
        await self._edit(Priority.PARENT_EDIT, parent, lambda: blocks.parent_message(run, rev=self._next_rev()))

    # --- phases ---------------------------------------------------------------------------------

    def _finished(self) -> bool:
        return self._run is not None and self._run.finished

    def _post_parent_now(self, queued: Callable[[], int | None]) -> Callable[[], Awaitable[str]]:
        async def send() -> str:
            run = self._run
            assert run is not None
            self._parent_has_verdict = run.finished
            waiting = None if run.finished else queued()
            message = blocks.parent_message(run, user=self._place.user, queued=waiting)
            ts = await self._call("chat_postMessage", message)
            if self._on_parent is not None:
                self._on_parent(ts)
            return ts

        return send

    def _verdict_rank(self) -> Priority:
        return Priority.DETAIL if self._parent_has_verdict else Priority.VERDICT

    async def _watch_steps(self, handle: RunHandle, parent_ts: str) -> None:
        """Ask for the step-list reply a moment after the first step finishes (one write, built at its
        slot), unless the run ends first (then `follow` cancels this and posts the final message)."""
        async for _ in handle:
            await asyncio.sleep(LIVE_LIST_AFTER_S)
            self._step_reply(parent_ts)
            return

    def _step_reply(self, parent_ts: str) -> asyncio.Future[str]:
        """The thread reply holding the step list (or, once the run ended, the final message): submitted once."""
        if self._reply is None:
            async def send() -> str:
                run = self._run
                assert run is not None
                final = run.finished
                message = self._final_message(run) if final else steps.steps_message(run, rev=self._next_rev())
                ts = await self._call("chat_postMessage", message, thread_ts=parent_ts)
                self._reply_is_final = final
                return ts

            self._reply = self._submit(Priority.STEPS, send, rank=lambda: (
                self._verdict_rank() if self._finished() else Priority.STEPS))
            # read its error even when the run fails and nobody waits for it
            self._reply.add_done_callback(lambda f: f.cancelled() or f.exception())
        return self._reply

    def _final_message(self, run: Run) -> Message:
        return steps.final_message(run, rev=self._next_rev())

    async def _finish(self, run: Run, parent_ts: str) -> None:
        """The step-list reply turned into the verdict, and the parent at a glance (unless it shows it already)."""
        writes = [self._final_reply(run, parent_ts)]
        if not self._parent_has_verdict:
            writes.append(self._edit(Priority.PARENT_EDIT, parent_ts, lambda: blocks.parent_message(
                run, user=self._place.user, rev=self._next_rev())))
        results = await asyncio.gather(*writes, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _final_reply(self, run: Run, parent_ts: str) -> None:
        try:
            ts = await self._step_reply(parent_ts)
        except SlackApiError as exc:  # the live list never got posted: post the final message afresh
            log.warning("could not post the step list in %s: %s", self._place.channel, exc)
            self._reply = None
            ts = await self._step_reply(parent_ts)
        if not self._reply_is_final:
            await self._edit(self._verdict_rank(), ts, lambda: self._final_message(run))

    async def _follow_privately(self, handle: RunHandle, error: str) -> Run:
        log.info("cannot post in %s (%s); run %s goes on privately", self._place.channel, error,
                 handle.run.run_id)
        notice = blocks.cannot_post_message(handle.run, error, bot_user=self._bot_user)
        await tell_privately(self._client, self._place, notice)
        run = await handle.wait()
        await tell_privately(self._client, self._place, blocks.private_verdict_message(run))
        return run

    # --- writes -------------------------------------------------------------------------------

    def _next_rev(self) -> int:
        self._rev += 1
        return self._rev

    def _submit(self, priority: Priority, send: Callable[[], Awaitable[Any]], *, key: str | None = None,
                rank: PriorityOf | None = None) -> asyncio.Future[Any]:
        run_id = self._run.run_id if self._run else None
        return self._outbox.submit(self._place.channel, send, priority=rank or priority,
                                   key=(run_id, key) if key else None)

    async def _post(self, priority: Priority, build: Callable[[], Message], thread_ts: str) -> str:
        async def send() -> str:
            return await self._call("chat_postMessage", build(), thread_ts=thread_ts)

        return await self._submit(priority, send)

    async def _edit(self, priority: Priority, ts: str, build: Callable[[], Message]) -> None:
        async def send() -> None:
            await self._call("chat_update", build(), ts=ts)

        await self._submit(priority, send, key=f"edit {ts}")

    async def _call(self, method: str, message: Message, **kwargs: Any) -> str:
        """One Web API write in the place's channel; the ts of the message written."""
        try:
            response = await getattr(self._client, method)(channel=self._place.channel, **message, **kwargs)
        except SlackApiError as exc:
            if exc.response.get("error") in CHANNEL_ERRORS:
                raise CannotPost(exc.response["error"]) from None
            raise
        return str(response.get("ts") or kwargs.get("ts") or "")


def _drop(future: asyncio.Future[Any]) -> None:
    """Withdraw a write nobody will wait for (and read its error, so none is reported as lost)."""
    if future.done():
        if not future.cancelled():
            future.exception()
    else:
        future.cancel()
