"""App Home: the latest runs and the accounts failing now, published on app_home_opened."""

from __future__ import annotations

import json

from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import USER
from tests.slack.conftest import MakeBot
from tests.slack.helpers import texts_in


async def test_opening_the_home_tab_publishes_latest_runs_and_failing_accounts(
        make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    bot = await make_bot("no_confluence_access")
    await bot.command("sam.lee@acme.com GET /wiki/rest/api/space status:403")
    await bot.command("priya.n@acme.com", name="second")
    await bot.settle()

    response = await bot.event({"type": "app_home_opened", "user": USER, "channel": "D0HOME", "tab": "home"})
    assert response.status == 200
    [publish] = await fake_slack.wait_for(lambda f: f.calls_to("views.publish"))
    view = publish.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert publish.params["user_id"] == USER and view["type"] == "home"
    text = "\n".join(texts_in(view["blocks"]))
    failing, latest = text.split("Latest runs")
    assert "sam.lee@acme.com" in failing and "priya.n@acme.com" not in failing
    assert "sam.lee@acme.com" in latest and "priya.n@acme.com" in latest
    assert len(view["blocks"]) <= 100


async def test_the_messages_tab_publishes_nothing(make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    bot = await make_bot("ok")
    await bot.event({"type": "app_home_opened", "user": USER, "channel": "D0HOME", "tab": "messages"})
    await bot.settle()
    assert not fake_slack.calls_to("views.publish")


async def test_outsiders_see_a_refusal_on_the_home_tab(make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    bot = await make_bot("ok", ALLOWED_SLACK_USERS="U0SOMEONE1")
    await bot.event({"type": "app_home_opened", "user": USER, "channel": "D0HOME", "tab": "home"})
    [publish] = await fake_slack.wait_for(lambda f: f.calls_to("views.publish"))
    assert "can't run confluence-check" in json.dumps(publish.params["view"])


async def test_terminal_runs_show_on_the_home_tab_only_where_history_shows_them(
        make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    """With only ALLOWED_SLACK_CHANNELS set, the Home tab (no channel) lists your own runs, not terminal runs
    (which hold accounts and verdicts); with ALLOWED_SLACK_USERS naming you, it lists them as before."""
    from tests.samples import sample_run

    cases = (({"ALLOWED_SLACK_CHANNELS": "C0CHECKS01"}, False),
             ({"ALLOWED_SLACK_CHANNELS": "C0CHECKS01", "ALLOWED_SLACK_USERS": USER}, True),
             ({}, True))
    for i, (extra, shown) in enumerate(cases):
        fake_slack.calls.clear()
        bot = await make_bot("ok", **extra)
        bot.history.save(sample_run(f"r_terminal{i}", actor="terminal.only@acme.com"), origin={"via": "cli"})
        await bot.command("sam.lee@acme.com")
        await bot.settle()
        await bot.event({"type": "app_home_opened", "user": USER, "channel": "D0HOME", "tab": "home"})
        [publish] = await fake_slack.wait_for(lambda f: f.calls_to("views.publish"))
        text = json.dumps(publish.params["view"])
        assert "sam.lee@acme.com" in text  # your own run, always
        assert ("terminal.only@acme.com" in text) is shown, extra
