"""The simulator's live state shared by its three listeners: the world, the request log and
the base URLs, reachable from every handler through one aiohttp app key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from aiohttp import web

from bot.simulator.state import World

ListenerRole = Literal["site", "api", "status"]


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One request as the simulator saw it. `auth_kind` is none, basic, bearer or other —
    never the credential itself (DESIGN.md Security; STYLE.md Simulator)."""

    role: ListenerRole
    method: str
    path: str
    query: str
    auth_kind: str
    status: int


@dataclass
class Runtime:
    world: World
    log: list[LoggedRequest] = field(default_factory=list)
    site_url: str = ""
    api_url: str = ""
    status_url: str = ""


RUNTIME = web.AppKey("runtime", Runtime)
ROLE = web.AppKey("role", str)
