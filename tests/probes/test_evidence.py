"""Evidence v2 on simulator worlds changed for each case (real HTTP, real engine): complete lists,
Atlassian's contract (v2 pages, targetType, space roles, service accounts), truthful skips."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot import engine
from bot.atlassian import RetryPolicy
from bot.atlassian.hosts import HostGuard
from bot.config import Settings
from bot.facts import SITE, Site
from bot.model import CauseCode, Confidence, Run, StepStatus
from bot.probes import pages
from bot.probes.target import caller_on_site
from bot.request import ActorSecret, CheckRequest, FailingRequest, parse_endpoint
from bot.simulator.state import FaultKind, Principal, ResourceRoles, RoleAssignment, RouteFault, SpacePermission

ACTOR = "automation@acme.com"
FAST = RetryPolicy(base_delay_s=0.001, jitter_s=0.001)


async def check(sim, request: CheckRequest, **env: str | None) -> Run:
    merged = {**sim.env(), **{k: v for k, v in env.items() if v is not None}}
    for key in [k for k, v in env.items() if v is None]:
        merged.pop(key, None)
    return await engine.start(request, Settings.from_mapping(merged), retry=FAST).wait()


def endpoint(sim, text: str) -> FailingRequest:
    return parse_endpoint(text, HostGuard(sim.site_url, sim.api_url))


def step(run: Run, step_id: str):
    found = run.step(step_id)
    assert found is not None, step_id
    return found


def noise(count: int) -> list[SpacePermission]:
    """Grants to other accounts, listed before the one that matters."""
    return [SpacePermission(Principal("user", f"557058:{i:08d}-0000-4000-8000-000000000000"), "read")
            for i in range(count)]


async def test_a_group_grant_after_hundreds_of_entries_is_found(simulator) -> None:
    sim = await simulator("space_permission_missing")
    eng = sim.state.space_by_key("ENG")
    eng.permissions = [*noise(300), SpacePermission(Principal("group", "confluence-users"), "read"),
                       *eng.permissions]
    run = await check(sim, CheckRequest(ACTOR, space="ENG"))
    space = step(run, "content.space")
    assert space.status is StepStatus.PASS, space.summary
    assert sum("/permissions" in e.request for e in space.evidence) == 2  # 250 a page, to the end
    assert run.verdict.cause is not CauseCode.SPACE_PERMISSION_MISSING


async def test_a_list_cut_short_by_the_page_budget_proves_at_most_possible(simulator,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages, "PAGE_BUDGET", 1)
    sim = await simulator("space_permission_missing")
    eng = sim.state.space_by_key("ENG")
    eng.permissions = [*noise(300), *eng.permissions]  # the actor really has no grant: still only possible
    run = await check(sim, CheckRequest(ACTOR, space="ENG"))
    space = step(run, "content.space")
    assert "stopped after 1 page(s)" in space.summary
    [finding] = [f for f in run.findings if f.cause is CauseCode.SPACE_PERMISSION_MISSING]
    assert finding.confidence is Confidence.POSSIBLE
    assert run.verdict.confidence is not Confidence.CONFIRMED


async def test_roles_on_120_other_sites_do_not_hide_this_sites_role(simulator) -> None:
    sim = await simulator("seed_automation_actor")
    user = sim.state.user_by_email(ACTOR)
    user.other_resources = [ResourceRoles(f"ari:cloud:jira-software::site/{i:04d}", ["atlassian/user"])
                            for i in range(120)]
    run = await check(sim, CheckRequest(ACTOR))
    role = step(run, "product.role")
    assert role.status is StepStatus.PASS, role.summary
    assert all("resourceIds=ari" in e.request and "limit=100" in e.request for e in role.evidence)


async def test_create_on_comments_is_not_create_on_pages(simulator) -> None:
    sim = await simulator("ok")
    docs = sim.state.space_by_key("DOCS")
    docs.permissions = [replace(p, target="comment") if p.operation == "create" else p for p in docs.permissions]
    run = await check(sim, CheckRequest(ACTOR, failing=endpoint(sim, "POST /wiki/rest/api/content"), space="DOCS"))
    space = step(run, "content.space")
    assert space.status is StepStatus.FAIL and "create page" in space.summary
    assert run.verdict.cause is CauseCode.SPACE_PERMISSION_MISSING


@pytest.mark.parametrize(("mode", "holder", "expected"), [
    ("ROLES", ("GROUP", "confluence-users"), StepStatus.PASS),  # the actor's group holds the role
    ("PRE_ROLES", ("GROUP", "confluence-users"), StepStatus.FAIL),  # roles do not grant yet
    ("ROLES", ("ACCESS_CLASS", "all-licensed-users"), StepStatus.FAIL),  # cannot be resolved: possible
])
async def test_grants_through_space_roles(simulator, mode: str, holder: tuple[str, str],
                                          expected: StepStatus) -> None:
    sim = await simulator("space_permission_missing")
    sim.state.site.space_role_mode = mode
    eng = sim.state.space_by_key("ENG")
    eng.permissions = [*eng.permissions, SpacePermission(Principal("role", "role-viewer"), "read")]
    eng.role_assignments = [RoleAssignment(principal_type=holder[0], principal_id=holder[1],  # type: ignore[arg-type]
                                           role_id="role-viewer")]
    run = await check(sim, CheckRequest(ACTOR, space="ENG"))
    space = step(run, "content.space")
    assert space.status is expected, space.summary
    if holder[0] == "ACCESS_CLASS":
        assert "all-licensed-users" in space.summary
        assert run.verdict.confidence is not Confidence.CONFIRMED
    if mode == "PRE_ROLES":
        assert run.verdict.cause is CauseCode.SPACE_PERMISSION_MISSING
        assert run.verdict.confidence is Confidence.CONFIRMED


async def test_the_space_of_a_page_comes_from_the_v2_page(simulator) -> None:
    sim = await simulator("page_restricted")
    run = await check(sim, CheckRequest(ACTOR, failing=endpoint(sim, "GET /wiki/rest/api/content/65603"),
                                        observed_status=404))
    paths = [r.path for r in sim.requests]
    assert "/wiki/api/v2/pages/65603" in paths
    assert "/wiki/rest/api/content/65603" not in paths  # the removed v1 route is never used by the bot
    assert step(run, "content.space").status is StepStatus.PASS
    assert run.verdict.cause is CauseCode.PAGE_RESTRICTED and run.verdict.confidence is Confidence.CONFIRMED


async def test_a_space_that_does_not_exist_is_never_no_problem_found(simulator) -> None:
    sim = await simulator("ok")
    given = sim.resolve_input()
    run = await check(sim, CheckRequest(ACTOR, space="NOPE", actor_secret=ActorSecret.parse(given["actor_token"])))
    space = step(run, "content.space")
    assert space.status is StepStatus.WARN and "NOPE" in space.summary
    assert run.verdict.cause is CauseCode.INCONCLUSIVE and "NOPE" in run.verdict.explanation
    same = await check(sim, CheckRequest(ACTOR, space="DOCS", actor_secret=ActorSecret.parse(given["actor_token"])))
    assert same.verdict.cause is CauseCode.OK  # the only difference is the space


async def test_a_service_account_missing_from_the_directory_is_not_actor_not_found(simulator) -> None:
    sim = await simulator("service_account")
    actor = sim.resolve_input()["actor"]
    sim.state.users = [u for u in sim.state.users if u.email != actor]
    run = await check(sim, CheckRequest(actor, observed_status=401))
    lookup = step(run, "identity.lookup")
    assert lookup.status is StepStatus.WARN and "service-account" in lookup.summary
    assert CauseCode.ACTOR_NOT_FOUND not in {f.cause for f in run.findings}


async def test_an_external_accounts_refused_token_is_only_likely_rejected(simulator) -> None:
    sim = await simulator("credential_rejected")
    given = sim.resolve_input()
    sim.state.user_by_email(given["actor"]).claim_status = "unmanaged"
    run = await check(sim, CheckRequest(given["actor"], observed_status=403,
                                        actor_secret=ActorSecret.parse(given["actor_token"])))
    assert run.verdict.cause is CauseCode.CREDENTIAL_REJECTED and run.verdict.confidence is Confidence.LIKELY
    blocked = [o for o in run.verdict.not_ruled_out if o.cause is CauseCode.API_TOKEN_BLOCKED]
    assert blocked and "External users" in blocked[0].would_decide
    assert CauseCode.API_TOKEN_BLOCKED in {f.cause for f in run.findings}
    managed = await simulator("credential_rejected")
    again = await check(managed, CheckRequest(given["actor"], observed_status=403,
                                              actor_secret=ActorSecret.parse(given["actor_token"])))
    assert again.verdict.confidence is Confidence.CONFIRMED  # the same world with a managed account


async def test_a_failed_org_key_check_is_never_reported_as_an_unset_setting(simulator) -> None:
    sim = await simulator("seed_automation_actor")
    sim.state.faults.routes.append(RouteFault(kind=FaultKind.RESET, role="api", path="/admin/v1/orgs", count=None))
    run = await check(sim, CheckRequest(ACTOR, observed_status=403))
    lookup = step(run, "identity.lookup")
    assert lookup.status is StepStatus.SKIP
    assert "not set" not in lookup.summary and "ConnectionLost" in lookup.summary
    assert all("ATLASSIAN_ORG_API_KEY is not set" not in n.why for n in run.not_checked)
    assert run.verdict.confidence is not Confidence.CONFIRMED


def test_a_gateway_path_is_the_gateway_whatever_its_host() -> None:
    settings = Settings.load({"ATLASSIAN_SITE_URL": "https://acme.atlassian.net"})
    for url, on_site in [("https://acme.atlassian.net/ex/confluence/abc/wiki/rest/api/space", False),
                         ("https://api.atlassian.com/ex/confluence/abc/wiki/rest/api/space", False),
                         ("https://acme.atlassian.net/wiki/rest/api/space", True)]:
        assert caller_on_site(CheckRequest(ACTOR, failing=FailingRequest("GET", url)), settings) is on_site


def test_the_site_fact_names_this_sites_ari() -> None:
    site = Site("c0ffee", "https://api.atlassian.com/ex/confluence/c0ffee", "acme.atlassian.net")
    assert site.ari == "ari:cloud:confluence::site/c0ffee" and SITE.type is Site


async def test_an_account_id_missing_from_the_directory_is_confirmed_only_once_the_site_also_misses_it(
        simulator) -> None:
    sim = await simulator("seed_automation_actor")
    unknown = "5b10ac8d82e05b22cc7d4ef5"
    both = await check(sim, CheckRequest(unknown))
    assert (both.verdict.cause, both.verdict.confidence) == (CauseCode.ACTOR_NOT_FOUND, Confidence.CONFIRMED)
    assert any("/wiki/rest/api/user" in e.request for e in step(both, "identity.lookup").evidence)
    directory_only = await check(sim, CheckRequest(unknown), ATLASSIAN_EMAIL=None, ATLASSIAN_API_TOKEN=None)
    assert directory_only.verdict.cause is CauseCode.ACTOR_NOT_FOUND
    assert directory_only.verdict.confidence is Confidence.LIKELY  # a service account is not listed there
