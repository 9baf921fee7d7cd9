"""`/confluence-check` end to end: signed command → ack → parent → live step list → verdict."""

from __future__ import annotations

import itertools

import pytest

from bot.model import CauseCode, Run
from bot.simulator import load_scenario
from bot.slack.escape import escape
from bot.slack.ids import ActionId
from bot.slack.pacer import DEFAULT_BURST, ChannelPacer
from tests.fakes.slack_api import Call, FakeSlack
from tests.fakes.slack_bot import SlackBot
from tests.fakes.slack_requests import CHANNEL, USER
from tests.slack.conftest import MakeBot
from tests.slack.helpers import buttons_of, text_of, thread

SCENARIOS = ["no_confluence_access", "seed_automation_actor", "account_deactivated", "token_expired"]


def command_text(inputs: dict[str, object]) -> str:
    return f"{inputs['actor']} {inputs['endpoint']} status:{inputs['status']}"


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_a_check_unfolds_in_one_thread_and_ends_in_the_verdict(
        make_bot: MakeBot, fake_slack: FakeSlack, scenario: str) -> None:
    bot = await make_bot(scenario)
    sim_requests_before = len(bot.sim.requests)
    response = await bot.command(command_text(bot.sim.resolve_input()))
    assert (response.status, response.body) == (200, "")  # acked at once, nothing shown yet
    await bot.settle()

    [run] = bot.history.list()
    expected = load_scenario(scenario).expect
    assert run.verdict is not None and run.verdict.cause is CauseCode(expected["cause"])
    assert len(bot.sim.requests) > sim_requests_before

    t = thread(fake_slack)
    parent = text_of(t.parent)
    assert run.actor in parent and run.run_id in parent and bot.settings.site_url in parent
    assert all(reply.params["thread_ts"] == t.parent_ts for reply in t.replies)

    verdict = text_of(t.verdict)
    assert escape(run.verdict.title) in verdict and run.verdict.confidence.value in verdict
    assert all(escape(line) in verdict for line in run.verdict.fix)
    assert set(buttons_of(t.verdict)) == {a.value for a in ActionId if not a.value.endswith("_input")}

    parent_edit = [e for e in t.edits if e.params["ts"] == t.parent_ts][-1]
    assert escape(run.verdict.title) in text_of(parent_edit)
    assert f"<@{USER}>" in text_of(parent_edit)


