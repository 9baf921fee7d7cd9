"""Our own uses are not the caller's: a replay is a use of the actor's token (the simulator moves its
lastAccess, as Atlassian does), and the next run, reading the same history, still sees the caller never
used it — and says both ("last used by this check at …; before that, never")."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.commands import simulator_in_thread
from bot.facts import OwnUse
from bot.probes.credential import _callers_last
from bot.simulator import load_scenario
from bot.simulator.fault_model import FaultKind, RouteFault
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


def _steps(document: dict) -> dict[str, str]:
    return {s["id"]: s["summary"] for s in document["steps"]}


def test_a_token_list_answered_after_our_replay_never_reads_as_never_used(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The replays go out beside the token list read; when Atlassian answers the list after counting our
    replay (here: the list is held back 300 ms), the caller's last use (the world's, a week earlier) is
    gone from it: not known — never "never used", nor our use read as the caller's, now or in the next run."""
    scenario = load_scenario("ok")
    with simulator_in_thread(scenario) as sim:
        for key, value in {**sim.env(), "DATABASE_PATH": str(tmp_path / "h.db")}.items():
            monkeypatch.setenv(key, value)
        sim.state.faults.routes.append(RouteFault(kind=FaultKind.DELAY, role="api", method="GET", count=None,
                                                  path="/users/{id}/manage/api-tokens", delay_ms=300))
        given = {**sim.resolve_input(), "status": 403}
        first = _check(given, monkeypatch, capsys)
        token = sim.state.user_by_email(given["actor"]).tokens[0]
        assert token.last_access is not None and token.last_access.startswith(str(first["started_at"])[:10])
        again = _check({**given, "actor_token": None, "endpoint": None}, monkeypatch, capsys)
    for run in (first, again):
        summary = _steps(run)["credential.api_tokens"]
        assert "last used by this check at" in summary and "the caller's last use is not known" in summary
        assert "never" not in run["verdict"]["explanation"]


def test_whose_use_each_lastaccess_is() -> None:
    now = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
    old = "2026-11-26T08:00:00.000Z"
    # nothing of ours: the latest stamp is the caller's
    assert _callers_last([old, "2026-11-20T08:00:00.000Z"], None, None) == (old, True, None)
    # this run's replay went out before the list was answered: a stamp from it hides the caller's
    assert _callers_last(["2026-12-07T04:00:01.000Z"], now, None) == (None, False, now)
    assert _callers_last([old], now, None) == (old, True, None)
    # an earlier run's use (a minute ago) stands for what that run saw before it: never, or a time
    earlier = OwnUse(now - timedelta(minutes=1), None)
    stamp = "2026-12-07T03:59:00.000Z"
    assert _callers_last([stamp], now, earlier) == (None, True, earlier.at)
    assert _callers_last([stamp], now, OwnUse(earlier.at, old)) == (old, True, earlier.at)
    assert _callers_last([stamp], now, OwnUse(earlier.at, None, caller_known=False)) == (None, False, earlier.at)
    # a repeat within seconds: the earlier run's stamp is also near this run's use; it is the earlier run's
    quick = OwnUse(now - timedelta(seconds=1), None)
    assert _callers_last(["2026-12-07T03:59:59.000Z"], now, quick) == (None, True, quick.at)
