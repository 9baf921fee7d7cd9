"""HTTP to Atlassian: one pooled transport per host, reused across runs (aiohttp's connection pool:
`bot.atlassian.transport`), credentials per request, evidence per call.

- Credentials only go to the site and API hosts (the status client never carries one) and
  only to URLs the host guard accepts; redirects are not followed, so nothing leaks along one.
  A client secret goes only to the OAuth token host (`ATLASSIAN_AUTH_URL`), in the body of the
  token request; an OAuth access token only to the API host (gateway, accessible-resources) and
  to the site only when a probe asks for the contrast call (docs/credentials.md).
- Every request has a timeout, every run an overall deadline.
- Idempotent requests (all the bot sends) are retried on 429/500/502/503/504, a reset or closed
  connection, a read timeout and a 2xx JSON body that does not parse: a fault is missing evidence,
  never evidence (docs/architecture.md §Missing evidence). Back-off honours Retry-After (seconds or
  HTTP-date) and the admin API's X-RateLimit-Reset, is jittered, and is bounded in count and by the
  run deadline (docs/atlassian.md §4).
  401/403 are never retried: they are deterministic (§1.16).
- The bot only reads: GET/HEAD plus the read-only POST searches and checks of docs/atlassian.md §4.
- Every exchange becomes redacted `Evidence`; an observed 401/403 is a `Reply`, not an error.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json as jsonlib
import random
import re
import ssl
import time
import weakref
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from functools import cache
from typing import Any
from urllib.parse import urlencode, urlsplit

import certifi
import httpx
from multidict import CIMultiDict

from bot import logs
from bot.atlassian.failures import NoAnswer
from bot.atlassian.hosts import HostGuard, origin
from bot.atlassian.limiter import AdaptiveLimiter
from bot.atlassian.limits import AnswerTooLarge, parse_json
from bot.atlassian.redact import Redactor
from bot.atlassian.transport import AiohttpTransport, Answer, Transport, wire_url
from bot.config import Secret, Settings
from bot.errors import HostNotAllowed
from bot.model import Evidence

USER_AGENT = "confluence-confluence-check-int/0.1.0"  # the form Atlassian recommends (docs/atlassian.md §1.17)
# On every request (the transport adds Host and Content-Length; `call` adds Content-Type for a JSON body)
_HEADERS = {"User-Agent": USER_AGENT, "Accept": "application/json", "Accept-Encoding": "gzip, deflate"}
REQUEST_TIMEOUT_S = 10.0
RUN_DEADLINE_S = 30.0
MAX_ATTEMPTS = 4  # the first try and three retries
MAX_RETRY_DELAY_S = 8.0
EXCERPT_CHARS = 300

# Read-only POSTs the bot may send (docs/architecture.md §Security; docs/atlassian.md §4 "read-only and safe")
_READ_ONLY_POST = re.compile(
    r"(/users/search$|/check-access-by-email$|/users-bulk$|/permission/check$)"
)
# The one other POST: the client-credentials exchange on the token host. It changes nothing in
# Atlassian (it mints a short-lived access token), so a retry is as safe as a read.
TOKEN_PATH = "/oauth/token"
_GATEWAY_PATH = "/ex/confluence/"
_BEARER_PATHS = (_GATEWAY_PATH, "/oauth/token/accessible-resources")  # where an access token may go


class Role(StrEnum):
    SITE = "site"
    API = "api"  # gateway, admin, user management, OAuth accessible-resources
    STATUS = "status"
    AUTH = "auth"  # the OAuth 2.0 token host: client credentials only


class Auth(StrEnum):
    NONE = "none"
    INSPECTOR = "inspector"  # the bot's own Basic email:token
    ORG_KEY = "org_key"  # Bearer organization API key (admin APIs only)
    ACTOR = "actor"  # the actor's Basic email:token, from stdin or the Slack modal
    AS_SENT = "rule_headers"  # exactly the headers an automation rule sends (given in `headers`), nothing added
    ACTOR_BEARER = "actor_bearer"  # the actor's OAuth 2.0 access token (given, or from the client credentials)
    # the actor's API token as `Bearer <token>`: only to show what a caller that sends it so is answered
    ACTOR_TOKEN_AS_BEARER = "actor_token_bearer"
    CLIENT = "client"  # the client id and secret, in the body of POST {auth}/oauth/token


class RequestFailed(Exception):
    """No HTTP response: timeout, connection error or the run deadline. Carries evidence."""

    def __init__(self, message: str, evidence: Evidence) -> None:
        super().__init__(message)
        self.evidence = evidence


@dataclass(frozen=True)
class _Outgoing:
    """A request as it goes out: final URL (`wire_url`), headers, body."""

    method: str
    url: str
    headers: CIMultiDict[str]
    body: bytes | None


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]  # case-insensitive
    text: str
    url: str
    evidence: Evidence

    def json(self) -> Any | None:
        """The parsed body, or None when it is not JSON (or nested deeper than `limits.MAX_JSON_DEPTH`)."""
        try:
            return parse_json(self.text)
        except ValueError:
            return None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


class Deadline:
    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self._end - time.monotonic()


class ClientPool:
    """One transport per origin (site, API, status page) for the process, reused across runs so
    connections and TLS sessions are too. Requests are built here and handed to the transport
    without a client object around it: nothing is kept between requests (no cookie jar: a
    session cookie one answer sets, for the bot's login say, can never ride along on another
    identity's request), and each request carries its own Authorization header, so concurrent runs
    cannot mix identities.

    Pools live per event loop (a transport belongs to the loop that opened its connections) and
    are closed when the loop shuts down its async generators (as `asyncio.run` does). Idle
    transports beyond `MAX_IDLE` origins are closed, so a process that talks to many test servers
    stays small. A transport given from outside (tests) serves every origin and is never closed here."""

    MAX_IDLE = 16

    def __init__(self, transport: Transport | None) -> None:
        self._given = transport
        self._transports: OrderedDict[str, AiohttpTransport] = OrderedDict()
        # shared reads in flight (see `Atlassian.call`): (method, URL, credential digest, body) -> exchange
        self.in_flight: dict[tuple[str, str, bytes, bytes], asyncio.Future[Reply]] = {}
        self._busy: dict[str, int] = {}
        self._closer: AsyncGenerator[None, None] | None = None
        self._closing: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._transports)

    @asynccontextmanager
    async def transport(self, url: str) -> AsyncIterator[Transport]:
        if self._given is not None:
            yield self._given
            return
        scheme, host, port = origin(url)
        key = f"{scheme}://{host}:{port}"
        transport = self._transports.get(key)
        if transport is None:
            transport = self._transports[key] = AiohttpTransport(ssl_context=_ssl_context())
        self._transports.move_to_end(key)
        self._busy[key] = self._busy.get(key, 0) + 1
        try:
            yield transport
        finally:
            self._busy[key] -= 1
            self._trim()

    def _trim(self) -> None:
        idle = [k for k in self._transports if not self._busy.get(k)]
        for key in idle[:max(0, len(self._transports) - self.MAX_IDLE)]:  # oldest first
            task = asyncio.get_running_loop().create_task(self._transports.pop(key).aclose())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def close_with_loop(self) -> None:
        """Arrange (once) for the pool to close when the loop shuts down its async generators."""
        if self._closer is None:
            self._closer = self._close_at_shutdown()
            await self._closer.__anext__()

    async def _close_at_shutdown(self) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        transports, self._transports = list(self._transports.values()), OrderedDict()
        await asyncio.gather(*(t.aclose() for t in transports), *self._closing, return_exceptions=True)


_POOLS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, ClientPool]] = weakref.WeakKeyDictionary()


def pool_for(transport: Transport | None = None) -> ClientPool:
    """The running loop's pool for this transport (None: the real network)."""
    pools = _POOLS.setdefault(asyncio.get_running_loop(), {})
    key = id(transport) if transport is not None else 0
    if key not in pools:
        pools[key] = ClientPool(transport)
    return pools[key]


class Atlassian:
    """The clients of one run. Use as an async context manager."""

    def __init__(
        self,
        settings: Settings,
        *,
        actor_token: Secret | None = None,
        access_token: Secret | None = None,
        client: tuple[str, Secret] | None = None,
        transport: Transport | None = None,
        extra_secrets: Iterable[str] = (),
        deadline_s: float = RUN_DEADLINE_S,
        timeout_s: float = REQUEST_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        limiter: AdaptiveLimiter | None = None,
    ) -> None:
        if not settings.site_url:
            raise ValueError("ATLASSIAN_SITE_URL is required")
        self.settings = settings
        self.guard = HostGuard(settings.site_url, settings.api_url, settings.auth_url)
        self.deadline = Deadline(deadline_s)
        self._timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self.limiter = limiter  # a sweep's adaptive pace: every attempt waits for a slot, every answer teaches it
        self._actor_token = actor_token
        self._access_token = access_token
        self._client = client
        self._logged = [s.reveal() for s in (access_token, client[1] if client else None) if s is not None]
        self._paired: set[str] = set()
        # When this run first sent the actor's credential: Atlassian counts our replay as a use of the
        # token (its lastAccess moves), and the judge must not read that as the caller's use.
        self.actor_first_use: datetime | None = None
        # extra_secrets: values the run holds besides the actor's token (a rule's header values, §5)
        held = [s.reveal() for s in (actor_token, access_token, client[1] if client else None) if s is not None]
        self.redact = Redactor([*settings.secrets(), *held, *extra_secrets])
        if settings.email and settings.api_token:
            self.redact = self.redact.basic_pair(settings.email, settings.api_token.reveal())
        self._pool = pool_for(transport)

    async def __aenter__(self) -> Atlassian:
        await self._pool.close_with_loop()
        # OAuth secrets are masked in every log record while the run holds them, whichever adapter
        # started it (the CLI registers what it reads; the Slack form's credential arrives here only)
        logs.register_secrets(self._logged)
        return self

    async def __aexit__(self, *exc: object) -> None:
        """The pooled clients stay open for the next run (closed with the event loop)."""
        for value in self._logged:
            logs.forget_secret(value)
        self._logged = []

    @property
    def has_access_token(self) -> bool:
        return self._access_token is not None

    def adopt_access_token(self, token: str) -> None:
        """The access token the client credentials were exchanged for: masked from here on, and
        sent as the actor's Bearer for the rest of the run."""
        self._access_token = Secret(token)
        self.redact = self.redact.with_secrets(token)
        logs.register_secret(token)
        self._logged.append(token)

    def gateway_path(self, cloud_id: str, path: str = "") -> str:
        """`/ex/confluence/{cloudId}` + path, on the API host (docs/atlassian.md §2.2)."""
        return f"/ex/confluence/{cloud_id}{path}"

    async def call(
        self,
        role: Role,
        method: str,
        target: str,
        *,
        auth: Auth = Auth.NONE,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        as_email: str | None = None,
        shared: bool = False,
        form: Mapping[str, str] | None = None,
        bearer_at_site: bool = False,
    ) -> Reply:
        """Send one request (retrying 429/503 when safe). Raises RequestFailed without a response,
        HostNotAllowed for a URL outside the configured hosts. `Auth.ACTOR` pairs the run's actor
        token (fixed for the run) with `as_email` in Basic email:token.

        `shared`: a read that is the same for every run (the site's tenant, the status page, the
        bot's own login, the org's list and policies): while one run's exchange for exactly this
        request (same URL, body and credential) is in flight, other runs wait for its answer
        instead of sending it again. Nothing is kept once it is answered, so an answer is never
        older than the run that gets it; each run gets its own copy of the evidence, masked with
        its own secrets. Never for a request carrying the actor's credential.

        `form`: a form-encoded body (the token request). `bearer_at_site`: the one deliberate call
        that sends the actor's OAuth access token to the site URL, to show the site refusing it."""
        if shared and auth not in (Auth.NONE, Auth.INSPECTOR, Auth.ORG_KEY):
            raise ValueError("only a request carrying no actor credential may be shared between runs")
        method = method.upper()
        url = self._absolute(role, target)
        send_headers = {**(headers or {}), **self._auth_headers(role, auth, as_email, bearer_at_site)}
        if auth is Auth.ACTOR and as_email and self._actor_token and as_email not in self._paired:
            # the base64 form of this email:token pair is masked too, should anything echo it
            self._paired.add(as_email)
            self.redact = self.redact.basic_pair(as_email, self._actor_token.reveal())
        wire = wire_url(str(with_query(url, params)))
        body = None if json is None else jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":"),
                                                        allow_nan=False).encode()
        all_headers = CIMultiDict(_HEADERS)
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        if form is not None or auth is Auth.CLIENT:
            body = urlencode({**(form or {}), **self._client_fields(role, auth)}).encode()
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        for name, value in send_headers.items():  # case-insensitively: a rule's own `accept` replaces ours
            all_headers[name] = value
        request = _Outgoing(method, wire, all_headers, body)
        request_line = f"{method} {self.redact(wire)}"
        path = urlsplit(wire).path
        if auth is Auth.ACTOR_BEARER and role is Role.API and not path.startswith(_BEARER_PATHS):
            # on the API host an access token goes to the gateway and accessible-resources, nowhere else
            raise HostNotAllowed(f"refusing {method} {path}: an OAuth access token only goes to the gateway")
        if auth is Auth.ACTOR_TOKEN_AS_BEARER and role is Role.API and not path.startswith(_GATEWAY_PATH):
            raise HostNotAllowed(f"refusing {method} {path}: the actor's API token only goes to the gateway")
        token_request = role is Role.AUTH and method == "POST" and path.rstrip("/").endswith(TOKEN_PATH)
        idempotent = method in ("GET", "HEAD") or bool(_READ_ONLY_POST.search(path)) or token_request
        if not idempotent:
            raise ValueError(f"refusing {method} {url}: confluence-check only reads")
        if auth in (Auth.ACTOR, Auth.AS_SENT, Auth.ACTOR_TOKEN_AS_BEARER) and self.actor_first_use is None:
            self.actor_first_use = datetime.now(UTC)
        if not shared:
            return await self._exchange(request, request_line, auth, url, withhold_ok_body=role is Role.AUTH)
        key = (method, wire, hashlib.sha256(all_headers.get("authorization", "").encode()).digest(), body or b"")
        exchange = self._pool.in_flight.get(key)
        if exchange is None:
            exchange = self._pool.in_flight[key] = asyncio.ensure_future(
                self._exchange(request, request_line, auth, url))
            exchange.add_done_callback(lambda done: self._pool.in_flight.pop(key, None)
                                       if self._pool.in_flight.get(key) is done else None)
            exchange.add_done_callback(lambda done: done.cancelled() or done.exception())  # read, even unawaited
        started = time.monotonic()
        try:  # shielded: a run that stops never stops the exchange others wait for
            reply = await asyncio.wait_for(asyncio.shield(exchange), timeout=max(0.0, self.deadline.remaining()))
        except TimeoutError:
            evidence = self._evidence(request_line, None, auth, None, started, "request timed out: run deadline")
            raise RequestFailed(f"{request_line} timed out: run deadline", evidence) from None
        except RequestFailed as exc:
            raise RequestFailed(self.redact(str(exc)) or "", self._own(exc.evidence)) from None
        return replace(reply, evidence=self._own(reply.evidence))

    def _own(self, evidence: Evidence) -> Evidence:
        """Evidence another run's exchange produced, masked with this run's secrets too."""
        return replace(evidence, request=self.redact(evidence.request) or "", excerpt=self.redact(evidence.excerpt))

    async def _exchange(self, request: _Outgoing, request_line: str, auth: Auth, url: str,
                        withhold_ok_body: bool = False) -> Reply:
        """The request's attempts (retried when safe) up to an answer; RequestFailed without one.
        `withhold_ok_body`: a 2xx body is kept out of the evidence (the token host's answer holds
        an access token the redactor does not know yet)."""
        faults: list[str] = []  # what each failed attempt met, for the evidence note
        while True:
            started = time.monotonic()
            try:
                response = await self._send(request)
            except (NoAnswer, TimeoutError) as exc:  # TimeoutError: the run deadline itself, never retried
                kind = "timed out" if isinstance(exc, TimeoutError) or exc.timed_out else "failed"
                if isinstance(exc, NoAnswer) and exc.retryable and await self._backoff(len(faults), None):
                    faults.append(f"{type(exc).__name__}")
                    continue
                too_large = isinstance(exc, AnswerTooLarge)
                what = str(exc) if too_large else type(exc).__name__
                evidence = self._evidence(request_line, None, auth, None, started,
                                          _note(f"request {kind}" + (f": {what}" if too_large else ""), faults))
                raise RequestFailed(f"{request_line} {kind}: {what}{_after(faults)}", evidence) from None
            fault = _transient(response)
            if fault is not None and await self._backoff(len(faults), response):
                faults.append(fault)
                continue
            note = _note("gave up: " + fault if fault else None, faults)
            shown: str | None = response.text
            if withhold_ok_body and 200 <= response.status < 300:
                shown, note = None, _note("body not kept: it holds an access token", faults)
            evidence = self._evidence(request_line, response.status, auth, shown, started, note)
            return Reply(response.status, response.headers, response.text, url, evidence)

    async def _backoff(self, retries: int, response: Answer | None) -> bool:
        """Sleep before the next attempt and say True, or say False when the retry budget (count,
        longest acceptable wait, run deadline) does not allow another attempt."""
        policy = self.retry
        if retries >= policy.attempts - 1:
            return False
        delay = policy.delay(retries, response)
        if delay is None or delay > self.deadline.remaining() - min(self._timeout_s, policy.deadline_margin_s):
            return False
        await asyncio.sleep(delay)
        return True

    async def _send(self, request: _Outgoing) -> Answer:
        """One attempt, in a slot of the limiter when there is one (which then learns from the answer)."""
        if self.limiter is None:
            return await self._send_now(request)
        async with self.limiter.slot():
            answer = await self._send_now(request)
            self.limiter.observe(answer.status, answer.headers,
                                 _server_delay(answer) if answer.status == 429 else None)
        return answer

    async def _send_now(self, request: _Outgoing) -> Answer:
        """One attempt: the request through its origin's transport, the answer read whole."""
        timeout = min(self._timeout_s, self.deadline.remaining())
        if timeout <= 0:
            raise TimeoutError("run deadline exceeded")
        async with self._pool.transport(request.url) as transport:
            return await transport.exchange(request.method, request.url, request.headers, request.body, timeout)

    def _absolute(self, role: Role, target: str) -> str:
        base = {Role.SITE: self.settings.site_url, Role.API: self.settings.api_url,
                Role.STATUS: self.settings.status_url, Role.AUTH: self.settings.auth_url}[role]
        assert base is not None
        url = target if re.match(r"^https?://", target, re.I) else base.rstrip("/") + "/" + target.lstrip("/")
        if role is Role.AUTH:
            self.guard.check_auth(url)  # the token host, and only it
            return url
        if role is Role.STATUS:
            if origin(url) != origin(base) or "@" in httpx.URL(url).netloc.decode():
                raise HostNotAllowed(f"refusing {url}: not the status page")
            return url
        found = self.guard.role_of(url)  # raises HostNotAllowed for any other host
        if found != role.value and origin(self.settings.site_url or "") != origin(self.settings.api_url):
            raise HostNotAllowed(f"refusing {url}: not the {role.value} host")
        return url

    def _client_fields(self, role: Role, auth: Auth) -> dict[str, str]:
        """The client id and secret for the token request body; only ever for the token host."""
        if auth is not Auth.CLIENT:
            return {}
        if role is not Role.AUTH:
            raise HostNotAllowed("a client secret only goes to the OAuth token host")
        if self._client is None:
            raise ValueError("no client credentials were given")
        client_id, secret = self._client
        return {"client_id": client_id, "client_secret": secret.reveal()}

    def _auth_headers(self, role: Role, auth: Auth, as_email: str | None = None,
                      bearer_at_site: bool = False) -> dict[str, str]:
        if auth in (Auth.NONE, Auth.AS_SENT, Auth.CLIENT):
            return {}
        if role is Role.STATUS:
            raise HostNotAllowed("credentials are never sent to the status page")
        if role is Role.AUTH:
            raise HostNotAllowed("only the client credentials go to the OAuth token host")
        if auth is Auth.ACTOR_BEARER:
            if role is Role.SITE and not bearer_at_site:
                raise HostNotAllowed("an OAuth access token goes to the API gateway, not the site")
            if self._access_token is None:
                raise ValueError("no OAuth access token is held")
            return {"Authorization": f"Bearer {self._access_token.reveal()}"}
        if auth is Auth.ACTOR_TOKEN_AS_BEARER:  # (the status page and the token host were refused above)
            if self._actor_token is None:
                raise ValueError("no actor API token is held")
            return {"Authorization": f"Bearer {self._actor_token.reveal()}"}
        if auth is Auth.ORG_KEY:
            if role is not Role.API or not self.settings.org_api_key:
                raise ValueError("the org API key only goes to the admin APIs")
            return {"Authorization": f"Bearer {self.settings.org_api_key.reveal()}"}
        if auth is Auth.INSPECTOR:
            if not (self.settings.email and self.settings.api_token):
                raise ValueError("inspector credentials are not configured")
            return {"Authorization": basic_authorization(self.settings.email, self.settings.api_token.reveal())}
        if not (self._actor_token and as_email):
            raise ValueError("the actor's email and token are not known")
        return {"Authorization": basic_authorization(as_email, self._actor_token.reveal())}

    def _evidence(self, request_line: str, status: int | None, auth: Auth, body: str | None,
                  started: float, note: str | None) -> Evidence:
        excerpt = None
        if body:
            excerpt = " ".join(body.split())[:EXCERPT_CHARS]
        return Evidence(
            request=request_line,
            status=status,
            auth=auth.value,
            excerpt=self.redact(excerpt),
            duration_ms=int((time.monotonic() - started) * 1000),
            note=note,
        )


