"""The oauth.* probes and the new credential causes on changed simulator worlds (real HTTP, real
engine): the scopes a fix names, an expiry read from claims only when the gateway agrees, a token
that is good but not here, API tokens off by policy for the bot too, a Data Center URL."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import engine
from bot.atlassian import RetryPolicy
from bot.atlassian.hosts import HostGuard
from bot.config import Settings
from bot.model import CauseCode, Confidence, Run, StepStatus
from bot.openapi.scopes import is_granular, scopes_for
from bot.probes.oauth import token_expiry
from bot.request import ActorSecret, CheckRequest, parse_endpoint
from bot.simulator.routes.oauth import jwt_text

FAST = RetryPolicy(base_delay_s=0.001, jitter_s=0.001)
SPACES = "GET {gateway}/wiki/api/v2/spaces?keys=DOCS"


async def run_as(sim, secret: ActorSecret, endpoint: str | None = SPACES, **request: object) -> Run:
    failing = parse_endpoint(endpoint.replace("{gateway}", sim.gateway_url).replace("{site}", sim.site_url),
                             HostGuard(sim.site_url, sim.api_url)) if endpoint else None
    actor = str(request.pop("actor", "svc-docs-sync-4f2a@serviceaccount.atlassian.com"))
    check = CheckRequest(actor, failing=failing, actor_secret=secret, **request)  # type: ignore[arg-type]
    return await engine.start(check, Settings.from_mapping(sim.env()), retry=FAST).wait()


def client_of(sim) -> ActorSecret:
    client = sim.state.oauth_clients[0]
    return ActorSecret.parse_client(f"{client.client_id}:{client.secret}")


def test_the_openapi_files_give_each_operation_its_classic_and_granular_scopes() -> None:
    current = scopes_for("GET", "/ex/confluence/abc/wiki/rest/api/user/current")
    assert current is not None
    assert current.classic == (frozenset({"read:confluence-user"}),)
    assert current.granular == (frozenset({"read:content-details:confluence"}),)
    spaces = scopes_for("HEAD", "/wiki/api/v2/spaces")
    assert spaces is not None and spaces.classic == () and spaces.missing(["read:confluence-user"]) == (
        "read:space:confluence",)
    assert spaces.allows(["read:space:confluence", "x"]) and not spaces.allows(["read:confluence-space.summary"])
    assert scopes_for("GET", "/wiki/rest/api/space") is None  # removed from the v1 file: no entry, no guess
    assert is_granular("read:page:confluence") and not is_granular("search:confluence")


def test_an_expiry_is_read_from_the_claims_without_trusting_anything_else() -> None:
    token = jwt_text({"exp": 1780308000, "sub": "someone"})
    assert token_expiry(token) == datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    for unreadable in ("a.b", "x.e30.y", "x.!!!.y", jwt_text({"exp": "soon"})):
        assert token_expiry(unreadable) is None


async def test_the_missing_scope_fix_names_what_the_operation_accepts_and_what_the_credential_lacks(simulator) -> None:
    sim = await simulator("oauth_missing_scope")
    run = await run_as(sim, client_of(sim))
    assert run.verdict is not None and run.verdict.cause is CauseCode.MISSING_SCOPE
    fix = "\n".join(run.verdict.fix)
    assert "GET /wiki/api/v2/spaces" in fix and "granular scopes: read:space:confluence" in fix
    assert "holds read:confluence-user, read:page:confluence" in fix and "missing: read:space:confluence" in fix
    # a scoped API token's scopes cannot be read: the fix says so and still names what the endpoint needs
    sim = await simulator("missing_scope")
    given = sim.resolve_input()
    scoped = await run_as(sim, ActorSecret.parse(f"ci-publisher@acme.com:{sim.state.users[2].tokens[0].value}"),
                          actor=given["actor"], observed_status=401, observed_body=given["body"])
    assert scoped.verdict is not None and scoped.verdict.cause is CauseCode.MISSING_SCOPE
    fix = "\n".join(scoped.verdict.fix)
    assert "cannot be read through any API" in fix and "read:space:confluence" in fix


async def test_a_claim_alone_never_makes_a_token_expired(simulator) -> None:
    """The exp claim says expired, but the gateway takes the token: the claim is not trusted."""
    sim = await simulator("oauth_token_expired")
    sim.state.oauth_tokens[0].expires_at = "2099-01-01T00:00:00Z"  # the gateway's own record: still live
    run = await run_as(sim, ActorSecret.parse(sim.state.oauth_tokens[0].value), "GET {gateway}/wiki/api/v2/pages/65601")
    assert run.verdict is not None and run.verdict.cause is not CauseCode.OAUTH_TOKEN_EXPIRED
    assert run.step("oauth.gateway").status is StepStatus.PASS  # type: ignore[union-attr]


async def test_the_bots_own_login_refused_by_policy_is_the_policy_not_a_misconfigured_bot(simulator) -> None:
    sim = await simulator("api_token_auth_disabled_bot_refused")
    run = await engine.start(CheckRequest("automation@acme.com"), Settings.from_mapping(sim.env()), retry=FAST).wait()
    assert run.verdict is not None and run.verdict.cause is CauseCode.API_TOKEN_AUTH_DISABLED
    assert run.verdict.confidence is Confidence.LIKELY  # the actor's own token was not replayed
    assert all(f.cause is not CauseCode.INSPECTOR_MISCONFIGURED for f in run.findings)
    assert any("bot's own account" in line for line in run.verdict.fix)
    # an external account refused the same way is the external-user policy
    sim = await simulator("api_token_blocked")
    given = sim.resolve_input()
    external = await run_as(sim, ActorSecret.parse(given["actor_token"]), None, actor=given["actor"])
    assert external.verdict is not None and external.verdict.cause is CauseCode.API_TOKEN_BLOCKED


async def test_a_data_center_url_is_named_and_the_bot_is_not_blamed(simulator) -> None:
    sim = await simulator("not_a_cloud_site")
    run = await engine.start(CheckRequest("priya.n@acme.com"), Settings.from_mapping(sim.env()), retry=FAST).wait()
    assert run.verdict is not None and run.verdict.cause is CauseCode.NOT_A_CLOUD_SITE
    assert run.verdict.confidence is Confidence.CONFIRMED
    assert any(r.path == "/status" for r in sim.requests)
    assert all(f.cause is not CauseCode.INSPECTOR_MISCONFIGURED for f in run.findings)
    reported = await engine.start(CheckRequest("priya.n@acme.com", observed_status=401,
                                               observed_body=sim.scenario.input["body"]),
                                  Settings.from_mapping(sim.env()), retry=FAST).wait()
    # the Tomcat 401 a Data Center answers is not the page a Cloud site gives scoped tokens
    assert reported.verdict is not None and reported.verdict.cause is CauseCode.NOT_A_CLOUD_SITE
    assert all(f.cause is not CauseCode.SCOPED_TOKEN_SITE_URL for f in reported.findings)
    # a Cloud site that is simply not there is still site_not_found (its /status is no Data Center node's)
    sim = await simulator("site_not_found")
    gone = await engine.start(CheckRequest("priya.n@acme.com"), Settings.from_mapping(sim.env()), retry=FAST).wait()
    assert gone.verdict is not None and gone.verdict.cause is CauseCode.SITE_NOT_FOUND


async def test_without_an_oauth_credential_the_oauth_steps_leave_no_gap(simulator) -> None:
    sim = await simulator("ok")
    given = sim.resolve_input()
    run = await run_as(sim, ActorSecret.parse(given["actor_token"]), None, actor=given["actor"])
    assert run.verdict is not None and run.verdict.cause is CauseCode.OK
    assert not any("OAuth" in n.what for n in run.not_checked)
    assert not any(r.role == "auth" or (r.auth_kind == "bearer" and r.role != "api") for r in sim.requests)


def test_a_layer_none_of_whose_steps_ran_prints_no_empty_line(tmp_path, monkeypatch, capsys) -> None:
    """An API-token run does not need the OAuth steps, an OAuth run not the API-token replay: neither
    leaves a blank line among the steps."""
    import io

    from bot.cli import main
    from bot.commands import simulator_in_thread
    from bot.simulator import load_scenario
    from bot.simulator.scenario import secret_flag, secret_line

    for name in ("ok", "oauth_ok"):
        with simulator_in_thread(load_scenario(name)) as sim:
            for key, value in {**sim.env(), "DATABASE_PATH": str(tmp_path / "h.db")}.items():
                monkeypatch.setenv(key, value)
            given = sim.resolve_input()
            monkeypatch.setattr("sys.stdin", io.StringIO(secret_line(given) + "\n"))
            main(["check", given["actor"], "--endpoint", given["endpoint"], str(secret_flag(given))])
        steps = capsys.readouterr().out.split("\nOK: ")[0]
        assert "\n\n" not in steps, (name, steps)
