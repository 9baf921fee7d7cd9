"""Runs every bundled and field scenario once through the real CLI against the simulator and keeps what the
simulator saw: the requests the product sent and the answers it got (shared by the contract tests)."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.commands import simulator_in_thread
from bot.config import SETTING_HELP
from bot.simulator import LoggedRequest, Scenario, list_field_scenarios, list_scenarios
from bot.simulator.scenario import secret_line
from tests.contract.openapi import spec_dir
from tests.test_scenarios import cli_args


@dataclass(frozen=True)
class ScenarioTraffic:
    name: str
    endpoints: list[str]  # the reported requests (METHOD URL): the input's, or a rule's Send web requests
    site_url: str
    api_url: str
    log: list[LoggedRequest]


def _run(scenario: Scenario, workdir: Path) -> ScenarioTraffic:
    scenario_name = scenario.name
    with simulator_in_thread(scenario) as sim, pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):  # as tests/conftest.py's clean_environ, which is per test
            if name in SETTING_HELP or name.startswith(("ATLASSIAN_", "SLACK_", "XDG_")):
                patch.delenv(name)
        patch.setenv("HOME", str(workdir))  # no user's .env or history is read
        for key, value in {**sim.env(), "DATABASE_PATH": str(workdir / f"{scenario_name}.db")}.items():
            patch.setenv(key, value)
        patch.chdir(workdir)
        given = sim.resolve_input()
        args = cli_args(given)
        patch.setattr("sys.stdin", io.StringIO(secret_line(given) + "\n"))
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            main(args)  # the verdicts are test_scenarios.py's business; here only the traffic counts
        reported = [given["endpoint"]] if given.get("endpoint") else []
        places = {"{site}": sim.site_url, "{gateway}": sim.gateway_url, "{api}": sim.api_url}  # as the simulator fills
        for method, url in _web_requests(scenario.world.automation_rules):
            for placeholder, value in places.items():
                url = url.replace(placeholder, value)
            reported.append(f"{method} {url}")
        return ScenarioTraffic(scenario_name, reported, sim.site_url, sim.api_url, list(sim.requests))


def _web_requests(node: Any) -> Iterator[tuple[str, str]]:
    """(method, url) of every Send web request in automation rules: found by shape, an object with
    string `url` and `method` (docs/atlassian.md §A)."""
    if isinstance(node, dict):
        if isinstance(node.get("url"), str) and isinstance(node.get("method"), str):
            yield node["method"], node["url"]
        for value in node.values():
            yield from _web_requests(value)
    elif isinstance(node, list):
        for item in node:
            yield from _web_requests(item)


@pytest.fixture(scope="session")
def openapi_dir() -> Path:
    return spec_dir()


@pytest.fixture(scope="session")
def traffic(tmp_path_factory: pytest.TempPathFactory) -> list[ScenarioTraffic]:
    workdir = tmp_path_factory.mktemp("contract")
    # the field corpus too: scenarios rebuilt from public reports are in the contract's scope
    return [_run(s, workdir) for s in [*list_scenarios(), *list_field_scenarios()]]
