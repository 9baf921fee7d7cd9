"""The catalogue stays true to CAUSES.md, and `decide` follows its two rules."""

from __future__ import annotations

import re

import pytest

from bot.causes import BY_CODE, CATALOGUE, decide, fill_fix
from bot.model import CauseCode, Confidence, Finding, NotChecked, Outcome
from tests.conftest import SHARED


def _table_codes() -> list[str]:
    text = (SHARED / "CAUSES.md").read_text()
    return re.findall(r"^\|\s*\d+[a-z]?\s*\|\s*`([a-z_]+)`", text, flags=re.M)


@pytest.mark.skipif(not (SHARED / "CAUSES.md").exists(), reason="shared/CAUSES.md is not beside the checkout")
def test_codes_match_the_causes_table_in_order() -> None:
    assert [c.code.value for c in CATALOGUE] == _table_codes()
    assert [c.value for c in CauseCode] == _table_codes()


@pytest.mark.skipif(not (SHARED / "CAUSES.md").exists(), reason="shared/CAUSES.md is not beside the checkout")
def test_rows_8a_and_8b_sit_between_8_and_9() -> None:
    codes = _table_codes()
    at = codes.index("bearer_with_api_token")
    assert codes[at + 1:at + 4] == ["auth_header_missing", "auth_header_malformed", "scoped_token_site_url"]
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
