"""Per-channel pace of Slack writes: about one write per second in each channel, short bursts allowed.

Slack allows about one message per second per channel, with short bursts
(https://docs.slack.dev/reference/methods/chat.postMessage, https://docs.slack.dev/apis/web-api/rate-limits), and
`chat.update` is Tier 3 (https://docs.slack.dev/reference/methods/chat.update). Where the slots come from is pluggable
(`SlotSource`): the
in-memory `TokenBucket` serves one process; a source backed by the shared database can serve
several processes on one app, so together they still keep to one write per second per channel
(docs/architecture.md §Slack). `ChannelPacer` turns a source into "wait for the slot, then write".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

DEFAULT_INTERVAL_S = 1.0
# Two at once: with the one that refills meanwhile, no second ever sees more than three writes in a
# channel ("short bursts", https://docs.slack.dev/reference/methods/chat.postMessage).
DEFAULT_BURST = 2

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@runtime_checkable
class SlotSource(Protocol):
    """Hands out write slots per channel. Both methods may do I/O (a shared database)."""

    async def reserve(self, channel: str) -> float:
        """Take the channel's next slot; return the seconds to wait before writing in it (0 = now)."""
        ...

    async def defer(self, channel: str, seconds: float) -> None:
        """Slack said "slow down" (429 + Retry-After): no slot in `channel` for `seconds`."""
        ...


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class TokenBucket:
    """In-memory slots: `burst` at once, then one per `interval`; for one process.

    A reservation may take the bucket below zero: the n-th waiter is then told to wait n
    intervals, so waiters never get the same slot. Accrued tokens are kept between calls
    (time is credited up to `burst`), so after a wait the next slot is one interval later.
    """

    def __init__(self, interval: float = DEFAULT_INTERVAL_S, burst: int = DEFAULT_BURST, *,
                 clock: Clock = time.monotonic) -> None:
        self.interval = interval
        self.burst = max(1, burst)
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    async def reserve(self, channel: str) -> float:
        return self.take(channel)

    async def defer(self, channel: str, seconds: float) -> None:
        bucket = self._refill(channel)
        # the next slot is at least `seconds` away, and no burst is left after it
        bucket.tokens = min(bucket.tokens, 1.0) - seconds / self.interval if self.interval > 0 else bucket.tokens

    def take(self, channel: str) -> float:
        """Reserve the next slot now; seconds until it (0 when a token is free)."""
        if self.interval <= 0:
            return 0.0
        bucket = self._refill(channel)
        wait = max(0.0, (1.0 - bucket.tokens) * self.interval)
        bucket.tokens -= 1.0
        return wait

    def _refill(self, channel: str) -> _Bucket:
        """Credit the tokens accrued since the last call (up to `burst`) and move the stamp to now."""
        now = self._clock()
        bucket = self._buckets.get(channel)
        if bucket is None:
            bucket = self._buckets[channel] = _Bucket(float(self.burst), now)
            return bucket
        if self.interval > 0 and now > bucket.stamp:
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.stamp) / self.interval)
        bucket.stamp = max(bucket.stamp, now)
        return bucket


class ChannelPacer:
    """Waits for a channel's write slot from a `SlotSource` (in memory unless one is given)."""

    def __init__(self, interval: float = DEFAULT_INTERVAL_S, burst: int = DEFAULT_BURST, *,
                 source: SlotSource | None = None, sleep: Sleep = asyncio.sleep) -> None:
        self.source: SlotSource = source or TokenBucket(interval, burst)
        self._sleep = sleep

    async def wait(self, channel: str) -> None:
        """Take the channel's next slot and wait until it comes."""
        delay = await self.source.reserve(channel)
        if delay > 0:
            await self._sleep(delay)

    async def defer(self, channel: str, seconds: float) -> None:
        await self.source.defer(channel, seconds)

    @asynccontextmanager
    async def slot(self, channel: str) -> AsyncIterator[None]:
        """Wait for the channel's next slot; the write happens inside the `async with`."""
        await self.wait(channel)
        yield
