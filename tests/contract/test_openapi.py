"""The contract machinery itself: it finds Atlassian's spec files (or fails, never skips), maps
requests to operations, and rejects what the spec rejects — so a green contract test means something."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.simulator import LoggedRequest, bodies
from tests.contract import openapi
from tests.contract.answers import facts_only
from tests.contract.openapi import Api
from tests.contract.routing import STATUSPAGE, TENANT_INFO, is_replay_of, spec_path


def test_the_spec_files_ship_inside_the_package(openapi_dir: Path) -> None:
    assert {p.name for p in openapi_dir.glob("*.json")} == {api.value for api in Api}
    assert openapi_dir.is_relative_to(Path(openapi.openapi_files.__file__).parent)


@pytest.mark.parametrize(("api", "method", "path", "template"), [
    (Api.CONFLUENCE_V2, "GET", "/wiki/api/v2/pages/65601", "/wiki/api/v2/pages/{id}"),
    (Api.CONFLUENCE_V2, "GET", "/wiki/api/v2/space-role-mode", "/wiki/api/v2/space-role-mode"),
    (Api.CONFLUENCE_V1, "GET", "/wiki/rest/api/user/current", "/wiki/rest/api/user/current"),
    (Api.CONFLUENCE_V1, "GET", "/wiki/rest/api/content/65601", None),  # removed from the spec since 2025
    (Api.CONFLUENCE_V1, "GET", "/wiki/rest/api/space/DOCS", None),
    (Api.ADMIN_ORGANIZATION, "GET", "/admin/v2/orgs/o/directories/-/users/a/role-assignments",
     "/admin/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}/role-assignments"),
    (Api.USER_MANAGEMENT, "GET", "/users/a/manage/api-tokens", "/users/{account_id}/manage/api-tokens"),
    (Api.USER_MANAGEMENT, "POST", "/users/a/manage/api-tokens", None),
])
def test_requests_map_to_operations(api: Api, method: str, path: str, template: str | None) -> None:
    op = openapi.find(api, method, path)
    assert (op.template if op else None) == template


def _logged(role: str, path: str, method: str = "GET") -> LoggedRequest:
    return LoggedRequest(role=role, method=method, path=path, query="", auth_kind="none", status=200)  # type: ignore[arg-type]


def test_routing_strips_the_gateway_and_names_what_no_spec_covers() -> None:
    gateway = spec_path(_logged("api", "/ex/confluence/c1/wiki/api/v2/spaces"))
    assert gateway == (Api.CONFLUENCE_V2, "/wiki/api/v2/spaces")
    site = spec_path(_logged("site", "/wiki/rest/api/user/current"))
    assert site == (Api.CONFLUENCE_V1, "/wiki/rest/api/user/current")
    assert spec_path(_logged("site", "/_edge/tenant_info")) == TENANT_INFO
    assert spec_path(_logged("status", "/api/v2/summary.json")) == STATUSPAGE
    assert spec_path(_logged("site", "/rest/api/3/myself")) is None
    assert is_replay_of(_logged("site", "/wiki/rest/api/space/DOCS"), "GET http://h/wiki/rest/api/space/DOCS")
    assert not is_replay_of(_logged("site", "/wiki/rest/api/space/DOCS", "POST"), "GET http://h/wiki/rest/api/space/DOCS")


PERMISSIONS = "/wiki/api/v2/spaces/1/permissions"
SEARCH = "/admin/v2/orgs/o/directories/-/users/search"


@pytest.mark.parametrize(("api", "method", "path", "query", "body", "wanted"), [
    (Api.CONFLUENCE_V2, "GET", PERMISSIONS, "limit=250&cursor=abc", None, []),
    (Api.CONFLUENCE_V2, "GET", PERMISSIONS, "limit=251", None, ["query limit='251'"]),
    (Api.CONFLUENCE_V2, "GET", PERMISSIONS, "start=0", None, ["query parameter 'start' is not a parameter"]),
    (Api.ADMIN_ORGANIZATION, "POST", SEARCH, "", {"emails": ["a@b.c"], "limit": 10}, []),
    (Api.ADMIN_ORGANIZATION, "POST", SEARCH, "", {"email": "a@b.c"}, ["body field 'email' is not in the spec"]),
    (Api.ADMIN_ORGANIZATION, "POST", SEARCH, "", {"limit": "ten"}, ["body limit: 'ten' is not of type 'integer'"]),
    (Api.ADMIN_ORGANIZATION, "GET", "/admin/v2/orgs/o/directories/-/users/a/role-assignments",
     "resourceIds=ari%3Acloud%3Aconfluence%3A%3Asite%2Fc&limit=100", None, []),
    (Api.CONFLUENCE_V1, "POST", "/wiki/rest/api/content/1/permission/check", "",
     {"subject": {"type": "user", "identifier": "a", "name": "x"}, "operation": "read"},
     ["body field 'subject.name' is not in the spec"]),
])
def test_request_problems(api: Api, method: str, path: str, query: str, body: object, wanted: list[str]) -> None:
    op = openapi.find(api, method, path)
    assert op is not None
    found = openapi.request_problems(api, op, query, body)
    assert len(found) == len(wanted) and all(f.startswith(w) for f, w in zip(found, wanted, strict=True)), found


def test_answer_problems_honour_nullable_and_documented_statuses() -> None:
    op = openapi.find(Api.ADMIN_ORGANIZATION, "GET", "/admin/v2/orgs/o/directories/-/users/a")
    assert op is not None
    ok = {"data": {"accountId": "a", "managementSource": None}}  # nullable in the spec
    bad = {"data": {"accountId": "a", "jobTitle": None}}  # a string, not nullable
    assert openapi.answer_problems(op.api, op, 200, "application/json", json.dumps(ok)) == []
    assert openapi.answer_problems(op.api, op, 200, "application/json", json.dumps(bad)) == [
        f"{op.name} 200: data/jobTitle: None is not of type 'string'"]
    assert openapi.answer_problems(op.api, op, 418, "application/json", "{}") == [
        f"status 418 is not documented for {op.name}"]
    assert openapi.answer_problems(op.api, op, 404, "text/plain", "nope")[0].endswith("the simulator sent text/plain")


@pytest.mark.parametrize(("status", "text", "allowed"), [
    (401, bodies.PASSWORD_DEPRECATED_BODY, True),
    (401, '{"message":"nope"}', False),
    (404, bodies.SITE_UNAVAILABLE_BODY, True),
    (418, bodies.SITE_UNAVAILABLE_BODY, False),
])
def test_facts_only_allows_exactly_the_recorded_bodies(status: int, text: str, allowed: bool) -> None:
    assert (facts_only(Api.CONFLUENCE_V1, status, text) is not None) is allowed
    assert facts_only(Api.ADMIN_ORGANIZATION, status, text) is None  # the admin specs list their statuses
