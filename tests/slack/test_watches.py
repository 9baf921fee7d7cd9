"""Watches end to end: `/confluence-check watch` through the real Bolt app, due watches run by the runner
`serve` uses (`bot.slack.watches.watch_runner`) against the simulator over HTTP, notices posted to the fake
Slack Web API. Time is a clock the test moves: hours pass without sleeping.

A change posts once; nothing posts while nothing changes; an expiring token warns once per threshold;
the bot's own trouble is said once; the Home tab lists the watches."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.checker import Checker
from bot.slack.identity import BotIdentity
from bot.slack.pacer import ChannelPacer
from bot.slack.services import Services
from bot.slack.watches import watch_runner
from bot.store import HistoryStore
from bot.store.watches import Watch, add_watch, list_watches
from bot.watches import WatchRunner
from tests.fakes.slack_api import Call, FakeSlack
from tests.fakes.slack_bot import SlackBot
from tests.fakes.slack_requests import USER
from tests.slack.test_replicas import Replica, replicas, stored  # noqa: F401 (the fixture)

MakeBot = Callable[..., Awaitable[SlackBot]]
CHANNEL = "C0WATCHES1"
HOUR = 3600.0
DAY = 86400.0


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def runner_of(bot: SlackBot, clock: Clock) -> WatchRunner:
    services = Services(bot.settings, Checker(bot.settings, bot.app_history), bot.app_history, bot.client,
                        BotIdentity(bot.client), ChannelPacer(0.0), bot.tasks)
    return watch_runner(services, clock=clock)


def notices(fake: FakeSlack) -> list[Call]:
    """What the watch posted in the channel (not the confirmation of the command)."""
    return [c for c in fake.writes(CHANNEL) if c.method == "chat.postMessage" and "asked me to watch"
            not in str(c.params.get("text"))]


async def watches(bot: SlackBot) -> list[Watch]:
    return await bot.app_history.call(lambda s: list_watches(s.db))


async def add(bot: SlackBot, text: str) -> Watch:
    await bot.command(text, channel=CHANNEL)
    await bot.settle()
    found = await watches(bot)
    assert len(found) == 1, [c.params for c in bot.fake.webhook_posts()]
    return found[0]


async def look(runner: WatchRunner) -> int:
    """One look for due watches; how many ran."""
    async with asyncio.timeout(60):
        return len(await runner.run_due())


def user(bot: SlackBot, email: str) -> Any:
    return next(u for u in bot.sim.state.users if u.email == email)


async def test_a_change_posts_once_and_nothing_posts_while_nothing_changes(make_bot: MakeBot) -> None:
    bot = await make_bot("ok")
    actor = bot.sim.resolve_input()["actor"]
    watch = await add(bot, f"watch {actor} every 1h")
    assert (watch.actor, watch.every_s, watch.channel) == (actor, 3600, CHANNEL)
    confirmation = [c for c in bot.fake.writes(CHANNEL) if "asked me to watch" in str(c.params.get("text"))]
    assert len(confirmation) == 1 and "every 1h" in confirmation[0].params["text"]
    clock = Clock()
    runner = runner_of(bot, clock)

    assert await look(runner) == 1  # due at once: its first verdict is told (a channel it cannot post to shows)
    assert len(notices(bot.fake)) == 1 and "Now watching" in notices(bot.fake)[0].params["text"]
    for _ in range(3):  # nothing changes: checked every hour, nothing posted
        clock.advance(HOUR)
        assert await look(runner) == 1
    clock.advance(HOUR / 2)
    assert await look(runner) == 0  # not due yet
    assert len(notices(bot.fake)) == 1

    user(bot, actor).account_status = "inactive"  # fixed → failing
    clock.advance(HOUR)
    assert await look(runner) == 1
    assert len(notices(bot.fake)) == 2
    changed = notices(bot.fake)[-1].params["text"]
    assert "changed" in changed and "account_deactivated" in changed
    for _ in range(2):
        clock.advance(HOUR)
        await look(runner)
    assert len(notices(bot.fake)) == 2  # still failing the same way: nothing more

    user(bot, actor).account_status = "active"  # failing → fixed
    clock.advance(HOUR)
    await look(runner)
    assert len(notices(bot.fake)) == 3 and "no problem found" in notices(bot.fake)[-1].params["text"]
    runs = await bot.app_history.call(lambda s: s.list(actor, 50, steps=False))
    assert len(runs) == 8  # every look that was due ran a check, kept in history


async def test_an_expiring_token_warns_once_per_threshold(make_bot: MakeBot) -> None:
    bot = await make_bot("ok")
    actor = bot.sim.resolve_input()["actor"]
    await add(bot, f"watch {actor} every:1h")
    clock = Clock()
    start = datetime.fromtimestamp(clock.now, UTC)
    tokens = user(bot, actor).tokens
    for token in tokens:  # the actor's only live token expires in 40 days; the others later than a year
        token.expiry = (start + timedelta(days=400)).isoformat().replace("+00:00", "Z")
    tokens[0].expiry = (start + timedelta(days=40)).isoformat().replace("+00:00", "Z")
    runner = runner_of(bot, clock)

    def warnings() -> list[str]:
        return [str(c.params["text"]) for c in notices(bot.fake) if "expires in" in str(c.params.get("text"))]

    steps = [(0, 0), (11 * DAY, 1), (DAY, 1), (10 * DAY, 1), (11 * DAY, 2), (HOUR * 2, 2), (DAY * 6.4, 3),
             (HOUR * 2, 3)]  # 40 → 29 → 28 → 18 → 7 → 6.9 → 0.5 → 0.4 days left
    for advance, expected in steps:
        clock.advance(advance)
        assert await look(runner) == 1
        assert len(warnings()) == expected, warnings()
    assert tokens[0].label in warnings()[0]
    assert "expires in 7 days " in warnings()[1]  # the 7-day warning, not the 30-day one again
    assert "less than a day" in warnings()[2]


async def test_a_token_first_seen_close_to_expiry_is_told_the_nearest_threshold_only(make_bot: MakeBot) -> None:
    bot = await make_bot("ok")
    actor = bot.sim.resolve_input()["actor"]
    await add(bot, f"watch {actor} every 1h")
    clock = Clock()
    for token in user(bot, actor).tokens:
        token.expiry = (datetime.fromtimestamp(clock.now, UTC) + timedelta(days=5)).isoformat()
    runner = runner_of(bot, clock)
    await look(runner)
    for _ in range(3):
        clock.advance(HOUR)
        await look(runner)
    told = [c for c in notices(bot.fake) if "expires in" in str(c.params.get("text"))]
    assert len(told) == 1 and "5 days" in told[0].params["text"]


async def test_the_bots_own_trouble_is_said_once_not_every_interval(make_bot: MakeBot) -> None:
    bot = await make_bot("ok")
    actor = bot.sim.resolve_input()["actor"]
    await add(bot, f"watch {actor} every 1h")
    clock = Clock()
    runner = runner_of(bot, clock)
    await look(runner)
    bot.sim.state.org.api_keys.clear()  # the bot's org key is revoked: inspector_misconfigured
    for _ in range(4):
        clock.advance(HOUR)
        await look(runner)
    trouble = [c.params["text"] for c in notices(bot.fake)[1:]]
    assert len(trouble) == 1 and "cannot check" in trouble[0], trouble
    assert (await watches(bot))[0].trouble == "inspector_misconfigured"
    bot.sim.state.org.api_keys.append(bot.settings.org_api_key.reveal())  # type: ignore[union-attr]
    clock.advance(HOUR)
    await look(runner)
    told = [c.params["text"] for c in notices(bot.fake)[2:]]
    assert len(told) == 1 and "work again" in told[0] and "changed" not in told[0]  # same verdict as before


async def test_watch_list_and_remove_in_slack_and_the_home_tab_lists_watches(make_bot: MakeBot) -> None:
    bot = await make_bot("ok")
    actor = bot.sim.resolve_input()["actor"]
    watch = await add(bot, f"watch {actor} every 2h")
    for user in (USER, "U0SOMEONE9"):
        await bot.event({"type": "app_home_opened", "user": user, "tab": "home"})
        await bot.settle()
    *_, mine, theirs = (str(c.params["view"]) for c in bot.fake.calls_to("views.publish"))
    assert watch.id in mine and actor in mine
    assert watch.id not in theirs  # another person's watch posting into a channel: seen from that channel only

    await bot.command("watch list", name="list", channel=CHANNEL, user="U0SOMEONE9")
    await bot.command("watch list", name="elsewhere", channel="C0ELSEWHERE", user="U0SOMEONE9")
    await bot.settle()
    assert watch.id in bot.fake.webhook_posts("list")[-1].raw
    assert watch.id not in bot.fake.webhook_posts("elsewhere")[-1].raw
    await bot.command(f"watch remove {watch.id}", name="remove", channel=CHANNEL)
    await bot.settle()
    assert await watches(bot) == [] and "Removed" in bot.fake.webhook_posts("remove")[-1].raw


@pytest.mark.parametrize("text, error", [
    ("watch", "name the account"),
    ("watch sam@acme.com every 10s", "shorter than the shortest interval, 1m"),
    ("watch sam@acme.com every", "interval"),
    ("watch sam@acme.com --every 6h", "don't understand"),
    ("watch sam@acme.com GET https://evil.example.com/x", "evil.example.com"),
    ("watch remove w_nope", "no watch"),
])
async def test_a_watch_command_that_cannot_be_done_is_answered_privately(
        make_bot: MakeBot, text: str, error: str, tmp_path: Path) -> None:
    bot = await make_bot("ok")
    await bot.command(text, name="bad", channel=CHANNEL)
    await bot.settle()
    assert error in bot.fake.webhook_posts("bad")[-1].raw
    assert await watches(bot) == [] and bot.fake.writes(CHANNEL) == []


async def test_two_serve_processes_on_postgresql_run_a_due_watch_once(
        replicas: tuple[Replica, Replica, Any], fake_slack: FakeSlack, postgres_url: str) -> None:  # noqa: F811
    """Two real `serve --http` processes on one PostgreSQL, each looking for due watches four times a
    second: the watch due now is checked, and its first verdict posted, by one of them only."""
    a, b, sim = replicas
    sim.state.faults.latency_ms = 100  # a check takes a while: both look several times while it runs
    actor = sim.resolve_input()["actor"]
    store = HistoryStore.open("unused.db", postgres_url)
    try:
        add_watch(store.db, Watch(id="w_replicas", actor=actor, every_s=3600, created_by="test",
                                  created_at="2026-12-07T00:00:00Z", next_due=time.time(), channel=CHANNEL))
    finally:
        store.close()
    for replica in (a, b):
        replica.env["WATCH_MIN_INTERVAL_S"] = "1"  # a look every 0.25 s
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(a.start(session), b.start(session))
        await fake_slack.wait_for(lambda f: notices(f), timeout=60)
        await asyncio.sleep(3)  # a dozen more looks each
    assert len(notices(fake_slack)) == 1 and "Now watching" in notices(fake_slack)[0].params["text"]
    runs = [run for run in stored(postgres_url) if run.actor == actor]
    assert len(runs) == 1 and runs[0].verdict is not None


async def test_watches_due_together_read_the_org_wide_facts_once(make_bot: MakeBot) -> None:
    bot = await make_bot("ok")
    emails = [u.email for u in bot.sim.state.users][:3]
    for email in emails:
        await bot.command(f"watch {email} every 1h", channel=CHANNEL)
    await bot.settle()
    assert len(await watches(bot)) == 3
    clock = Clock()
    runner = runner_of(bot, clock)
    bot.sim.state.faults.latency_ms = 50  # the three checks overlap
    sent_before = len(bot.sim.requests)
    assert await look(runner) == 3
    paths = [r.path for r in bot.sim.requests[sent_before:]]
    assert paths.count("/_edge/tenant_info") == 1 and paths.count("/admin/v1/orgs") == 1, paths
    lookups = [p for p in paths if p.endswith("/directories/-/users/search")]
    assert len(lookups) == 3  # each account is looked up on its own
