"""The application service every adapter uses: start a run, keep it in history.

The CLI, the Slack bot and the demo all go through `Checker.start`, so every run is stored
when it starts (so a restart can mark it interrupted) and again when it finishes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import httpx

from bot import engine
from bot.config import Settings
from bot.engine import RunHandle
from bot.errors import ConfigError
from bot.model import Run
from bot.probes import ProbeSpec
from bot.request import CheckRequest

if TYPE_CHECKING:
    from bot.history import HistoryStore


class Checker:
    """Starts diagnosis runs with one set of settings; saves them when a store is given."""

    def __init__(self, settings: Settings, history: HistoryStore | None = None, *,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        if not settings.site_url:
            raise ConfigError("missing setting: ATLASSIAN_SITE_URL (see .env.example)")
        self.settings = settings
        self.history = history
        self._transport = transport

    @property
    def transport(self) -> httpx.AsyncBaseTransport | None:
        """The HTTP transport runs use (tests point it at the simulator); None: the network."""
        return self._transport

    def start(self, request: CheckRequest, *, via: str = "cli", origin: Mapping[str, str] | None = None,
              previous_run_id: str | None = None, run_id: str | None = None,
              on_finish: Callable[[Run], Any] | None = None,
              probes: Iterable[ProbeSpec] | None = None) -> RunHandle:
        """Start a run now (on the running event loop) and return its live handle."""

        def finished(run: Run) -> None:
            if self.history is not None:
                self.history.save(run)
            if on_finish is not None:
                on_finish(run)

        handle = engine.start(request, self.settings, run_id=run_id, transport=self._transport,
                              on_finish=finished, probes=probes)
        handle.run.previous_run_id = previous_run_id
        if self.history is not None:
            self.history.save(handle.run, origin={"via": via, **(origin or {})})
        return handle
