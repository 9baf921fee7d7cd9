"""Cross-cutting behaviour of every listener: the request log, Atlassian's edge headers, and
the world's injected faults (latency, 429 rate limits, 5xx errors).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.simulator import bodies
from bot.simulator.credentials import auth_kind
from bot.simulator.runtime import ROLE, RUNTIME, LoggedRequest
from bot.simulator.state import ErrorFault, RateLimitFault, utcnow

_EDGE_ROLES = ("site", "api")


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Log every request (never the credential) and stamp the edge headers."""
    role = request.app[ROLE]
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _log(request, exc.status)
        raise
    except BaseException:
        _log(request, 500)
        raise
    _log(request, response.status)
    if role in _EDGE_ROLES:
        # FACTS §0.1 "headers worth emitting": Server: AtlassianEdge, Atl-Traceid.
        response.headers["Server"] = "AtlassianEdge"
        response.headers["Atl-Traceid"] = bodies.new_trace_id()
    return response


def _log(request: web.Request, status: int) -> None:
    request.app[RUNTIME].log.append(LoggedRequest(
        role=request.app[ROLE],  # type: ignore[arg-type]
        method=request.method,
        path=request.path,
        query=request.query_string,
        auth_kind=auth_kind(request.headers.get("Authorization")).value,
        status=status,
    ))


@web.middleware
async def inject_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Latency on every request, then the first matching rate-limit or error fault."""
    runtime, role = request.app[RUNTIME], request.app[ROLE]
    faults = runtime.world.faults
    if faults.latency_ms > 0:
        await asyncio.sleep(faults.latency_ms / 1000)
    limited = _take(faults.rate_limit, role, request.path)
    if isinstance(limited, RateLimitFault):
        return rate_limited(limited.retry_after)
    failed = _take(faults.errors, role, request.path)
    if isinstance(failed, ErrorFault):
        return bodies.raw(bodies.ERROR_FAULT_TEMPLATE.format(status=failed.status), status=failed.status)
    return await handler(request)


def _take(faults: list[RateLimitFault] | list[ErrorFault], role: str,
          path: str) -> RateLimitFault | ErrorFault | None:
    """The first fault for this role and path that still has requests left; uses one up."""
    for fault in faults:
        if fault.count > 0 and fault.role in (role, "any") and path.startswith(fault.path_prefix):
            fault.count -= 1
            return fault
    return None


def rate_limited(retry_after: int) -> web.Response:
    """FACTS §4 "Simulator" line: 429 with Retry-After, X-RateLimit-* and RateLimit-Reason."""
    reset = (utcnow() + timedelta(seconds=retry_after)).strftime("%Y-%m-%dT%H:%MZ")  # §4 format
    headers = {
        "Retry-After": str(retry_after),
        "X-RateLimit-Limit": bodies.RATE_LIMIT_LIMIT,
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": reset,
        "RateLimit-Reason": bodies.RATE_LIMIT_REASON,
    }
    return bodies.raw(bodies.RATE_LIMITED_BODY, status=429, headers=headers)


MIDDLEWARES = (observe, inject_faults)
