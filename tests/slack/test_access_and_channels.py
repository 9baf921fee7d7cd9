"""Allow-lists and conversations the bot cannot post in: private answers, runs still stored."""

from __future__ import annotations

import pytest

from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import CHANNEL, USER
from tests.slack.conftest import MakeBot
from tests.slack.helpers import text_of

CHECK = "sam.lee@acme.com GET /wiki/rest/api/space status:403"


@pytest.mark.parametrize("allow", [{"ALLOWED_SLACK_USERS": "U0SOMEONE1,U0SOMEONE2"},
                                   {"ALLOWED_SLACK_CHANNELS": "C0ELSEWHERE"},
                                   {"ALLOWED_SLACK_USERS": USER, "ALLOWED_SLACK_CHANNELS": "C0ELSEWHERE"}],
                         ids=["user-not-allowed", "channel-not-allowed", "user-ok-channel-not"])
async def test_outsiders_get_a_private_refusal_nothing_runs_and_it_is_recorded(
        make_bot: MakeBot, fake_slack: FakeSlack, allow: dict[str, str]) -> None:
    bot = await make_bot("no_confluence_access", **allow)
    response = await bot.command(CHECK)
    assert response.status == 200
    [reply] = await fake_slack.wait_for(lambda f: f.webhook_posts("cmd"))
    await bot.settle()

    assert "can't run confluence-check here" in text_of(reply)
    assert reply.params["response_type"] == "ephemeral"
    assert bot.sim.requests == [], "a refused request reached Atlassian"
    assert bot.history.list() == [] and not fake_slack.calls_to("chat.postMessage")
    [refusal] = bot.history.refusals()
    assert (refusal.slack_user, refusal.slack_channel) == (USER, CHANNEL)
    assert "ALLOWED_SLACK" in refusal.reason and "sam.lee@acme.com" in refusal.text


async def test_allowed_users_and_channels_run(make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    bot = await make_bot("no_confluence_access", ALLOWED_SLACK_USERS=USER, ALLOWED_SLACK_CHANNELS=CHANNEL)
    await bot.command(CHECK)
    await bot.settle()
    assert bot.history.list()[0].verdict is not None and bot.history.refusals() == []


@pytest.mark.parametrize(("error", "fix"), [
    ("not_in_channel", "/invite"),
    ("channel_not_found", "private channel"),
])
async def test_where_the_bot_cannot_post_the_user_is_told_privately_and_the_run_completes(
        make_bot: MakeBot, fake_slack: FakeSlack, error: str, fix: str) -> None:
    bot = await make_bot("no_confluence_access")
    fake_slack.fail_channel(CHANNEL, error)
    await bot.command(CHECK)
    await bot.settle()

    notice, verdict = fake_slack.webhook_posts("cmd")
    assert fix in text_of(notice) and "still checking" in text_of(notice)
    [run] = bot.history.list()
    assert run.verdict is not None and run.verdict.title.split()[0] in text_of(verdict)
    assert bot.history.origin(run.run_id)["slack_channel"] == CHANNEL
    assert all(p.params["response_type"] == "ephemeral" for p in (notice, verdict))
    assert [c.response["error"] for c in fake_slack.calls_to("chat.postMessage")] == [error]
