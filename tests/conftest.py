"""Fixtures shared by every test: a clean environment, canaries, a simulator factory."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.config import SETTING_HELP
from bot.store import HistoryStore

CANARY_ACTOR_TOKEN = "CANARY-ACTOR-TOKEN-5e1d9c"
CANARY_BOT_TOKEN = "CANARY-BOT-TOKEN-77ab01"
CANARY_ORG_KEY = "CANARY-ORG-KEY-3c3c3c"


REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"  # the repository's own docs: a clone with nothing beside it passes


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real ATLASSIAN_*/SLACK_* setting leaks into a test; cwd has no stray .env; the home folder
    is the test's own, so neither the user's `~/.config/confluence-check/.env` nor their history in
    `~/.local/share/confluence-check/` is read or written (subprocesses inherit it)."""
    for name in list(os.environ):
        if (name in SETTING_HELP or name.startswith(("ATLASSIAN_", "SLACK_", "XDG_"))
                or name in ("NO_COLOR", "COLUMNS", "LINES")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
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


# --- databases: every history test runs on SQLite and on PostgreSQL ------------------------------


def postgres_server_url() -> str | None:
    """The PostgreSQL server the tests may use (TEST_DATABASE_URL; `.ci/run` starts one and sets it).

    In CI (CI=true) the PostgreSQL tests must run: an unset URL fails them instead of skipping.
    """
    url = os.environ.get("TEST_DATABASE_URL")
    if not url and os.environ.get("CI") == "true":
        pytest.fail("TEST_DATABASE_URL is not set: CI must run the PostgreSQL tests (.ci/run starts a server)")
    return url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A DATABASE_URL of an empty schema of its own on the test server, dropped afterwards."""
    import psycopg

    server = postgres_server_url()
    if not server:
        pytest.skip("no PostgreSQL server: set TEST_DATABASE_URL to run these tests")
    schema = f"test_{secrets.token_hex(6)}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    joiner = "&" if "?" in server else "?"
    yield f"{server}{joiner}options=-csearch_path%3D{schema}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@dataclass(frozen=True)
class Database:
    """Where a test's history lives: the settings that name it, and how to open it."""

    kind: str  # "sqlite" or "postgres"
    path: Path
    url: str | None

    @property
    def env(self) -> dict[str, str]:
        return {"DATABASE_PATH": str(self.path), **({"DATABASE_URL": self.url} if self.url else {})}

    def open(self, **kwargs: Any) -> HistoryStore:
        return HistoryStore.open(self.path, self.url, **kwargs)


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    """A fresh history database of each kind (the PostgreSQL one on the test server)."""
    if request.param == "postgres":
        return Database("postgres", tmp_path / "unused.db", request.getfixturevalue("postgres_url"))
    return Database("sqlite", tmp_path / "history.db", None)
