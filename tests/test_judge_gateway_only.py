"""A credential only the gateway takes — a scoped API token, an OAuth 2.0 access token, a service
account's — fails at the site URL and for a scope it lacks. When the caller's URL is unknown, what was
reported decides between the two or leaves both open (docs/causes.md rows 9, 9a, 16; docs/atlassian.md
§0.1: the site's 401 page for scoped tokens, the gateway's 401 "scope does not match")."""

from __future__ import annotations

import pytest

from bot.atlassian.signatures import Kind
from bot.facts import AccountType, Claim
from bot.judge import URL_DECIDES, Context, Seen, judge
from bot.model import CauseCode, Confidence
from bot.observations import AccountKind, Answer, OAuthAnswer, Observation, ReplayAnswer, ReportedBody, Where
from tests.test_judge import HEALTHY, USED

C = CauseCode
SCOPED = (at_site := ReplayAnswer(Where.SITE, 401, Answer.REFUSED, Kind.SCOPED_ON_SITE, "401: the site's page"),
          ReplayAnswer(Where.GATEWAY, 200, Answer.KNOWN, None, "accepted as CI"))
OAUTH = (OAuthAnswer(Where.GATEWAY, 200, Answer.KNOWN, None, "accepted as the app"),)
SERVICE = (AccountKind(AccountType.APP, Claim.UNKNOWN),)
SITE_PAGE = ReportedBody(401, Kind.SCOPED_ON_SITE, "the site's 401 page")
HEADLINE = ReportedBody(403, Kind.HEADLINE_403, "the headline 403")
UNKNOWN_401 = ReportedBody(401, Kind.UNRECOGNISED, "401")
UNKNOWN_403 = ReportedBody(403, Kind.UNRECOGNISED, "403")


def verdict_of(seen: tuple[Observation, ...], status: int, body: bool, *, oauth: bool = False):  # type: ignore[no-untyped-def]
    return judge([Seen("t", o) for o in (*HEALTHY, USED, *seen)],
                 Context(reported_status=status, reported_body=body, oauth=oauth))


@pytest.mark.parametrize(("seen", "report", "body", "oauth", "named"), [
    # the site's own page for scoped tokens says the caller uses the site URL
    (SCOPED, SITE_PAGE, True, False, C.SCOPED_TOKEN_SITE_URL),
    # a bare 401 is the gateway's answer to a missing scope as well: nothing named
    (SCOPED, UNKNOWN_401, False, False, None),
    # an OAuth token: a site refusal reported, or a bare 403 (the gateway's scope refusal is a 401)
    (OAUTH, HEADLINE, True, True, C.OAUTH_TOKEN_SITE_URL),
    (OAUTH, UNKNOWN_403, False, True, C.OAUTH_TOKEN_SITE_URL),
    (OAUTH, SITE_PAGE, True, True, C.OAUTH_TOKEN_SITE_URL),
    (OAUTH, UNKNOWN_401, False, True, None),
    (OAUTH, UNKNOWN_401, True, True, None),  # a body given that is no site refusal
], ids=["scoped, site page", "scoped, bare 401", "oauth, headline 403", "oauth, bare 403", "oauth, site page",
        "oauth, bare 401", "oauth, unknown 401 body"])
def test_the_report_names_the_site_url_only_when_it_is_the_sites_answer(
        seen: tuple[Observation, ...], report: ReportedBody, body: bool, oauth: bool, named: CauseCode | None) -> None:
    verdict = verdict_of((*seen, report), report.status or 0, body, oauth=oauth)
    if named is not None:
        assert verdict.cause is named, (verdict.cause, verdict.explanation)
        return
    assert verdict.cause is C.REQUEST_NOT_AS_TESTED and verdict.confidence is Confidence.LIKELY
    url = C.OAUTH_TOKEN_SITE_URL if oauth else C.SCOPED_TOKEN_SITE_URL
    leads = verdict.not_ruled_out[:2]
    assert [o.cause for o in leads] == [url, C.MISSING_SCOPE]
    assert all(o.would_decide == URL_DECIDES for o in leads)  # the credential was tried: its URL decides
    assert "gateway" in verdict.explanation and "gateway" in " ".join(verdict.observed)
    if oauth:  # an OAuth token goes as Bearer by design: no API-token header causes are left open for it
        assert not {o.cause for o in verdict.not_ruled_out} & {C.BEARER_WITH_API_TOKEN, C.SCOPED_TOKEN_SITE_URL}


def test_a_service_account_without_its_credential_names_no_cause_and_says_what_it_is() -> None:
    verdict = verdict_of((*SERVICE, UNKNOWN_401), 401, False)
    # (the account is otherwise healthy here: a failure nothing explains, possible only, as nothing was tried)
    assert (verdict.cause, verdict.confidence) == (C.REQUEST_NOT_AS_TESTED, Confidence.POSSIBLE)
    leads = [o.cause for o in verdict.not_ruled_out[:4]]
    assert leads == [C.SCOPED_TOKEN_SITE_URL, C.OAUTH_TOKEN_SITE_URL, C.OAUTH_TOKEN_EXPIRED, C.MISSING_SCOPE]
    # nothing was tried, so the credential decides, not the URL
    assert all(o.would_decide != URL_DECIDES for o in verdict.not_ruled_out[:4])
    assert "service account" in verdict.explanation and "OAuth 2.0" in " ".join(verdict.observed)


def test_a_service_account_calling_the_site_url_is_still_named() -> None:
    from bot.observations import FailingCall
    site_call = FailingCall("GET", "/wiki/rest/api/space", Where.SITE, "GET https://acme.atlassian.net/wiki/…")
    verdict = verdict_of((*SERVICE, site_call, UNKNOWN_401), 401, False)
    assert verdict.cause is C.SCOPED_TOKEN_SITE_URL and verdict.confidence is Confidence.CONFIRMED


def test_without_a_gateway_only_credential_the_open_rivals_are_the_caller_side_ones() -> None:
    verdict = verdict_of((ReplayAnswer(Where.SITE, 200, Answer.KNOWN, None, "accepted"),), 403, False)
    assert verdict.cause is C.REQUEST_NOT_AS_TESTED
    causes = [o.cause for o in verdict.not_ruled_out]
    assert C.MISSING_SCOPE not in causes and C.OAUTH_TOKEN_SITE_URL not in causes
    assert "Note:" not in verdict.explanation
    assert at_site.kind is Kind.SCOPED_ON_SITE  # (the scoped replay above is the site's page, as Atlassian sends it)
