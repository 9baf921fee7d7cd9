"""The "What a run checks" table (docs/how-it-works.md) names every probe and every route the probes call."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot import engine
from bot.atlassian.hosts import HostGuard
from bot.config import Settings
from bot.probes import REGISTRY
from bot.request import ActorSecret, CheckRequest, parse_endpoint
from bot.simulator.state import Principal, RoleAssignment, SpacePermission

DOC = (Path(__file__).resolve().parents[2] / "docs" / "how-it-works.md").read_text()
TABLE = DOC[DOC.index("## What a run checks"):DOC.index("## Diagnosing a Confluence automation rule")]


def _routes() -> list[re.Pattern[str]]:
    out = []
    for snippet in re.findall(r"`([^`]*?/[^`]*)`", TABLE):
        for part in re.split(r"\s+", snippet):
            path = re.sub(r"^\{(site|api|status|auth)\}", "", part).split("?")[0]
            if path.startswith("/"):
                out.append(re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p)
                                              for p in re.split(r"(\{[^}]+\})", path)) + "$"))
    return out


def test_every_probe_is_in_the_table() -> None:
    for probe_id in REGISTRY:
        assert f"`{probe_id}`" in TABLE, probe_id


@pytest.mark.parametrize(("scenario", "endpoint", "org_key"), [
    ("ok", "GET /wiki/rest/api/content/65601", True),
    ("no_access_check_by_email", None, False),
    ("seed_automation_actor_replay", None, True),
    ("oauth_missing_scope", None, True),
    ("not_a_cloud_site", None, True),
])
async def test_every_route_a_run_calls_is_in_the_table(simulator, scenario: str, endpoint: str | None,
                                                        org_key: bool) -> None:
    sim = await simulator(scenario)
    eng = sim.state.space_by_key("DOCS")
    if eng is not None:  # grants through a space role, so the role routes are called too
        sim.state.site.space_role_mode = "ROLES"
        eng.permissions = [SpacePermission(Principal("role", "role-viewer"), "read")]
        eng.role_assignments = [RoleAssignment(principal_type="GROUP", principal_id="confluence-users",
                                               role_id="role-viewer")]
    env = sim.env()
    if not org_key:
        env.pop("ATLASSIAN_ORG_API_KEY", None)
    settings = Settings.from_mapping(env)
    given = sim.resolve_input()
    failing = parse_endpoint(endpoint or given["endpoint"], HostGuard(sim.site_url, sim.api_url))
    secret = ActorSecret.parse(given["actor_token"]) if given.get("actor_token") else \
        ActorSecret.parse_client(given["client_credentials"]) if given.get("client_credentials") else None
    await engine.start(CheckRequest(given["actor"], failing=failing, actor_secret=secret, space="DOCS"),
                       settings).wait()
    routes = _routes()
    called = {r.path for r in sim.requests} - {failing.path}  # the failing call itself is named as such
    missing = sorted(p for p in called if not any(route.match(p) for route in routes))
    assert not missing, missing