def with_query(url: str, params: Mapping[str, Any] | None) -> str | httpx.URL:
    """`url` with `params` as its query, exactly as `httpx.Request(method, url, params=params)` writes
    it, but parsed once: httpx parses a URL in pure Python, and every request paid for it twice."""
    if not params:
        return url
    items = [(k, v) for k, value in params.items() for v in (value if isinstance(value, list | tuple) else [value])]
    if "?" in url or "#" in url or not all(type(v) in (str, int) for _, v in items):
        return httpx.URL(url, params=params)  # a query it replaces, or values httpx writes its own way
    return f"{url}?{urlencode(items)}"


@cache
def _ssl_context() -> ssl.SSLContext:
    """One TLS context per process: building one per client costs tens of ms of blocking CPU,
    which would delay Slack acks on the shared event loop."""
    return ssl.create_default_context(cafile=certifi.where())


def basic_authorization(email: str, token: str) -> str:
    """`Basic ` + base64(email:token), on one line (docs/atlassian.md §1.3)."""
    return "Basic " + base64.b64encode(f"{email}:{token}".encode()).decode()


@dataclass(frozen=True)
class RetryPolicy:
    """How idempotent requests are retried (docs/atlassian.md §4): bounded in count, by the longest wait the
    bot accepts, and by the run deadline; jittered exponential back-off unless the server says
    when (`Retry-After` as seconds or HTTP-date, or the admin API's `X-RateLimit-Reset`)."""

    attempts: int = MAX_ATTEMPTS
    base_delay_s: float = 0.5
    max_delay_s: float = MAX_RETRY_DELAY_S
    jitter_s: float = 0.25
    deadline_margin_s: float = 1.0

    def delay(self, retries: int, response: Answer | None) -> float | None:
        """Seconds to wait before retry number `retries + 1`; None when the server asks for longer
        than a diagnosis should wait (the answer is then reported as it is)."""
        asked = _server_delay(response) if response is not None else None
        base = asked if asked is not None else self.base_delay_s * (2**retries)
        if base > self.max_delay_s:
            return None
        return base + random.uniform(0, self.jitter_s)


