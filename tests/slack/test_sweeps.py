"""`/confluence-check tokens` and `compare` through the real Bolt app (signed requests) and the fake
Web API. Tokens: a parent, the summary in its thread, the full list as a CSV file uploaded the current
way (files.getUploadURLExternal, the bytes, files.completeUploadExternal), no secret anywhere. Compare:
both verdicts and the differences in a thread, both runs in history."""

from __future__ import annotations

import csv
import io
import json

import pytest

from bot.atlassian import RetryPolicy
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_bot import start_bot
from tests.slack.conftest import MakeBot

FLAKY = "557058:7a1b2c3d-0000-4000-8000-000000000006"


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.tokens.SWEEP_RETRY", RetryPolicy(attempts=2, base_delay_s=0.01, jitter_s=0.0))


def _text(call: object) -> str:
    return json.dumps(call.params, default=str)  # type: ignore[attr-defined]


async def test_the_sweep_posts_a_summary_in_a_thread_and_the_full_list_as_a_csv_file(
        make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    bot = await make_bot("token_sweep")
    response = await bot.command("tokens --expiring 30")
    assert (response.status, response.body) == (200, "")
    await bot.settle()

    [parent, summary] = fake_slack.calls_to("chat.postMessage")
    parent_ts = parent.response["ts"]
    assert "sweeping every API token" in _text(parent) and "thread_ts" not in parent.params
    assert summary.params["thread_ts"] == parent_ts
    said = summary.params["text"]
    assert "8 account(s) read" in said and "renewal-bot@acme.com" in said
    assert "could not be read" in said and FLAKY in said
    # the file: asked for, uploaded whole without the bot token, completed into the thread
    [asked] = fake_slack.calls_to("files.getUploadURLExternal")
    [upload] = fake_slack.uploads()
    [completed] = fake_slack.calls_to("files.completeUploadExternal")
    assert upload.token is None and completed.params["channel_id"] == parent.channel
    assert completed.params["thread_ts"] == parent_ts
    [shared] = fake_slack.files().values()
    rows = list(csv.DictReader(io.StringIO(shared["content"])))
    assert shared["filename"].endswith(".csv") and int(asked.params["length"]) == len(shared["content"].encode())
    assert {r["token_id"]: r["flags"] for r in rows}["tok-renew-1"] == "expiring"
    assert len(rows) == 9 and not fake_slack.calls_to("files.upload")
    # the parent now shows the result at a glance
    [edit] = fake_slack.calls_to("chat.update")
    assert edit.params["ts"] == parent_ts and "could not be read" in edit.params["text"]
    # nothing secret went to Slack: no token value, no org key
    everything = fake_slack.all_text()
    secrets = [t.value for u in bot.sim.state.users for t in u.tokens] + bot.sim.state.org.api_keys
    assert not [s for s in secrets if s in everything]


async def test_outside_the_channel_the_summary_comes_privately_and_no_file_is_shared(
        make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    bot = await make_bot("token_sweep")
    fake_slack.fail_channel("C0001", "not_in_channel")
    await bot.command("tokens", channel="C0001")
    await bot.settle()
    private = " ".join(_text(c) for c in fake_slack.webhook_posts() + fake_slack.calls_to("chat.postEphemeral"))
    assert "/invite" in private and "8 account(s) read" in private
    assert not fake_slack.calls_to("files.getUploadURLExternal", "files.completeUploadExternal")


@pytest.mark.parametrize("text", ["tokens --expiring soon", "tokens --since 3", "tokens --unused"])
async def test_a_bad_tokens_command_gets_usage_privately_and_sweeps_nothing(make_bot: MakeBot, fake_slack: FakeSlack,
                                                                          text: str) -> None:
    bot = await make_bot("token_sweep")
    await bot.command(text)
    await bot.settle()
    assert not fake_slack.calls_to("chat.postMessage")
    assert not [r for r in bot.sim.requests if r.path.endswith("/api-tokens")]
    assert "tokens" in " ".join(_text(c) for c in fake_slack.webhook_posts())


async def test_compare_posts_both_verdicts_and_the_product_difference_first_in_a_thread(
        make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    bot = await make_bot("no_confluence_access")
    response = await bot.command("compare <mailto:sam.lee@acme.com|sam.lee@acme.com> priya.n@acme.com status:403")
    assert (response.status, response.body) == (200, "")
    await bot.settle()
    [parent, comparison] = fake_slack.calls_to("chat.postMessage")
    assert "sam.lee@acme.com" in parent.params["text"] and "priya.n@acme.com" in parent.params["text"]
    assert comparison.params["thread_ts"] == parent.response["ts"]
    said = comparison.params["text"]
    differences = said[said.index("Differences"):].splitlines()
    assert differences[1].startswith("• *product · Confluence roles*") and "explains the failure" in differences[1]
    runs = bot.history.list()
    assert {r.actor: r.request.get("status") for r in runs} == {"sam.lee@acme.com": 403, "priya.n@acme.com": None}
    assert all(bot.history.origin(r.run_id).get("slack_thread_ts") == parent.response["ts"] for r in runs)


async def test_a_second_sweep_while_one_runs_is_told_privately_and_sends_nothing(
        make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    bot = await make_bot("token_sweep")
    bot.sim.state.faults.latency_ms = 50  # the first sweep is still reading when the second is asked for
    await bot.command("tokens", name="first")
    await fake_slack.wait_for(lambda f: f.calls_to("chat.postMessage"))
    await bot.command("tokens", name="second")
    await bot.settle()
    [notice] = fake_slack.webhook_posts("second")
    assert "still running" in _text(notice)
    assert len(fake_slack.calls_to("chat.postMessage")) == 2  # the first sweep's parent and summary only
    assert sum(r.path.endswith(f"/users/{FLAKY}/manage/api-tokens") for r in bot.sim.requests) == 2  # one sweep


async def test_a_long_sweep_shows_its_count_on_the_parent_and_ends_with_the_result(
        make_bot: MakeBot, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.slack.sweeps.PROGRESS_EVERY_S", 0.0)
    bot = await make_bot("token_sweep")
    bot.sim.state.faults.latency_ms = 30
    await bot.command("tokens")
    await bot.settle()
    edits = fake_slack.calls_to("chat.update")
    assert any("accounts read" in e.params["text"] for e in edits[:-1])
    assert "details in the thread" in edits[-1].params["text"]  # the result is the parent's last word


async def test_without_an_org_key_the_asker_is_told_which_setting_and_nothing_is_posted(
        make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    bot = await make_bot("token_sweep", ATLASSIAN_ORG_API_KEY="")
    await bot.command("tokens")
    await bot.settle()
    assert not fake_slack.calls_to("chat.postMessage", "files.getUploadURLExternal")
    told = " ".join(_text(c) for c in fake_slack.webhook_posts() + fake_slack.calls_to("chat.postEphemeral"))
    assert "ATLASSIAN_ORG_API_KEY" in told
    assert not [r for r in bot.sim.requests if r.role == "api"]


async def test_a_refused_org_key_is_said_in_the_thread_without_the_key(make_bot: MakeBot,
                                                                      fake_slack: FakeSlack) -> None:
    bot = await make_bot("token_sweep", ATLASSIAN_ORG_API_KEY="ATCTT3xFfGN0-not-the-orgs-key-0000")
    await bot.command("tokens")
    await bot.settle()
    [parent, said] = fake_slack.calls_to("chat.postMessage")
    assert said.params["thread_ts"] == parent.response["ts"] and "refused" in said.params["text"]
    assert "not-the-orgs-key" not in fake_slack.all_text() and not fake_slack.calls_to("files.getUploadURLExternal")


async def test_two_bots_on_one_database_sweep_once_at_a_time(make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    """Replicas share the history database: the second process's sweep is told the first is running."""
    first = await make_bot("token_sweep")
    second = start_bot(fake_slack, first.sim, first.db_path)
    try:
        first.sim.state.faults.latency_ms = 50  # the first sweep is still reading when the second is asked for
        await first.command("tokens", name="first", channel="C0SWEEPONE", user="U0FIRST01")
        await fake_slack.wait_for(lambda f: f.calls_to("chat.postMessage"))
        await second.command("tokens", name="second", channel="C0SWEEPTWO")
        await first.settle()
        await second.settle()
        [notice] = fake_slack.webhook_posts("second")
        assert "still running" in _text(notice) and "U0FIRST01" in _text(notice) and "C0SWEEPONE" in _text(notice)
        assert sum(r.path.endswith(f"/users/{FLAKY}/manage/api-tokens") for r in first.sim.requests) == 2  # one sweep
        # once it is over, the lease is free: the second process sweeps
        await second.command("tokens", name="third", channel="C0SWEEPTWO")
        await second.settle()
        assert not fake_slack.webhook_posts("third")
        assert sum(r.path.endswith(f"/users/{FLAKY}/manage/api-tokens") for r in first.sim.requests) == 4
    finally:
        await second.close()
