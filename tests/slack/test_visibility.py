"""Who sees which run: a run from a private channel or a DM is never listed to someone who could
not see it there (History button, `history` command, Home tab) — bot.slack.visibility."""

from __future__ import annotations

import json

import pytest

from bot.engine import new_run_id
from bot.model import Run, utcnow
from bot.slack.visibility import visible_to
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import CHANNEL, USER
from tests.slack.conftest import MakeBot
from tests.slack.helpers import buttons_of, text_of, texts_in, thread, ts_of

BOB = "U0BOB00001"
PRIVATE = "C0PRIVATE1"
ACTOR = "sam.lee@acme.com"


@pytest.mark.parametrize(("user", "conversation", "origin", "shown"), [
    (USER, CHANNEL, {"via": "slack", "slack_channel": PRIVATE, "slack_user": USER}, True),   # your own run
    (BOB, CHANNEL, {"via": "slack", "slack_channel": PRIVATE, "slack_user": USER}, False),  # another room
    (BOB, PRIVATE, {"via": "slack", "slack_channel": PRIVATE, "slack_user": USER}, True),   # same room
    (BOB, None, {"via": "slack", "slack_channel": CHANNEL, "slack_user": USER}, False),     # Home tab
    (BOB, None, {"via": "cli", "slack_channel": None, "slack_user": None}, True),           # a terminal run
    (BOB, CHANNEL, {"via": "slack", "slack_channel": None, "slack_user": USER}, False),
])
def test_the_rule(user: str, conversation: str | None, origin: dict, shown: bool) -> None:
    assert visible_to(user, conversation, origin) is shown


async def _alice_checks_in_private(bot, fake_slack: FakeSlack) -> None:
    await bot.command(f"{ACTOR} GET /wiki/rest/api/space status:403", channel=PRIVATE, name="private")
    await bot.command(f"{ACTOR}", channel="D0ALICEDM1", name="dm")
    await bot.settle()
    assert len(bot.history.list()) == 2


async def test_history_command_hides_other_peoples_runs_from_other_conversations(
        make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    bot = await make_bot("no_confluence_access")
    await _alice_checks_in_private(bot, fake_slack)
    await bot.command(f"history {ACTOR}", user=BOB, name="bob")
    await bot.command(f"history {ACTOR}", user=BOB, channel=PRIVATE, name="bob-in-private")
    await bot.command(f"history {ACTOR}", name="alice")
    await bot.settle()
    [bob] = fake_slack.webhook_posts("bob")
    [bob_private] = fake_slack.webhook_posts("bob-in-private")
    [alice] = fake_slack.webhook_posts("alice")
    private_run = next(r for r in bot.history.list() if r.request.get("status") == 403)
    dm_run = next(r for r in bot.history.list() if r.request.get("status") is None)
    assert private_run.run_id not in text_of(bob) and dm_run.run_id not in text_of(bob)
    assert private_run.run_id in text_of(bob_private) and dm_run.run_id not in text_of(bob_private)
    assert private_run.run_id in text_of(alice) and dm_run.run_id in text_of(alice)


async def test_history_button_follows_the_same_rule(make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    from bot.slack.ids import ActionId

    bot = await make_bot("no_confluence_access")
    await bot.command(f"{ACTOR}", channel="D0ALICEDM1", name="dm")
    await bot.command(f"{ACTOR} GET /wiki/rest/api/space status:403")
    await bot.settle()
    dm_run = next(r for r in bot.history.list() if r.request.get("status") is None)
    verdict = thread(fake_slack).verdict
    value = buttons_of(verdict)[ActionId.HISTORY.value]
    await bot.click(ActionId.HISTORY.value, value, user=BOB, message_ts=ts_of(verdict),
                    thread_ts=thread(fake_slack).parent_ts, name="bob-click")
    await bot.settle()
    [shown] = fake_slack.webhook_posts("bob-click")
    assert dm_run.run_id not in text_of(shown)


async def test_home_tab_shows_only_your_runs_and_terminal_runs(make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    bot = await make_bot("no_confluence_access")
    await _alice_checks_in_private(bot, fake_slack)
    terminal = Run(run_id=new_run_id(), actor="priya.n@acme.com", site=bot.settings.site_url or "",
                   started_at=utcnow(), planned=[])
    bot.history.save(terminal, origin={"via": "cli"})
    await bot.event({"type": "app_home_opened", "user": BOB, "channel": "D0HOME", "tab": "home"})
    await bot.event({"type": "app_home_opened", "user": USER, "channel": "D0HOME", "tab": "home"})
    await bot.settle()
    bob_view, alice_view = (c.params["view"] for c in fake_slack.calls_to("views.publish"))
    bob_text = "\n".join(texts_in(json.loads(bob_view) if isinstance(bob_view, str) else bob_view))
    alice_text = "\n".join(texts_in(json.loads(alice_view) if isinstance(alice_view, str) else alice_view))
    assert ACTOR not in bob_text and "priya.n@acme.com" in bob_text
    assert ACTOR in alice_text
