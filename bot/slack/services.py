"""What every Slack listener works with, bundled once per app: settings, core, Slack client.

Listeners get it as the `services` argument (a global middleware puts it into Bolt's context;
Bolt injects context keys by name). Built by `create_app`, never at import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.atlassian.hosts import HostGuard
from bot.checker import Checker
from bot.config import Settings
from bot.slack.accepted import AcceptedCommands
from bot.slack.identity import BotIdentity
from bot.slack.outbox import Outbox
from bot.slack.pacer import ChannelPacer
from bot.slack.tasks import BackgroundTasks, RunQueue

if TYPE_CHECKING:
    from bot.store import AsyncHistory


@dataclass(frozen=True)
class Services:
    settings: Settings
    checker: Checker
    history: AsyncHistory  # every call awaited: history I/O stays off the event loop
    client: AsyncWebClient  # carries the bot token; for writes made after the ack
    identity: BotIdentity
    pacer: ChannelPacer
    tasks: BackgroundTasks
    outbox: Outbox = field(init=False)  # every write in a run's thread, at `pacer`'s pace
    run_queue: RunQueue = field(init=False)  # MAX_CONCURRENT_RUNS runs at once, the others wait
    # commands acked and not yet on record; shared with `serve`, which saves them when it stops
    accepted: AcceptedCommands = field(default_factory=AcceptedCommands)

    def __post_init__(self) -> None:
        def spawn(work: Any, name: str) -> None:
            self.tasks.spawn(work, name=name, grace=0)

        object.__setattr__(self, "outbox", Outbox(self.pacer, spawn))
        object.__setattr__(self, "run_queue", RunQueue(self.settings.max_concurrent_runs))

    @property
    def guard(self) -> HostGuard:
        """The host guard for endpoints people type (docs/architecture.md §Security)."""
        return HostGuard(site_url=self.settings.site_url or "", api_url=self.settings.api_url)
