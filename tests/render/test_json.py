"""JSON renderer: exactly Run.to_dict(), so check --json and show --json cannot drift."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.model import SCHEMA, CauseCode, Confidence, Run, StepResult, StepStatus, Verdict
from bot.render import format_history_json, format_json


def make_run(run_id: str, *, finished: bool) -> Run:
    steps = [StepResult("site.reachable", "Site is reachable", StepStatus.PASS, "cloudId 3f1c — ok", 41)]
    verdict = Verdict(CauseCode.OK, Confidence.CONFIRMED, "No blocker found", "", (), ("site.reachable",))
    return Run(
        run_id=run_id,
        actor="ünïcode@acme.com",
        site="https://acme.atlassian.net",
        started_at=datetime(2026, 11, 26, 20, 0, tzinfo=UTC),
        steps=steps,
        duration_ms=840 if finished else None,
        verdict=verdict if finished else None,
    )


def test_format_json_is_the_run_dict() -> None:
    for finished in (True, False):
        run = make_run("r_1", finished=finished)
        text = format_json(run)
        assert json.loads(text) == run.to_dict()
        assert json.loads(text)["schema"] == SCHEMA
        assert "ünïcode@acme.com" in text and "\n  " in text  # unescaped, indented


def test_json_reads_back_into_the_same_run() -> None:
    run = make_run("r_1", finished=True)
    assert Run.from_dict(json.loads(format_json(run))).to_dict() == run.to_dict()


def test_history_json_is_a_list_of_run_dicts_in_order() -> None:
    runs = [make_run("r_2", finished=True), make_run("r_1", finished=False)]
    assert json.loads(format_history_json(runs)) == [run.to_dict() for run in runs]
    assert json.loads(format_history_json([])) == []
