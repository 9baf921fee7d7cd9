"""The per-channel Slack write pace, shared through the history database by every bot process.

A token bucket per channel (`burst` writes at once, then one per `interval`: docs/atlassian.md §2.1) kept
as a row of `channel_pace`, read and moved in one write transaction, so two processes serving
one app together still write at most about once a second in a channel (docs/architecture.md §Slack
behaviour). The clock is the database's on PostgreSQL (replicas on several hosts agree on it)
and this host's on SQLite (whose processes share a host).

`SharedSlots` is the `SlotSource` the Slack pacer takes (`bot.slack.pacer`); its calls run on
the history thread, off the event loop.
"""

from __future__ import annotations

import time

from bot.store.aio import AsyncHistory
from bot.store.db import Db, Dialect


def take_slot(db: Db, channel: str, *, interval: float, burst: int, defer_s: float | None = None) -> float:
    """Reserve `channel`'s next write slot; the seconds until it comes (0 = now).

    With `defer_s` (Slack answered 429 with Retry-After), take no slot but push the next one at
    least that far away and spend the burst.
    """
    if interval <= 0:
        return 0.0
    with db.transaction():
        now = now_s(db)
        db.execute("INSERT INTO channel_pace (channel, tokens, stamp) VALUES (?, ?, ?)"
                   " ON CONFLICT (channel) DO NOTHING", [channel, float(burst), now])
        lock = " FOR UPDATE" if db.dialect is Dialect.POSTGRES else ""  # SQLite: BEGIN IMMEDIATE locked it
        tokens, stamp = db.execute(f"SELECT tokens, stamp FROM channel_pace WHERE channel = ?{lock}",
                                   [channel]).fetchone()
        tokens = min(float(burst), tokens + max(0.0, now - stamp) / interval)
        if defer_s is not None:
            wait, tokens = 0.0, min(tokens, 1.0) - defer_s / interval
        else:
            wait, tokens = max(0.0, (1.0 - tokens) * interval), tokens - 1.0
        db.execute("UPDATE channel_pace SET tokens = ?, stamp = ? WHERE channel = ?",
                   [tokens, max(now, stamp), channel])
    return wait


def now_s(db: Db) -> float:
    """Epoch seconds by the database's clock on PostgreSQL (replicas on several hosts agree on it), this
    host's on SQLite (whose processes share a host)."""
    if db.dialect is Dialect.POSTGRES:
        return float(db.execute("SELECT extract(epoch FROM clock_timestamp())").fetchone()[0])
    return time.time()


class SharedSlots:
    """Write slots from the shared database: one pace per channel for all processes together."""

    def __init__(self, history: AsyncHistory, *, interval: float, burst: int) -> None:
        self._history = history
        self.interval = interval
        self.burst = max(1, burst)

    async def reserve(self, channel: str) -> float:
        return await self._history.call(
            lambda store: take_slot(store.db, channel, interval=self.interval, burst=self.burst))

    async def defer(self, channel: str, seconds: float) -> None:
        await self._history.call(
            lambda store: take_slot(store.db, channel, interval=self.interval, burst=self.burst, defer_s=seconds))
