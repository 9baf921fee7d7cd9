"""The field corpus: every scenario rebuilt from a public report (scenarios/field/, each citing its
source and quoting what was reported) runs through the real CLI and HTTP path, as the bundled ones
do in tests/test_scenarios.py, and must give the cause its thread's resolution shows — and never a
wrong cause with `confirmed`.

Cases the product does not get right yet are strict xfails (KNOWN_WRONG): the day one starts to
pass, the run fails until its mark is removed. Print the tally with
`pytest tests/field -q -k tally` (it prints right / confirmed-wrong out of the corpus).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from bot.cli import main
from bot.commands import simulator_in_thread
from bot.config import SETTING_HELP
from bot.model import CauseCode
from bot.simulator import ScenarioError, UnknownScenario, list_field_scenarios, list_scenarios, load_scenario
from bot.simulator.scenario import scenario_from_dict, secret_line
from tests.test_scenarios import cli_args

FIELD = {s.name: s for s in list_field_scenarios()}

# What the product answers wrongly today, with what it gave; each mark goes when the judge gets it right.
KNOWN_WRONG: dict[str, str] = {}
# Of those, the ones answered with `confirmed`: the guard below is an expected failure for them.
KNOWN_CONFIRMED_WRONG: dict[str, str] = {}


@dataclass(frozen=True)
class Outcome:
    cause: str
    confidence: str
    exit: int
    steps: str  # the run's steps as JSON, for the failure message


@cache
def outcome(name: str) -> Outcome:
    """One run of a field scenario through the CLI (as `confluence-check check … --json` with the
    token on stdin), once per session: the cause test, the confirmed-wrong guard and the tally share it."""
    scenario = FIELD[name]
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch, \
            simulator_in_thread(scenario) as sim:
        for key in list(os.environ):
            if key in SETTING_HELP or key.startswith(("ATLASSIAN_", "SLACK_")):
                patch.delenv(key)
        for key, value in {**sim.env(), "DATABASE_PATH": str(Path(tmp) / "h.db")}.items():
            patch.setenv(key, value)
        given = sim.resolve_input()
        patch.setattr("sys.stdin", io.StringIO(secret_line(given) + "\n"))
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = main(cli_args(given))
    run = json.loads(out.getvalue())
    return Outcome(run["verdict"]["cause"], run["verdict"]["confidence"], code, json.dumps(run["steps"])[:4000])


def _params(known: dict[str, str]) -> list[object]:
    out: list[object] = []
    for name in sorted(FIELD):
        marks = [pytest.mark.xfail(strict=True, reason=known[name])] if name in known else []
        out.append(pytest.param(name, marks=marks, id=name))
    return out


@pytest.mark.parametrize("name", _params(KNOWN_WRONG))
def test_field_report_gives_the_cause_its_thread_shows(name: str) -> None:
    got, expect = outcome(name), FIELD[name].expect
    assert got.cause == expect["cause"], (got.cause, got.confidence, got.steps)
    assert got.exit == expect["exit"]


@pytest.mark.parametrize("name", _params(KNOWN_CONFIRMED_WRONG))
def test_no_field_report_is_confirmed_with_a_wrong_cause(name: str) -> None:
    got = outcome(name)
    if got.cause != FIELD[name].expect["cause"]:
        assert got.confidence != "confirmed", (got.cause, FIELD[name].expect["cause"])


def test_tally(capsys: pytest.CaptureFixture[str]) -> None:
    """Right causes and confirmed-wrong ones over the corpus; the xfail lists must agree with them."""
    got = {name: outcome(name) for name in FIELD}
    right = {n for n, o in got.items() if o.cause == FIELD[n].expect["cause"]}
    confirmed_wrong = {n for n, o in got.items() if n not in right and o.confidence == "confirmed"}
    with capsys.disabled():
        print(f"\nfield corpus: {len(right)}/{len(FIELD)} right, {len(confirmed_wrong)} confirmed wrong")
    assert set(FIELD) - right == set(KNOWN_WRONG) and confirmed_wrong == set(KNOWN_CONFIRMED_WRONG)


# -- the corpus itself ---------------------------------------------------------------------------

def test_the_corpus_has_thirty_reports_each_citing_and_quoting_its_source() -> None:
    assert len(FIELD) >= 30
    for scenario in FIELD.values():
        story = scenario.story
        assert story is not None, scenario.name
        assert story["source"].startswith("https://"), scenario.name
        assert story["date"][:4].isdigit() and story["resolution"] and story["modelled"], scenario.name
        reported = story["reported"]
        assert reported["line"], scenario.name
        # the input quotes the report as reported: status and body verbatim
        assert (scenario.input.get("status"), scenario.input.get("body")) == (reported["status"], reported["body"])
        assert reported["status"] is not None or reported["body"] is not None, scenario.name
        assert CauseCode(scenario.expect["cause"]) not in (CauseCode.OK, CauseCode.INCONCLUSIVE)


def test_the_known_wrong_lists_name_field_scenarios() -> None:
    assert set(KNOWN_WRONG) <= set(FIELD) and set(KNOWN_CONFIRMED_WRONG) <= set(KNOWN_WRONG)


def test_no_field_scenario_is_a_bundled_or_demo_scenario() -> None:
    bundled = {s.name for s in list_scenarios()}
    assert not bundled & set(FIELD)
    assert not any(s.tour for s in FIELD.values())


def test_field_sources_are_distinct_reports() -> None:
    sources = [s.story["source"] for s in FIELD.values() if s.story]
    assert len(sources) == len(set(sources))


def test_a_field_scenario_loads_by_its_field_name() -> None:
    name = sorted(FIELD)[0]
    assert load_scenario(f"field/{name}").source == FIELD[name].source
    with pytest.raises(UnknownScenario):
        load_scenario("field/no_such_report")


@pytest.mark.parametrize("spoil", [
    lambda story: story.update(extra="x"),
    lambda story: story["reported"].update(headers="x"),
    lambda story: story.pop("source"),
    lambda story: story["reported"].update(status="401"),
], ids=["unknown key", "unknown reported key", "no source", "status as text"])
def test_a_story_with_a_wrong_shape_is_refused(spoil) -> None:
    name = sorted(FIELD)[0]
    data = json.loads(Path(FIELD[name].source).read_text(encoding="utf-8"))
    spoil(data["story"])
    with pytest.raises(ScenarioError):
        scenario_from_dict(data, source="spoiled.json")