async def test_a_slow_run_shows_its_steps_live_then_turns_that_reply_into_the_verdict(
        make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    bot = await make_bot("no_confluence_access", pace=0.05)
    # every Atlassian request is slow: the steps finish one by one, and the run outlasts the
    # half second a run is given to end before its step list is shown
    bot.sim.state.faults.latency_ms = 400
    await bot.command(command_text(bot.sim.resolve_input()))
    await bot.settle()

    [run] = bot.history.list()
    t = thread(fake_slack)
    writes = fake_slack.writes(CHANNEL)
    # parent, the live step list, that reply edited into the verdict, the parent at a glance
    assert [w.method for w in writes] == ["chat.postMessage", "chat.postMessage", "chat.update", "chat.update"]
    parent, live, final, glance = writes
    assert parent is t.parent and live.params["thread_ts"] == t.parent_ts
    planned = len(run.planned)
    finished_then = int(text_of(live).split("Steps: ", 1)[1].split(" of ", 1)[0])
    assert 0 < finished_then < planned, "the first steps show before the run ends, the rest pending"
    assert ":hourglass_flowing_sand:" in text_of(live)
    assert not buttons_of(live) and escape(run.verdict.title) not in text_of(live)

    assert final is t.verdict and final.params["ts"] == live.response["ts"]  # the same reply, edited
    shown = text_of(final)
    assert escape(run.verdict.title) in shown and run.verdict.confidence.value in shown
    assert all(escape(line) in shown for line in run.verdict.fix)
    assert set(buttons_of(final)) == {a.value for a in ActionId if not a.value.endswith("_input")}
    assert f"{planned} of {planned} finished" in shown and ":hourglass_flowing_sand:" not in shown
    assert all(escape(step.title) in shown for step in run.steps)
    assert glance.params["ts"] == t.parent_ts and escape(run.verdict.title) in text_of(glance)
    assert len(t.replies) == 1


def assert_final_message_posted_once(bot: SlackBot, fake_slack: FakeSlack) -> tuple[Run, list[Call]]:
    """Parent, then the final message (verdict and the whole step list) posted once, then the parent
    edit: no step list first. Returns the run and the channel's writes."""
    [run] = bot.history.list()
    writes = fake_slack.writes(CHANNEL)
    assert [w.method for w in writes] == ["chat.postMessage", "chat.postMessage", "chat.update"]
    final = writes[1]
    assert final is thread(fake_slack).verdict and escape(run.verdict.title) in text_of(final)
    planned = len(run.planned)
    assert f"{planned} of {planned} finished" in text_of(final)
    return run, writes


async def test_a_quick_run_posts_its_verdict_at_once_without_a_step_list_first(
        make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    bot = await make_bot("no_confluence_access", pace=0.05)  # no injected latency: the run ends quickly
    await bot.command(command_text(bot.sim.resolve_input()))
    await bot.settle()

    # the run ended within half a second of its first step: parent, the final message, the parent edit
    assert_final_message_posted_once(bot, fake_slack)


async def test_a_run_that_ends_before_its_step_list_slot_posts_the_final_message_once(
        make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    pace = 0.25
    pacer = ChannelPacer(pace)
    bot = await make_bot("no_confluence_access", pacer=pacer)
    await bot.command(command_text(bot.sim.resolve_input()))
    await fake_slack.wait_for(lambda f: f.writes(CHANNEL))  # the parent is out, showing "Running…"
    await pacer.defer(CHANNEL, 3.0)  # then the channel is busy for 3 s: the run ends while its list waits
    await bot.settle()

    run, writes = assert_final_message_posted_once(bot, fake_slack)
    assert escape(run.verdict.title) in text_of(writes[2])  # the parent at a glance, after the verdict


async def test_busy_channel_keeps_its_pace_and_shows_verdicts_before_step_lists(
        make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    pace = 0.25
    pacer = ChannelPacer(pace)
    bot = await make_bot("no_confluence_access", pacer=pacer)
    await pacer.defer(CHANNEL, 3.0)  # the channel is busy for 3 s: the runs end while their writes wait
    for n in range(4):
        await bot.command(command_text(bot.sim.resolve_input()), user=f"U0ASKER{n:03d}")
    await bot.settle()

    runs = bot.history.list()
    assert len(runs) == 4 and all(r.verdict for r in runs)
    writes = fake_slack.writes(CHANNEL)
    stamps = [w.at for w in writes]
    # a burst of at most DEFAULT_BURST, then one write per `pace`
    # (https://docs.slack.dev/reference/methods/chat.postMessage): any k writes span at
    # least (k - burst) intervals (less half an interval: arrival stamps jitter on a loaded machine)
    for i, j in itertools.combinations(range(len(stamps)), 2):
        assert j - i + 1 <= DEFAULT_BURST + (stamps[j] - stamps[i]) / pace + 0.5, (i, j, stamps)
    # every parent came after its run ended, so it shows the verdict and is never edited; the one
    # reply per run is the final message (verdict, then the complete step list), posted once
    assert len(writes) == 2 * len(runs) and not fake_slack.calls_to("chat.update")
    replies = [n for n, w in enumerate(writes) if w.params.get("thread_ts")]
    assert len(replies) == len(runs)
    for run in runs:  # every verdict shows (in its parent) before any reply
        assert _verdict_shown_at(writes, run) < min(replies), [text_of(w)[:50] for w in writes]
        planned = len(run.planned)
        [reply] = [writes[n] for n in replies if run.run_id in text_of(writes[n])]
        assert escape(run.verdict.title) in text_of(reply) and f"{planned} of {planned} finished" in text_of(reply)


def _verdict_shown_at(writes: list[Call], run: Run) -> int:
    """Index of the first write of `run`'s thread that shows its verdict."""
    parent = next(w for w in writes if w.method == "chat.postMessage" and not w.params.get("thread_ts")
                  and run.run_id in text_of(w))
    ts = parent.response["ts"]
    mine = [n for n, w in enumerate(writes) if w is parent or w.params.get("thread_ts") == ts
            or (w.method == "chat.update" and w.params.get("ts") == ts)]
    return min(n for n in mine if escape(run.verdict.title) in text_of(writes[n]))


async def test_a_429_is_retried_after_retry_after(make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    bot = await make_bot("no_confluence_access")
    fake_slack.rate_limit("chat.postMessage", 1)  # the parent gets 429, Retry-After: 1
    await bot.command(command_text(bot.sim.resolve_input()))
    await bot.settle()

    posts = fake_slack.calls_to("chat.postMessage")
    assert posts[0].status == 429 and posts[1].response["ok"]
    assert posts[1].at - posts[0].at >= 1.0
    assert thread(fake_slack).verdict is not None


async def test_help_is_private(make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    bot = await make_bot("ok")
    response = await bot.command("help")
    assert response.status == 200
    [reply] = await fake_slack.wait_for(lambda f: f.webhook_posts("cmd"))
    assert reply.params["response_type"] == "ephemeral"
    assert "Usage" in text_of(reply) and "history" in text_of(reply)
    assert not fake_slack.calls_to("chat.postMessage")


@pytest.mark.parametrize(("text", "hint"), [
    ("", "tell me which account to check"),
    ("   ", "tell me which account to check"),
    ("not-an-actor", "is not an email address or an Atlassian account id"),
    ("automation@acme.com GET https://evil.example.com/wiki/rest/api/space", "credentials only go to"),
    ("automation@acme.com GET https://{site}@evil.example.com/wiki", "user-info"),
    ("automation@acme.com frobnicate", "I don't understand"),
    ("history", "takes one account"),
], ids=["empty", "blank", "malformed-actor", "foreign-host", "userinfo-trick", "unknown-word", "history-alone"])
async def test_bad_input_gets_a_private_helpful_reply_and_runs_nothing(
        make_bot: MakeBot, fake_slack: FakeSlack, text: str, hint: str) -> None:
    bot = await make_bot("ok")
    site_host = bot.settings.site_url.removeprefix("http://")
    response = await bot.command(text.replace("{site}", site_host))
    assert response.status == 200
    [reply] = await fake_slack.wait_for(lambda f: f.webhook_posts("cmd"))
    await bot.settle()
    assert hint in text_of(reply) and "Usage" in text_of(reply)
    assert reply.params["response_type"] == "ephemeral"
    assert not fake_slack.calls_to("chat.postMessage") and bot.history.list() == []
    assert bot.sim.requests == []


async def test_history_command_lists_runs_with_verdicts_and_thread_links(make_bot: MakeBot,
                                                                        fake_slack: FakeSlack) -> None:
    bot = await make_bot("no_confluence_access")
    inputs = bot.sim.resolve_input()
    await bot.command(command_text(inputs))
    await bot.settle()
    [run] = bot.history.list()

    await bot.command(f"history {inputs['actor']}", name="history")
    [reply] = await fake_slack.wait_for(lambda f: f.webhook_posts("history"))
    shown = text_of(reply)
    parent_ts = thread(fake_slack).parent_ts
    assert run.run_id in shown and escape(run.verdict.title) in shown
    assert f"archives/{CHANNEL}/p{parent_ts.replace('.', '')}" in shown


@pytest.mark.parametrize("typed", ["&lt;!channel&gt; please", "<!channel>", "&lt;http://evil.example|x&gt;",
                                   "<http://evil.example|x>", "automation@acme.com &lt;!here&gt;"])
async def test_typed_text_is_escaped_before_it_reaches_mrkdwn(make_bot: MakeBot, fake_slack: FakeSlack,
                                                             typed: str) -> None:
    bot = await make_bot("ok")
    await bot.command(typed)
    [reply] = await fake_slack.wait_for(lambda f: f.webhook_posts("cmd"))
    await bot.settle()
    shown = text_of(reply)
    assert "<!" not in shown and "<http://evil" not in shown
    if "&lt;" in typed:
        assert "&lt;!" in shown or "&lt;http://evil" in shown
