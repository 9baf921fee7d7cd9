"""Injected faults: which `RouteFault` hits a request, and what the listener then does — an error
status with the headers the API in question sends, a dropped connection, a delay or a body that
does not parse. The middleware (`middleware.py`) applies them; the world (`state.py`) holds them.
"""

from __future__ import annotations

import asyncio
import math
import socket
import struct
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime

from aiohttp import web

from bot.simulator import bodies
from bot.simulator.fault_model import FaultKind, Faults, KeyRateLimit, RetryAfterForm, RouteFault
from bot.simulator.routes import admin_shapes as shapes
from bot.simulator.state import utcnow

# A 2xx JSON answer cut off mid-object: what a truncated upstream reply looks like.
MALFORMED_JSON_BODY = '{"results":[{"id":"'
_ADMIN_PREFIXES = ("/admin/", "/users/")
_DEFAULT_RESET_S = 60  # window reset when a 429 fault names none [I]


class ConnectionDropped(web.HTTPException):
    """Raised after the connection was reset or closed: aiohttp's write of this 'response' to the
    closed transport is a no-op, so the client sees no response at all."""


def pick(faults: Faults, role: str, method: str, path: str) -> RouteFault | None:
    """The first route fault that fires on this request. Every matching fault counts the request,
    so `nth` means the n-th matching request whatever the other faults do."""
    fired: RouteFault | None = None
    for fault in faults.routes:
        if fault.matches(role, method, path) and fault.take() and fired is None:
            fired = fault
    return fired


def drop_connection(request: web.Request, kind: FaultKind) -> ConnectionDropped:
    """Reset (RST, SO_LINGER 0) or close (FIN) the request's connection; returns the exception
    to raise so no response is written."""
    transport = request.transport
    if transport is not None:
        if kind is FaultKind.RESET:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        else:
            transport.close()
    return ConnectionDropped()


async def apply(fault: RouteFault, request: web.Request) -> web.StreamResponse | None:
    """The answer for a fired fault; None for a delay (the request then goes on normally).
    Raises ConnectionDropped for a reset or a close."""
    if fault.kind in (FaultKind.RESET, FaultKind.CLOSE):
        raise drop_connection(request, fault.kind)
    if fault.kind is FaultKind.DELAY:
        await asyncio.sleep(fault.delay_ms / 1000)
        return None
    if fault.kind is FaultKind.MALFORMED:
        return bodies.raw(MALFORMED_JSON_BODY, status=200)
    return status_response(fault, request.path)


def status_response(fault: RouteFault, path: str) -> web.Response:
    """An error status in the form of the API that `path` belongs to.

    Organizations / user-management API (`/admin/…`, `/users/…`): ProxyError `{code, message}`;
    on 429 `X-RateLimit-Limit/-Remaining/-Reset` (ISO 8601 UTC) and no `Retry-After` unless the fault
    sets one (openapi/README.md: the Organizations API documents these headers, no Retry-After).
    Confluence, site and status page: docs/atlassian.md §4 headers (Retry-After when set, reset as
    `yyyy-MM-ddTHH:mmZ`, RateLimit-Reason)."""
    now = utcnow()
    headers: dict[str, str] = {}
    if fault.retry_after is not None and fault.status in (429, 503):
        headers["Retry-After"] = retry_after_value(fault.retry_after, fault.retry_after_form, now)
    admin = path.startswith(_ADMIN_PREFIXES)
    if fault.status == 429:
        reset_s = fault.rate_limit_reset if fault.rate_limit_reset is not None else (
            fault.retry_after if fault.retry_after is not None else _DEFAULT_RESET_S)
        reset = now + timedelta(seconds=reset_s)
        headers["X-RateLimit-Limit"] = bodies.RATE_LIMIT_LIMIT
        headers["X-RateLimit-Remaining"] = "0"
        if admin:
            headers["X-RateLimit-Reset"] = reset.strftime("%Y-%m-%dT%H:%M:%SZ")
        else:
            headers["X-RateLimit-Reset"] = reset.strftime("%Y-%m-%dT%H:%MZ")  # docs/atlassian.md §4 format
            headers["RateLimit-Reason"] = bodies.RATE_LIMIT_REASON
    if admin:
        body = _admin_error_body(fault.status, path)
    elif fault.status == 429:
        body = bodies.RATE_LIMITED_BODY
    else:
        body = bodies.ERROR_FAULT_TEMPLATE.format(status=fault.status)
    return bodies.raw(body, status=fault.status, headers=headers)


def _admin_error_body(status: int, path: str) -> str:
    """What each admin API documents for a 429 or a 500 (admin-organization spec): /admin/v1 answers
    429 with ProxyError and 500 with an ApplicationError list (ADMIN-500-1); /admin/v2 answers both
    with `Errors`. A 502/503/504 comes from the edge in front of them: ProxyError everywhere [I]."""
    message = bodies.PROXY_ERROR_MESSAGES.get(status, "Injected fault")
    v2 = path.startswith("/admin/v2/")
    if v2 and status in (429, 500):
        code = "ADMIN-UAM-500-1" if status == 500 else "ADMIN-429-1"  # the spec lists no UAM 429 code [I]
        return shapes.api_error(status, code, message, "Injected fault.")
    if status == 500 and path.startswith("/admin/v1/"):
        return shapes.api_error(500, "ADMIN-500-1", "Internal error", "Injected fault.")
    return bodies.proxy_error(status, message)


def retry_after_value(seconds: int, form: RetryAfterForm, now: datetime) -> str:
    """`Retry-After` as delay-seconds or as an IMF-fixdate HTTP-date (RFC 9110 §10.2.3)."""
    if form is RetryAfterForm.HTTP_DATE:
        return format_datetime(now + timedelta(seconds=seconds), usegmt=True)
    return str(seconds)


def is_admin_path(path: str) -> bool:
    """The organization and user-management APIs (where `KeyRateLimit` applies)."""
    return path.startswith(_ADMIN_PREFIXES)


@dataclass
class Bucket:
    """One API key's token bucket (`KeyRateLimit`)."""

    limit: KeyRateLimit
    tokens: float = field(init=False)
    at: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = float(self.limit.burst)

    def take(self) -> tuple[bool, dict[str, str]]:
        """Spend a token if there is one: (passed, the X-RateLimit-* headers for the answer)."""
        now = time.monotonic()
        rate, burst = self.limit.per_second, self.limit.burst
        self.tokens = min(float(burst), self.tokens + (now - self.at) * rate)
        self.at = now
        passed = self.tokens >= 1.0
        if passed:
            self.tokens -= 1.0
            seconds = (burst - self.tokens) / rate  # until full again
        else:
            seconds = (1.0 - self.tokens) / rate  # until one request can pass
        reset = utcnow() + timedelta(seconds=seconds)
        headers = {"X-RateLimit-Limit": str(burst), "X-RateLimit-Remaining": str(int(self.tokens)),
                   "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.") + f"{reset.microsecond // 1000:03d}Z"}
        if not passed and self.limit.retry_after:
            headers["Retry-After"] = str(max(1, math.ceil(seconds)))
        return passed, headers


def key_rate_limited(path: str, headers: dict[str, str]) -> web.Response:
    """The 429 a `KeyRateLimit` answers, in the admin APIs' form (ProxyError, as `status_response`)."""
    return bodies.raw(_admin_error_body(429, path), status=429, headers=headers)
