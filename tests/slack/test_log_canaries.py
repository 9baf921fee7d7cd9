"""No log line, at DEBUG, of any logger (ours, Bolt, slack_sdk, httpx, httpcore, aiohttp, asyncio)
holds a secret: canaries through every entry point, all logging captured (docs/architecture.md §Security).

The canaries are deliberately not shaped like any known token, so only withholding bodies (not
pattern matching) keeps them out of library logs.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import logs
from bot.cli import main
from bot.commands import simulator_in_thread
from bot.simulator import load_scenario
from tests.conftest import CANARY_ACTOR_TOKEN, CANARY_BOT_TOKEN, CANARY_ORG_KEY
from tests.fakes import slack_requests as req
from tests.fakes.slack_api import FakeSlack
from tests.slack.conftest import MakeBot
from tests.slack.test_modal import open_modal, token_values

TYPED = "CANARY-TYPED-IN-SLACK-9a7b3e"
IN_URL = "CANARY-IN-ENDPOINT-URL-41d2c0"
CANARIES = (CANARY_ACTOR_TOKEN, CANARY_BOT_TOKEN, CANARY_ORG_KEY, TYPED, IN_URL)


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """Every record of every logger at DEBUG, through pytest's handler and the bot's own."""
    caplog.set_level(logging.DEBUG)
    for name in ("slack_bolt", "slack_sdk", "httpx", "httpcore", "aiohttp", "asyncio", "bot"):
        caplog.set_level(logging.DEBUG, logger=name)
    sink = io.StringIO()
    handler = logs.configure("DEBUG", stream=sink)
    yield sink
    logging.getLogger().removeHandler(handler)
    sink.write(caplog.text)


def assert_no_canary(*blobs: str) -> None:
    for blob in blobs:
        for canary in CANARIES:
            assert canary not in blob


async def test_slack_entry_points_log_no_canary(make_bot: MakeBot, fake_slack: FakeSlack,
                                                all_logs: io.StringIO) -> None:
    bot = await make_bot("scoped_token_site_url")
    actor = bot.sim.resolve_input()["actor"]
    # typed into the slash command: as a stray word, in an endpoint query, and in a pasted body
    await bot.command(f"{actor} {TYPED}")
    await bot.command(f"{actor} GET /wiki/rest/api/space?access_token={IN_URL} status:403 "
                      f"body: Authorization: Basic {TYPED}")
    await bot.settle()
    # the token form: a valid submission, then the same form under a wrong signing secret
    view = await open_modal(bot, fake_slack)
    await bot.submit(view, token_values(f"{actor}:{CANARY_ACTOR_TOKEN}"))
    await bot.settle()
    refused = await bot.send(req.view_submission(view, token_values(CANARY_ACTOR_TOKEN)),
                             signature="v0=" + "0" * 64)
    assert refused.status == 401
    await bot.send(req.slash_command(f"{actor} {TYPED}", response_url=fake_slack.response_url()),
                   signature="v0=" + "1" * 64)
    text = all_logs.getvalue()
    assert "Invalid request signature" in text  # Bolt did log the refusals, without their bodies
    assert_no_canary(text)
    for secret in bot.settings.secrets():  # the bot token and signing secret
        assert secret not in text
    assert IN_URL not in fake_slack.all_text()
    assert_no_canary(*(repr(r.to_dict()) for r in bot.history.list()))


def test_cli_entry_points_log_no_canary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str], all_logs: io.StringIO) -> None:
    with simulator_in_thread(load_scenario("seed_automation_actor_replay")) as sim:
        actor = sim.resolve_input()["actor"]
        sim.state.user_by_email(actor).tokens[0].value = CANARY_ACTOR_TOKEN
        for key, value in {**sim.env(), "DATABASE_PATH": str(tmp_path / "h.db"), "LOG_LEVEL": "DEBUG",
                           "ATLASSIAN_ORG_API_KEY": CANARY_ORG_KEY}.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setattr("sys.stdin", io.StringIO(f"{actor}:{CANARY_ACTOR_TOKEN}\n"))
        main(["check", actor, "--actor-token-stdin", "--json",
              "--endpoint", f"GET /wiki/rest/api/space?token={IN_URL}&limit=1"])
        out = capsys.readouterr()
        assert any(IN_URL in r.path or IN_URL in str(r) for r in sim.requests)  # it was really sent
    run_id = next(line for line in out.out.splitlines() if '"run_id"' in line).split('"')[3]
    for args in (["show", run_id], ["show", run_id, "--markdown"], ["history", "--json"]):
        main(args)
    shown = capsys.readouterr()
    assert "token=********" in shown.out
    stored = "".join(p.read_bytes().decode("latin-1") for p in tmp_path.iterdir() if p.name.startswith("h.db"))
    assert_no_canary(all_logs.getvalue(), out.out, out.err, shown.out, shown.err, stored)
