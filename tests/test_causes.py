"""The catalogue stays true to docs/causes.md, and `decide` follows its two rules."""

from __future__ import annotations

import re

import pytest

from bot.causes import BY_CODE, CATALOGUE, decide, fill_fix
from bot.model import CauseCode, Confidence, Finding, NotChecked, Outcome
from tests.conftest import DOCS
from tests.fakes.atlassian_http import MockTransport


def _table_codes() -> list[str]:
    text = (DOCS / "causes.md").read_text()
    return re.findall(r"^\|\s*\d+[a-z]?\s*\|\s*`([a-z_]+)`", text, flags=re.M)


def test_codes_match_the_causes_table_in_order() -> None:
    assert [c.code.value for c in CATALOGUE] == _table_codes()
    assert [c.value for c in CauseCode] == _table_codes()


def test_rows_8a_and_8b_sit_between_8_and_9() -> None:
    codes = _table_codes()
    at = codes.index("bearer_with_api_token")
    assert codes[at + 1:at + 5] == ["auth_header_missing", "auth_header_malformed", "oauth_client_rejected",
                                    "scoped_token_site_url"]
    for code in (CauseCode.AUTH_HEADER_MISSING, CauseCode.AUTH_HEADER_MALFORMED):
        assert BY_CODE[code].layer == "credential"


def test_every_problem_cause_has_a_fix_and_outcomes_follow_design() -> None:
    for cause in CATALOGUE:
        if cause.outcome is Outcome.PROBLEM:
            assert cause.fix, cause.code
    assert BY_CODE[CauseCode.OK].outcome is Outcome.OK
    assert BY_CODE[CauseCode.INSPECTOR_MISCONFIGURED].outcome is Outcome.INCONCLUSIVE
    assert BY_CODE[CauseCode.INCONCLUSIVE].outcome is Outcome.INCONCLUSIVE


def f(code: CauseCode, conf: Confidence, step: str = "s.x", **facts: str) -> Finding:
    return Finding(code, conf, f"{code.value} seen", (step,), facts)


def verdict(*findings: Finding, ok: Confidence | None = None, unexplained: str | None = None):
    return decide(list(findings), {"actor": "a@acme.com"}, ok_confidence=ok, unexplained=unexplained,
                  not_checked=[NotChecked("Org policies", "ATLASSIAN_ORG_API_KEY is not set")])


def test_outer_layer_wins() -> None:
    v, summary = verdict(f(CauseCode.SPACE_PERMISSION_MISSING, Confidence.CONFIRMED),
                         f(CauseCode.ACCOUNT_DEACTIVATED, Confidence.CONFIRMED))
    assert v.cause is CauseCode.ACCOUNT_DEACTIVATED
    assert [s.cause for s in summary] == [CauseCode.ACCOUNT_DEACTIVATED, CauseCode.SPACE_PERMISSION_MISSING]


def test_a_possible_finding_never_outranks_an_established_one() -> None:
    v, _ = verdict(f(CauseCode.IP_NOT_ALLOWLISTED, Confidence.POSSIBLE),
                   f(CauseCode.NO_CONFLUENCE_ACCESS, Confidence.LIKELY))
    assert v.cause is CauseCode.NO_CONFLUENCE_ACCESS and v.confidence is Confidence.LIKELY
    v, _ = verdict(f(CauseCode.IP_NOT_ALLOWLISTED, Confidence.POSSIBLE))
    assert v.cause is CauseCode.IP_NOT_ALLOWLISTED and v.confidence is Confidence.POSSIBLE


def test_the_most_confident_finding_per_cause_is_kept_with_every_decider() -> None:
    v, summary = verdict(f(CauseCode.CREDENTIAL_REJECTED, Confidence.LIKELY, "credential.api_tokens"),
                         f(CauseCode.CREDENTIAL_REJECTED, Confidence.CONFIRMED, "replay.endpoint"))
    assert v.confidence is Confidence.CONFIRMED and len(summary) == 1
    assert set(v.decided_by) == {"credential.api_tokens", "replay.endpoint"}


def test_no_findings_is_ok_only_when_enough_was_checked() -> None:
    assert verdict(ok=Confidence.CONFIRMED)[0].cause is CauseCode.OK
    v = verdict()[0]
    assert v.cause is CauseCode.INCONCLUSIVE and "ATLASSIAN_ORG_API_KEY" in " ".join(v.fix)
    assert verdict(ok=Confidence.LIKELY, unexplained="403 unexplained")[0].cause is CauseCode.INCONCLUSIVE


def test_fix_templates_use_facts_and_stay_readable_without_them() -> None:
    cause = BY_CODE[CauseCode.SCOPED_TOKEN_SITE_URL]
    filled = fill_fix(cause, {"gateway_url": "https://api.atlassian.com/ex/confluence/c1/wiki/rest/api/space",
                              "gateway": "https://api.atlassian.com/ex/confluence/c1"})
    assert "https://api.atlassian.com/ex/confluence/c1/wiki/rest/api/space" in filled[0]
    bare = fill_fix(cause, {})
    assert "<cloudId>" in bare[0] and "{" not in " ".join(bare)
    for c in CATALOGUE:  # no template may crash or leave a brace behind
        assert "{" not in " ".join(fill_fix(c, {}))


