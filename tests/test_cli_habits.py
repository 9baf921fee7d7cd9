"""CLI habits: stable step order grouped by layer with live progress on a terminal only,
demo runs out of the real history, a `simulate` hint that runs the scenario as designed, and an
inconclusive "Fix" that says what to do rather than repeating "Not checked"."""

from __future__ import annotations

import io
import json
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.commands import simulator_in_thread
from bot.probes import REGISTRY
from bot.simulator import load_scenario
from bot.simulator.state import FaultKind, RouteFault


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _step_ids(out: str, titles: dict[str, str]) -> list[str]:
    by_title = {title: step_id for step_id, title in titles.items()}
    ids = []
    for line in out.splitlines():
        for title, step_id in by_title.items():
            if f" {title}" in line and step_id not in ids:
                ids.append(step_id)
                break
    return ids


def test_steps_print_in_declared_layer_order_whatever_finishes_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    titles = {spec.id: spec.title for spec in REGISTRY.values()}
    with simulator_in_thread(load_scenario("no_confluence_access")) as sim:
        # the site answers last, so in completion order its step would come after the others
        sim.state.faults.routes.append(RouteFault(kind=FaultKind.DELAY, role="site", path="/_edge/tenant_info",
                                                  count=None, delay_ms=700))
        for key, value in {**sim.env(), "DATABASE_PATH": str(tmp_path / "h.db")}.items():
            monkeypatch.setenv(key, value)
        main(["check", sim.resolve_input()["actor"], "--status", "403"])
        out = capsys.readouterr().out
    printed = _step_ids(out, titles)
    assert printed[0] == "site.tenant" and len(printed) >= 10
    assert printed == [step_id for step_id in titles if step_id in printed]
    assert "\r" not in out and "\x1b[K" not in out  # piped: no progress line


async def test_a_terminal_gets_a_progress_line_that_is_cleared_before_each_step(simulator, tmp_path: Path) -> None:
    from bot.checker import Checker
    from bot.commands import _run_check
    from bot.config import Settings
    from bot.request import CheckRequest

    sim = await simulator("no_confluence_access")
    sim.state.faults.latency_ms = 50
    term = Terminal()
    run = await _run_check(Checker(Settings.from_mapping(sim.env())), CheckRequest(sim.resolve_input()["actor"]),
                           out=term, color=False, via="cli", verbose=True)
    text = term.getvalue()
    assert "finished; running:" in text and "\r\x1b[K" in text
    visible = [line.split("\r\x1b[K")[-1] for line in text.split("\n")]  # what the terminal shows at the end
    assert not any("finished; running:" in line for line in visible)
    assert sum(1 for line in visible if line.startswith("  ") and line[2:3] in "✓!✗–☠") >= len(run.steps) - 1


def test_demo_runs_stay_out_of_the_real_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    real = tmp_path / "history.db"
    monkeypatch.setenv("DATABASE_PATH", str(real))
    assert main(["demo", "ok"]) == 0
    out = capsys.readouterr().out
    assert "kept apart from your history" in out
    main(["history", "--json"])
    assert json.loads(capsys.readouterr().out) in ([], {"runs": []})
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "history-demo.db"))
    main(["history", "--json"])
    assert json.loads(capsys.readouterr().out)  # the demo's runs are in the demo's own file


def test_simulate_try_line_runs_the_scenario_as_designed(tmp_path: Path) -> None:
    """The hint of a scenario built around a 403 includes --status 403, and running it gives the
    scenario's expected verdict."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    with subprocess.Popen([sys.executable, "-m", "bot", "simulate", "--port", "0", "--scenario",
                           "no_confluence_access"],
                          env={**env, "PYTHONUNBUFFERED": "1"}, cwd=tmp_path, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("Try: "):
                break
        settings = dict(line.split("=", 1) for line in lines if "=" in line and line.split("=")[0].isupper())
        hint = lines[-1].removeprefix("Try: ")
        assert "--status 403" in hint
        done = subprocess.run([sys.executable, "-m", "bot", *shlex.split(hint)[1:]], env={**env, **settings},
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        proc.stderr.close()
    expect = load_scenario("no_confluence_access").expect
    assert done.returncode == expect["exit"], done.stderr
    assert expect["cause"] in done.stdout
    assert settings["DATABASE_PATH"] != "confluence-check.db"  # simulator runs get their own history


def test_an_inconclusive_fix_does_not_repeat_not_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    with simulator_in_thread(load_scenario("inconclusive")) as sim:
        for key, value in {**sim.env(), "DATABASE_PATH": str(tmp_path / "h.db")}.items():
            monkeypatch.setenv(key, value)
        given = sim.resolve_input()
        main(["check", given["actor"], "--status", str(given.get("status") or 403), "--json"])
    run = json.loads(capsys.readouterr().out)
    assert run["outcome"] == "inconclusive" and run["not_checked"]
    not_checked = {f"{n['what']}: {n['why']}" for n in run["not_checked"]}
    assert run["verdict"]["fix"] and not not_checked & set(run["verdict"]["fix"])
    assert any("ATLASSIAN_ORG_API_KEY" in step for step in run["verdict"]["fix"])
