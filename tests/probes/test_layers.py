"""Probe edge cases, each on a simulator world changed for the case (real HTTP, real engine)."""

from __future__ import annotations

from dataclasses import replace

from bot.checker import Checker
from bot.config import Settings
from bot.model import CauseCode, Confidence, Run, StepStatus
from bot.request import ActorSecret, CheckRequest

ACTOR = "automation@acme.com"


async def check(sim, request: CheckRequest, **settings: str | None) -> Run:
    env = {**sim.env(), **{k: v for k, v in settings.items() if v is not None}}
    for key in [k for k, v in settings.items() if v is None]:
        env.pop(key, None)
    return await Checker(Settings.from_mapping(env)).start(request).wait()


def status(run: Run, step_id: str) -> StepStatus:
    step = run.step(step_id)
    assert step is not None, step_id
    return step.status


async def test_org_id_that_the_key_cannot_see_is_the_bots_problem(simulator) -> None:
    sim = await simulator("seed_automation_actor")
    run = await check(sim, CheckRequest(ACTOR, observed_status=403), ATLASSIAN_ORG_ID="some-other-org")
    assert run.verdict.cause is CauseCode.INSPECTOR_MISCONFIGURED
    assert "ATLASSIAN_ORG_ID" in run.verdict.fix[0]
    assert status(run, "identity.account_status") is StepStatus.SKIP  # nothing blamed on the actor


async def test_wrong_org_key_is_inconclusive_and_names_the_setting(simulator) -> None:
    sim = await simulator("seed_automation_actor")
    run = await check(sim, CheckRequest(ACTOR), ATLASSIAN_ORG_API_KEY="ATCTT-wrong-key-0000")
    assert run.verdict.cause is CauseCode.INSPECTOR_MISCONFIGURED and run.outcome.value == "inconclusive"
    assert "ATLASSIAN_ORG_API_KEY" in " ".join(run.verdict.fix)


async def test_account_id_actor_is_found_on_the_site_without_an_org_key(simulator) -> None:
    sim = await simulator("no_access_check_by_email")
    user = sim.state.user_by_email(sim.resolve_input()["actor"])
    run = await check(sim, CheckRequest(user.account_id), ATLASSIAN_ORG_API_KEY=None)
    assert status(run, "identity.lookup") is StepStatus.PASS
    assert status(run, "identity.account_status") is StepStatus.SKIP


async def test_unknown_account_id_is_actor_not_found(simulator) -> None:
    sim = await simulator("seed_automation_actor")
    run = await check(sim, CheckRequest("5b10ac8d82e05b22cc7d4ef5"))
    assert run.verdict.cause is CauseCode.ACTOR_NOT_FOUND and run.verdict.confidence is Confidence.CONFIRMED


async def test_email_lookup_without_org_key_is_a_named_skip(simulator) -> None:
    sim = await simulator("seed_automation_actor")
    run = await check(sim, CheckRequest(ACTOR, observed_status=403), ATLASSIAN_ORG_API_KEY=None)
    lookup = run.step("identity.lookup")
    assert lookup.status is StepStatus.SKIP and "ATLASSIAN_ORG_API_KEY" in lookup.summary
    # Confluence itself still answers whether the email has access
    assert status(run, "product.access_by_email") is StepStatus.PASS
    assert any("ATLASSIAN_ORG_API_KEY" in n.why for n in run.not_checked)


async def test_never_used_token_without_a_reported_failure_is_only_a_warning(simulator) -> None:
    sim = await simulator("seed_automation_actor")
    run = await check(sim, CheckRequest(ACTOR))
    assert status(run, "credential.api_tokens") is StepStatus.WARN
    assert run.verdict.cause is CauseCode.OK and run.verdict.confidence is Confidence.LIKELY


async def test_some_expired_tokens_do_not_matter_while_one_is_valid(simulator) -> None:
    sim = await simulator("token_expired")
    user = sim.state.user_by_email(sim.resolve_input()["actor"])
    user.tokens.append(replace(user.tokens[0], id="tok-new", value="ATATT-new-valid-token-1",
                               expiry="2027-12-31T00:00:00Z", last_access="2026-11-20T10:00:00Z"))
    run = await check(sim, CheckRequest(user.email, observed_status=403))
    assert status(run, "credential.api_tokens") is StepStatus.PASS
    assert run.verdict.cause is not CauseCode.TOKEN_EXPIRED


async def test_a_valid_token_under_another_email_is_rejected_not_product_access(simulator) -> None:
    sim = await simulator("ok")
    actor_token = sim.state.user_by_email(ACTOR).tokens[0].value
    secret = ActorSecret.parse(f"priya.n@acme.com:{actor_token}")  # §1.2 email mismatch
    run = await check(sim, CheckRequest(ACTOR, actor_secret=secret, observed_status=403))
    assert run.verdict.cause is CauseCode.CREDENTIAL_REJECTED and run.verdict.confidence is Confidence.CONFIRMED
    assert "replay.site" in run.verdict.decided_by  # decided by the replay itself


async def test_post_endpoints_are_analysed_not_replayed(simulator) -> None:
    sim = await simulator("ok")
    token = sim.state.user_by_email(ACTOR).tokens[0].value
    from bot.atlassian.hosts import HostGuard
    from bot.request import parse_endpoint

    failing = parse_endpoint("POST /wiki/rest/api/content", HostGuard(sim.site_url, sim.api_url))
    run = await check(sim, CheckRequest(ACTOR, failing=failing, actor_secret=ActorSecret.parse(token)))
    step = run.step("replay.endpoint")
    assert step.status is StepStatus.SKIP and "not sent" in step.summary
    assert not any(r.method == "POST" and r.path == "/wiki/rest/api/content" for r in sim.requests)
