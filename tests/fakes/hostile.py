"""A hostile Atlassian stand-in: every request, on any path, gets an answer meant to exhaust the bot.

- `huge`: a 1 GB body, streamed as it is sent (nothing of that size is ever allocated here);
- `bomb`: a gzip bomb, about 1 MB on the wire that decompresses to 1 GB of zeros;
- `trickle`: a 200 status and headers, then one byte every 2 s, for ever;
- `deep`: JSON nested 100,000 levels deep (a `tenant_info` or a rule no parser should recurse into).

It runs on its own event loop in a thread (`hostile_server(kind)`), so a subprocess or `asyncio.run` in the
test can talk to it; it listens on port 0 and stops with the `with` block.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import zlib
from collections.abc import Iterator
from functools import cache

from aiohttp import web

GIB = 1 << 30
KIND = web.AppKey("kind", str)
_CHUNK = 1 << 16


@cache
def gzip_bomb(size: int = GIB) -> bytes:
    """`size` zero bytes gzip-compressed (made once, from a 1 MiB buffer: ~1 MB for 1 GiB)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    parts = [packer.compress(zeros) for _ in range(size // len(zeros))]
    return b"".join(parts) + packer.flush()


async def _answer(request: web.Request) -> web.StreamResponse:
    kind = request.app[KIND]
    if kind == "deep":
        depth = 100_000
        return web.Response(body=b'{"cloudId": ' + b"[" * depth + b"]" * depth + b"}",
                            content_type="application/json")
    response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    if kind == "bomb":
        body = gzip_bomb()
        response.headers["Content-Encoding"] = "gzip"
        response.content_length = len(body)
        await response.prepare(request)
        with contextlib.suppress(ConnectionError, RuntimeError):
            for start in range(0, len(body), _CHUNK):
                await response.write(body[start:start + _CHUNK])
        return response
    if kind == "huge":
        response.content_length = GIB
        await response.prepare(request)
        chunk = b'{"cloudId": "' + b"a" * (_CHUNK - 13)
        filler = b"a" * _CHUNK
        with contextlib.suppress(ConnectionError, RuntimeError):
            await response.write(chunk)
            for _ in range(GIB // _CHUNK - 1):
                await response.write(filler)
        return response
    # trickle
    response.content_length = 1 << 20
    await response.prepare(request)
    with contextlib.suppress(ConnectionError, RuntimeError):
        for _ in range(1 << 20):
            await response.write(b" ")
            await asyncio.sleep(2.0)
    return response


@contextlib.contextmanager
def hostile_server(kind: str) -> Iterator[str]:
    """Serve `kind` answers on 127.0.0.1; yields the base URL (site and API host alike)."""
    if kind == "bomb":
        gzip_bomb()  # made before serving, so no answer waits for it
    loop = asyncio.new_event_loop()
    started = threading.Event()
    url: list[str] = []
    runner: list[web.AppRunner] = []

    async def start() -> None:
        app = web.Application()
        app[KIND] = kind
        app.router.add_route("*", "/{tail:.*}", _answer)
        run = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await run.setup()
        site = web.TCPSite(run, "127.0.0.1", 0)
        await site.start()
        runner.append(run)
        url.append(f"http://127.0.0.1:{run.addresses[0][1]}")
        started.set()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=30)
    started.wait(timeout=30)
    try:
        yield url[0]
    finally:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(runner[0].cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
