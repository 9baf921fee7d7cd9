"""Cross-cutting behaviour of every listener: the request log, Atlassian's edge headers, and
the world's injected faults (latency, route faults, 429 rate limits, 5xx errors).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.simulator import bodies, faults
from bot.simulator.credentials import auth_kind
from bot.simulator.fault_model import ErrorFault, FaultKind, RateLimitFault, RouteFault
from bot.simulator.runtime import ROLE, RUNTIME, LoggedRequest

_EDGE_ROLES = ("site", "api")
_FAULT = web.RequestKey("fault", FaultKind)


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Log every request (never the credential) and stamp the edge headers."""
    role = request.app[ROLE]
    runtime = request.app[RUNTIME]
    started = time.monotonic()
    key = (role, request.method, request.path)
    runtime.seen[key] += 1
    occurrence = runtime.seen[key]
    # the token host's body holds a client secret: never kept in the log
    body = None if role == "auth" else await _json_body(request)
    try:
        response = await handler(request)
    except faults.ConnectionDropped:
        _log(request, None, occurrence, body, started)
        raise
    except web.HTTPException as exc:
        _log(request, exc.status, occurrence, body, started, exc)
        raise
    except BaseException:
        _log(request, 500, occurrence, body, started)
        raise
    _log(request, response.status, occurrence, body, started, response)
    if role in _EDGE_ROLES and not (role == "site" and runtime.world.site.data_center):  # DC: its own Tomcat
        # docs/atlassian.md §0.1 "headers worth emitting": Server: AtlassianEdge, Atl-Traceid.
        response.headers["Server"] = "AtlassianEdge"
        response.headers["Atl-Traceid"] = bodies.new_trace_id()
    return response


async def _json_body(request: web.Request) -> Any:
    """The request's JSON body, or None (aiohttp caches the bytes, so handlers still read it)."""
    if not request.body_exists or request.content_type != "application/json":
        return None
    try:
        return json.loads(await request.read())
    except ValueError:
        return None


def _log(request: web.Request, status: int | None, occurrence: int, body: Any, started: float,
         reply: web.StreamResponse | None = None) -> None:
    text = reply.text if isinstance(reply, web.Response) else None
    request.app[RUNTIME].log.append(LoggedRequest(
        role=request.app[ROLE],
        method=request.method,
        path=request.path,
        query=request.query_string,
        auth_kind=auth_kind(request.headers.get("Authorization")).value,
        status=status,
        fault=request.get(_FAULT),
        occurrence=occurrence,
        json_body=body,
        reply_type=reply.content_type if reply is not None else None,
        reply_body=text,
        started=started,
        ended=time.monotonic(),
    ))


@web.middleware
async def inject_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The API key's token bucket (`KeyRateLimit`), latency on every request, then the first route
    fault that fires, then the first matching rate-limit or error fault (the older prefix-based API)."""
    world_faults = request.app[RUNTIME].world.faults
    limited = _key_rate_limit(request)
    if world_faults.latency_ms > 0:
        await asyncio.sleep(world_faults.latency_ms / 1000)
    if limited is not None:
        passed, headers = limited
        if not passed:
            request[_FAULT] = FaultKind.STATUS
            return faults.key_rate_limited(request.path, headers)
        response = await _faulted(request, handler)
        response.headers.update(headers)
        return response
    return await _faulted(request, handler)


def _key_rate_limit(request: web.Request) -> tuple[bool, dict[str, str]] | None:
    """The API key's token bucket verdict when the world limits this request (`KeyRateLimit`)."""
    runtime = request.app[RUNTIME]
    limit = runtime.world.faults.key_rate_limit
    authorization = request.headers.get("Authorization", "")
    if limit is None or request.app[ROLE] != "api" or not faults.is_admin_path(request.path) \
            or not authorization.lower().startswith("bearer "):
        return None
    key = hashlib.sha256(authorization.encode()).hexdigest()  # the key itself is never kept
    bucket = runtime.buckets.get(key)
    if bucket is None or bucket.limit is not limit:
        bucket = runtime.buckets[key] = faults.Bucket(limit)
    return bucket.take()


async def _faulted(request: web.Request, handler: Handler) -> web.StreamResponse:
    runtime, role = request.app[RUNTIME], request.app[ROLE]
    world_faults = runtime.world.faults
    fault = faults.pick(world_faults, role, request.method, request.path)
    if fault is not None:
        request[_FAULT] = fault.kind
        answer = await faults.apply(fault, request)
        if answer is not None:
            return answer
        return await handler(request)
    legacy = _take(world_faults.rate_limit, role, request.path) or _take(world_faults.errors, role, request.path)
    if legacy is not None:
        request[_FAULT] = FaultKind.STATUS
        if isinstance(legacy, RateLimitFault):
            return faults.status_response(RouteFault(status=429, retry_after=legacy.retry_after), request.path)
        return faults.status_response(RouteFault(status=legacy.status), request.path)
    return await handler(request)


def _take(faults: list[RateLimitFault] | list[ErrorFault], role: str,
          path: str) -> RateLimitFault | ErrorFault | None:
    """The first fault for this role and path that still has requests left; uses one up."""
    for fault in faults:
        if fault.count > 0 and fault.role in (role, "any") and path.startswith(fault.path_prefix):
            fault.count -= 1
            return fault
    return None


MIDDLEWARES = (observe, inject_faults)
