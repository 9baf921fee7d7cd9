"""Fixtures of the Slack tests: the fake Slack Web API and the real bot wired to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_bot import SlackBot, start_bot

MakeBot = Callable[..., Awaitable[SlackBot]]


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def make_bot(fake_slack: FakeSlack, simulator: Callable[..., Awaitable[object]],
                   tmp_path: Path) -> AsyncIterator[MakeBot]:
    """`bot = await make_bot("scenario", pace=0.05, ALLOWED_SLACK_USERS="U1")`: the real app."""
    bots: list[SlackBot] = []

    async def make(scenario: str = "ok", **options: object) -> SlackBot:
        sim = await simulator(scenario)
        bot = start_bot(fake_slack, sim, tmp_path / "history.db", **options)  # type: ignore[arg-type]
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        await bot.close()
