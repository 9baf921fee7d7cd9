"""Per-channel pacing of Slack writes: about one write per second in each channel.

Slack allows about one message per second per channel, with short bursts (FACTS §2.1, §2.6), and
`chat.update` is Tier 3 (FACTS §2.2). Each channel has a token bucket: `burst` writes may go at
once (so the parent and the first step list appear together, right after the ack), then one per
`interval`. A caller that gets a 429 sleeps its `Retry-After` while still holding the slot, so
every other writer in that channel waits too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

DEFAULT_INTERVAL_S = 1.0
DEFAULT_BURST = 2


class ChannelPacer:
    """Hands out write slots per channel: `burst` at once, then one per `interval` seconds."""

    def __init__(self, interval: float = DEFAULT_INTERVAL_S, burst: int = DEFAULT_BURST) -> None:
        self.interval = interval
        self.burst = max(1, burst)
        self._locks: dict[str, asyncio.Lock] = {}
        self._tokens: dict[str, float] = {}
        self._stamp: dict[str, float] = {}

    @asynccontextmanager
    async def slot(self, channel: str) -> AsyncIterator[None]:
        """Wait for the channel's next slot; the write happens inside the `async with`."""
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            tokens = self._refill(channel)
            if tokens < 1:
                await asyncio.sleep((1 - tokens) * self.interval)
                tokens = self._refill(channel)
            self._tokens[channel] = tokens - 1
            try:
                yield
            finally:
                self._stamp[channel] = time.monotonic()  # a slow (retried) write delays the next one

    def ready_in(self, channel: str) -> float:
        """Seconds until the channel has a free slot (0 when one is free now)."""
        lock = self._locks.get(channel)
        if lock is not None and lock.locked():
            return self.interval
        tokens = self._available(channel, time.monotonic())
        return 0.0 if tokens >= 1 or self.interval <= 0 else (1 - tokens) * self.interval

    def _available(self, channel: str, now: float) -> float:
        """Tokens in the channel's bucket at `now` (the bucket refills one per interval)."""
        if self.interval <= 0:
            return float(self.burst)
        tokens = self._tokens.get(channel, float(self.burst))
        last = self._stamp.get(channel)
        if last is not None:
            tokens = min(float(self.burst), tokens + (now - last) / self.interval)
        return tokens

    def _refill(self, channel: str) -> float:
        now = time.monotonic()
        tokens = self._available(channel, now)
        self._stamp[channel] = now
        return tokens
