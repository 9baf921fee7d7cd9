"""Buttons and forms name a run; they act only for someone who may see that run (the history's visibility
rules), and the token form's private_metadata is sealed by the bot, never trusted as sent. Signed payloads
from another user, naming someone else's run, get a polite private refusal and change nothing."""

from __future__ import annotations

import json

import pytest

from bot.slack.ids import ActionId, BlockId, RunRef
from bot.slack.listeners.actions import NOT_YOURS
from bot.slack.sealed import NOT_SEALED, metadata_key, seal
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_bot import SlackBot
from tests.slack.conftest import MakeBot
from tests.slack.helpers import buttons_of, thread, ts_of
from tests.slack.test_modal import open_modal, token_values

ALICE_DM = "D0ALICE001"  # a conversation Mallory is not in
MALLORY, MALLORY_CHANNEL = "U0MALLORY1", "C0MALLORY1"


async def _alice_run(bot: SlackBot, fake: FakeSlack) -> tuple[str, str, str]:
    """A run Alice started in her DM: its button values, its verdict's ts and its thread."""
    inputs = bot.sim.resolve_input()
    await bot.command(f"{inputs['actor']} {inputs['endpoint']} status:{inputs['status']}", channel=ALICE_DM)
    await bot.settle()
    t = thread(fake, channel=ALICE_DM)
    return json.dumps(buttons_of(t.verdict)), ts_of(t.verdict), t.parent_ts


@pytest.mark.parametrize("button", [ActionId.RERUN, ActionId.SHARE, ActionId.TEST_WITH_TOKEN, ActionId.HISTORY])
async def test_a_button_naming_someone_elses_run_is_refused_privately(button: ActionId, make_bot: MakeBot,
                                                                      fake_slack: FakeSlack) -> None:
    bot = await make_bot("scoped_token_site_url", SUPPORT_CHANNEL="C0SUPPORT1")
    values, _, _ = await _alice_run(bot, fake_slack)
    runs_before = len(bot.history.list())
    writes_before = len(fake_slack.calls_to("chat.postMessage", "chat.update", "views.open"))
    # Mallory's signed click, in her own channel, carrying the value of Alice's button
    await bot.click(button.value, json.loads(values)[button.value], name="mallory", channel=MALLORY_CHANNEL,
                    user=MALLORY, message_ts="1700000000.000100")
    await bot.settle()
    [told] = fake_slack.webhook_posts("mallory")
    assert "can't see from here" in told.text() and NOT_YOURS.split(" (")[0] in told.text()
    assert len(bot.history.list()) == runs_before  # no re-run, no replay
    assert len(fake_slack.calls_to("chat.postMessage", "chat.update", "views.open")) == writes_before
    assert not [c for c in fake_slack.calls if c.channel == "C0SUPPORT1"]  # nothing shared


async def test_the_same_buttons_work_for_whoever_may_see_the_run(make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    bot = await make_bot("scoped_token_site_url")
    values, verdict_ts, parent_ts = await _alice_run(bot, fake_slack)
    await bot.click(ActionId.RERUN.value, json.loads(values)[ActionId.RERUN.value], channel=ALICE_DM,
                    message_ts=verdict_ts, thread_ts=parent_ts)
    await bot.settle()
    second, first = bot.history.list()
    assert second.previous_run_id == first.run_id


async def test_a_form_whose_metadata_the_bot_did_not_seal_is_refused(make_bot: MakeBot,
                                                                     fake_slack: FakeSlack) -> None:
    bot = await make_bot("scoped_token_site_url")
    view = await open_modal(bot, fake_slack)
    [run] = bot.history.list()
    typed = bot.sim.resolve_input()["actor_token"]
    forged = [
        {**view, "private_metadata": RunRef(run.run_id, run.actor).encode()},  # plain, as a forger writes it
        {**view, "private_metadata": seal(RunRef(run.run_id, run.actor), "U0ALICE001", "C0CHECKS01",
                                          b"another key")},
        {**view, "private_metadata": view["private_metadata"].replace(run.actor, "someone@acme.com")},
    ]
    for form in forged:
        body = json.loads((await bot.submit(form, token_values(typed))).body)
        assert body == {"response_action": "errors", "errors": {BlockId.TOKEN_INPUT.value: NOT_SEALED}}
    # the genuine form, submitted by someone other than who opened it
    body = json.loads((await bot.submit(view, token_values(typed), user=MALLORY)).body)
    assert body["errors"][BlockId.TOKEN_INPUT.value] == NOT_SEALED
    await bot.settle()
    assert len(bot.history.list()) == 1  # nothing replayed


async def test_a_sealed_form_for_a_run_its_user_cannot_see_replays_nothing(make_bot: MakeBot,
                                                                          fake_slack: FakeSlack) -> None:
    """Sealed by the bot for Mallory in her channel, but naming Alice's DM run: refused privately."""
    bot = await make_bot("scoped_token_site_url")
    await _alice_run(bot, fake_slack)
    [run] = bot.history.list()
    view = {"type": "modal", "callback_id": "actor_token_modal",
            "private_metadata": seal(RunRef(run.run_id, run.actor), MALLORY, MALLORY_CHANNEL,
                                     metadata_key(bot.settings))}
    response = await bot.submit(view, token_values(bot.sim.resolve_input()["actor_token"]), user=MALLORY)
    assert (response.status, response.body) == (200, "")
    await bot.settle()
    assert len(bot.history.list()) == 1
    told = [c for c in fake_slack.calls_to("chat.postEphemeral") if c.params.get("user") == MALLORY]
    assert told and "can't see from here" in told[0].text()
