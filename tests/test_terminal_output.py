"""The terminal output a first-time admin reads: the seed story fits one 80-column screen with its
verdict and fix; the progress line never wraps (so it leaves no stale row) at 80 or 120 columns;
`--verbose` shows every step; piped output has no progress line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.commands import simulator_in_thread
from bot.probes import REGISTRY
from bot.simulator import load_scenario
from tests.terminal import run_in_terminal, screen_rows

SCREEN_ROWS = 40  # an 80×40 terminal: what a laptop's terminal window shows at a readable size


def _seed_check(tmp_path: Path, columns: int, *extra: str, latency_ms: int = 0) -> tuple[int, list[str]]:
    with simulator_in_thread(load_scenario("seed_automation_actor")) as sim:
        sim.state.faults.latency_ms = latency_ms
        given = sim.resolve_input()
        env = {**{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH")},
               **sim.env(), "DATABASE_PATH": str(tmp_path / "h.db"), "TERM": "xterm"}
        args = ["check", given["actor"], "--endpoint", given["endpoint"], "--status", str(given["status"]),
                "--body", given["body"], *extra]
        code, output = run_in_terminal(args, columns=columns, env=env, cwd=str(tmp_path))
    return code, screen_rows(output, columns)


def test_the_seed_story_fits_one_screen_at_80_columns(tmp_path: Path) -> None:
    code, rows = _seed_check(tmp_path, 80)
    assert code == 1, rows
    assert len(rows) <= SCREEN_ROWS, "\n".join(rows)
    assert rows[0].startswith("Checking automation@acme.com")
    verdict = next(i for i, row in enumerate(rows) if row.startswith("Problem: "))
    assert any(row.startswith("Fix:") for row in rows[verdict:])
    assert any(row.startswith("  1. Send the token exactly as") for row in rows[verdict:])
    assert all(len(row) <= 80 for row in rows)
    text = "\n".join(rows)
    assert "4 replay steps skipped: give the actor's token with --actor-token-stdin" in text
    assert "replay.credential" not in text and "credential.api_tokens" not in text  # no internal ids
    assert "headline" not in text


def test_verbose_shows_every_step(tmp_path: Path) -> None:
    _, rows = _seed_check(tmp_path, 200, "--verbose")
    text = "\n".join(rows)
    for spec in REGISTRY.values():
        assert spec.title in text, spec.title


@pytest.mark.parametrize("columns", [80, 120])
def test_the_progress_line_leaves_no_stale_row(tmp_path: Path, columns: int) -> None:
    code, rows = _seed_check(tmp_path, columns, latency_ms=40)
    assert code == 1
    stale = [row for row in rows if "finished; running" in row or row.startswith("  … ")]
    assert not stale, "\n".join(rows)
    assert any(row.startswith("Problem: ") for row in rows)


def test_the_progress_line_was_there_and_fitted(tmp_path: Path) -> None:
    """The test above must be able to fail: the raw output had progress lines, each narrower than the screen."""
    with simulator_in_thread(load_scenario("seed_automation_actor")) as sim:
        sim.state.faults.latency_ms = 40
        env = {**{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH")},
               **sim.env(), "DATABASE_PATH": str(tmp_path / "h.db")}
        _, output = run_in_terminal(["check", "automation@acme.com"], columns=80, env=env, cwd=str(tmp_path))
    progress = [part.split("\n")[0] for part in output.split("\r\x1b[K") if part.startswith("  … ")]
    assert progress and all(len(line) < 80 for line in progress), progress


async def test_each_finished_run_logs_one_line(simulator, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from bot.checker import Checker
    from bot.config import Settings
    from bot.request import CheckRequest

    caplog.set_level(logging.INFO, logger="bot.runs")
    sim = await simulator("no_confluence_access")
    run = await Checker(Settings.from_mapping(sim.env())).start(
        CheckRequest(sim.resolve_input()["actor"]), via="slack").wait()
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.runs"]
    assert len(lines) == 1, lines
    assert run.verdict is not None
    for part in (run.run_id, run.actor, run.verdict.cause.value, run.verdict.confidence.value,
                 f"{run.duration_ms} ms", "via slack"):
        assert part in lines[0]
