"""A stand-in for Atlassian's HTTP in unit tests: an implementation of `bot.atlassian.transport.Transport`,
so a test's request goes through the same `Atlassian._send` path as production's (aiohttp) does.

The handler sees the request as an `httpx.Request` and answers with an `httpx.Response` (httpx is a
test-only convenience here, for building and reading them), or raises a `bot.atlassian.failures`
type, as the production transport does.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping

import httpx

from bot.atlassian.transport import Answer

Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]


class MockTransport:
    """Answers every request with `handler` (one transport for every origin)."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self.closed = False

    async def exchange(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None,
                       timeout: float) -> Answer:
        request = httpx.Request(method, url, headers=list(headers.items()), content=body,
                                extensions={"timeout": httpx.Timeout(timeout).as_dict()})
        answered = self._handler(request)
        response = await answered if inspect.isawaitable(answered) else answered
        await response.aread()
        return Answer(response.status_code, response.headers, response.content)

    async def aclose(self) -> None:
        self.closed = True
