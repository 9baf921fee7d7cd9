"""Every answer the simulator gives on a route Atlassian's OpenAPI files describe validates against
that operation's response schema: here the answers the product got while running the bundled
scenarios (tests/simulator/test_error_contract.py asks for the error answers on purpose;
openapi/README.md). Where docs/atlassian.md records a live answer on a status the Confluence specs leave out,
that exact body is allowed (tests/contract/answers.py), nothing else."""

from __future__ import annotations

from tests.contract.answers import collect, report
from tests.contract.conftest import ScenarioTraffic


def test_every_answer_in_the_scenarios_fits_atlassians_schema(traffic: list[ScenarioTraffic]) -> None:
    checked, problems = collect([(run.name, run.log) for run in traffic])
    assert checked > 100
    assert not problems, report(problems)
