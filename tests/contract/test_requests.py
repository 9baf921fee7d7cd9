"""Every request the product sends while running the bundled scenarios is an operation of
Atlassian's OpenAPI files: method, path template, query parameter names and values, JSON body fields
(openapi/README.md). Documented exceptions: tenant_info, Statuspage, and the gateway prefix (stripped,
the rest matched against the Confluence specs)."""

from __future__ import annotations

from tests.contract import openapi
from tests.contract.conftest import ScenarioTraffic
from tests.contract.routing import is_replay_of, spec_path


def test_every_request_the_product_sends_is_in_atlassians_spec(traffic: list[ScenarioTraffic]) -> None:
    problems: dict[str, set[str]] = {}
    checked = 0
    for run in traffic:
        for request in run.log:
            if any(is_replay_of(request, endpoint) for endpoint in run.endpoints):
                continue
            where = spec_path(request)
            if isinstance(where, str):
                continue
            label = f"{request.method} {request.path}?{request.query}"
            if where is None:
                problems.setdefault(label, set()).add(f"{run.name}: no Atlassian API spec covers this path")
                continue
            api, path = where
            op = openapi.find(api, request.method, path)
            if op is None:
                problems.setdefault(label, set()).add(f"{run.name}: no {request.method} operation in {api.value}")
                continue
            checked += 1
            for problem in openapi.request_problems(api, op, request.query, request.json_body):
                problems.setdefault(f"{request.method} {op.template}", set()).add(problem)
    assert checked > 100, "the scenarios sent fewer spec'd requests than expected"
    assert not problems, "\n".join(f"{label}\n    " + "\n    ".join(sorted(found))
                                   for label, found in sorted(problems.items()))
