"""`/confluence-check rule RULE`: the parent names the rule, the thread is the usual steps and verdict,
Re-run reads the rule again, and no header value reaches Slack."""

from __future__ import annotations

import base64
import json

from bot.model import CauseCode
from bot.simulator import load_scenario
from bot.slack.escape import escape
from bot.slack.ids import ActionId
from tests.fakes.slack_api import FakeSlack
from tests.slack.conftest import MakeBot
from tests.slack.helpers import buttons_of, text_of, thread, ts_of
from tests.test_rule_command import _header_values


def _every_call(fake: FakeSlack) -> str:
    return "\n".join(json.dumps(c.params, default=str) for c in fake.calls)


async def test_a_rule_unfolds_in_a_thread_whose_parent_names_the_rule(make_bot: MakeBot,
                                                                      fake_slack: FakeSlack) -> None:
    bot = await make_bot("rule_auth_header_missing")
    rule = bot.sim.resolve_input()["rule"]
    response = await bot.command(f"rule <{rule}>")  # Slack wraps a pasted URL in <…>
    assert (response.status, response.body) == (200, "")
    await bot.settle()

    [run] = bot.history.list()
    assert run.verdict is not None and run.verdict.cause is CauseCode.AUTH_HEADER_MISSING
    t = thread(fake_slack)
    parent = text_of(t.parent)
    stored = run.request["rule"]
    assert "Publish release notes" in parent and stored["link"] in parent and "enabled" in parent
    assert "space 98305" in parent and "Send web request #1 of 1" in parent and "no Authorization header" in parent
    verdict = text_of(t.verdict)
    assert escape(run.verdict.title) in verdict and all(escape(line) in verdict for line in run.verdict.fix)
    assert set(buttons_of(t.verdict)) == {a.value for a in ActionId if not a.value.endswith("_input")}
    assert any("request.as_sent" in s.id for s in run.steps) and any(s.id == "rule.read" for s in run.steps)


async def test_rerun_reads_the_rule_again_in_the_same_thread(make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    bot = await make_bot("rule_auth_header_missing")
    await bot.command(f"rule {bot.sim.resolve_input()['rule']}")
    await bot.settle()
    t = thread(fake_slack)
    reads_before = sum("/automation/public/" in r.path for r in bot.sim.requests)
    # the admin fixes the rule: its Send web request now sends the actor's Basic header
    good = bot.sim.state.automation_rules[0]["rule"]["components"][0]["children"][0]["children"][0]
    token = next(u for u in bot.sim.state.users if u.email == "automation@acme.com").tokens[0].value
    header = "Basic " + base64.b64encode(f"automation@acme.com:{token}".encode()).decode()
    good["value"]["headers"].append({"name": "Authorization", "value": header, "headerSecure": True})
    value = buttons_of(t.verdict)[ActionId.RERUN.value]
    await bot.click(ActionId.RERUN.value, value, message_ts=ts_of(t.verdict), thread_ts=t.parent_ts)
    await bot.settle()

    second, first = bot.history.list()
    assert second.previous_run_id == first.run_id and second.verdict is not None
    assert second.verdict.cause is not CauseCode.AUTH_HEADER_MISSING  # the fixed rule was read, not the old one
    assert sum("/automation/public/" in r.path for r in bot.sim.requests) > reads_before
    assert bot.history.origin(second.run_id)["slack_thread_ts"] == t.parent_ts
    assert token not in _every_call(fake_slack) and header not in _every_call(fake_slack)


async def test_header_values_never_reach_slack(make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    for name in ("rule_bearer_with_api_token", "rule_auth_header_malformed", "rule_email_token_mismatch"):
        bot = await make_bot(name)
        await bot.command(f"rule {bot.sim.resolve_input()['rule']}")
        await bot.settle()
        scenario = load_scenario(name)
        secrets = [*_header_values(scenario), *(t.value for u in scenario.world.users for t in u.tokens)]
        calls = _every_call(fake_slack)
        assert "automation rule" in calls
        assert not [s[:10] for s in secrets if s in calls]


async def test_an_unknown_rule_is_answered_privately_with_what_to_paste(make_bot: MakeBot,
                                                                       fake_slack: FakeSlack) -> None:
    bot = await make_bot("rule_unknown_uuid")
    await bot.command(f"rule {bot.sim.resolve_input()['rule']}")
    await bot.command("rule https://acme.atlassian.net/wiki/admin/automation", name="nourl")
    await bot.settle()
    assert not bot.history.list()
    said = "\n".join(json.dumps(c.params) for c in fake_slack.calls)
    assert "019d4e2a-7c1b-7e55-9a0f-3b2c1d0effff" in said and "404" in said
    assert "#/rule/" in said  # the refusal of a URL without a rule says what to paste


async def test_a_refused_inspector_is_the_bots_configuration_in_the_thread(make_bot: MakeBot,
                                                                          fake_slack: FakeSlack) -> None:
    bot = await make_bot("rule_inspector_not_admin")
    rule = bot.sim.resolve_input()["rule"]
    await bot.command(f"rule {rule}")
    await bot.settle()
    [run] = bot.history.list()
    assert run.verdict is not None and run.verdict.cause is CauseCode.INSPECTOR_MISCONFIGURED
    t = thread(fake_slack)
    assert rule in text_of(t.parent) and "not readable" in text_of(t.parent)
    verdict = text_of(t.verdict)
    assert "site admin or a Confluence admin" in verdict and escape(run.verdict.title) in verdict
