"""The real bot wired to fakes: Bolt AsyncApp + fake Slack Web API + Atlassian simulator + SQLite.

`start_bot(fake, sim, db_path)` builds the app exactly as `serve` does (same `create_app`,
real `Checker` and `HistoryStore`), with settings pointing at the fake and the simulator, and
returns a `SlackBot` that sends correctly signed requests through `app.async_dispatch` (or
through the real HTTP server, `http_url`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.checker import Checker
from bot.config import Settings
from bot.simulator import SimulatorServer
from bot.slack.app import build_client, close_client, create_app
from bot.slack.identity import BotIdentity
from bot.slack.pacer import ChannelPacer
from bot.slack.services import Services
from bot.slack.tasks import BackgroundTasks
from bot.store import AsyncHistory, HistoryStore
from tests.fakes import slack_requests as req
from tests.fakes.slack_api import FakeSlack

SIGNING_SECRET = "fake-signing-secret-8f2e71"


@dataclass
class SlackBot:
    app: AsyncApp
    fake: FakeSlack
    sim: SimulatorServer
    history: HistoryStore
    settings: Settings
    tasks: BackgroundTasks
    db_path: Path
    client: AsyncWebClient
    app_history: AsyncHistory  # what the app writes through; `history` reads the same database

    async def send(self, body: str, *, content_type: str = req.FORM, **signing: Any) -> BoltResponse:
        headers = req.signed_headers(body, SIGNING_SECRET, content_type=content_type, **signing)
        return await self.app.async_dispatch(AsyncBoltRequest(body=body, headers=headers))

    async def post_http(self, url: str, body: str, session: aiohttp.ClientSession, **signing: Any) -> int:
        """Send a signed form body through the real HTTP server; return the HTTP status."""
        headers = req.signed_headers(body, SIGNING_SECRET, **signing)
        async with session.post(url, data=body.encode(), headers=headers) as response:
            await response.read()
            return response.status

    async def command(self, text: str, *, name: str = "cmd", **where: Any) -> BoltResponse:
        return await self.send(req.slash_command(text, response_url=self.fake.response_url(name), **where))

    async def click(self, action_id: str, value: str, *, name: str = "click", **where: Any) -> BoltResponse:
        return await self.send(req.block_action(action_id, value, response_url=self.fake.response_url(name),
                                                **where))

    async def submit(self, view: dict[str, Any], values: dict[str, dict[str, Any]], **who: Any) -> BoltResponse:
        return await self.send(req.view_submission(view, values, **who))

    async def event(self, body: dict[str, Any]) -> BoltResponse:
        return await self.send(req.event(body), content_type=req.JSON)

    async def settle(self, timeout: float = 60.0) -> None:
        """Wait until every background run has finished writing to Slack."""
        await self.tasks.drain(timeout)

    async def close(self) -> None:
        """Stop what still runs, close the Slack client's session and the history."""
        await self.tasks.cancel_all()
        await close_client(self.client)
        await self.app_history.aclose()
        self.history.close()


def bot_settings(fake: FakeSlack, sim: SimulatorServer, db_path: Path, **extra: str) -> Settings:
    return Settings.from_mapping({
        **sim.env(),
        "SLACK_BOT_TOKEN": fake.token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.base_url,
        "DATABASE_PATH": str(db_path),
        **extra,
    })


def serve_env(sim: Any, fake_slack: FakeSlack, **settings: str) -> dict[str, str]:
    """The environment of a `serve --http` process on the simulator and the fake Slack."""
    return {**os.environ, **sim.env(), "SLACK_BOT_TOKEN": fake_slack.token, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake_slack.base_url, **settings}


def start_bot(fake: FakeSlack, sim: SimulatorServer, db_path: Path, *, pace: float = 0.05,
              pacer: ChannelPacer | None = None, **extra: str) -> SlackBot:
    """The bot as `serve` builds it (call in the event loop; `close()` it); `pace` is the
    per-channel write interval (Slack's is 1 s), or give a whole `pacer`."""
    settings = bot_settings(fake, sim, db_path, **extra)
    history = HistoryStore.open(db_path)
    app_history = AsyncHistory.open(settings)
    tasks = BackgroundTasks()
    client = build_client(settings)
    services = Services(settings, Checker(settings, app_history), app_history, client, BotIdentity(client),
                        pacer or ChannelPacer(pace), tasks)
    app = create_app(services)
    return SlackBot(app, fake, sim, history, settings, tasks, db_path, client, app_history)
