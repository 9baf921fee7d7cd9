"""A signed request sent again within Slack's five-minute window is acked and dropped: a replayed slash
command starts no second run, a replayed click no second re-run (in one process, and across two
`serve --http` processes on one PostgreSQL). A malformed `X-Slack-Request-Timestamp` is a 401 like any
bad signature: no 500, no traceback."""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp
import pytest

from bot.slack.ids import ActionId
from bot.slack.serve import EarlyAck, http_server
from tests.fakes import slack_requests as req
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_bot import SIGNING_SECRET, serve_env
from tests.slack.conftest import MakeBot
from tests.slack.helpers import buttons_of, thread, ts_of
from tests.slack.test_replicas import Replica, StartSimulator, stored, until

CHECK = "sam.lee@acme.com GET /wiki/rest/api/space status:403"


async def _post(session: aiohttp.ClientSession, url: str, body: str, headers: dict[str, str]) -> int:
    async with session.post(url, data=body.encode(), headers=headers) as response:
        await response.read()
        return response.status


async def test_a_replayed_command_or_click_is_acked_and_dropped(make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    bot = await make_bot("no_confluence_access")
    early = EarlyAck(bot.app, SIGNING_SECRET, on_request=bot.tasks.request_arrived)
    body = req.slash_command(CHECK, response_url=fake_slack.response_url())
    headers = req.signed_headers(body, SIGNING_SECRET)
    async with http_server(bot.app, host="127.0.0.1", port=0, early_ack=early) as url, \
            aiohttp.ClientSession() as session:
        assert [await _post(session, url, body, headers) for _ in range(3)] == [200, 200, 200]
        await early.drain(5)
        await bot.settle()
        assert len(bot.history.list()) == 1
        t = thread(fake_slack)
        click = req.block_action(ActionId.RERUN.value, buttons_of(t.verdict)[ActionId.RERUN.value],
                                 response_url=fake_slack.response_url("click"), message_ts=ts_of(t.verdict),
                                 thread_ts=t.parent_ts)
        click_headers = req.signed_headers(click, SIGNING_SECRET)
        assert [await _post(session, url, click, click_headers) for _ in range(2)] == [200, 200]
        await bot.settle()
        # a new command, signed anew (same text, new timestamp): not a replay
        again = req.signed_headers(body, SIGNING_SECRET, timestamp=int(headers["x-slack-request-timestamp"]) + 1)
        assert await _post(session, url, body, again) == 200
        await early.drain(5)
        await bot.settle()
    assert len(bot.history.list()) == 3  # the command, one re-run, the second command


@pytest.mark.parametrize("timestamp", ["not-a-number", "1.5e9", "", " 1700000000", "１７００００００００"])
async def test_a_malformed_timestamp_is_a_401_without_a_traceback(timestamp: str, make_bot: MakeBot,
                                                                  fake_slack: FakeSlack,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bot = await make_bot("no_confluence_access")
    early = EarlyAck(bot.app, SIGNING_SECRET, on_request=bot.tasks.request_arrived)
    command = req.slash_command(CHECK, response_url=fake_slack.response_url())
    click = req.block_action("rerun", "{}", response_url=fake_slack.response_url("click"))
    async with http_server(bot.app, host="127.0.0.1", port=0, early_ack=early) as url, \
            aiohttp.ClientSession() as session:
        for body in (command, click):
            headers = {**req.signed_headers(body, SIGNING_SECRET), "x-slack-request-timestamp": timestamp}
            assert await _post(session, url, body, headers) == 401
    await bot.settle()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert bot.history.list() == [] and fake_slack.calls == []


async def test_replicas_on_one_postgresql_take_a_replayed_command_once(
        fake_slack: FakeSlack, simulator: StartSimulator, postgres_url: str, tmp_path: Path) -> None:
    sim = await simulator("no_confluence_access")
    env = serve_env(sim, fake_slack, DATABASE_URL=postgres_url, DATABASE_PATH=str(tmp_path / "never-used.db"))
    pair = Replica("a", env, tmp_path / "a.log"), Replica("b", env, tmp_path / "b.log")
    body = req.slash_command(CHECK, response_url=fake_slack.response_url("replayed"))
    headers = req.signed_headers(body, SIGNING_SECRET)
    try:
        async with aiohttp.ClientSession() as session:
            for replica in pair:
                await replica.start(session)
            statuses = [await _post(session, f"{replica.url}/slack/events", body, headers) for replica in pair]
            assert statuses == [200, 200]
            await until(lambda: stored(postgres_url, with_thread=True))
            await fake_slack.wait_for(lambda f: len(f.calls_to("chat.postMessage")) >= 2, timeout=60)
    finally:
        for replica in pair:
            await replica.stop()
    assert len(stored(postgres_url)) == 1
