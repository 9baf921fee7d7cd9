"""The simulator's live state shared by its four listeners: the world, the request log and
the base URLs, reachable from every handler through one aiohttp app key.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from bot.simulator.fault_model import FaultKind
from bot.simulator.state import World

ListenerRole = Literal["site", "api", "status", "auth"]


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One request as the simulator saw it. `auth_kind` is none, basic, bearer or other —
    never the credential itself (docs/architecture.md §Security).

    `status` is None when no response was sent (an injected reset or close); `fault` names the
    injected fault that hit it. `occurrence` numbers the requests with the same role, method and
    path (1-based), so `RouteFault(role=r.role, method=r.method, path=r.path, nth=r.occurrence)`
    hits exactly this request in a replay of the same run. `json_body` is the parsed JSON request
    body (None without one); the product never puts a credential in a body. `reply_type` and
    `reply_body` are the answer's media type and text (None when nothing was sent), so contract
    tests can check every answer against Atlassian's schemas. `started` and `ended` are
    `time.monotonic()` when the request reached the simulator and when its answer was ready, so a
    benchmark or a test can see which requests a run waited for one after the other."""

    role: ListenerRole
    method: str
    path: str
    query: str
    auth_kind: str
    status: int | None
    fault: FaultKind | None = None
    occurrence: int = 1
    json_body: Any = None
    reply_type: str | None = None
    reply_body: str | None = field(default=None, repr=False)
    started: float = field(default=0.0, repr=False, compare=False)
    ended: float = field(default=0.0, repr=False, compare=False)


@dataclass
class Runtime:
    world: World
    log: list[LoggedRequest] = field(default_factory=list)
    seen: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (role, method, path) → requests
    buckets: dict[str, Any] = field(default_factory=dict, repr=False)  # API key digest → faults.Bucket
    site_url: str = ""
    api_url: str = ""
    status_url: str = ""
    auth_url: str = ""


RUNTIME = web.AppKey("runtime", Runtime)
ROLE: web.AppKey[ListenerRole] = web.AppKey("role")
