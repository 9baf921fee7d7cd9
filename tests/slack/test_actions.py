"""The verdict's buttons: Re-run, Share with support, History (the token modal: test_modal.py)."""

from __future__ import annotations

from bot.slack.escape import escape
from bot.slack.ids import ActionId
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_bot import SlackBot
from tests.fakes.slack_requests import CHANNEL
from tests.slack.conftest import MakeBot
from tests.slack.helpers import Thread, buttons_of, text_of, thread, ts_of

SUPPORT = "C0SUPPORT1"


async def first_run(make_bot: MakeBot, fake: FakeSlack, **options: object) -> tuple[SlackBot, Thread]:
    bot = await make_bot("no_confluence_access", **options)
    inputs = bot.sim.resolve_input()
    await bot.command(f"{inputs['actor']} {inputs['endpoint']} status:{inputs['status']}")
    await bot.settle()
    return bot, thread(fake)


async def click(bot: SlackBot, t: Thread, action: ActionId, name: str = "click") -> None:
    value = buttons_of(t.verdict)[action.value]
    response = await bot.click(action.value, value, name=name, message_ts=ts_of(t.verdict),
                               thread_ts=t.parent_ts)
    assert (response.status, response.body) == (200, "")
    await bot.settle()


async def test_rerun_posts_a_new_run_in_the_same_thread_linked_to_the_first(
        make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    bot, t = await first_run(make_bot, fake_slack)
    [first] = bot.history.list()
    await click(bot, t, ActionId.RERUN)

    second, again = bot.history.list()
    assert again.run_id == first.run_id and second.previous_run_id == first.run_id
    assert second.verdict is not None and second.verdict.cause == first.verdict.cause
    t2 = thread(fake_slack)
    assert len([c for c in fake_slack.calls_to("chat.postMessage") if not c.params.get("thread_ts")]) == 1
    assert all(r.params["thread_ts"] == t.parent_ts for r in t2.replies)
    assert second.run_id in text_of(t2.verdict) and buttons_of(t2.verdict)  # the re-run's reply, now its verdict
    assert bot.history.origin(second.run_id)["slack_thread_ts"] == t.parent_ts
    last_parent_edit = [e for e in t2.edits if e.params["ts"] == t.parent_ts][-1]
    assert second.run_id in text_of(last_parent_edit) and first.run_id in text_of(last_parent_edit)


async def test_share_posts_permalink_and_redacted_summary_to_the_support_channel(
        make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    bot, t = await first_run(make_bot, fake_slack, SUPPORT_CHANNEL=SUPPORT)
    await click(bot, t, ActionId.SHARE)

    [permalink] = fake_slack.calls_to("chat.getPermalink")
    assert (permalink.params["channel"], permalink.params["message_ts"]) == (CHANNEL, t.parent_ts)
    [post] = [c for c in fake_slack.calls_to("chat.postMessage") if c.channel == SUPPORT]
    shared = text_of(post)
    run = bot.history.list()[0]
    assert permalink.response["permalink"] in shared and "# confluence-check:" in shared
    assert escape(run.verdict.title) in shared
    assert not any(secret in fake_slack.all_text() for secret in bot.settings.secrets() if secret != fake_slack.token)
    [notice] = fake_slack.webhook_posts("click")
    assert f"<#{SUPPORT}>" in text_of(notice)


async def test_share_without_a_support_channel_goes_to_the_user_privately(
        make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    bot, t = await first_run(make_bot, fake_slack)
    written = len(fake_slack.writes(CHANNEL))
    await click(bot, t, ActionId.SHARE)

    [bundle] = fake_slack.webhook_posts("click")
    assert bundle.params["response_type"] == "ephemeral"
    assert fake_slack.calls_to("chat.getPermalink")[0].response["permalink"] in text_of(bundle)
    assert "## Steps" in text_of(bundle)
    assert len(fake_slack.writes(CHANNEL)) == written  # nothing new in the channel


async def test_history_button_lists_the_actors_runs_privately(make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    bot, t = await first_run(make_bot, fake_slack)
    await click(bot, t, ActionId.HISTORY)

    [listing] = fake_slack.webhook_posts("click")
    run = bot.history.list()[0]
    assert listing.params["response_type"] == "ephemeral"
    assert run.run_id in text_of(listing) and f"p{t.parent_ts.replace('.', '')}" in text_of(listing)


async def test_a_forged_button_value_gets_a_private_notice(make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    bot = await make_bot("ok")
    response = await bot.click(ActionId.RERUN.value, '{"run": "../../etc", "actor": "x"}', message_ts="1.2")
    assert response.status == 200
    [notice] = await fake_slack.wait_for(lambda f: f.webhook_posts("click"))
    await bot.settle()
    assert "run the check again" in text_of(notice)
    assert bot.sim.requests == [] and bot.history.list() == []
