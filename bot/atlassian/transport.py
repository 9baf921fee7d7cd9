"""The wire under `clients.Atlassian`: requests over aiohttp's connection pool.

Why not httpx's own (httpcore): httpcore's pool walks every connection it holds on each request and
asks every idle one whether its socket is readable (through anyio, a `getpeername` and a `poll` per
connection). With the dozens of connections a busy bot keeps to one host, that walk was most of a
run's CPU: in a cProfile of 250 runs, 7.5 s of 17 s went to `httpcore`'s pool for 21,600 requests
(`scripts/bench_slack.py --in-process --profile`). aiohttp keeps idle connections per host in a
queue and parses HTTP in C; the bot already depends on it (Bolt's server, slack_sdk).

`exchange` takes the request in its final form (URL, headers, body; redirects are not followed)
and returns the answer read and decoded, within bounds (`bot.atlassian.limits`): the whole exchange,
body included, ends within its timeout (a server that trickles a byte every few seconds never resets
it), and the body is read in chunks up to MAX_ANSWER_BYTES on the wire and again after decompression,
which is done here, chunk by chunk, with the output capped (aiohttp's own decompression inflates each
chunk it receives whole before anyone can stop it). It says what went wrong in the project's own
terms (`bot.atlassian.failures`), the ones any `Transport` raises, so the retry policy judges every
transport alike: a reset or a server that hung up is worth another try; a refused connection or a bad
URL is not.

`Transport` is the interface: production's `AiohttpTransport` and a test's stand-in implement it, and
`clients.Atlassian._send` calls `exchange` the same way for both.

Nothing from the environment is added to a request: no cookie jar, no `.netrc` credentials
(aiohttp's `trust_env` would add them to requests meant to be anonymous). Proxies are taken from the
standard variables (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`), as httpx does.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import urllib.request
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import aiohttp
import httpx
from yarl import URL

from bot.atlassian.failures import (
    CannotConnect,
    CannotSend,
    ConnectionLost,
    ConnectTimeout,
    NoAnswer,
    ProxyFailed,
    ReadTimeout,
)
from bot.atlassian.limits import MAX_ANSWER_BYTES, AnswerTooLarge

# As httpx's defaults: at most this many connections at once (for one host: a transport serves one)
MAX_CONNECTIONS = 100
KEEPALIVE_S = 5.0
_READ_CHUNK = 1 << 16


class Transport(Protocol):
    """What `clients.Atlassian` sends requests through (one per origin, or one for all in a test)."""

    async def exchange(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None,
                       timeout: float) -> Answer:
        """One request in its final form; the answer read whole. :raises NoAnswer: (a subclass)."""
        ...

    @property
    def closed(self) -> bool: ...

    async def aclose(self) -> None: ...


class AiohttpTransport:
    """Sends requests through one aiohttp session, opened on first use in the running loop."""

    def __init__(self, *, ssl_context: ssl.SSLContext | bool = True, limit: int = MAX_CONNECTIONS,
                 max_bytes: int = MAX_ANSWER_BYTES) -> None:
        self._ssl = ssl_context
        self._max_bytes = max_bytes
        self._limit = limit
        self._session: aiohttp.ClientSession | None = None
        # read once: walking the environment on every request cost ~0.25 ms each
        self._proxies = urllib.request.getproxies()

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(ssl=self._ssl, limit=self._limit, keepalive_timeout=KEEPALIVE_S)
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,  # see the module docstring: proxies are read below, nothing else
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
                timeout=aiohttp.ClientTimeout(total=None),
                auto_decompress=False,  # decompressed here, capped (`_read_capped`)
            )
        return self._session

    async def exchange(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None,
                       timeout: float) -> Answer:
        """One request as `clients.Atlassian` sends it, without httpx's objects around it (building
        them cost a fifth of a run's CPU): `url` already in its final, encoded form (`wire_url`);
        the answer read and decoded (gzip, deflate) up to MAX_ANSWER_BYTES, all of it within `timeout`.
        Failures raise `NoAnswer` subclasses; an answer past the cap raises `AnswerTooLarge`."""
        session = self._open()
        limit = aiohttp.ClientTimeout(total=None, connect=timeout, sock_connect=timeout, sock_read=timeout)
        try:
            async with asyncio.timeout(timeout):
                async with session.request(method, URL(url, encoded=True), headers=headers, data=body,
                                           allow_redirects=False, timeout=limit,
                                           proxy=_proxy_for(url, self._proxies)) as response:
                    content = await _read_capped(response, self._max_bytes)
                    return Answer(response.status, response.headers, content)
        except NoAnswer:
            raise
        except Exception as exc:
            raise _failure(exc) from None

    @property
    def closed(self) -> bool:
        return self._session is None or self._session.closed

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, decoded, read chunk by chunk: `AnswerTooLarge` as soon as more than `limit` bytes came
    on the wire or came out of the decompressor (whose output is capped per call, so a bomb never
    inflates past the cap in memory)."""
    declared = response.content_length
    if declared is not None and declared > limit:
        raise AnswerTooLarge(limit)
    decoder = _decoder(response.headers.get("Content-Encoding", ""))
    out = bytearray()
    wire = 0
    try:
        async for chunk in response.content.iter_chunked(_READ_CHUNK):
            wire += len(chunk)
            if decoder is None:
                out += chunk
            else:
                while chunk and len(out) <= limit:
                    out += decoder.decompress(chunk, limit - len(out) + 1)
                    chunk = decoder.unconsumed_tail
            if wire > limit or len(out) > limit:
                raise AnswerTooLarge(limit)
        if decoder is not None:
            out += decoder.flush()
    except zlib.error:
        raise httpx.RemoteProtocolError("DecodingError") from None  # not the encoding it names
    if len(out) > limit:
        raise AnswerTooLarge(limit)
    return bytes(out)


