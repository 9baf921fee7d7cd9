"""Runs every bundled scenario once through the real CLI against the simulator and keeps what the
simulator saw: the requests the product sent and the answers it got (shared by the contract tests)."""

from __future__ import annotations

import contextlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.cli import main
from bot.commands import simulator_in_thread
from bot.config import SETTING_HELP
from bot.simulator import LoggedRequest, list_scenarios
from tests.contract.openapi import spec_dir


@dataclass(frozen=True)
class ScenarioTraffic:
    name: str
    endpoint: str | None  # the reported request (METHOD URL), resolved against the simulator
    site_url: str
    api_url: str
    log: list[LoggedRequest]


def _run(scenario_name: str, workdir: Path) -> ScenarioTraffic:
    scenario = next(s for s in list_scenarios() if s.name == scenario_name)
    with simulator_in_thread(scenario) as sim, pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):  # as tests/conftest.py's clean_environ, which is per test
            if name in SETTING_HELP or name.startswith(("ATLASSIAN_", "SLACK_")):
                patch.delenv(name)
        for key, value in {**sim.env(), "DATABASE_PATH": str(workdir / f"{scenario_name}.db")}.items():
            patch.setenv(key, value)
        patch.chdir(workdir)
        given = sim.resolve_input()
        args = ["check", given["actor"], "--json"]
        for flag, key in (("--endpoint", "endpoint"), ("--status", "status"), ("--body", "body"),
                          ("--space", "space")):
            if given.get(key) is not None:
                args += [flag, str(given[key])]
        if given.get("actor_token"):
            args.append("--actor-token-stdin")
        patch.setattr("sys.stdin", io.StringIO((given.get("actor_token") or "") + "\n"))
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            main(args)
        json.loads(out.getvalue())  # the run finished and printed its JSON
        return ScenarioTraffic(scenario_name, given.get("endpoint"), sim.site_url, sim.api_url, list(sim.requests))


@pytest.fixture(scope="session")
def openapi_dir() -> Path:
    return spec_dir()


@pytest.fixture(scope="session")
def traffic(tmp_path_factory: pytest.TempPathFactory) -> list[ScenarioTraffic]:
    workdir = tmp_path_factory.mktemp("contract")
    return [_run(s.name, workdir) for s in list_scenarios()]
