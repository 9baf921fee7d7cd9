"""One write queue per channel: the most important write takes each slot, superseded edits fold.

Every Slack post or edit in a channel goes through `Outbox.write`. Each channel has one worker
that waits for the channel's next slot (`ChannelPacer`, https://docs.slack.dev/reference/methods/chat.postMessage) and
only then picks what to
send: the pending write with the best `Priority` (asked at that moment, since a run may have
finished while its write waited), oldest first among equals. A write carries a builder, not a
message, so what is sent is the newest state. A write submitted with the `key` of one still
pending replaces it (its waiters get the newer write's result): a superseded edit is never sent.
A 429 pushes the whole channel back by its `Retry-After` (https://docs.slack.dev/apis/web-api/rate-limits) and the
write is tried
again; other errors go to the write's waiter.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.slack.pacer import ChannelPacer

log = logging.getLogger(__name__)

ATTEMPTS = 3  # per write: the one retry policy of Slack writes (the Web API client has none)
RETRY_LOST_AFTER_S = 1.0  # a write whose connection was lost is tried again after this long
Spawn = Callable[[Coroutine[Any, Any, None], str], None]


class Priority(IntEnum):
    """Which write takes a channel's next slot: the lowest value first."""

    VERDICT = 0  # shows a verdict nobody can see yet (the verdict reply, or a parent posted after it)
    PARENT = 1  # a new thread's parent: the asker sees the command landed
    DETAIL = 2  # the verdict reply where the parent already shows the verdict at a glance
    PARENT_EDIT = 3  # the parent's verdict at a glance, after the verdict reply
    STEPS = 4  # the step list
    NOTICE = 5  # anything else in the channel (a restart notice)


PriorityOf = Callable[[], Priority]


def retry_after(exc: SlackApiError) -> float | None:
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


@dataclass(eq=False)
class _Write:
    send: Callable[[], Awaitable[Any]]
    priority: PriorityOf
    order: int
    key: Hashable | None
    future: asyncio.Future[Any] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    attempts: int = 0


class Outbox:
    """Per-channel queues of Slack writes, each drained by one worker at the channel's pace."""

    def __init__(self, pacer: ChannelPacer, spawn: Spawn | None = None) -> None:
        self.pacer = pacer
        self._spawn = spawn or _create_task
        self._queues: dict[str, list[_Write]] = {}
        self._order = itertools.count()

    def submit(self, channel: str, send: Callable[[], Awaitable[Any]], *,
               priority: Priority | PriorityOf, key: Hashable | None = None) -> asyncio.Future[Any]:
        """Queue a write in `channel`; the future resolves with what `send()` returned."""
        rank = priority if callable(priority) else _fixed(priority)
        queue = self._queues.get(channel)
        if key is not None and queue:
            pending = next((w for w in queue if w.key == key), None)
            if pending is not None:  # superseded before it was sent: send only the newer one
                pending.send, pending.priority = send, rank
                return pending.future
        write = _Write(send, rank, next(self._order), key)
        if queue is None:
            queue = self._queues[channel] = []
            self._spawn(self._drain(channel, queue), f"slack writes in {channel}")
        queue.append(write)
        return write.future

    async def write(self, channel: str, send: Callable[[], Awaitable[Any]], *,
                    priority: Priority | PriorityOf, key: Hashable | None = None) -> Any:
        """`submit` and wait for the result (cancelling the wait withdraws the write if still queued)."""
        return await self.submit(channel, send, priority=priority, key=key)

    def pending(self, channel: str) -> int:
        return len(self._queues.get(channel) or ())

    async def _drain(self, channel: str, queue: list[_Write]) -> None:
        try:
            while queue:
                await self.pacer.wait(channel)
                write = min(queue, key=lambda w: (w.priority(), w.order))
                queue.remove(write)
                if write.future.done():  # its waiter gave up (cancelled): the slot goes unused
                    continue
                await self._send(channel, queue, write)
        finally:
            if self._queues.get(channel) is queue:
                del self._queues[channel]
            for write in queue:
                if not write.future.done():
                    write.future.cancel()

    async def _send(self, channel: str, queue: list[_Write], write: _Write) -> None:
        write.attempts += 1
        try:
            result = await write.send()
        except SlackApiError as exc:
            delay = retry_after(exc)
            if delay is not None and write.attempts < ATTEMPTS:
                log.info("Slack rate-limited a write in %s; the channel waits %.1f s", channel, delay)
                await self.pacer.defer(channel, delay)
                queue.append(write)  # keeps its order: it goes first again once the channel may write
                return
            write.future.set_exception(exc)
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:  # no answer: Slack may not have it
            if write.attempts < ATTEMPTS:
                log.info("a Slack write in %s got no answer (%s); tried again", channel, type(exc).__name__)
                await self.pacer.defer(channel, RETRY_LOST_AFTER_S)
                queue.append(write)
                return
            write.future.set_exception(exc)
        except Exception as exc:
            write.future.set_exception(exc)
        else:
            write.future.set_result(result)


def _fixed(priority: Priority) -> PriorityOf:
    return lambda: priority


_workers: set[asyncio.Task[None]] = set()


def _create_task(work: Coroutine[Any, Any, None], name: str) -> None:
    task = asyncio.create_task(work, name=name)
    _workers.add(task)
    task.add_done_callback(_workers.discard)
