"""Secret-bearing URLs of a rule and a credential in a pasted body never reach Slack: not the thread's
parent, not the steps, not the bundle Share posts to the support channel."""

from __future__ import annotations

import copy
import json

from bot.redact import MASK
from bot.simulator import load_scenario
from tests.fakes.slack_api import FakeSlack
from tests.slack.conftest import MakeBot
from tests.slack.helpers import buttons_of, thread, ts_of
from tests.test_secret_urls import BODY_TOKEN, CANARIES, _with_secret_urls


async def test_secret_urls_of_a_rule_never_reach_slack_or_support(make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    bot = await make_bot("rule_space_permission_missing", SUPPORT_CHANNEL="C0SUPPORT")
    rules = _with_secret_urls(load_scenario("rule_space_permission_missing")).world.automation_rules
    bot.sim.state.automation_rules[0]["rule"] = copy.deepcopy(rules[0]["rule"])
    await bot.command(f"rule {bot.sim.resolve_input()['rule']}")
    await bot.command(f'sam@acme.com status:403 body: {{"access_token": "{BODY_TOKEN}"}}', name="body")
    await bot.settle()
    for index in range(4):  # each web request's thread: its parent names the (masked) URL; share each
        t = thread(fake_slack, index=index)
        share = buttons_of(t.verdict)["share_with_support"]
        await bot.click("share_with_support", share, message_ts=ts_of(t.verdict), thread_ts=t.parent_ts)
    await bot.settle()
    assert fake_slack.calls_to("chat.postMessage") and any(c.channel == "C0SUPPORT" for c in fake_slack.calls)
    every_call = "\n".join(json.dumps(c.params, default=str) for c in fake_slack.calls)
    assert f"hooks.slack.com/{MASK}" in every_call  # the parent names the URL: host and masked path
    for canary in CANARIES:
        assert canary not in every_call
