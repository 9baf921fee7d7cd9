"""Which requests of a run waited for which: the request log read as waves.

With latency injected on every request (`World.faults.latency_ms`), a request that started only
after another had been answered may have waited for it; requests sent together overlap. A
request's wave is one more than the deepest wave among the requests answered before it started
(1 when none was): the run's deepest wave is how many round trips it waited for one after the
other, counted from the log, not from a stopwatch. Scheduling delays on a busy machine can only
push a request later, so a measured wave count is never below the run's true depth.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.simulator.runtime import LoggedRequest


def waves(requests: Sequence[LoggedRequest]) -> list[int]:
    """Each request's wave (1-based), in the order given."""
    wave: dict[int, int] = {}
    for i in sorted(range(len(requests)), key=lambda i: requests[i].ended):  # the log is in order of answer
        before = [w for j, w in wave.items() if requests[j].ended <= requests[i].started]
        wave[i] = 1 + max(before, default=0)
    return [wave[i] for i in range(len(requests))]


def describe(requests: Sequence[LoggedRequest], since: float) -> list[str]:
    """One line per request: its wave, start and end in ms after `since`, listener, method, path, status."""
    lines = []
    for request, wave in zip(requests, waves(requests), strict=True):
        lines.append(f"wave {wave}  {(request.started - since) * 1000:7.0f} {(request.ended - since) * 1000:7.0f} ms"
                     f"  {request.role:6} {request.method:6} {request.path}  {request.status}")
    return lines
