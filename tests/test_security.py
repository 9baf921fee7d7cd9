"""Canaries: the actor's token and the bot's own secrets never reach output, logs, SQLite or exports."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from bot.cli import main
from bot.commands import simulator_in_thread
from bot.simulator import load_scenario
from tests.conftest import CANARY_ACTOR_TOKEN, CANARY_BOT_TOKEN, CANARY_ORG_KEY

CANARIES = (CANARY_ACTOR_TOKEN, CANARY_BOT_TOKEN, CANARY_ORG_KEY)


def plant_canaries(sim, env: dict[str, str], actor: str) -> None:
    """Make the canaries the real, working credentials of this world."""
    state = sim.state
    state.user_by_email(env["ATLASSIAN_EMAIL"]).tokens[0].value = CANARY_BOT_TOKEN
    state.org.api_keys.append(CANARY_ORG_KEY)
    state.user_by_email(actor).tokens[0].value = CANARY_ACTOR_TOKEN
    env.update(ATLASSIAN_API_TOKEN=CANARY_BOT_TOKEN, ATLASSIAN_ORG_API_KEY=CANARY_ORG_KEY)


@pytest.mark.parametrize("scenario", ["seed_automation_actor_replay", "scoped_token_site_url", "password_used"])
def test_canaries_never_leak(scenario: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    db = tmp_path / "h.db"
    outputs: list[str] = []
    with simulator_in_thread(load_scenario(scenario)) as sim:
        env = {**sim.env(), "DATABASE_PATH": str(db)}
        given = sim.resolve_input()
        actor = given["actor"]
        plant_canaries(sim, env, actor)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        # a canary also typed into the reported body, as a careless user might paste it
        for extra in ([], ["--json"]):
            monkeypatch.setattr("sys.stdin", io.StringIO(f"{actor}:{CANARY_ACTOR_TOKEN}\n"))
            main(["check", actor, "--actor-token-stdin", "--status", "403",
                  "--body", f"Authorization: Basic {CANARY_ACTOR_TOKEN}", *extra])
            outputs.append(capsys.readouterr().out)
        logged = {r.auth_kind for r in sim.requests}
        assert "basic" in logged  # the canaries were really used
        assert not any(c in str(r) for r in sim.requests for c in CANARIES)
    run_id = next(line for line in outputs[1].splitlines() if '"run_id"' in line).split('"')[3]
    for args in (["show", run_id, "--markdown"], ["show", run_id, "--json"], ["show", run_id],
                 ["history", actor], ["history", "--json"]):
        main(args)
        outputs.append(capsys.readouterr().out)
    blobs = [*outputs, capsys.readouterr().err, caplog.text]
    blobs += [p.read_bytes().decode("latin-1") for p in tmp_path.iterdir() if p.name.startswith("h.db")]
    for blob in blobs:
        for canary in CANARIES:
            assert canary not in blob
    assert any("replay.site" in o for o in outputs)


async def test_the_first_save_of_a_run_already_has_the_pasted_secret_redacted(simulator) -> None:
    from bot.checker import Checker
    from bot.config import Settings
    from bot.request import ActorSecret, CheckRequest
    from bot.store import AsyncHistory, HistoryStore
    from bot.store.records import decode_doc

    sim = await simulator("ok")
    history = AsyncHistory(HistoryStore)
    request = CheckRequest("automation@acme.com", observed_status=401,
                           observed_body=f"token was {CANARY_ACTOR_TOKEN}",
                           actor_secret=ActorSecret.parse(CANARY_ACTOR_TOKEN))
    handle = Checker(Settings.from_mapping(sim.env()), history).start(request)
    # the first save is queued before start() returns, so this read runs right after it
    stored_at_start = await history.call(
        lambda store: [decode_doc(row[0]) for row in store.db.execute("select doc from runs").fetchall()])
    await handle.wait()
    await history.aclose()
    assert "token was" in str(stored_at_start) and CANARY_ACTOR_TOKEN not in str(stored_at_start)
