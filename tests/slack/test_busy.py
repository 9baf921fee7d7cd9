"""A busy bot: runs over MAX_CONCURRENT_RUNS wait their turn; one pooled session for the Web API.

(A busy channel, verdicts first and folded parents: tests/slack/test_commands.py.)"""

from __future__ import annotations

import itertools
import re

from tests.fakes.slack_api import FakeSlack
from tests.slack.conftest import MakeBot
from tests.slack.helpers import text_of, thread
from tests.slack.test_commands import command_text


async def test_runs_over_the_cap_wait_their_turn_and_their_parent_says_how_many_are_ahead(
        make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    bot = await make_bot("no_confluence_access", MAX_CONCURRENT_RUNS="1")
    bot.sim.state.faults.latency_ms = 50
    channels = ["C0FIRST001", "C0SECOND01", "C0THIRD001"]
    for channel in channels:
        await bot.command(command_text(bot.sim.resolve_input()), channel=channel)
    await bot.settle()

    threads = [thread(fake_slack, channel) for channel in channels]
    runs = {r.run_id: r for r in bot.history.list()}
    in_order = [next(runs[i] for i in runs if i in text_of(t.parent)) for t in threads]
    assert len(runs) == 3 and all(r.verdict for r in in_order)
    # the first runs at once; the others wait, their parent saying how many runs are ahead of them
    queue_lines = [re.findall(r"Queued \((\d+) ahead\)", text_of(t.parent)) for t in threads]
    assert queue_lines == [[], ["0"], ["1"]], queue_lines
    # one at a time (each in its own channel, so no pace between them): each verdict comes at least
    # about the next run's own duration after the one before (at once, they would come together)
    for (t1, _), (t2, run2) in itertools.pairwise(zip(threads, in_order, strict=True)):
        assert t2.verdict.at - t1.verdict.at >= 0.5 * (run2.duration_ms or 0) / 1000
    for t, run in zip(threads, in_order, strict=True):
        shown = [t.parent, *[e for e in t.edits if e.params["ts"] == t.parent_ts]][-1]  # the queue line is gone
        assert "Queued" not in text_of(shown) and run.verdict.title in text_of(shown)
        assert bot.history.origin(run.run_id)["slack_thread_ts"] == t.parent_ts


async def test_the_web_api_client_reuses_its_connections(make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    bot = await make_bot("no_confluence_access")
    for n in range(3):
        await bot.command(command_text(bot.sim.resolve_input()), channel=f"C0REUSE{n:03d}")
    await bot.settle()

    calls = fake_slack.calls_to("chat.postMessage", "chat.update")
    assert len(calls) >= 9
    # one session for the process: calls share pooled connections instead of one new session each
    assert len({c.peer for c in calls}) <= len(calls) // 2, sorted(c.peer for c in calls)
    await bot.close()
    assert bot.client.session is not None and bot.client.session.closed


async def test_a_compare_over_the_cap_waits_its_turn_too(make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    """A compare is two runs: it queues behind the runs already going, and says so on its parent."""
    bot = await make_bot("no_confluence_access", MAX_CONCURRENT_RUNS="1")
    bot.sim.state.faults.latency_ms = 50
    await bot.command(command_text(bot.sim.resolve_input()), channel="C0CHECK001")
    await fake_slack.wait_for(lambda f: f.calls_to("chat.postMessage"))
    await bot.command("compare sam.lee@acme.com priya.n@acme.com", channel="C0COMPARE1")
    await bot.settle()

    check = thread(fake_slack, "C0CHECK001")
    compare = [c for c in fake_slack.calls_to("chat.postMessage") if c.params.get("channel") == "C0COMPARE1"]
    parent, comparison = compare
    assert "queued (0 ahead)" in parent.params["text"]
    assert "Differences" in comparison.params["text"]
    # the compare's two runs began only once the check before them had ended: its comparison comes at least
    # about their own duration after the check's verdict (side by side with it, they would come together)
    pair = [r for r in bot.history.list() if bot.history.origin(r.run_id).get("slack_channel") == "C0COMPARE1"]
    assert len(pair) == 2 and check.verdict is not None
    assert comparison.at - check.verdict.at >= 0.5 * max(r.duration_ms or 0 for r in pair) / 1000
