"""Fixtures shared by every test: a clean environment, canaries, a simulator factory."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.config import SETTING_HELP

CANARY_ACTOR_TOKEN = "CANARY-ACTOR-TOKEN-5e1d9c"
CANARY_BOT_TOKEN = "CANARY-BOT-TOKEN-77ab01"
CANARY_ORG_KEY = "CANARY-ORG-KEY-3c3c3c"
SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real ATLASSIAN_*/SLACK_* setting leaks into a test; cwd has no stray .env."""
    for name in list(os.environ):
        if name in SETTING_HELP or name.startswith(("ATLASSIAN_", "SLACK_")) or name == "NO_COLOR":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
async def simulator() -> AsyncIterator[Callable[..., Awaitable[object]]]:
    """`sim = await simulator("scenario_name")` (or a `Scenario`): a running SimulatorServer,
    stopped after the test."""
    from bot.simulator import Scenario, SimulatorServer, load_scenario

    started: list[SimulatorServer] = []

    async def start(source: str | Scenario, **kwargs: object) -> SimulatorServer:
        scenario = load_scenario(source) if isinstance(source, str) else source
        sim = SimulatorServer(scenario, **kwargs)
        await sim.start()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        await sim.stop()
