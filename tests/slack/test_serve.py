"""`serve`: fail fast on missing settings, pick the mode, mark interrupted runs at start."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from bot.config import Settings
from bot.engine import new_run_id
from bot.errors import ConfigError
from bot.model import Run, utcnow
from bot.slack.serve import Mode, resolve_mode, serve
from bot.store import HistoryStore
from tests.fakes import slack_requests as req
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_bot import bot_settings
from tests.samples import gone_owner
from tests.slack.helpers import text_of, thread

StartSimulator = Callable[..., Awaitable[Any]]


@pytest.mark.parametrize(("values", "mode", "missing"), [
    ({}, "http", ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "ATLASSIAN_SITE_URL"]),
    ({}, "socket", ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "ATLASSIAN_SITE_URL"]),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}, None, ["ATLASSIAN_SITE_URL"]),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "ATLASSIAN_SITE_URL": "https://acme.atlassian.net"}, None,
     ["SLACK_SIGNING_SECRET"]),
])
async def test_serve_fails_fast_naming_each_missing_setting(values: dict[str, str], mode: str | None,
                                                           missing: list[str], tmp_path: Path) -> None:
    settings = Settings.from_mapping({**values, "DATABASE_PATH": str(tmp_path / "h.db")})
    with pytest.raises(ConfigError) as caught:
        await serve(settings, mode=mode)
    assert all(name in str(caught.value) for name in missing), caught.value
    assert not (tmp_path / "h.db").exists()


def test_socket_mode_when_an_app_token_is_set_else_http() -> None:
    assert resolve_mode(Settings.from_mapping({"SLACK_APP_TOKEN": "xapp-1"}), None) is Mode.SOCKET
    assert resolve_mode(Settings.from_mapping({}), None) is Mode.HTTP
    assert resolve_mode(Settings.from_mapping({"SLACK_APP_TOKEN": "xapp-1"}), "http") is Mode.HTTP
    with pytest.raises(ConfigError):
        resolve_mode(Settings.from_mapping({}), "smoke-signals")


async def test_a_refused_bot_token_stops_serve_with_a_clear_message(
        fake_slack: FakeSlack, simulator: StartSimulator, tmp_path: Path) -> None:
    sim = await simulator("ok")
    settings = bot_settings(fake_slack, sim, tmp_path / "h.db", SLACK_BOT_TOKEN="xoxb-wrong", PORT="0")
    with pytest.raises(ConfigError, match="Slack refused SLACK_BOT_TOKEN \\(invalid_auth\\)"):
        await serve(settings, mode="http")


async def test_runs_cut_short_by_a_restart_are_marked_and_their_threads_told(
        fake_slack: FakeSlack, simulator: StartSimulator, tmp_path: Path) -> None:
    sim = await simulator("ok")
    db = tmp_path / "h.db"
    cut = Run(run_id=new_run_id(), actor="automation@acme.com", site=sim.site_url,
              started_at=utcnow(), planned=[("site.tenant", "Site")])
    store = HistoryStore.open(db, owner=gone_owner())  # as a process that has since died
    store.save(cut, origin={"via": "slack", "slack_channel": "C0CHECKS01", "slack_thread_ts": "1699.000001",
                            "slack_user": "U0ALICE001"})
    store.close()

    server = asyncio.create_task(serve(bot_settings(fake_slack, sim, db, PORT="0"), mode="http"))
    try:
        [told] = await fake_slack.wait_for(lambda f: [c for c in f.calls_to("chat.postMessage")
                                                      if c.params.get("thread_ts") == "1699.000001"])
        [edited] = await fake_slack.wait_for(lambda f: f.calls_to("chat.update"))
    finally:
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)
    assert "interrupted by a restart" in text_of(told)
    assert edited.params["ts"] == "1699.000001" and "Interrupted" in text_of(edited)
    store = HistoryStore.open(db)
    assert store.get(cut.run_id).interrupted is True
    store.close()


async def test_with_an_app_token_serve_uses_socket_mode_and_needs_no_signing_secret(
        fake_slack: FakeSlack, simulator: StartSimulator, tmp_path: Path) -> None:
    sim = await simulator("no_confluence_access")
    settings = bot_settings(fake_slack, sim, tmp_path / "h.db", SLACK_APP_TOKEN=fake_slack.app_token,
                            SLACK_SIGNING_SECRET="")
    server = asyncio.create_task(serve(settings))
    try:
        await fake_slack.wait_for(lambda f: f.socket_connected)
        body = req.slash_command("sam.lee@acme.com GET /wiki/rest/api/space status:403",
                                 response_url=fake_slack.response_url())
        envelope = await fake_slack.send_envelope("slash_commands", dict(parse_qsl(body)))
        [ack] = await fake_slack.wait_for(lambda f: f.socket_acks)
        await fake_slack.wait_for(lambda f: [c for c in f.calls_to("chat.update") if "Problem" in text_of(c)],
                                  timeout=20)
    finally:
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)
    assert ack["envelope_id"] == envelope
    assert thread(fake_slack).verdict is not None
