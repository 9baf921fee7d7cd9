"""An adaptive pace for long sweeps over the admin APIs (thousands of requests with one org key).

Atlassian publishes no numbers for the Organizations and User management APIs (docs/atlassian.md
§4), so the pace is learnt from the answers, the way TCP learns a path's capacity (additive
increase, multiplicative decrease):

- requests are spaced at `rate` per second, with at most `max_in_flight` of them unanswered;
- until the first sign of a limit the rate grows by one request per second for every answer
  (doubling about every 0.7 s); after it, by `increase` requests per second each second;
- a 429 halves the rate (once per burst of 429s) and holds every request until the time the server
  names: `Retry-After` (seconds or an HTTP-date), else `X-RateLimit-Reset` (ISO 8601), else a second;
- an answer saying the budget is nearly spent (`X-RateLimit-NearLimit: true`, or
  `X-RateLimit-Remaining` below a fifth of `X-RateLimit-Limit`: the point where Atlassian sends
  NearLimit) trims the rate by a tenth, so the limit is seldom reached at all.

The HTTP client (`clients.Atlassian`, `limiter=`) asks for a slot before each attempt and reports
each answer; its own retry of a 429 (honouring the same headers) stays as it is.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

NEAR_FRACTION = 0.2  # "less than 20 % of the budget remains" (X-RateLimit-NearLimit, docs/atlassian.md §4)


@dataclass
class LimiterStats:
    sent: int = 0
    answered: int = 0
    rate_limited: int = 0  # answers with status 429


class AdaptiveLimiter:
    """Spaces and bounds requests; learns the rate from the answers (see the module docstring)."""

    def __init__(self, *, max_in_flight: int = 16, start_rate: float = 4.0, min_rate: float = 0.5,
                 max_rate: float = 1000.0, increase: float = 2.0, decrease: float = 0.5,
                 near_decrease: float = 0.9, clock: Callable[[], float] = time.monotonic) -> None:
        if max_in_flight < 1 or not 0 < min_rate <= start_rate <= max_rate:
            raise ValueError("need max_in_flight >= 1 and 0 < min_rate <= start_rate <= max_rate")
        self.max_in_flight = max_in_flight
        self.rate = start_rate
        self.min_rate, self.max_rate = min_rate, max_rate
        self.increase, self.decrease, self.near_decrease = increase, decrease, near_decrease
        self.stats = LimiterStats()
        self._clock = clock
        self._slots = asyncio.Semaphore(max_in_flight)
        self._turn = asyncio.Lock()
        self._in_flight = 0
        self._next_at = 0.0  # when the next request may go
        self._paused_until = 0.0  # set by a 429
        self._calm_until = 0.0  # no second decrease before this (one per burst of signals)
        self._slow_start = True

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the in-flight places, entered at the current pace, for one attempt."""
        async with self._slots:
            async with self._turn:  # one waiter at a time, so the spacing holds
                while True:
                    now = self._clock()
                    at = max(self._next_at, self._paused_until)
                    if at <= now:
                        break
                    await asyncio.sleep(at - now)
                self._next_at = max(now, self._next_at) + 1.0 / self.rate
            self._in_flight += 1
            self.stats.sent += 1
            try:
                yield
            finally:
                self._in_flight -= 1

    def observe(self, status: int, headers: Mapping[str, str], wait: float | None = None) -> None:
        """Learn from one answer (headers case-insensitive, as the client's answers have them);
        `wait`: the seconds a 429 asks for, as the client's retry policy reads them."""
        now = self._clock()
        self.stats.answered += 1
        if status == 429:
            self.stats.rate_limited += 1
            self._paused_until = max(self._paused_until, now + (wait if wait is not None else 1.0))
            self._slow_down(now, self.decrease, calm=max(wait or 0.0, 1.0 / self.rate, 0.2))
            return
        if near_limit(headers):
            self._slow_down(now, self.near_decrease, calm=max(2.0 / self.rate, 0.2))
            return
        if 200 <= status < 500 and self._in_flight < self.max_in_flight:
            # only while the pace is what holds requests back: at the in-flight bound a higher
            # rate would be a number nobody tested
            step = 1.0 if self._slow_start else self.increase / self.rate
            self.rate = min(self.max_rate, self.rate + step)

    def _slow_down(self, now: float, factor: float, *, calm: float) -> None:
        self._slow_start = False
        if now < self._calm_until:
            return
        self.rate = max(self.min_rate, self.rate * factor)
        self._calm_until = now + calm


def near_limit(headers: Mapping[str, str]) -> bool:
    """The answer says the budget is nearly spent (docs/atlassian.md §4)."""
    if headers.get("x-ratelimit-nearlimit", "").strip().lower() == "true":
        return True
    try:
        limit = float(headers.get("x-ratelimit-limit", ""))
        remaining = float(headers.get("x-ratelimit-remaining", ""))
    except ValueError:
        return False
    return limit > 0 and remaining < NEAR_FRACTION * limit