def _decoder(encoding: str) -> zlib._Decompress | None:
    """A decompressor for the Content-Encodings the bot asks for (gzip, deflate), else None (as sent)."""
    name = encoding.strip().lower()
    if name in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if name == "deflate":
        return zlib.decompressobj()
    return None


@dataclass(frozen=True)
class Answer:
    """An HTTP answer read whole: status, headers (case-insensitive) and the decoded body."""

    status: int
    headers: Mapping[str, str]
    content: bytes

    @property
    def status_code(self) -> int:
        return self.status

    @property
    def text(self) -> str:
        """The body as text, in the charset the content type names (UTF-8 when none does)."""
        charset = "utf-8"
        for part in self.headers.get("content-type", "").split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.lower() == "charset" and value:
                charset = value.strip('"\' ')
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")


# Characters a URL may carry as they are; any other (a space, a non-ASCII letter) or a dot segment
# sends the URL through httpx's parser, which encodes and normalises it as it always did.
_WIRE_SAFE = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")


def wire_url(url: str) -> str:
    """`url` as it goes on the wire: as given when already plain, else as httpx writes it."""
    if _WIRE_SAFE.fullmatch(url) and "/." not in url:
        return url
    return str(httpx.URL(url))


def _proxy_for(url: str, proxies: dict[str, str]) -> str | None:
    """The proxy the standard environment variables (read into `proxies`) name for this URL, if any."""
    if not proxies:
        return None
    parts = urlsplit(url)
    if urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxies.get(parts.scheme) or proxies.get("all")


def _failure(exc: BaseException) -> Exception:
    """What went wrong, in `bot.atlassian.failures` terms (the type only: aiohttp's message may carry
    the URL, and the caller reports the type)."""
    kind: type[NoAnswer]
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        kind = ConnectTimeout
    elif isinstance(exc, aiohttp.ServerTimeoutError | asyncio.TimeoutError):
        kind = ReadTimeout
    elif isinstance(exc, aiohttp.ClientProxyConnectionError):
        kind = ProxyFailed
    elif isinstance(exc, aiohttp.ClientConnectorError):
        kind = CannotConnect
    elif isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError | aiohttp.ClientResponseError):
        kind = ConnectionLost  # hung up before a whole answer, or an answer that is not HTTP
    elif isinstance(exc, aiohttp.InvalidURL):
        kind = CannotSend
    elif isinstance(exc, aiohttp.ClientOSError | ConnectionError):
        kind = ConnectionLost  # a reset or a broken pipe on an open connection
    elif isinstance(exc, ValueError | aiohttp.ClientError):
        kind = CannotSend  # a header value HTTP cannot carry (a line break, say)
    else:
        return exc if isinstance(exc, Exception) else RuntimeError(type(exc).__name__)
    return kind(type(exc).__name__)
