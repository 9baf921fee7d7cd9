"""Our own uses are not the caller's: a replay is a use of the actor's token (the simulator moves its
lastAccess, as Atlassian does), and the next run, reading the same history, still sees the caller never
used it — and says both ("last used by this check at …; before that, never")."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.commands import simulator_in_thread
from bot.simulator import load_scenario
from tests.test_scenarios import cli_args


def _check(given: dict, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> dict:
    monkeypatch.setattr("sys.stdin", io.StringIO((given.get("actor_token") or "") + "\n"))
    main(cli_args(given))
    return json.loads(capsys.readouterr().out)


def test_the_never_used_clue_survives_our_own_replay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    scenario = load_scenario("seed_automation_actor_replay")
    with simulator_in_thread(scenario) as sim:
        for key, value in {**sim.env(), "DATABASE_PATH": str(tmp_path / "h.db")}.items():
            monkeypatch.setenv(key, value)
        given = sim.resolve_input()
        first = _check(given, monkeypatch, capsys)  # replays the token: Atlassian now shows it used
        token = sim.state.user_by_email(given["actor"]).tokens[0]
        assert token.last_access is not None  # the simulator counts our replay as a use, as Atlassian does
        again = _check({**given, "actor_token": None, "endpoint": None}, monkeypatch, capsys)
    assert first["verdict"]["cause"] == "credential_rejected"
    assert (again["verdict"]["cause"], again["verdict"]["confidence"]) == ("credential_rejected", "likely")
    assert "last used by this check at" in again["verdict"]["explanation"]
    assert "before that, never" in again["verdict"]["explanation"]


def test_without_the_kept_use_the_clue_is_not_invented(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    scenario = load_scenario("seed_automation_actor_replay")
    with simulator_in_thread(scenario) as sim:
        monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "first.db"))
        for key, value in sim.env().items():
            monkeypatch.setenv(key, value)
        given = sim.resolve_input()
        _check(given, monkeypatch, capsys)
        monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "other.db"))  # a history that never saw our use
        again = _check({**given, "actor_token": None, "endpoint": None}, monkeypatch, capsys)
    # the token's lastAccess is now ours, but nothing says so: it reads as used, never as "never used"
    assert again["verdict"]["cause"] != "credential_rejected"
    assert "never" not in again["verdict"]["explanation"]
