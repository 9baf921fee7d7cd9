"""Every bundled scenario, through the real CLI and HTTP path, gives its expected verdict."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.commands import simulator_in_thread
from bot.model import CauseCode
from bot.simulator import list_scenarios, load_scenario
from bot.simulator.scenario import secret_flag, secret_line

SCENARIOS = [s.name for s in list_scenarios()]
READ_ONLY_POSTS = ("/users/search", "/check-access-by-email", "/users-bulk", "/permission/check")


def cli_args(given: dict) -> list[str]:
    if given.get("rule"):
        return ["rule", given["rule"], "--json"]
    args = ["check", given["actor"], "--json"]
    for flag, key in (("--endpoint", "endpoint"), ("--status", "status"), ("--body", "body"), ("--space", "space"),
                      ("--sent-as", "sent_as")):
        if given.get(key) is not None:
            args += [flag, str(given[key])]
    if secret_flag(given):
        args.append(secret_flag(given))
    return args


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_gives_its_expected_verdict(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    scenario = load_scenario(name)
    with simulator_in_thread(scenario) as sim:
        for key, value in {**sim.env(), "DATABASE_PATH": str(tmp_path / "h.db")}.items():
            monkeypatch.setenv(key, value)
        given = sim.resolve_input()
        monkeypatch.setattr("sys.stdin", io.StringIO(secret_line(given) + "\n"))
        code = main(cli_args(given))
        log = list(sim.requests)
    captured = capsys.readouterr()
    expect = scenario.expect
    if expect["exit"] == 64:  # the command refuses: one line naming what is wrong, nothing run
        assert (code, captured.out) == (64, "") and expect["error"] in captured.err, captured.err
        return
    run = json.loads(captured.out)
    got = (run["verdict"]["cause"], run["verdict"]["confidence"], run["outcome"], code)
    assert got == (expect["cause"], expect["confidence"], expect["outcome"], expect["exit"]), \
        json.dumps(run["steps"], indent=1)[:6000]
    assert run["schema"] == "confluence-check/run@1"
    if run["outcome"] == "problem":
        assert run["verdict"]["fix"]
    # nothing credentialed reaches the status page; nothing but reads is ever sent
    assert all(r.auth_kind == "none" for r in log if r.role == "status")
    # (and the one other POST: the client-credentials exchange, only on the token host)
    assert all(r.method in ("GET", "HEAD") or r.path.endswith(READ_ONLY_POSTS)
               or (r.role == "auth" and r.path == "/oauth/token") for r in log), [(r.method, r.path) for r in log]
    # a client secret goes to the token host alone; an OAuth token never to the status page or token host
    assert all(r.auth_kind == "none" for r in log if r.role == "auth")
    # a step that could not run never passes, and says why
    for step in run["steps"]:
        if step["status"] in ("skip", "error"):
            assert step["summary"]


def test_every_cause_has_a_scenario() -> None:
    expected = {load_scenario(n).expect.get("cause") for n in SCENARIOS}
    assert {c.value for c in CauseCode} <= expected


def test_the_seed_story_is_a_credential_problem_not_product_access() -> None:
    seed = load_scenario("seed_automation_actor")
    assert seed.tour
    assert seed.expect["cause"] == "credential_rejected"
    assert "caller cannot access Confluence" in (seed.input.get("body") or "")
