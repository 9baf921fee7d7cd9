"""What a user reads (step summaries, finding details, the verdict and its fix) never points at the
project's own notes (FACTS.md, DESIGN.md, CAUSES.md, their § sections): a user of the package does
not have them. Every bundled check scenario is run through the engine."""

from __future__ import annotations

import re

import httpx
import pytest

from bot import engine
from bot.atlassian.hosts import HostGuard
from bot.config import Settings
from bot.model import StepStatus
from bot.probes import REGISTRY
from bot.request import ActorSecret, CheckRequest, parse_endpoint
from bot.simulator import list_scenarios, load_scenario
from tests.fakes.atlassian_http import MockTransport

INTERNAL = re.compile(r"FACTS|DESIGN\.md|CAUSES\.md|STYLE\.md|§")
CHECKS = [s.name for s in list_scenarios() if load_scenario(s.name).input.get("actor")]


@pytest.mark.parametrize("name", CHECKS)
async def test_no_user_facing_text_cites_internal_notes(simulator, name: str) -> None:
    sim = await simulator(name)
    settings = Settings.from_mapping(sim.env())
    given = sim.resolve_input()
    failing = parse_endpoint(given["endpoint"], HostGuard(sim.site_url, sim.api_url)) if given.get("endpoint") \
        else None
    request = CheckRequest(given["actor"], failing=failing, observed_status=given.get("status"),
                           observed_body=given.get("body"), space=given.get("space"),
                           actor_secret=ActorSecret.parse(given["actor_token"]) if given.get("actor_token") else None)
    run = await engine.start(request, settings).wait()
    assert run.verdict is not None
    texts = [s.summary for s in run.steps] + [s.fix or "" for s in run.steps] + [f.detail for f in run.findings]
    texts += [run.verdict.explanation, *run.verdict.fix, *(f"{n.what} {n.why}" for n in run.not_checked)]
    cited = [t for t in texts if INTERNAL.search(t)]
    assert not cited, cited


async def test_invalid_emails_mean_a_malformed_address_not_a_missing_account() -> None:
    def confluence(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"emailsWithoutAccess": [], "invalidEmails": ["sam@acme.com"]})

    settings = Settings.load({"ATLASSIAN_SITE_URL": "https://acme.atlassian.net", "ATLASSIAN_EMAIL": "bot@acme.com",
                              "ATLASSIAN_API_TOKEN": "BOT-TOKEN-1"})
    run = await engine.start(CheckRequest("sam@acme.com", observed_status=403), settings,
                             probes=[REGISTRY["product.access_by_email"]],
                             transport=MockTransport(confluence)).wait()
    [step] = run.steps
    assert step.status is StepStatus.WARN and "malformed" in step.summary
    assert not run.findings  # not actor_not_found, not anything
