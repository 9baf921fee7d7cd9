"""The metamorphic matrix: every simulator scenario (bundled and field) is run once for every subset
of the optional inputs it has — the actor's token (or a service account's OAuth client credentials),
the reported status, the reported body, the failing endpoint, the space, how the caller sends the token —
and the verdicts must hang
together as inputs are added:

- the cause never changes to another cause, except from `inconclusive`, `ok` or `request_not_as_tested`
  (adding a report or a token to a run that found no blocker may name one), except to `inconclusive`, and
  except that how the caller sends the token (`sent_as`) may name the header form of a rejected credential;
- when the cause stays, a consistent observation (every input of a scenario is true of its world)
  never lowers the confidence;
- a cause other than the scenario's expected one is never `confirmed`.

Each cell (scenario × subset) is one test. The engine runs in-process, against one simulator per
scenario whose world is reset before each cell, with the product's own request builder and a fresh
history per cell, as the CLI does. Cells that fail today are strict xfails listed in
tests/matrix_known.json; write the list anew with

    python -m tests.test_matrix --write-known

and see the matrix size and the tally with `pytest tests/test_matrix.py -q -rA -s -k size`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from bot.model import CauseCode, Confidence
from bot.simulator import Scenario, SimulatorServer, list_field_scenarios, list_scenarios
from tests.inprocess import check

INPUTS = ("actor_token", "client_credentials", "status", "body", "endpoint", "space", "sent_as")
RANK = {Confidence.POSSIBLE: 0, Confidence.LIKELY: 1, Confidence.CONFIRMED: 2}
# a cause may be named where these stood: `request_not_as_tested` is the verdict for a reported failure
# nothing observed explains (never confirmed, its open rivals named), so an input more may name one
REFINABLE = {CauseCode.INCONCLUSIVE, CauseCode.OK, CauseCode.REQUEST_NOT_AS_TESTED}
# The one refinement of a named cause, and only by the input that decides it: a rejected credential is the
# caller's token not being taken as presented (docs/causes.md row 11: "check header form, email, token"); how
# the caller sends it (--sent-as) names which header form, a cause only that input (or a rule) can show.
HEADER_FORMS = {CauseCode.BEARER_WITH_API_TOKEN, CauseCode.AUTH_HEADER_MISSING, CauseCode.AUTH_HEADER_MALFORMED}
REFINES = {("sent_as", CauseCode.CREDENTIAL_REJECTED): HEADER_FORMS}
KNOWN_FILE = Path(__file__).with_name("matrix_known.json")


@dataclass(frozen=True)
class Verdict:
    cause: CauseCode
    confidence: Confidence


@cache
def scenarios() -> dict[str, Scenario]:
    """Check scenarios only: a rule's UUID is its one input, so it has no subsets."""
    found = [*list_scenarios(), *(s for s in list_field_scenarios())]
    return {_label(s): s for s in found if s.input.get("actor") and s.expect.get("exit") != 64}


def _label(scenario: Scenario) -> str:
    return f"field/{scenario.name}" if scenario.story is not None else scenario.name


def present(scenario: Scenario) -> tuple[str, ...]:
    return tuple(k for k in INPUTS if scenario.input.get(k) is not None)


def subsets(keys: tuple[str, ...]) -> Iterator[frozenset[str]]:
    for size in range(len(keys) + 1):
        for combo in itertools.combinations(keys, size):
            yield frozenset(combo)


def cell_id(label: str, subset: frozenset[str]) -> str:
    return f"{label}[{'+'.join(k for k in INPUTS if k in subset) or 'none'}]"


# -- running ---------------------------------------------------------------------------------------

async def _run_cell(sim: SimulatorServer, subset: frozenset[str], history_path: Path) -> Verdict:
    sim.reset()
    given = {k: v for k, v in sim.resolve_input().items() if k == "actor" or k in subset}
    run = await check(sim, given, history_path)
    assert run.verdict is not None
    return Verdict(run.verdict.cause, run.verdict.confidence)