def _server_delay(response: Answer) -> float | None:
    header = response.headers.get("retry-after")
    if header is not None:
        try:
            return max(0.0, float(header))
        except ValueError:
            pass
        try:  # RFC 9110 §10.2.3: an HTTP-date
            when = parsedate_to_datetime(header)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            return max(0.0, (when - datetime.now(UTC)).total_seconds())
    reset = response.headers.get("x-ratelimit-reset")
    if reset and response.status_code == 429:
        # docs/atlassian.md §4: an ISO-8601 instant; Atlassian documents `yyyy-MM-ddTHH:mmZ` (minute precision)
        try:
            when = datetime.fromisoformat(reset.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    return None


_TRANSIENT_STATUS = (429, 500, 502, 503, 504)


def _transient(response: Answer) -> str | None:
    """Why this answer is a fault worth another attempt (a server error, a rate limit, a 2xx whose
    JSON does not parse), or None when it is an answer (401/403 are deterministic: §1.16)."""
    if response.status_code in _TRANSIENT_STATUS:
        return str(response.status_code)
    if 200 <= response.status_code < 300 and "json" in response.headers.get("content-type", "") and response.text:
        try:
            parse_json(response.text)
        except ValueError:
            return f"{response.status_code} with a body that does not parse"
    return None


def _after(faults: list[str]) -> str:
    return f" (after {len(faults)} retr{'y' if len(faults) == 1 else 'ies'}: {', '.join(faults)})" if faults else ""


def _note(base: str | None, faults: list[str]) -> str | None:
    if not faults:
        return base
    retried = f"retried {len(faults)}x after {', '.join(faults)}"
    return f"{base}; {retried}" if base else f"answered after {retried}"
