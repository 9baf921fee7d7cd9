"""`SimulatorServer`: one scenario's world served over real HTTP on loopback by four aiohttp
listeners — site, API (gateway + admin), status page and the OAuth token host — each on its own port.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.simulator.middleware import MIDDLEWARES
from bot.simulator.routes import handle_api, handle_auth, handle_site, handle_status
from bot.simulator.runtime import ROLE, RUNTIME, ListenerRole, LoggedRequest, Runtime
from bot.simulator.scenario import Scenario
from bot.simulator.state import World

_HANDLERS = {"site": handle_site, "api": handle_api, "status": handle_status, "auth": handle_auth}
_ROLES: tuple[ListenerRole, ...] = ("site", "api", "status", "auth")


class SimulatorServer:
    """Serve `scenario` on `host`.

    `site_port` 0 gives each listener a free port; N ≠ 0 puts the site on N, the API on N+1,
    the status page on N+2 and the token host on N+3. Use as `async with SimulatorServer(scenario)
    as sim:` or call `start()`/`stop()`. `sim.state` is the live world: change it between requests to change
    the answers.
    """

    def __init__(self, scenario: Scenario, host: str = "127.0.0.1", site_port: int = 0) -> None:
        self.scenario = scenario
        self.host = host
        self._ports = (0, 0, 0, 0) if site_port == 0 else (site_port, site_port + 1, site_port + 2, site_port + 3)
        self._runtime = Runtime(world=copy.deepcopy(scenario.world))
        self._runners: list[web.AppRunner] = []

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> SimulatorServer:
        """Bind the four listeners; raises OSError when a port is taken (nothing left running)."""
        if self._runners:
            raise RuntimeError("the simulator is already running")
        try:
            for role, port in zip(_ROLES, self._ports, strict=True):
                url = await self._listen(role, port)
                setattr(self._runtime, f"{role}_url", url)
        except BaseException:
            await self.stop()
            raise
        return self

    async def stop(self) -> None:
        runners, self._runners = self._runners, []
        for runner in reversed(runners):
            await runner.cleanup()

    async def __aenter__(self) -> SimulatorServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _listen(self, role: ListenerRole, port: int) -> str:
        app = web.Application(middlewares=list(MIDDLEWARES))
        app[RUNTIME] = self._runtime
        app[ROLE] = role
        app.router.add_route("*", "/{tail:.*}", _HANDLERS[role])
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        self._runners.append(runner)
        await web.TCPSite(runner, self.host, port).start()
        bound = runner.addresses[0][1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{bound}"

    # -- what tests and the CLI read -----------------------------------------------------------
    @property
    def site_url(self) -> str:
        return self._url("site")

    @property
    def api_url(self) -> str:
        return self._url("api")

    @property
    def status_url(self) -> str:
        return self._url("status")

    @property
    def auth_url(self) -> str:
        return self._url("auth")

    @property
    def gateway_url(self) -> str:
        """`{api}/ex/confluence/{cloudId}` (docs/atlassian.md §2.2)."""
        return f"{self.api_url}/ex/confluence/{self.state.site.cloud_id}"

    def _url(self, role: ListenerRole) -> str:
        url: str = getattr(self._runtime, f"{role}_url")
        if not url or not self._runners:
            raise RuntimeError("the simulator is not running: use `async with` or await start()")
        return url

    @property
    def state(self) -> World:
        return self._runtime.world

    @state.setter
    def state(self, world: World) -> None:
        self._runtime.world = world

    def reset(self) -> None:
        """Serve the scenario's world afresh, as if just started: every token's lastAccess, the
        request log and the fault counters back to the scenario's (one simulator, many runs)."""
        self._runtime.world = copy.deepcopy(self.scenario.world)
        self._runtime.log.clear()
        self._runtime.seen.clear()

    @property
    def requests(self) -> list[LoggedRequest]:
        """Every request so far, in arrival order, across the four listeners."""
        return self._runtime.log

    def env(self) -> dict[str, str]:
        """The bot's settings for this world: the four base URLs plus the scenario's settings."""
        return {
            "ATLASSIAN_SITE_URL": self.site_url,
            "ATLASSIAN_API_URL": self.api_url,
            "ATLASSIAN_STATUS_URL": self.status_url,
            "ATLASSIAN_AUTH_URL": self.auth_url,
            **self.scenario.settings,
        }

    def resolve_input(self) -> dict[str, Any]:
        """The scenario input with `{site}`, `{gateway}` and `{api}` replaced (plain text
        replacement: bodies keep their JSON braces)."""
        places = {"{site}": self.site_url, "{gateway}": self.gateway_url, "{api}": self.api_url}

        def fill(value: Any) -> Any:
            if isinstance(value, str):
                for placeholder, url in places.items():
                    value = value.replace(placeholder, url)
            return value

        return {key: fill(value) for key, value in self.scenario.input.items()}


async def serve_forever(scenario: Scenario, host: str = "127.0.0.1", site_port: int = 0,
                        on_ready: Callable[[SimulatorServer], None] | None = None) -> None:
    """Serve until cancelled (ports as in SimulatorServer). `on_ready(sim)` runs once all four
    listen — the CLI prints `sim.env()` there; this function prints nothing."""
    async with SimulatorServer(scenario, host=host, site_port=site_port) as sim:
        if on_ready is not None:
            on_ready(sim)
        await asyncio.Event().wait()