async def _run_scenario(scenario: Scenario) -> dict[frozenset[str], Verdict]:
    out: dict[frozenset[str], Verdict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        async with SimulatorServer(scenario) as sim:
            for index, subset in enumerate(subsets(present(scenario))):
                out[subset] = await _run_cell(sim, subset, Path(tmp) / f"history-{index}.db")
    return out


@cache
def verdicts(label: str) -> dict[frozenset[str], Verdict]:
    """Every cell of one scenario, computed once per session (one simulator, one event loop)."""
    return asyncio.run(_run_scenario(scenarios()[label]))


# -- the properties --------------------------------------------------------------------------------

def problems(label: str, subset: frozenset[str]) -> list[str]:
    """What is unsound about this cell: its own verdict, and each step to a cell with one input more."""
    scenario = scenarios()[label]
    table = verdicts(label)
    here = table[subset]
    expected = CauseCode(scenario.expect["cause"])
    found = []
    if here.cause is not expected and here.confidence is Confidence.CONFIRMED:
        found.append(f"{here.cause.value} confirmed, expected {expected.value}")
    for key in present(scenario):
        if key in subset:
            continue
        there = table[subset | {key}]
        if there.cause is not here.cause:
            refined = there.cause in REFINES.get((key, here.cause), set())
            if here.cause not in REFINABLE and there.cause is not CauseCode.INCONCLUSIVE and not refined:
                found.append(f"+{key}: {here.cause.value} became {there.cause.value}")
        elif RANK[there.confidence] < RANK[here.confidence]:
            found.append(f"+{key}: {here.cause.value} {here.confidence.value} fell to {there.confidence.value}")
    return found


def known() -> dict[str, list[str]]:
    return json.loads(KNOWN_FILE.read_text(encoding="utf-8")) if KNOWN_FILE.is_file() else {}


def cells() -> list[object]:
    listed = known()
    out: list[object] = []
    for label, scenario in sorted(scenarios().items()):
        for subset in subsets(present(scenario)):
            ident = cell_id(label, subset)
            marks = [pytest.mark.xfail(strict=True, reason="; ".join(listed[ident]))] if ident in listed else []
            out.append(pytest.param(label, subset, marks=marks, id=ident))
    return out


CELLS = cells()


@pytest.mark.parametrize(("label", "subset"), CELLS)
def test_cell_is_sound(label: str, subset: frozenset[str]) -> None:
    found = problems(label, subset)
    assert not found, found


def test_matrix_size_and_tally(capsys: pytest.CaptureFixture[str]) -> None:
    """The size of the matrix (cells and the steps compared between them) and the known failures."""
    listed = known()
    steps = sum(len(present(s)) * 2 ** (len(present(s)) - 1) for s in scenarios().values() if present(s))
    with capsys.disabled():
        print(f"\nmetamorphic matrix: {len(scenarios())} scenarios, {len(CELLS)} cells, {steps} steps compared; "
              f"{len(listed)} cells known unsound (tests/matrix_known.json)")
    assert len(CELLS) >= 2 * len(scenarios())
    assert set(listed) <= {p.id for p in CELLS}  # type: ignore[attr-defined]


def test_subsets_and_inputs_are_what_the_matrix_says() -> None:
    keys = ("status", "body", "space")
    assert len(list(subsets(keys))) == 8 and frozenset() in set(subsets(keys))
    seed = scenarios()["seed_automation_actor"]
    assert present(seed) == ("status", "body", "endpoint")
    assert cell_id("x", frozenset({"body", "actor_token"})) == "x[actor_token+body]"


def write_known() -> int:
    """Run every cell and write the unsound ones to tests/matrix_known.json; returns their number."""
    listed: dict[str, list[str]] = {}
    for label, scenario in sorted(scenarios().items()):
        for subset in subsets(present(scenario)):
            found = problems(label, subset)
            if found:
                listed[cell_id(label, subset)] = found
    KNOWN_FILE.write_text(json.dumps(listed, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return len(listed)


if __name__ == "__main__" and "--write-known" in sys.argv:
    print(f"{write_known()} unsound cells written to {KNOWN_FILE}")
