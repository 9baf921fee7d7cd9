"""A command stopped right after its ack: on record as interrupted, its user told.

A real `serve --http` process; SIGTERM follows the 200 ack at once, before the command's
background work (held back ACK_GRACE_S after an ack) can have saved its run.
"""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import aiohttp

from bot.slack.serve import serve
from bot.store import HistoryStore
from tests.conftest import Database
from tests.fakes import slack_requests as req
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_bot import SIGNING_SECRET, bot_settings, serve_env
from tests.slack.helpers import text_of
from tests.slack.test_replicas import ON_A, Replica, StartSimulator

CANARY = "ATATT3xFfGF0ackCanary7Q2w9e8r7t6y"
TEXT = f"sam.lee@acme.com GET /wiki/rest/api/space status:403 body: rejected, token {CANARY}"


async def test_a_command_stopped_right_after_its_ack_is_saved_interrupted_and_its_user_told(
        fake_slack: FakeSlack, simulator: StartSimulator, tmp_path: Path) -> None:
    sim: Any = await simulator("no_confluence_access")
    sim.state.faults.latency_ms = 2000  # even a run that did begin cannot reach a verdict before the stop
    database = Database("sqlite", tmp_path / "h.db", None)
    env = serve_env(sim, fake_slack, **database.env)
    bot = Replica("solo", env, tmp_path / "solo.log")
    try:
        async with aiohttp.ClientSession() as session:
            await bot.start(session)
            assert bot.process is not None
            body = req.slash_command(TEXT, response_url=fake_slack.response_url("cut"), channel=ON_A)
            async with session.post(f"{bot.url}/slack/events", data=body.encode(),
                                    headers=req.signed_headers(body, SIGNING_SECRET)) as response:
                assert response.status == 200
                bot.process.send_signal(signal.SIGTERM)  # the moment the ack is in
            await bot.stop()
            assert bot.process.returncode == 143

            store = database.open()  # read before any restart: the stopping process saved it itself
            try:
                runs = store.list(limit=10)
                assert len(runs) == 1, bot.log.read_text()
                [run] = runs
                origin = store.origin(run.run_id)
            finally:
                store.close()
            assert run.interrupted and run.verdict is None
            assert run.actor == "sam.lee@acme.com" and run.request.get("status") == 403
            assert (origin["via"], origin["slack_channel"], origin["slack_user"]) == ("slack", ON_A, req.USER)
            assert CANARY not in json.dumps(run.to_dict()) and CANARY not in bot.log.read_text()
            assert "rejected, token" in json.dumps(run.to_dict())  # the text is kept, its secret masked

            await bot.start(session)
            if origin["slack_thread_ts"] is None:  # the usual case: stopped before its thread was posted
                told = await fake_slack.wait_for(
                    lambda f: [c for c in f.calls_to("chat.postEphemeral")
                               if c.params.get("user") == req.USER and run.run_id in text_of(c)], timeout=30)
            else:  # a loaded machine let it begin: its thread is told, as for any run cut short
                told = await fake_slack.wait_for(
                    lambda f: [c for c in f.calls_to("chat.postMessage")
                               if c.params.get("thread_ts") == origin["slack_thread_ts"]
                               and "interrupted" in text_of(c)], timeout=30)
            assert "interrupted" in text_of(told[0]) and told[0].channel == ON_A
    finally:
        await bot.stop()


async def test_in_socket_mode_a_stop_saves_acked_runs_only_for_commands_that_would_start_one(
        fake_slack: FakeSlack, simulator: StartSimulator, tmp_path: Path) -> None:
    """Socket Mode, stopped (cancelled, as Ctrl-C does) right after four acks: the check from an
    allowed channel is saved as interrupted; `help`, a usage error and a refused channel start no
    run, so nothing of theirs is saved; the next start tells the check's user privately."""
    sim: Any = await simulator("no_confluence_access")
    db = tmp_path / "h.db"
    settings = bot_settings(fake_slack, sim, db, SLACK_APP_TOKEN=fake_slack.app_token, SLACK_SIGNING_SECRET="",
                            ALLOWED_SLACK_CHANNELS=f"{req.CHANNEL},{ON_A}")
    server = asyncio.create_task(serve(settings))
    try:
        await fake_slack.wait_for(lambda f: f.socket_connected)
        for text, channel in [("help", req.CHANNEL), ("sam.lee@acme.com bogus-word", req.CHANNEL),
                              ("sam.lee@acme.com status:403", "C0NOTALLOWED"), (TEXT, ON_A)]:
            body = req.slash_command(text, response_url=fake_slack.response_url(), channel=channel)
            await fake_slack.send_envelope("slash_commands", dict(parse_qsl(body)))
        await fake_slack.wait_for(lambda f: len(f.socket_acks) == 4)
    finally:
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)
    store = HistoryStore.open(db)
    try:
        [run] = store.list(limit=10)
        origin = store.origin(run.run_id)
    finally:
        store.close()
    assert run.interrupted and run.actor == "sam.lee@acme.com" and origin["slack_channel"] == ON_A
    assert CANARY not in json.dumps(run.to_dict())

    server = asyncio.create_task(serve(settings))
    try:
        [told] = await fake_slack.wait_for(lambda f: [c for c in f.calls_to("chat.postEphemeral")
                                                      if run.run_id in text_of(c)], timeout=30)
    finally:
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)
    assert told.channel == ON_A and told.params.get("user") == req.USER
