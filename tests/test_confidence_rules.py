"""The confidence rules, one table each, asserted on verdicts the product reaches against the
simulator (in-process engine, the CLI's request builder):

1. Every list Atlassian pages is read to its end, in each pagination style the product meets —
   Confluence v2 `_links.next`, v1 `start`/`limit` (also when a full page comes without a next link),
   the admin role-assignment cursor in `links.next`, the admin org/policy `links.next` URL.
2. A list cut short (the page budget reached) is missing evidence: a cause concluded from an absence
   in it is at most `possible`.
3. No endpoint given: a cause the account itself shows is still named; with no failing request
   described (no endpoint, status or body), a cause only that request can show (its path, its
   method, its page) is not.
4. Faults are never evidence: tests/test_faults.py holds that matrix (every request of five scenarios
   × six faults); here one row per field-report class checks a 503 on the product's own replay.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.model import CauseCode, Confidence, Run
from bot.simulator import Scenario, SimulatorServer, load_scenario
from bot.simulator.state import FaultKind, Policy, RouteFault, World
from tests.inprocess import check

WorldChange = Callable[[World], None]


def run_check(scenario: Scenario, tmp_path: Path, *, change: WorldChange | None = None,
              drop: tuple[str, ...] = (), monkeypatch: pytest.MonkeyPatch | None = None) -> Run:
    world = copy.deepcopy(scenario.world)
    if change is not None:
        change(world)
    changed = dataclasses.replace(scenario, world=world)

    async def go() -> Run:
        async with SimulatorServer(changed) as sim:
            given = {k: v for k, v in sim.resolve_input().items() if k not in drop}
            return await check(sim, given, tmp_path / "history.db")

    return asyncio.run(go())


def verdict(run: Run) -> tuple[CauseCode, Confidence]:
    assert run.verdict is not None
    return run.verdict.cause, run.verdict.confidence


# -- 1. read to the end, every pagination style -----------------------------------------------------

def _v1_without_next_links(world: World) -> None:
    world.site.v1_next_links = False


def _policies_on_a_later_page(world: World) -> None:
    """25 disabled allowlists before the enabled one: the org's policy list runs to a second page."""
    filler = [Policy(id=f"00000000-0000-4000-8000-{i:012d}", name=f"old list {i}", status="disabled",
                     cidrs=["192.0.2.0/24"]) for i in range(25)]
    world.policies = [*filler, *world.policies]


NO_REPLAY = ("actor_token", "endpoint")  # the verdict must come from the lists, not from a replay

READ_TO_THE_END = {
    # style: (scenario, change, inputs left out, the verdict; None = any confidence)
    "v2 _links.next (space permissions)": ("big_space_late_grant", None, NO_REPLAY, (CauseCode.OK, None)),
    "v1 start/limit (memberof)": ("many_groups_late_grant", None, NO_REPLAY, (CauseCode.OK, None)),
    "v1 full page without a next link (memberof)": ("many_groups_late_grant", _v1_without_next_links, NO_REPLAY,
                                                    (CauseCode.OK, None)),
    "admin cursor links.next (role assignments)": ("roles_on_many_sites", None, NO_REPLAY, (CauseCode.OK, None)),
    "admin links.next URL (org policies)": ("ip_not_allowlisted", _policies_on_a_later_page, ("body",),
                                            (CauseCode.IP_NOT_ALLOWLISTED, None)),
}


@pytest.mark.parametrize("style", READ_TO_THE_END)
def test_a_paged_list_is_read_to_its_end(style: str, tmp_path: Path) -> None:
    name, change, drop, (cause, confidence) = READ_TO_THE_END[style]
    got = verdict(run_check(load_scenario(name), tmp_path, change=change, drop=drop))
    assert got[0] is cause and (confidence is None or got[1] is confidence), got


# -- 2. a list cut short is at most `possible` -----------------------------------------------------

