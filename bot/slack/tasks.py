"""Background work started by listeners after they ack: runs (at most so many at once), failures.

A listener acks, then hands everything else (access check, look-ups, a whole run) to
`BackgroundTasks.spawn` and returns. Work after `ack()` must not raise inside Bolt: when a
listener raises within ~10 ms of acking, Bolt's asyncio runner overwrites the ack and Slack
gets a 404 after 3 s. A failed task goes to its `on_error` (which tells the person, see
`bot.slack.failures`); nothing fails silently. `RunQueue` bounds the runs in flight
(MAX_CONCURRENT_RUNS): the others wait their turn, first come first served, and can say how
many are ahead of them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

OnError = Callable[[Exception], Awaitable[Any]]
# Acks first: background work starts only once no Slack request has arrived for this long (so a
# burst of commands is acked before any of their work takes the event loop: a run's start costs
# tens of ms of CPU), but never later than QUIET_WAIT_MAX_S after it was spawned.
ACK_GRACE_S = 0.025
QUIET_WAIT_MAX_S = 1.0


class BackgroundTasks:
    """Keeps a reference to every running task (asyncio holds only weak ones) until it ends."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._last_request = float("-inf")

    def request_arrived(self) -> None:
        """A Slack request is being answered: background work holds back a moment (see ACK_GRACE_S)."""
        self._last_request = time.monotonic()

    def spawn(self, work: Coroutine[Any, Any, Any], *, name: str, on_error: OnError | None = None,
              grace: float = ACK_GRACE_S) -> None:
        """Run `work` in the background after `grace` s; a failure goes to `on_error(exc)` (or the log)."""
        task = asyncio.create_task(self._guard(work, name, on_error, grace, self.quiet), name=name)
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

    async def quiet(self, grace: float = ACK_GRACE_S) -> None:
        """Wait for a quiet moment: no Slack request for `grace` s (at most QUIET_WAIT_MAX_S in all)."""
        await asyncio.sleep(grace)
        await self._after_requests(grace)

    async def _after_requests(self, grace: float) -> None:
        """Wait until no request arrived for `grace` s (at most QUIET_WAIT_MAX_S in all)."""
        deadline = time.monotonic() + QUIET_WAIT_MAX_S
        while (wait := min(self._last_request + grace, deadline) - time.monotonic()) > 0:
            await asyncio.sleep(wait)

    @staticmethod
    async def _guard(work: Coroutine[Any, Any, Any], name: str, on_error: OnError | None, grace: float,
                     quiet: Callable[[float], Awaitable[None]]) -> None:
        try:
            if grace > 0:
                await quiet(grace)
            await work
        except asyncio.CancelledError:
            work.close()  # cancelled in its grace (a stop): never started, closed so it is not left unawaited
            raise
        except Exception as exc:
            if on_error is None:
                log.exception("background task %s failed", name)
                return
            try:
                await on_error(exc)
            except Exception:
                log.exception("background task %s failed, and so did telling the user", name)


class Ticket:
    """A place in a `RunQueue`: `ahead` runs wait before it (0 once it may run)."""

    def __init__(self, queue: RunQueue) -> None:
        self._queue = queue
        self.granted = asyncio.Event()
        self.left = False

    @property
    def ahead(self) -> int:
        return self._queue.ahead(self)


class RunQueue:
    """At most `limit` runs at once; the others wait in arrival order.

    Runs mostly wait on the network, but each costs CPU on the one event loop (parsing,
    rendering, history); unbounded, 200 commands at once slow every run, and the acks with them.
    Usage: `ticket = enter()`, `await wait(ticket)`, run, `leave(ticket)` (idempotent; also
    withdraws a ticket still waiting).
    """

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.running = 0
        self._waiting: deque[Ticket] = deque()

    def enter(self) -> Ticket:
        """Take a place now (granted at once when there is room and nobody waits)."""
        ticket = Ticket(self)
        if self.running < self.limit and not self._waiting:
            self.running += 1
            ticket.granted.set()
        else:
            self._waiting.append(ticket)
        return ticket

    async def wait(self, ticket: Ticket) -> None:
        await ticket.granted.wait()

    def leave(self, ticket: Ticket) -> None:
        if ticket.left:
            return
        ticket.left = True
        if ticket.granted.is_set():
            self.running -= 1
        else:
            self._waiting.remove(ticket)
        while self._waiting and self.running < self.limit:
            self.running += 1
            self._waiting.popleft().granted.set()

    def ahead(self, ticket: Ticket) -> int:
        if ticket.granted.is_set() or ticket.left:
            return 0
        return self._waiting.index(ticket)

    @property
    def waiting(self) -> int:
        return len(self._waiting)
