"""The token sweep's own traffic (`confluence-check tokens` over the `token_sweep` world): every request
is an operation of Atlassian's admin OpenAPI files and every answer fits its schema. The scenario
suite only runs `check`; the sweep reads routes no check reads (the org's user listing)."""

from __future__ import annotations

import contextlib
import io

import pytest

from bot.atlassian import RetryPolicy
from bot.cli import main
from bot.commands import simulator_in_thread
from bot.simulator import LoggedRequest, load_scenario
from tests.contract import openapi
from tests.contract.answers import collect, report
from tests.contract.routing import spec_path


def test_the_sweeps_requests_and_answers_fit_atlassians_specs(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr("bot.tokens.SWEEP_RETRY", RetryPolicy(attempts=2, base_delay_s=0.01, jitter_s=0.0))
    with simulator_in_thread(load_scenario("token_sweep")) as sim:
        for key, value in {**sim.env(), "DATABASE_PATH": str(tmp_path / "h.db")}.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("ATLASSIAN_ORG_ID", raising=False)  # the org list is read too
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["tokens", "--json"]) == 2
        log: list[LoggedRequest] = list(sim.requests)
    paths = [r.path for r in log]
    assert "/admin/v1/orgs" in paths and f"/admin/v1/orgs/{sim.state.org.id}/users" in paths
    assert sum(p.endswith("/manage/api-tokens") for p in paths) >= 10
    answered = [r for r in log if r.fault is None]  # an injected 500 is the edge's answer, not the API's
    checked, problems = collect([("token_sweep", answered)])
    assert checked == len(answered) >= 10 and not problems, report(problems)
    for request in log:
        where = spec_path(request)
        assert not isinstance(where, str) and where is not None, request.path
        api, path = where
        op = openapi.find(api, request.method, path)
        assert op is not None, request.path
        assert not openapi.request_problems(api, op, request.query, request.json_body), request.path
