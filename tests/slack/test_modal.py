"""'Test with the actor's token': views.open → submission → replay run; the token leaks nowhere."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import pytest

from bot.model import CauseCode
from bot.slack.ids import ActionId, BlockId, CallbackId, parse_ref
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_bot import SlackBot
from tests.slack.conftest import MakeBot
from tests.slack.helpers import buttons_of, text_of, thread, ts_of


def token_values(token: str) -> dict[str, dict[str, object]]:
    return {BlockId.TOKEN_INPUT.value: {ActionId.TOKEN_INPUT.value: {"type": "plain_text_input", "value": token}}}


async def open_modal(bot: SlackBot, fake: FakeSlack) -> dict[str, object]:
    inputs = bot.sim.resolve_input()
    await bot.command(f"{inputs['actor']} {inputs['endpoint']} status:{inputs['status']}")
    await bot.settle()
    t = thread(fake)
    value = buttons_of(t.verdict)[ActionId.TEST_WITH_TOKEN.value]
    await bot.click(ActionId.TEST_WITH_TOKEN.value, value, message_ts=ts_of(t.verdict), thread_ts=t.parent_ts)
    [opened] = await fake.wait_for(lambda f: f.calls_to("views.open"))
    assert opened.params["trigger_id"] == "3333.4444.click"
    view = opened.params["view"]
    return json.loads(view) if isinstance(view, str) else view


def database_text(path: Path) -> str:
    """Every value of every table, plus the raw bytes of the database files."""
    out = []
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            out += [repr(row) for row in db.execute(f'SELECT * FROM "{table}"')]
    for file in path.parent.glob(path.name + "*"):
        out.append(file.read_bytes().decode("latin-1"))
    return "\n".join(out)


async def test_the_token_form_replays_the_run_as_the_actor_and_the_token_leaks_nowhere(
        make_bot: MakeBot, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # everything Bolt, slack_sdk, aiohttp and the bot log
    bot = await make_bot("scoped_token_site_url")
    typed = bot.sim.resolve_input()["actor_token"]  # "email:token", as a person would paste it
    canary = typed.split(":", 1)[1]
    view = await open_modal(bot, fake_slack)
    [first] = bot.history.list()
    assert view["callback_id"] == CallbackId.TOKEN_MODAL.value
    assert parse_ref(view["private_metadata"]).run_id == first.run_id

    response = await bot.submit(view, token_values(typed))
    assert (response.status, response.body) == (200, "")  # the modal closes
    await bot.settle()

    replay, _ = bot.history.list()
    assert replay.previous_run_id == first.run_id and replay.request["actor_token_given"] is True
    assert replay.verdict is not None and replay.verdict.cause is CauseCode.SCOPED_TOKEN_SITE_URL
    assert any(r.auth_kind == "basic" and r.role == "site" for r in bot.sim.requests)
    t = thread(fake_slack)
    assert replay.run_id in text_of(t.verdict) and buttons_of(t.verdict)
    assert all(r.params["thread_ts"] == t.parent_ts for r in t.replies)

    assert canary not in fake_slack.all_text(), "token in a Slack call"
    assert canary not in json.dumps(view), "token in the modal / private_metadata"
    assert canary not in caplog.text, "token in the logs"
    assert canary not in database_text(bot.db_path), "token in SQLite"
    for secret in bot.settings.secrets():
        assert secret not in database_text(bot.db_path)


@pytest.mark.parametrize(("typed", "error"), [("   ", "Paste the actor's API token"),
                                             ("two words", "one line without spaces")])
async def test_a_bad_token_is_refused_in_the_form_and_nothing_runs(
        make_bot: MakeBot, fake_slack: FakeSlack, typed: str, error: str) -> None:
    bot = await make_bot("scoped_token_site_url")
    view = await open_modal(bot, fake_slack)
    runs_before = len(bot.history.list())

    response = await bot.submit(view, token_values(typed))
    await bot.settle()
    body = json.loads(response.body)
    assert body["response_action"] == "errors" and error in body["errors"][BlockId.TOKEN_INPUT.value]
    assert len(bot.history.list()) == runs_before


def client_values(client_id: str, secret: str) -> dict[str, dict[str, object]]:
    return {BlockId.CLIENT_ID_INPUT.value: {ActionId.CLIENT_ID_INPUT.value: {"type": "plain_text_input",
                                                                           "value": client_id}},
            BlockId.CLIENT_SECRET_INPUT.value: {ActionId.CLIENT_SECRET_INPUT.value: {"type": "plain_text_input",
                                                                                   "value": secret}}}


async def test_the_form_takes_a_client_id_and_secret_and_the_secret_leaks_nowhere(
        make_bot: MakeBot, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bot = await make_bot("oauth_missing_scope")
    canary = "ATOA-CANARY-SLACK-CLIENT-SECRET-51c0"
    bot.sim.state.oauth_clients[0].secret = canary
    client_id = bot.sim.state.oauth_clients[0].client_id
    view = await open_modal(bot, fake_slack)
    assert {b["block_id"] for b in view["blocks"]} >= {BlockId.CLIENT_ID_INPUT.value, BlockId.CLIENT_SECRET_INPUT.value}

    response = await bot.submit(view, client_values(client_id, canary))
    assert (response.status, response.body) == (200, "")
    await bot.settle()

    replay, _ = bot.history.list()
    assert replay.request["credential"] == "client_credentials"
    assert replay.verdict is not None and replay.verdict.cause is CauseCode.MISSING_SCOPE
    assert any("read:space:confluence" in line for line in replay.verdict.fix)
    assert any(r.role == "auth" for r in bot.sim.requests) and any(r.auth_kind == "bearer" for r in bot.sim.requests)
    issued = [t.value for t in bot.sim.state.oauth_tokens]
    for secret in (canary, *issued):
        assert secret not in fake_slack.all_text(), "secret in a Slack call"
        assert secret not in caplog.text, "secret in the logs"
        assert secret not in database_text(bot.db_path), "secret in SQLite"


@pytest.mark.parametrize(("values", "block", "error"), [
    ({**token_values("ATATT-x"), **client_values("id", "secret")}, BlockId.TOKEN_INPUT, "not both"),
    (client_values("some-client-id", ""), BlockId.CLIENT_SECRET_INPUT, "both the client id and the client secret"),
    (client_values("", "a-secret"), BlockId.CLIENT_ID_INPUT, "both the client id and the client secret"),
])
async def test_a_half_or_doubled_oauth_credential_is_refused_under_its_field(
        make_bot: MakeBot, fake_slack: FakeSlack, values: dict[str, dict[str, object]], block: BlockId,
        error: str) -> None:
    bot = await make_bot("oauth_missing_scope")
    view = await open_modal(bot, fake_slack)
    runs_before = len(bot.history.list())
    response = await bot.submit(view, values)
    await bot.settle()
    body = json.loads(response.body)
    assert body["response_action"] == "errors" and error in body["errors"][block.value]
    assert len(bot.history.list()) == runs_before
