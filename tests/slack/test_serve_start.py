"""`serve` starts cleanly or not at all: Socket Mode's app token is checked at start (prefix and a
real `apps.connections.open`), nothing set names Socket Mode first, no warning at a normal start."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import Settings
from bot.errors import ConfigError
from bot.slack.serve import serve
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_bot import bot_settings

StartSimulator = Callable[..., Awaitable[Any]]
ROOT = Path(__file__).resolve().parents[2]


async def test_a_wrong_app_token_stops_serve_at_once_with_the_fix(
        fake_slack: FakeSlack, simulator: StartSimulator, tmp_path: Path) -> None:
    sim = await simulator("ok")
    settings = bot_settings(fake_slack, sim, tmp_path / "h.db", SLACK_APP_TOKEN="xapp-1-A0-0-wrong",
                            SLACK_SIGNING_SECRET="")
    with pytest.raises(ConfigError) as caught:
        await asyncio.wait_for(serve(settings), timeout=15)
    message = str(caught.value)
    assert "Slack refused SLACK_APP_TOKEN (invalid_auth)" in message and "connections:write" in message
    assert fake_slack.calls_to("apps.connections.open") and not fake_slack.socket_connected


@pytest.mark.parametrize("token", ["xoxb-1234-5678-abcdef", "not-a-token"])
async def test_an_app_token_of_the_wrong_kind_is_refused_before_any_call(
        token: str, fake_slack: FakeSlack, simulator: StartSimulator, tmp_path: Path) -> None:
    sim = await simulator("ok")
    settings = bot_settings(fake_slack, sim, tmp_path / "h.db", SLACK_APP_TOKEN=token)
    with pytest.raises(ConfigError, match=r"SLACK_APP_TOKEN must be an app-level token \(xapp-…\)"):
        await asyncio.wait_for(serve(settings, mode="socket"), timeout=15)
    assert fake_slack.calls == []


async def test_serve_with_nothing_set_names_socket_mode_first(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        await asyncio.wait_for(serve(Settings.from_mapping({"DATABASE_PATH": str(tmp_path / "h.db")})), timeout=15)
    message = str(caught.value)
    assert message.index("SLACK_BOT_TOKEN") < message.index("SLACK_APP_TOKEN") < message.index("SLACK_SIGNING_SECRET")
    assert "ATLASSIAN_SITE_URL" in message and "Socket Mode" in message


@pytest.mark.parametrize("in_environment", [False, True])
@pytest.mark.parametrize("mode", ["socket", "http"])
async def test_a_normal_start_logs_no_warning(mode: str, in_environment: bool, fake_slack: FakeSlack,
                                              simulator: StartSimulator, tmp_path: Path,
                                              caplog: pytest.LogCaptureFixture,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Also with the tokens exported in the environment, where Bolt finds SLACK_BOT_TOKEN by itself
    and would warn that "`token` will be unused"."""
    caplog.set_level(logging.DEBUG)
    sim = await simulator("ok")
    extra = {"SLACK_APP_TOKEN": fake_slack.app_token} if mode == "socket" else {"PORT": "0"}
    if in_environment:
        for key, value in bot_settings_env(fake_slack).items():
            monkeypatch.setenv(key, value)
    server = asyncio.create_task(serve(bot_settings(fake_slack, sim, tmp_path / "h.db", **extra), mode=mode))
    try:
        await fake_slack.wait_for(lambda f: f.socket_connected if mode == "socket" else f.calls_to("auth.test"))
        await asyncio.sleep(0.3)
        assert not server.done()
    finally:
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [], [r.getMessage() for r in warnings]


def bot_settings_env(fake: FakeSlack) -> dict[str, str]:
    return {"SLACK_BOT_TOKEN": fake.token, "SLACK_API_URL": fake.base_url}


def test_the_messages_tab_is_off_because_dms_get_no_answer() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    answers_dms = "message.im" in events
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is answers_dms


@pytest.mark.parametrize("endpoint", ["GET http://[", "GET https://a@evil:abc/", "GET https://evil℀.com/",
                                      "GET https://[::1]:x/wiki"])
async def test_a_malformed_endpoint_in_slack_gets_usage_help_not_an_error_id(
        endpoint: str, make_bot, fake_slack: FakeSlack) -> None:
    bot = await make_bot("ok")
    await bot.command(f"automation@acme.com {endpoint}")
    [reply] = await fake_slack.wait_for(lambda f: f.webhook_posts("cmd"))
    await bot.settle()
    text = " ".join(str(v) for v in reply.params.values())
    assert "Usage" in text and "Something went wrong" not in text
    assert bot.history.list() == [] and bot.sim.requests == []


async def test_a_token_typed_into_the_slash_command_is_masked_in_the_reply(make_bot, fake_slack: FakeSlack) -> None:
    bot = await make_bot("ok")
    token = "ATATT3xFfGF0abcdefghijkl0123"
    await bot.command(f"automation@acme.com {token}")
    await bot.command("automation@acme.com GET /wiki/rest/api/space?access_token=plain-secret-42 status:403",
                      name="second")
    await bot.settle()
    assert "I don't understand" in fake_slack.all_text()
    assert token not in fake_slack.all_text() and "plain-secret-42" not in fake_slack.all_text()
    assert "plain-secret-42" not in repr([r.to_dict() for r in bot.history.list()])
