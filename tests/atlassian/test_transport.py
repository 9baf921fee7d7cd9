"""The production transport (aiohttp), against real servers on loopback: answers arrive whole and
decoded, and each way a request can fail comes out as the `bot.atlassian.failures` type the retry
policy judges (`NoAnswer.retryable`)."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
from aiohttp import web

from bot.atlassian.failures import CannotConnect, CannotSend, ConnectionLost, NoAnswer, ReadTimeout
from bot.atlassian.transport import AiohttpTransport

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[str]:
    """A TCP server answering each connection with `handler`; every connection is closed at the end."""
    open_ones: set[asyncio.Task[None]] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        open_ones.add(task)
        try:
            await handler(reader, writer)
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError, asyncio.CancelledError):
                await writer.wait_closed()
            open_ones.discard(task)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        for task in list(open_ones):
            task.cancel()
        await asyncio.gather(*open_ones, return_exceptions=True)
        await server.wait_closed()


@asynccontextmanager
async def web_server(routes: web.RouteTableDef) -> AsyncIterator[str]:
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


class Direct:
    """Requests handed to `exchange` as `clients.Atlassian` hands them: built by httpx here (so the
    URL, query and JSON body are what httpx would write), the answer given back as an httpx.Response."""

    def __init__(self, timeout: float, headers: dict[str, str]) -> None:
        self.transport = AiohttpTransport()
        self._timeout = timeout
        self._headers = headers

    async def request(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        headers = httpx.Headers(self._headers)
        headers.update(kwargs.pop("headers", {}))  # type: ignore[arg-type]
        request = httpx.Request(method, url, headers=headers, **kwargs)  # type: ignore[arg-type]
        sent = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        answer = await self.transport.exchange(method, str(request.url), sent, request.content or None,
                                               self._timeout)
        # the body comes decoded: its Content-Encoding no longer applies
        kept = [(k, v) for k, v in answer.headers.items() if k.lower() != "content-encoding"]
        return httpx.Response(answer.status, headers=kept, content=answer.content, request=request)

    async def get(self, url: str, **kwargs: object) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: object) -> httpx.Response:
        return await self.request("POST", url, **kwargs)


@asynccontextmanager
async def client(*, timeout: float = 5.0, headers: dict[str, str] | None = None) -> AsyncIterator[Direct]:
    direct = Direct(timeout, headers or {})
    try:
        yield direct
    finally:
        await direct.transport.aclose()


async def test_an_answer_comes_back_as_httpx_gives_it() -> None:
    seen: list[web.Request] = []
    routes = web.RouteTableDef()

    @routes.post("/wiki/rest/api/search/user")
    async def search(request: web.Request) -> web.Response:
        seen.append(request)
        body = await request.json()
        packed = gzip.compress(f'{{"echo": "{body["q"]}"}}'.encode())
        return web.Response(body=packed, headers={"Content-Encoding": "gzip", "Content-Type": "application/json",
                                                  "X-Trace": "a", "Set-Cookie": "s=1"})

    async with web_server(routes) as base, client(headers={"User-Agent": "cc-test"}) as c:
        for _ in range(2):
            response = await c.post(f"{base}/wiki/rest/api/search/user?cql=user%3D%22a%20b%22",
                                    json={"q": "é"}, headers={"Authorization": "Basic abc"})
            assert response.status_code == 200 and response.json() == {"echo": "é"}
            assert response.headers["x-trace"] == "a" and response.http_version == "HTTP/1.1"
    first, second = seen
    assert first.headers["User-Agent"] == "cc-test" and first.headers["Authorization"] == "Basic abc"
    assert first.raw_path == "/wiki/rest/api/search/user?cql=user%3D%22a%20b%22"  # sent as encoded, not re-quoted
    assert "Cookie" not in second.headers  # a cookie one answer sets never rides along


async def test_a_redirect_is_an_answer_not_followed() -> None:
    routes = web.RouteTableDef()
    followed: list[str] = []

    @routes.get("/a")
    async def a(_: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "/b"})

    @routes.get("/b")
    async def b(_: web.Request) -> web.Response:
        followed.append("b")
        return web.Response(text="no")

    async with web_server(routes) as base, client() as c:
        response = await c.get(f"{base}/a", headers={"Authorization": "Basic abc"})
    assert response.status_code == 302 and response.headers["location"] == "/b" and not followed


async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.close()


async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"cut")
    await writer.drain()
    writer.transport.abort()  # RST mid-body


async def not_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
    await writer.drain()
    writer.close()


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    await asyncio.sleep(5)


@pytest.mark.parametrize(("handler", "expected", "retried"), [
    (hang_up, ConnectionLost, True),
    (reset, ConnectionLost, True),
    (not_http, ConnectionLost, True),
    (silent, ReadTimeout, True),
])
async def test_a_failed_exchange_is_the_failure_the_retry_policy_judges(handler: Handler,
                                                                        expected: type[NoAnswer],
                                                                        retried: bool) -> None:
    async with raw_server(handler) as base, client(timeout=0.3) as c:
        with pytest.raises(expected) as caught:
            await c.get(f"{base}/wiki/rest/api/user/current")
    assert caught.value.retryable is retried


async def test_nothing_listening_is_a_connect_error_never_retried() -> None:
    async with raw_server(hang_up) as base:
        pass  # closed: the port now refuses
    async with client() as c:
        with pytest.raises(CannotConnect) as caught:
            await c.get(f"{base}/x")
    assert not caught.value.retryable


async def test_a_header_value_with_a_line_break_is_refused_here_never_sent() -> None:
    got: list[bytes] = []

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        got.append(await reader.read(4096))
        writer.close()

    async with raw_server(record) as base, client() as c:
        with pytest.raises(CannotSend) as caught:
            await c.get(f"{base}/x", headers={"Authorization": "Basic abc\r\nX-Injected: 1"})
    assert not caught.value.retryable
    assert not any(b"X-Injected" in g for g in got)


async def test_proxies_come_from_the_standard_variables_and_no_proxy_is_honoured(monkeypatch) -> None:
    through_proxy: list[str] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        through_proxy.append(head.split(b" ")[1].decode())
        writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    async with raw_server(proxy) as proxy_url:
        for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy",
                     "NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy_url)
        monkeypatch.setenv("NO_PROXY", "direct.example")
        async with client() as c:
            response = await c.get("http://acme.example/wiki/rest/api/space")
        assert response.status_code == 204
        assert through_proxy == ["http://acme.example/wiki/rest/api/space"]
        async with client(timeout=0.5) as c:
            with pytest.raises(NoAnswer):  # not resolvable directly: never went to the proxy
                await c.get("http://direct.example/wiki")
        assert len(through_proxy) == 1
