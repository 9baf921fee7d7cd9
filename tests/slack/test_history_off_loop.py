"""History I/O never holds up the event loop: while the store's thread is busy (a slow
Home tab query, a locked database), Slack requests are still acknowledged, and the work that
needs the history simply waits for it."""

from __future__ import annotations

import asyncio
import threading

from bot.store import HistoryStore
from tests.fakes import slack_requests as req
from tests.fakes.slack_api import FakeSlack
from tests.slack.conftest import MakeBot
from tests.slack.test_commands import command_text


async def test_a_busy_history_delays_no_ack(make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    bot = await make_bot("no_confluence_access")
    release = threading.Event()

    def hold(_: HistoryStore) -> None:  # the history thread is stuck until the test lets go
        release.wait(timeout=60)

    held = bot.app_history.submit(hold)
    try:
        home = await bot.event({"type": "app_home_opened", "user": req.USER, "tab": "home"})
        check = await bot.command(command_text(bot.sim.resolve_input()))
        assert (home.status, check.status) == (200, 200)  # answered while every history call waits
        assert not held.done() and fake_slack.calls_to("views.publish") == []
    finally:
        release.set()
    await asyncio.wrap_future(held)
    await bot.settle()
    assert fake_slack.calls_to("views.publish") and len(bot.history.list()) == 1
