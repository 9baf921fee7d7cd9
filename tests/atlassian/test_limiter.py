"""The sweep's adaptive pace (`AdaptiveLimiter`): slow start, a halving and a pause on 429, a trim
when the server says the budget is nearly spent, a bound on requests in flight; and the token
bucket the simulator puts on the admin APIs."""

from __future__ import annotations

import asyncio
import time

import httpx

from bot.atlassian.limiter import AdaptiveLimiter, near_limit
from bot.simulator.fault_model import KeyRateLimit


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_slow_start_grows_the_rate_until_the_first_sign_of_a_limit_then_a_429_halves_it() -> None:
    clock = Clock()
    limiter = AdaptiveLimiter(start_rate=4.0, clock=clock)
    for _ in range(10):
        limiter.observe(200, {})
    assert limiter.rate == 14.0
    limiter.observe(429, {}, wait=2.5)
    assert limiter.rate == 7.0 and limiter.stats.rate_limited == 1
    limiter.observe(429, {}, wait=2.5)  # the same burst: no second halving
    assert limiter.rate == 7.0
    limiter.observe(200, {})  # after the first limit: additive increase, 2 requests/s per second
    assert 7.0 < limiter.rate < 7.5


def test_near_the_limit_the_rate_is_trimmed_before_any_429() -> None:
    clock = Clock()
    limiter = AdaptiveLimiter(start_rate=20.0, clock=clock)
    limiter.observe(200, {"x-ratelimit-limit": "20", "x-ratelimit-remaining": "3"})
    assert limiter.rate == 18.0
    assert near_limit({"x-ratelimit-nearlimit": "true"})
    assert not near_limit({"x-ratelimit-limit": "20", "x-ratelimit-remaining": "12"})
    assert not near_limit({"x-ratelimit-limit": "n/a", "x-ratelimit-remaining": "0"})


async def test_a_429_holds_every_request_for_the_time_the_server_names() -> None:
    limiter = AdaptiveLimiter(start_rate=1000.0, max_rate=1000.0)
    limiter.observe(429, {}, wait=0.3)
    started = time.monotonic()
    async with limiter.slot():
        pass
    assert time.monotonic() - started >= 0.25


async def test_no_more_than_max_in_flight_requests_at_once() -> None:
    limiter = AdaptiveLimiter(max_in_flight=3, start_rate=1000.0, max_rate=1000.0)
    most = 0

    async def one() -> None:
        nonlocal most
        async with limiter.slot():
            most = max(most, limiter.in_flight)
            await asyncio.sleep(0.02)

    await asyncio.gather(*(one() for _ in range(20)))
    assert most == 3 and limiter.stats.sent == 20


async def test_the_simulators_bucket_answers_429_with_the_documented_headers_once_spent(simulator) -> None:
    sim = await simulator("token_sweep")
    sim.state.faults.key_rate_limit = KeyRateLimit(per_second=2.0, burst=3)
    key = sim.scenario.settings["ATLASSIAN_ORG_API_KEY"]
    async with httpx.AsyncClient() as http:
        url = f"{sim.api_url}/admin/v1/orgs/{sim.state.org.id}/users"
        replies = [await http.get(url, headers={"Authorization": f"Bearer {key}"}) for _ in range(4)]
        other = await http.get(url, headers={"Authorization": "Bearer another-key"})
    assert [r.status_code for r in replies] == [200, 200, 200, 429]
    assert [r.headers["X-RateLimit-Remaining"] for r in replies] == ["2", "1", "0", "0"]
    assert all(r.headers["X-RateLimit-Limit"] == "3" for r in replies)
    assert replies[3].headers["X-RateLimit-Reset"].endswith("Z") and "Retry-After" not in replies[3].headers
    assert replies[3].json() == {"code": 429, "message": "Too Many Requests"}
    assert other.status_code == 401 and "X-RateLimit-Limit" in other.headers  # a bucket per key