# Precedence, stated independently of the catalogue's order (docs/causes.md: "the first failing layer,
# outer layers first"): the layer a cause sits on, and within a layer the order in which the
# failures mask each other. A swap of two causes in CATALOGUE fails the pair test below.
_PRECEDENCE: tuple[tuple[CauseCode, ...], ...] = (
    (CauseCode.SITE_NOT_FOUND, CauseCode.NOT_A_CLOUD_SITE),  # nothing else is reachable
    (CauseCode.INSPECTOR_MISCONFIGURED,),  # the bot's own view must work before it judges anyone
    (CauseCode.ATLASSIAN_INCIDENT,),
    # identity: an account that does not exist cannot be deactivated; a deactivated one's membership is moot
    (CauseCode.ACTOR_NOT_FOUND, CauseCode.ACCOUNT_DEACTIVATED, CauseCode.ACCOUNT_SUSPENDED),
    # credential: the wrong kind of secret, then the wrong way to send it, then where, then whether it is alive
    (CauseCode.PASSWORD_USED, CauseCode.BEARER_WITH_API_TOKEN, CauseCode.AUTH_HEADER_MISSING,
     CauseCode.AUTH_HEADER_MALFORMED, CauseCode.OAUTH_CLIENT_REJECTED, CauseCode.SCOPED_TOKEN_SITE_URL,
     CauseCode.OAUTH_TOKEN_SITE_URL, CauseCode.TOKEN_EXPIRED, CauseCode.OAUTH_TOKEN_EXPIRED,
     CauseCode.CREDENTIAL_REJECTED, CauseCode.OAUTH_SITE_NOT_AUTHORIZED),
    (CauseCode.API_TOKEN_BLOCKED, CauseCode.API_TOKEN_AUTH_DISABLED, CauseCode.IP_NOT_ALLOWLISTED),  # policy
    (CauseCode.NO_CONFLUENCE_ACCESS, CauseCode.GUEST_ACCESS_ONLY),  # product
    (CauseCode.MISSING_SCOPE,),  # scope
    (CauseCode.XSRF_CHECK_FAILED, CauseCode.ENDPOINT_GONE, CauseCode.ENDPOINT_NOT_FOUND),  # the request itself
    (CauseCode.SPACE_PERMISSION_MISSING, CauseCode.PAGE_RESTRICTED),  # content: the space before the page
    (CauseCode.RATE_LIMITED,),  # not an access problem: any access cause explains more
)
_RANK = {code: i for i, code in enumerate(c for layer in _PRECEDENCE for c in layer)}
_FINDABLE = [c.code for c in CATALOGUE if c.code not in (CauseCode.OK, CauseCode.INCONCLUSIVE)]


def test_the_precedence_covers_every_findable_cause() -> None:
    assert set(_RANK) == set(_FINDABLE)


_PAIRS = [(a, b) for i, a in enumerate(_FINDABLE) for b in _FINDABLE[i + 1:]]


@pytest.mark.parametrize("confidence", [Confidence.CONFIRMED, Confidence.LIKELY])
async def test_for_every_pair_of_causes_found_in_one_run_the_outer_one_wins(confidence: Confidence) -> None:
    """Each pair is reported by two probes of one run (in both declared orders): the verdict is the
    cause that sits first on the access chain, and both stay listed."""
    import httpx

    from bot import engine
    from bot.config import Settings
    from bot.probes import ProbeContext, ProbeSpec
    from bot.request import CheckRequest

    settings = Settings.load({"ATLASSIAN_SITE_URL": "https://acme.atlassian.net"})
    transport = MockTransport(lambda r: httpx.Response(200))

    def reporter(code: CauseCode) -> ProbeSpec:
        async def fn(ctx: ProbeContext) -> object:
            return ctx.failed(code.value, ctx.finding(code, confidence, f"{code.value} seen"))
        return ProbeSpec(f"t.{code.value}", code.value, fn)  # type: ignore[arg-type]

    wrong = []
    for a, b in _PAIRS:
        winner = min((a, b), key=_RANK.__getitem__)
        for first, second in ((a, b), (b, a)):
            run = await engine.start(CheckRequest("a@acme.com"), settings, transport=transport,
                                     probes=[reporter(first), reporter(second)]).wait()
            assert run.verdict is not None
            if run.verdict.cause is not winner or {f.cause for f in run.findings} != {a, b}:
                wrong.append(f"{first.value} + {second.value} -> {run.verdict.cause.value} (expected {winner.value})")
    assert not wrong, "\n".join(wrong[:20])


def test_a_possible_finding_never_outranks_an_established_one_whatever_the_pair() -> None:
    for a, b in _PAIRS:  # docs/causes.md rule 2: no confident answer without evidence
        outer, inner = sorted((a, b), key=_RANK.__getitem__)
        v, _ = verdict(f(outer, Confidence.POSSIBLE), f(inner, Confidence.LIKELY))
        assert v.cause is inner and v.confidence is Confidence.LIKELY, (outer, inner)
