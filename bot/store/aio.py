"""`AsyncHistory`: the run store for async code, with all database I/O off the event loop.

One worker thread owns the connection and runs every call in submission order, so a run's
start, its steps and its end are written in order, and the event loop only awaits
(a Home tab query or a save never delays an ack). The thread is not a daemon: at exit Python
waits for it, so a save already submitted (an interrupted run's, say) is written before the
process ends.
"""

from __future__ import annotations

import asyncio
import builtins
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from bot.errors import HistoryError
from bot.model import Run, StepResult
from bot.store.runs import Change, HistoryStore, Refusal

if TYPE_CHECKING:
    from bot.config import Settings

T = TypeVar("T")


class AsyncHistory:
    """Awaitable `HistoryStore` calls, run one at a time on the store's own thread."""

    def __init__(self, opener: Callable[[], HistoryStore]) -> None:
        """Start opening the store now (on its thread); `ready()` reports a failure."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="history")
        self._opened: Future[HistoryStore] = self._executor.submit(opener)
        self._closed = False
        self._steps_lock = threading.Lock()
        self._pending_steps: dict[str, list[tuple[int, StepResult]]] = {}
        self._steps_write: Future[None] | None = None

    @classmethod
    def open(cls, settings: Settings) -> AsyncHistory:
        """The history the settings name, its dead runs marked interrupted (`HistoryStore.for_settings`)."""
        return cls(lambda: HistoryStore.for_settings(settings))

    def submit_step(self, run_id: str, position: int, step: StepResult) -> Future[None]:
        """Queue a finished step's write. Steps of any run that finish while a step write still waits
        for the thread join it: one transaction for them all once the thread is free, so on a busy
        bot 50 runs' steps cost a few transactions, not a thousand. The future is that write's."""
        with self._steps_lock:
            self._pending_steps.setdefault(run_id, []).append((position, step))
            if self._steps_write is None:
                self._steps_write = self._executor.submit(self._write_steps)
            return self._steps_write

    def drop_steps(self, run_id: str) -> None:
        """Forget the run's steps still waiting to be written: a save of the whole run, queued next,
        stores them (call it just before submitting that save)."""
        with self._steps_lock:
            self._pending_steps.pop(run_id, None)

    def _write_steps(self) -> None:
        with self._steps_lock:
            pending, self._pending_steps = self._pending_steps, {}
            self._steps_write = None
        if not pending:
            return
        store = self._opened.result()
        try:
            store.save_steps_of(pending)
        except store.db.errors as exc:
            runs = f"run{'s' if len(pending) > 1 else ''} {', '.join(pending)}"
            raise HistoryError(f"{store.db.where}: could not save {runs} to history ({exc})") from None

    def submit(self, work: Callable[[HistoryStore], T]) -> Future[T]:
        """Queue `work(store)` behind every call made before it; its future holds the result."""
        return self._executor.submit(lambda: work(self._opened.result()))

    async def call(self, work: Callable[[HistoryStore], T]) -> T:
        """Run `work(store)` on the store's thread and return its result (or raise its error)."""
        return await asyncio.wrap_future(self.submit(work))

    async def ready(self) -> None:
        """:raises ConfigError: when the database could not be opened."""
        await self.call(lambda _: None)

    def wait_opened(self) -> None:
        """`ready()` for synchronous code (blocks until the store is open). :raises ConfigError:"""
        try:
            self._opened.result()
        except BaseException:
            self.close()
            raise

    async def aclose(self) -> None:
        """Finish every queued call, then close the connection and the thread."""
        if self._closed:
            return
        self._closed = True
        await asyncio.wrap_future(self._executor.submit(self._close))
        self._executor.shutdown(wait=False)

    def close(self) -> None:
        """`aclose()` for synchronous code (waits)."""
        if not self._closed:
            self._closed = True
            self._executor.submit(self._close).result()
            self._executor.shutdown(wait=True)

    def _close(self) -> None:
        if self._opened.exception() is None:
            self._opened.result().close()

    # --- the store's calls, awaitable ---

    async def get(self, run_id: str) -> Run:
        return await self.call(lambda s: s.get(run_id))

    # Lists of runs are for showing (history, Home tab): without their steps unless asked.

    async def list(self, actor: str | None = None, limit: int = 20, *, steps: bool = False) -> builtins.list[Run]:
        return await self.call(lambda s: s.list(actor, limit, steps=steps))

    async def latest(self, limit: int = 20, *, steps: bool = False) -> builtins.list[Run]:
        return await self.call(lambda s: s.latest(limit, steps=steps))

    async def failing_accounts(self, limit: int = 20, *, steps: bool = False) -> builtins.list[Run]:
        return await self.call(lambda s: s.failing_accounts(limit, steps=steps))

    async def timeline(self, actor: str, limit: int = 200) -> builtins.list[Change]:
        return await self.call(lambda s: s.timeline(actor, limit))

    async def origin(self, run_id: str) -> dict[str, str | None]:
        return await self.call(lambda s: s.origin(run_id))

    async def origins(self, run_ids: Sequence[str]) -> dict[str, dict[str, str | None]]:
        return await self.call(lambda s: s.origins(run_ids))

    async def set_origin(self, run_id: str, **origin: str) -> None:
        await self.call(lambda s: s.set_origin(run_id, **origin))

    async def record_refusal(self, slack_user: str, slack_channel: str, text: str, reason: str) -> None:
        await self.call(lambda s: s.record_refusal(slack_user, slack_channel, text, reason))

    async def refusals(self, limit: int = 20) -> builtins.list[Refusal]:
        return await self.call(lambda s: s.refusals(limit))

    async def mark_interrupted(self) -> builtins.list[Run]:
        return await self.call(lambda s: s.mark_interrupted())

    async def pending_notices(self) -> builtins.list[Run]:
        return await self.call(lambda s: s.pending_notices())

    async def claim_notice(self, run_id: str) -> bool:
        return await self.call(lambda s: s.claim_notice(run_id))
