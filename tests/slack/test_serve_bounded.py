"""`serve --http` against a hostile Atlassian: a 1 GB answer or a gzip bomb on every request. The bot
answers the command with an inconclusive verdict naming the cap, and its peak RSS (the kernel's VmHWM
of the real process) stays under 200 MB. A rule read from a site that trickles ends too."""

from __future__ import annotations

import os
import time
from pathlib import Path

import aiohttp
import pytest

from tests.fakes.hostile import hostile_server
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_bot import SIGNING_SECRET
from tests.fakes.slack_requests import CHANNEL
from tests.slack.conftest import MakeBot
from tests.slack.helpers import text_of
from tests.slack.test_replicas import Replica, verdicts
from tests.test_bounded import RSS_LIMIT_MB, RULE


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc/PID/status")


@pytest.mark.parametrize("kind", ["huge", "bomb"])
async def test_serve_stays_small_against_a_1_gb_answer_or_a_gzip_bomb(kind: str, fake_slack: FakeSlack,
                                                                      tmp_path: Path) -> None:
    with hostile_server(kind) as url:
        env = {**os.environ, "ATLASSIAN_SITE_URL": url, "ATLASSIAN_API_URL": url, "ATLASSIAN_STATUS_URL": url,
               "ATLASSIAN_EMAIL": "inspector@acme.com", "ATLASSIAN_API_TOKEN": "ATATT3xFfGF0-hostile-test-0001",
               "ATLASSIAN_ORG_API_KEY": "ATCTT3xFfGN0-hostile-test-0002", "SLACK_BOT_TOKEN": fake_slack.token,
               "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": fake_slack.base_url,
               "DATABASE_PATH": str(tmp_path / "h.db")}
        bot = Replica("hostile", env, tmp_path / "serve.log")
        async with aiohttp.ClientSession() as session:
            try:
                await bot.start(session)
                await bot.command(session, fake_slack, CHANNEL)
                [verdict, *_] = await fake_slack.wait_for(lambda f: verdicts(f, CHANNEL), timeout=90)
                assert bot.process is not None
                rss = _peak_rss_mb(bot.process.pid)
            finally:
                await bot.stop()
    print(f"serve against {kind}: peak RSS {rss:.0f} MB")
    assert "Inconclusive" in text_of(verdict) and "larger than 4 MiB" in fake_slack.all_text()
    assert rss < RSS_LIMIT_MB
    assert "Traceback" not in (tmp_path / "serve.log").read_text()


async def test_a_rule_read_from_a_trickling_site_ends_in_slack(make_bot: MakeBot, fake_slack: FakeSlack) -> None:
    """`/confluence-check rule` while tenant_info trickles a byte every 2 s: the read gives up within its
    deadline and the thread says the rule could not be read (it used to wait for ever)."""
    with hostile_server("trickle") as url:
        bot = await make_bot("rule_auth_header_missing", ATLASSIAN_SITE_URL=url, ATLASSIAN_API_URL=url)
        started = time.monotonic()
        await bot.command(f"rule {RULE}")
        await fake_slack.wait_for(lambda f: verdicts(f, CHANNEL), timeout=100)
        wall = time.monotonic() - started
    print(f"Slack rule against a trickling site: verdict after {wall:.1f} s")
    [run] = bot.history.list()
    assert run.verdict is not None and run.verdict.outcome.value == "inconclusive"
    assert wall < 75  # the rule read (30 s) and the short run that says why (30 s)