CUT_SHORT = {
    # list: (scenario, change) — the grant the actor needs sits past the first page; no replay decides
    "space permissions (v2)": ("big_space_late_grant", None),
    "group memberships (v1)": ("many_groups_late_grant", None),
    "group memberships, no next links (v1)": ("many_groups_late_grant", _v1_without_next_links),
}


@pytest.mark.parametrize("listing", CUT_SHORT)
def test_an_absence_in_a_list_cut_short_is_at_most_possible(listing: str, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    name, change = CUT_SHORT[listing]
    scenario = load_scenario(name)
    monkeypatch.setattr("bot.probes.pages.PAGE_BUDGET", 1)  # every list stops after its first page
    cause, confidence = verdict(run_check(scenario, tmp_path, change=change, drop=("actor_token", "endpoint")))
    if cause not in (CauseCode.OK, CauseCode.INCONCLUSIVE):
        assert confidence is Confidence.POSSIBLE, (cause, confidence)
    assert not (cause is CauseCode.OK and confidence is Confidence.CONFIRMED), "a cut list cannot confirm ok"


@pytest.mark.parametrize("listing", CUT_SHORT)
def test_the_same_worlds_read_whole_find_the_grant(listing: str, tmp_path: Path) -> None:
    """The control for table 2: without the cut, the same inputs find the late grant."""
    name, change = CUT_SHORT[listing]
    cause, _ = verdict(run_check(load_scenario(name), tmp_path, change=change, drop=("actor_token", "endpoint")))
    assert cause is CauseCode.OK


# -- 3. no endpoint given ---------------------------------------------------------------------------

ACCOUNT_SHOWS_IT = {
    # scenario whose cause the account shows without the failing request
    "token_expired": CauseCode.TOKEN_EXPIRED,
    "account_deactivated": CauseCode.ACCOUNT_DEACTIVATED,
    "account_suspended": CauseCode.ACCOUNT_SUSPENDED,
    "no_confluence_access": CauseCode.NO_CONFLUENCE_ACCESS,
    "password_used": CauseCode.PASSWORD_USED,
    "api_token_blocked": CauseCode.API_TOKEN_BLOCKED,
}

ONLY_THE_REQUEST_SHOWS_IT = ("endpoint_not_found", "endpoint_gone", "xsrf_check_failed", "page_restricted",
                             "field/dapplo_confluence_path", "field/exporter_gateway_410")


@pytest.mark.parametrize("name", ACCOUNT_SHOWS_IT)
def test_without_an_endpoint_the_account_still_shows_its_cause(name: str, tmp_path: Path) -> None:
    cause, _ = verdict(run_check(load_scenario(name), tmp_path, drop=("endpoint",)))
    assert cause is ACCOUNT_SHOWS_IT[name]


# A credential only the gateway takes (a scoped token; a service account's, scoped or OAuth 2.0) fails at the
# site URL and for a scope it lacks with the same bare 401: without the failing call's URL nothing observed
# tells the two apart, so no cause is named; both lead the open rivals, with the call's URL to decide them.
GATEWAY_ONLY = {
    "scoped_token_site_url": (CauseCode.SCOPED_TOKEN_SITE_URL, CauseCode.MISSING_SCOPE),
    "service_account": (CauseCode.SCOPED_TOKEN_SITE_URL, CauseCode.OAUTH_TOKEN_SITE_URL),
    "oauth_missing_scope": (CauseCode.OAUTH_TOKEN_SITE_URL, CauseCode.MISSING_SCOPE),
}


@pytest.mark.parametrize("name", GATEWAY_ONLY)
def test_a_gateway_only_credential_without_the_url_leaves_url_and_scope_open(name: str, tmp_path: Path) -> None:
    run = run_check(load_scenario(name), tmp_path, drop=("endpoint", "body"))
    assert run.verdict is not None
    assert run.verdict.cause in (CauseCode.REQUEST_NOT_AS_TESTED, CauseCode.INCONCLUSIVE), run.verdict.cause
    assert tuple(o.cause for o in run.verdict.not_ruled_out[:2]) == GATEWAY_ONLY[name]
    assert "gateway" in " ".join(run.verdict.observed)
    # the failing call's URL decides them: given, the scenario's own cause is named
    (tmp_path / "with-url").mkdir()
    cause, _ = verdict(run_check(load_scenario(name), tmp_path / "with-url", drop=("body",)))
    assert cause is CauseCode(load_scenario(name).expect["cause"])


@pytest.mark.parametrize("name", ONLY_THE_REQUEST_SHOWS_IT)
def test_with_no_failing_request_described_a_request_cause_is_never_named(name: str, tmp_path: Path) -> None:
    scenario = load_scenario(name)
    cause, _ = verdict(run_check(scenario, tmp_path, drop=("endpoint", "body", "status")))
    assert cause is not CauseCode(scenario.expect["cause"])


# -- 4. a fault on the product's own replay is never evidence ---------------------------------------

def _replay_fails(path: str) -> WorldChange:
    def change(world: World) -> None:
        world.faults.routes.append(RouteFault(kind=FaultKind.STATUS, role="site", method="GET", path=path,
                                              status=503, count=None))
    return change


FAULTED_REPLAY = {
    # field scenario: the path its replay reads (faulted with 503 every time)
    "field/python_api_scoped_site_url": "/wiki/rest/api/content/65601",
    "field/community_scoped_v2_page": "/wiki/api/v2/pages/65601",
    "field/mark_password_401": "/wiki/rest/api/content",
    "field/conflr_missing_wiki": "/rest/api/user/current",
}


@pytest.mark.parametrize("name", FAULTED_REPLAY)
def test_a_failing_replay_never_confirms_another_cause(name: str, tmp_path: Path) -> None:
    scenario = load_scenario(name)
    cause, confidence = verdict(run_check(scenario, tmp_path, change=_replay_fails(FAULTED_REPLAY[name])))
    if cause is not CauseCode(scenario.expect["cause"]):
        assert confidence is not Confidence.CONFIRMED, (cause, confidence)


# -- 5. indirect clues hold for every refusal status, and for the actor named either way ------------

NEVER_USED_REFUSALS = {401: None, 403: None, 404: "GET {site}/wiki/api/v2/pages/65601"}


@pytest.mark.parametrize("status", NEVER_USED_REFUSALS)
def test_a_never_used_token_explains_any_refusal_the_caller_reports(status: int, tmp_path: Path) -> None:
    """The seed's world (the actor's only token never used) with the refusal reported as 401, 403 or
    a v2 404 (an unresolved credential on v2, docs/atlassian.md §0): the credential is what fails."""
    seed = load_scenario("seed_automation_actor")
    endpoint = NEVER_USED_REFUSALS[status] or seed.input["endpoint"]
    scenario = dataclasses.replace(seed, input={**seed.input, "status": status, "body": None, "endpoint": endpoint})
    cause, confidence = verdict(run_check(scenario, tmp_path))
    assert cause is CauseCode.CREDENTIAL_REJECTED and confidence is not Confidence.CONFIRMED, (cause, confidence)


BY_ACCOUNT_ID = ("no_confluence_access", "token_expired", "account_suspended", "ok", "seed_automation_actor")


@pytest.mark.parametrize("name", BY_ACCOUNT_ID)
def test_the_actor_named_by_account_id_gives_the_same_verdict(name: str, tmp_path: Path) -> None:
    scenario = load_scenario(name)
    by_email = verdict(run_check(scenario, tmp_path / "email"))
    account = scenario.world.user_by_email(scenario.input["actor"])
    assert account is not None
    by_id = dataclasses.replace(scenario, input={**scenario.input, "actor": account.account_id})
    assert verdict(run_check(by_id, tmp_path / "id")) == by_email



def test_a_shared_refusal_is_no_product_access_not_a_scoped_token(tmp_path: Path) -> None:
    """A working classic token of an account without Confluence access, pasted: the site and the
    gateway both answer the headline 403. The gateway authenticated the token and still refused, so it
    is neither the URL nor the token kind: it is the account."""
    scenario = load_scenario("no_confluence_access")
    scenario = dataclasses.replace(scenario, input={
        **scenario.input, "actor_token": "sam.lee@acme.com:ATATT3xFfGF0-sim-sam-acme-0001"})
    cause, confidence = verdict(run_check(scenario, tmp_path))
    assert (cause, confidence) == (CauseCode.NO_CONFLUENCE_ACCESS, Confidence.CONFIRMED)


# -- 6. a reported failure is never "no problem" ------------------------------------------------------

@pytest.mark.parametrize("status", [401, 403, 404])
def test_a_reported_refusal_the_replay_does_not_meet_is_never_ok(status: int, tmp_path: Path) -> None:
    """The actor's token works and the replay of the failing call succeeds, yet the caller reports a
    401, 403 or 404 (no body): something about the failing request differs from what was tested, which
    is a problem to name, not 'no problem' — and nothing observed confirms which."""
    scenario = load_scenario("ok")
    scenario = dataclasses.replace(scenario, input={**scenario.input, "status": status, "body": None})
    cause, confidence = verdict(run_check(scenario, tmp_path))
    assert cause not in (CauseCode.OK, CauseCode.INCONCLUSIVE) and confidence is not Confidence.CONFIRMED, \
        (cause, confidence)


# -- 7. a rival is ruled out only by an observation that excludes it ---------------------------------

def _degraded_without_incident(world: World) -> None:
    world.status.incidents = []
    world.status.indicator = "minor"
    world.status.description = "Minor Service Outage"
    world.status.components[0].status = "degraded_performance"


def test_a_degraded_status_page_does_not_rule_an_incident_out(tmp_path: Path) -> None:
    """A 503 while Confluence is degraded but no incident is open: the status page does not say
    'every system operational', so it cannot be what excludes an incident."""
    run = run_check(load_scenario("atlassian_incident"), tmp_path, change=_degraded_without_incident)
    assert run.verdict is not None
    assert CauseCode.ATLASSIAN_INCIDENT not in {r.cause for r in run.verdict.ruled_out}
    assert run.verdict.cause is not CauseCode.OK


def _incident_with_components_operational(world: World) -> None:
    for component in world.status.components:
        component.status = "operational"


def test_an_open_incident_is_not_ruled_out_by_operational_components(tmp_path: Path) -> None:
    """Statuspage can carry an open incident while every component still shows operational."""
    run = run_check(load_scenario("atlassian_incident"), tmp_path, change=_incident_with_components_operational)
    assert run.verdict is not None
    assert CauseCode.ATLASSIAN_INCIDENT not in {r.cause for r in run.verdict.ruled_out}
    assert run.verdict.cause is CauseCode.ATLASSIAN_INCIDENT


# -- 8. only the verdict may be confirmed --------------------------------------------------------------

def _check_scenarios() -> list[str]:
    from tests.test_matrix import scenarios
    return sorted(scenarios())


@pytest.mark.parametrize("label", _check_scenarios())
def test_no_finding_beside_the_verdict_is_confirmed(label: str, tmp_path: Path) -> None:
    """Every other cause a run supports is listed as a finding, at most `likely`: `confirmed` needs
    every rival ruled out, which one finding beside another cannot have."""
    from tests.test_matrix import scenarios
    run = run_check(scenarios()[label], tmp_path)
    assert run.verdict is not None
    others = [(f.cause, f.confidence) for f in run.findings if f.cause is not run.verdict.cause]
    assert all(confidence is not Confidence.CONFIRMED for _, confidence in others), others
