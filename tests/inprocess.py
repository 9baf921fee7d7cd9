"""One check run in-process against a running simulator, built the way the CLI builds it (the
product's own request builder, a history of its own), for tests that run many checks on one world."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from bot.checker import Checker
from bot.cli import CheckOptions
from bot.commands import build_request, open_run_history
from bot.config import Settings
from bot.model import Run
from bot.simulator import SimulatorServer
from bot.simulator.scenario import secret_line


async def check(sim: SimulatorServer, given: dict[str, Any], history_path: Path) -> Run:
    """`given`: the scenario input as `sim.resolve_input()` gives it (placeholders filled), with
    any optional input left out or None."""
    settings = Settings.from_mapping({**sim.env(), "DATABASE_PATH": str(history_path)})
    options = CheckOptions(actor=given["actor"], endpoint=given.get("endpoint"), status=given.get("status"),
                           body=given.get("body"), space=given.get("space"),
                           actor_token_stdin=given.get("actor_token") is not None,
                           client_credentials_stdin=given.get("client_credentials") is not None,
                           sent_as=given.get("sent_as"))
    request = build_request(options, settings, io.StringIO(secret_line(given) + "\n"))
    history = open_run_history(settings)
    try:
        run = await Checker(settings, history).start(request, via="cli").wait()
    finally:
        history.close()
    assert run.verdict is not None
    return run
