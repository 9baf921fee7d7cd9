"""Background work started by listeners after they ack: runs, and their failures reported.

A listener acks, then hands everything else (access check, look-ups, a whole run) to
`BackgroundTasks.spawn` and returns. Work after `ack()` must not raise inside Bolt: when a
listener raises within ~10 ms of acking, Bolt's asyncio runner overwrites the ack and Slack
gets a 404 after 3 s. A failed task goes to its `on_error` (which tells the person, see
`bot.slack.failures`); nothing fails silently.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

OnError = Callable[[Exception], Awaitable[Any]]
# Bolt's AsyncApp answers Slack only when its runner, polling every 10 ms, sees that ack() was
# called (slack_bolt/listener/asyncio_runner.py); work that blocks the loop in that window (a run
# building its HTTP clients takes ~60 ms) would delay the ack. Background work waits this long.
ACK_GRACE_S = 0.025


class BackgroundTasks:
    """Keeps a reference to every running task (asyncio holds only weak ones) until it ends."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, Any], *, name: str, on_error: OnError | None = None) -> None:
        """Run `work` in the background; a failure goes to `on_error(exc)` (or the log)."""
        task = asyncio.create_task(self._guard(work, name, on_error), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def running(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout: float | None = None) -> None:
        """Wait until no task is running (tasks may start more tasks). :raises TimeoutError:"""
        async with asyncio.timeout(timeout):
            while self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def cancel_all(self) -> None:
        """Cancel every task (at shutdown: their runs stay unfinished and are marked interrupted)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    @staticmethod
    async def _guard(work: Coroutine[Any, Any, Any], name: str, on_error: OnError | None) -> None:
        try:
            await asyncio.sleep(ACK_GRACE_S)
            await work
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if on_error is None:
                log.exception("background task %s failed", name)
                return
            try:
                await on_error(exc)
            except Exception:
                log.exception("background task %s failed, and so did telling the user", name)
