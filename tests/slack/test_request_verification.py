"""Only correctly signed, fresh requests get in (https://docs.slack.dev/authentication/verifying-requests-from-slack);
the real HTTP server included."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest

from bot.slack.serve import EarlyAck, http_server
from tests.fakes import slack_requests as req
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_bot import SIGNING_SECRET
from tests.slack.conftest import MakeBot
from tests.slack.helpers import thread

CHECK = "sam.lee@acme.com GET /wiki/rest/api/space status:403"


@pytest.mark.parametrize("signing", [
    {"signature": "v0=" + "0" * 64},
    {"skew_s": -6 * 60},  # outside the 5-minute window
    {"skew_s": 6 * 60},
], ids=["bad-signature", "stale-timestamp", "future-timestamp"])
async def test_unsigned_or_stale_requests_are_refused_and_run_nothing(
        make_bot: MakeBot, fake_slack: FakeSlack, signing: dict[str, object]) -> None:
    # The timestamp is taken when the test runs, not at collection: a long suite would otherwise
    # bring a "future" timestamp back inside the window.
    if "skew_s" in signing:
        signing = {"timestamp": int(time.time()) + int(signing["skew_s"])}  # type: ignore[call-overload]
    bot = await make_bot("no_confluence_access")
    response = await bot.send(req.slash_command(CHECK, response_url=fake_slack.response_url()), **signing)
    await bot.settle()
    assert response.status == 401
    assert fake_slack.calls == [] and bot.sim.requests == [] and bot.history.list() == []


async def test_the_http_server_serves_slack_events_end_to_end(make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    bot = await make_bot("no_confluence_access")
    body = req.slash_command(CHECK, response_url=fake_slack.response_url())
    async with http_server(bot.app, host="127.0.0.1", port=0) as url, aiohttp.ClientSession() as session:
        assert await bot.post_http(url, body, session, signature="v0=" + "1" * 64) == 401
        assert await bot.post_http(url, body, session) == 200
        await bot.settle()
        async with session.get(url.replace("/slack/events", "/health")) as health:
            assert health.status == 200
    assert len(bot.history.list()) == 1 and thread(fake_slack).verdict is not None


@pytest.mark.parametrize("signing", [
    {"signature": "v0=" + "0" * 64},
    {"skew_s": -6 * 60},
    {"skew_s": 6 * 60},
], ids=["bad-signature", "stale-timestamp", "future-timestamp"])
async def test_an_early_ack_is_only_for_a_signed_fresh_slash_command(
        make_bot: MakeBot, fake_slack: FakeSlack, signing: dict[str, object]) -> None:
    """`serve --http` acks a command before Bolt's dispatch (EarlyAck): a request whose signature or
    timestamp does not check out still gets Bolt's 401 and runs nothing; a signed one is acked and
    run, the way Bolt would have; other requests (a click, say) still go through Bolt first."""
    if "skew_s" in signing:
        signing = {"timestamp": int(time.time()) + int(signing["skew_s"])}  # type: ignore[call-overload]
    bot = await make_bot("no_confluence_access")
    early = EarlyAck(bot.app, SIGNING_SECRET, on_request=bot.tasks.request_arrived)
    body = req.slash_command(CHECK, response_url=fake_slack.response_url())
    click = req.block_action("no_such_action", "v", response_url=fake_slack.response_url("click"))
    async with http_server(bot.app, host="127.0.0.1", port=0, early_ack=early) as url, \
            aiohttp.ClientSession() as session:
        assert await bot.post_http(url, body, session, **signing) == 401
        assert await bot.post_http(url, click, session) == 404  # no listener: Bolt's answer, not an early 200
        await early.drain(5)
        await bot.settle()
        assert [c.method for c in fake_slack.calls if c.method != "auth.test"] == []  # Bolt's authorization only
        assert bot.sim.requests == [] and bot.history.list() == []
        assert await bot.post_http(url, body, session) == 200
        await early.drain(5)
        await bot.settle()
    assert len(bot.history.list()) == 1 and thread(fake_slack).verdict is not None


async def test_a_burst_of_commands_is_acked_before_any_is_dispatched(make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    """With a quiet moment to wait for (serve passes `tasks.quiet`), Bolt handles the commands of a
    burst only once every one of them has its ack, and each is handled once."""
    bot = await make_bot("no_confluence_access")
    dispatched: list[float] = []
    dispatch = bot.app.async_dispatch

    async def timed(request: Any) -> Any:
        dispatched.append(time.monotonic())
        return await dispatch(request)

    bot.app.async_dispatch = timed  # type: ignore[method-assign]
    early = EarlyAck(bot.app, SIGNING_SECRET, on_request=bot.tasks.request_arrived,
                     quiet=lambda: bot.tasks.quiet(0.3))
    acked: list[float] = []
    async with http_server(bot.app, host="127.0.0.1", port=0, early_ack=early) as url, \
            aiohttp.ClientSession() as session:

        async def command(n: int) -> None:
            body = req.slash_command(CHECK, response_url=fake_slack.response_url(f"c{n}"), channel=f"C0BURST{n}")
            assert await bot.post_http(url, body, session) == 200
            acked.append(time.monotonic())

        await asyncio.gather(*(command(n) for n in range(5)))
        await early.drain(10)
        await bot.settle()
    assert len(dispatched) == 5 and min(dispatched) > max(acked)
    assert len(bot.history.list()) == 5


async def test_the_command_listener_acks_empty_as_the_early_ack_assumes(make_bot: MakeBot,
                                                                        fake_slack: FakeSlack) -> None:
    """`EarlyAck` answers a command with an empty 200 before Bolt runs it: that is only right while
    the listener's own ack is empty, for every kind of command (a check, help, history, a usage error)."""
    bot = await make_bot("no_confluence_access")
    for text in (CHECK, "help", "history sam.lee@acme.com", "sam.lee@acme.com bogus-word", ""):
        response = await bot.send(req.slash_command(text, response_url=fake_slack.response_url()))
        assert response.status == 200 and not response.body, (text, response.body)
    await bot.settle()
