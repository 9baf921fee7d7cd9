"""The judge's rules, one table row per case: observations in, verdict out (no HTTP).

Each case states what a run observed and what the verdict must (and must not) be. The cases include
the wrong answers of the former per-probe judging: a refusal shared by the site and the gateway read
as acceptance, an indirect clue outranking a direct answer, a reported body outranking the product's
own replay, an explanation naming its own rivals still `likely`, a reported failure called "no problem".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.atlassian.signatures import Kind
from bot.facts import AccountType, Claim, Source
from bot.judge import Context, Seen, assess, judge
from bot.model import CauseCode, Confidence
from bot.observations import (
    AccessByEmail,
    AccountKind,
    AccountLookup,
    AccountState,
    AccountStatus,
    Answer,
    EndpointReplay,
    FailingCall,
    Observation,
    ReplayAnswer,
    ReportedBody,
    RoleList,
    SiteAnswer,
    SpaceGrant,
    TokenList,
    Unreadable,
    Where,
)

C, CF = CauseCode, Confidence
SITE_OK = SiteAnswer("https://acme.atlassian.net", 200, "c1")
FOUND = AccountLookup("a@acme.com", True, Source.DIRECTORY, True, False)
ACTIVE = AccountStatus(AccountState.ACTIVE, "accountStatus=active, membershipStatus=active")
ROLE = RoleList(True, False, "atlassian/user (group_direct)", True, "acme.atlassian.net")
NO_ROLE = RoleList(False, False, "", True, "acme.atlassian.net")
PERSON = AccountKind(AccountType.PERSON, Claim.MANAGED)
USED = TokenList(1, 1, never_used=False, last_used="2026-11-30 10:15", ours=None, labels="'ci'")
NEVER = TokenList(1, 1, never_used=True, last_used=None, ours=None, labels="'ci'")
NEVER_BUT_OURS = TokenList(1, 1, never_used=True, last_used=None, ours="2026-12-07 01:00", labels="'ci'")
SITE_CALL = FailingCall("GET", "/wiki/rest/api/space", Where.SITE, "GET https://acme.atlassian.net/wiki/rest/api/space")
HEALTHY = (SITE_OK, FOUND, ACTIVE, PERSON, ROLE)


def at(where: Where, status: int, answer: Answer, kind: Kind | None = None) -> ReplayAnswer:
    return ReplayAnswer(where, status, answer, kind, f"{status}: {kind.value if kind else answer.value}")


KNOWN_SITE = at(Where.SITE, 200, Answer.KNOWN)
KNOWN_GATEWAY = at(Where.GATEWAY, 200, Answer.KNOWN)
HEADLINE = "403: the headline 403"


@dataclass
class Case:
    id: str
    seen: tuple[Observation, ...]
    cause: CauseCode
    confidence: Confidence | None = None  # None: any
    context: Context = field(default_factory=Context)
    never: tuple[tuple[CauseCode, Confidence | None], ...] = ()  # (cause, confidence or None for any)
    ruled_out: tuple[CauseCode, ...] = ()
    open: tuple[CauseCode, ...] = ()


REPORTED_403 = Context(reported_status=403, reported_body=True, endpoint=True)
CASES = [
    Case("shared refusal is no scoped token; the role list decides",
         (*HEALTHY[:4], NO_ROLE, SITE_CALL, at(Where.SITE, 403, Answer.REFUSED, Kind.HEADLINE_403),
          at(Where.GATEWAY, 403, Answer.REFUSED, Kind.HEADLINE_403), USED),
         C.NO_CONFLUENCE_ACCESS, CF.CONFIRMED, REPORTED_403,
         never=((C.SCOPED_TOKEN_SITE_URL, None),), ruled_out=(C.SCOPED_TOKEN_SITE_URL,)),
    Case("scope mismatch at the gateway outranks never used",
         (*HEALTHY, SITE_CALL, NEVER, at(Where.SITE, 401, Answer.REFUSED, Kind.SCOPED_ON_SITE),
          at(Where.GATEWAY, 401, Answer.REFUSED, Kind.SCOPE_MISMATCH)),
         C.SCOPED_TOKEN_SITE_URL, CF.CONFIRMED, Context(reported_status=401, endpoint=True),
         never=((C.CREDENTIAL_REJECTED, None),), ruled_out=(C.CREDENTIAL_REJECTED,)),
    Case("a reported password body does not outrank a working replay",
         (*HEALTHY, SITE_CALL, USED, KNOWN_SITE, KNOWN_GATEWAY,
          ReportedBody(401, Kind.PASSWORD, "password instead of an API token")),
         C.REQUEST_NOT_AS_TESTED, CF.LIKELY, Context(reported_status=401, reported_body=True, endpoint=True),
         never=((C.PASSWORD_USED, None), (C.OK, None)), ruled_out=(C.PASSWORD_USED,)),
    Case("check-access-by-email names its own rivals: possible without the admin API",
         (SITE_OK, AccessByEmail("a@acme.com", has_access=False), SITE_CALL),
         C.NO_CONFLUENCE_ACCESS, CF.POSSIBLE, REPORTED_403,
         open=(C.ACTOR_NOT_FOUND, C.ACCOUNT_DEACTIVATED, C.ACCOUNT_SUSPENDED)),
    Case("check-access-by-email with the rivals ruled out by the admin API",
         (SITE_OK, FOUND, ACTIVE, AccessByEmail("a@acme.com", has_access=False), SITE_CALL),
         C.NO_CONFLUENCE_ACCESS, CF.LIKELY, REPORTED_403),
    Case("a reported failure every checked layer passes is not 'no problem'",
         (*HEALTHY, USED, KNOWN_SITE), C.REQUEST_NOT_AS_TESTED, CF.LIKELY,
         Context(reported_status=403, reported_body=True),
         never=((C.OK, None),), open=(C.AUTH_HEADER_MISSING, C.AUTH_HEADER_MALFORMED, C.CREDENTIAL_REJECTED)),
    Case("without a replay of the credential, 'not as tested' is only possible",
         (*HEALTHY, USED), C.REQUEST_NOT_AS_TESTED, CF.POSSIBLE, Context(reported_status=403, reported_body=True),
         open=(C.SCOPED_TOKEN_SITE_URL, C.CREDENTIAL_REJECTED)),
    Case("a body reported without its status is a reported failure",
         (*HEALTHY, USED, ReportedBody(None, Kind.V2_NOT_FOUND, "v2 404")), C.REQUEST_NOT_AS_TESTED, CF.POSSIBLE,
         Context(reported_body=True), never=((C.OK, None),)),
    Case("a reported body alone is indirect: likely, never confirmed",
         (*HEALTHY, USED, ReportedBody(403, Kind.BEARER_PARSE, "Failed to parse Connect Session Auth Token")),
         C.BEARER_WITH_API_TOKEN, CF.LIKELY, Context(reported_status=403, reported_body=True)),
    Case("a reported Bearer body with a token that works as Basic is confirmed",
         (*HEALTHY, USED, KNOWN_SITE, ReportedBody(403, Kind.BEARER_PARSE, "Failed to parse Connect Session Auth")),
         C.BEARER_WITH_API_TOKEN, CF.CONFIRMED, Context(reported_status=403, reported_body=True)),
    Case("a bare 403 while the call works as Basic: the caller's credential, not confirmed",
         (*HEALTHY, USED, KNOWN_SITE, SITE_CALL, EndpointReplay("GET", "/wiki/rest/api/space", 200, None, "200")),
         C.CREDENTIAL_REJECTED, CF.LIKELY, Context(reported_status=403, endpoint=True),
         open=(C.BEARER_WITH_API_TOKEN, C.AUTH_HEADER_MISSING)),
    Case("a path with an empty segment is no route",
         (*HEALTHY, USED, FailingCall("GET", "/wiki//rest/api/search", Where.SITE, "GET /wiki//rest/api/search")),
         C.ENDPOINT_NOT_FOUND, CF.LIKELY, Context(reported_status=404, endpoint=True)),
    Case("nothing reported and everything passes: no blocker in the account, the call itself untested",
         (*HEALTHY, USED, KNOWN_SITE), C.OK, CF.LIKELY, Context()),
    Case("the call named and replayed as the actor works: ok, confirmed",
         (*HEALTHY, USED, KNOWN_SITE, SITE_CALL, EndpointReplay("GET", "/wiki/rest/api/space", 200, None, "200")),
         C.OK, CF.CONFIRMED, Context(endpoint=True)),
    Case("ok is never confirmed while our own replay of the call got 404",
         (*HEALTHY, USED, KNOWN_SITE, SITE_CALL,
          EndpointReplay("GET", "/wiki/rest/api/space", 404, Kind.UNRECOGNISED, "404")),
         C.INCONCLUSIVE, CF.POSSIBLE, Context(endpoint=True), never=((C.OK, None),)),
    Case("ok is never confirmed while a read was lost to a 503",
         (*HEALTHY, USED, KNOWN_SITE, Unreadable("the status page")), C.OK, CF.LIKELY, Context()),
    Case("never scoped_token_site_url when the reported body is the gateway's 'scope does not match'",
         (*HEALTHY, USED, ReportedBody(401, Kind.SCOPE_MISMATCH, "scope does not match"),
          AccountKind(AccountType.APP, Claim.UNKNOWN)),
         C.MISSING_SCOPE, None, Context(reported_status=401, reported_body=True),
         never=((C.SCOPED_TOKEN_SITE_URL, None),), ruled_out=(C.SCOPED_TOKEN_SITE_URL,)),
    Case("never used survives our own replays, and says so",
         (*HEALTHY, NEVER_BUT_OURS), C.CREDENTIAL_REJECTED, CF.LIKELY, Context(reported_status=403)),
    Case("a role list cut short is missing evidence: possible at most",
         (SITE_OK, FOUND, ACTIVE, RoleList(False, False, "", False, "acme")), C.NO_CONFLUENCE_ACCESS, CF.POSSIBLE,
         Context(reported_status=403), never=((C.NO_CONFLUENCE_ACCESS, CF.LIKELY),
                                              (C.NO_CONFLUENCE_ACCESS, CF.CONFIRMED))),
    Case("a path Confluence Cloud does not serve, with a working credential",
         (*HEALTHY, USED, KNOWN_SITE, FailingCall("GET", "/confluence/rest/api/space", Where.SITE, "GET /confluence"),
          EndpointReplay("GET", "/confluence/rest/api/space", 404, Kind.UNRECOGNISED, "404")),
         C.ENDPOINT_NOT_FOUND, CF.CONFIRMED, Context(reported_status=404, endpoint=True)),
    Case("the endpoint works as the actor while the caller got the headline 403",
         (*HEALTHY, NEVER, KNOWN_SITE, SITE_CALL, ReportedBody(403, Kind.HEADLINE_403, HEADLINE),
          EndpointReplay("GET", "/wiki/rest/api/space", 200, None, "200")),
         C.CREDENTIAL_REJECTED, CF.CONFIRMED, REPORTED_403),
    Case("a decisive account state shadows the inner layers but not its rivals",
         (SITE_OK, FOUND, AccountStatus(AccountState.DEACTIVATED, "accountStatus=inactive"), ROLE, NEVER,
          SpaceGrant("DOCS", ("read",))), C.ACCOUNT_DEACTIVATED, CF.CONFIRMED, REPORTED_403),
    Case("too little checked and a failure reported: inconclusive, never ok",
         (SITE_OK,), C.INCONCLUSIVE, CF.POSSIBLE, REPORTED_403),
    Case("a fault supports nothing",
         (SITE_OK, Unreadable("the role assignments"), Unreadable("the directory search")), C.INCONCLUSIVE,
         CF.POSSIBLE, REPORTED_403),
    Case("site refused, gateway unauthorized: rejected everywhere",
         (*HEALTHY, USED, at(Where.SITE, 403, Answer.REFUSED, Kind.HEADLINE_403),
          at(Where.GATEWAY, 401, Answer.REFUSED, Kind.GATEWAY_UNAUTHORIZED)),
         C.CREDENTIAL_REJECTED, CF.CONFIRMED, Context(reported_status=403)),
    Case("an external account's rejected token leaves the token policy open",
         (*HEALTHY[:3], AccountKind(AccountType.PERSON, Claim.UNMANAGED), ROLE, USED,
          at(Where.SITE, 403, Answer.REFUSED, Kind.HEADLINE_403),
          at(Where.GATEWAY, 401, Answer.REFUSED, Kind.GATEWAY_UNAUTHORIZED)),
         C.CREDENTIAL_REJECTED, CF.LIKELY, Context(reported_status=403), open=(C.API_TOKEN_BLOCKED,)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_judge_reaches_the_verdict_the_evidence_supports(case: Case) -> None:
    verdict = judge([Seen("t.step", o) for o in case.seen], case.context)
    got = (verdict.cause, verdict.confidence)
    assert verdict.cause is case.cause, (got, verdict.explanation, verdict.ruled_out)
    if case.confidence is not None:
        assert verdict.confidence is case.confidence, (got, verdict.explanation, verdict.not_ruled_out)
    for cause, confidence in case.never:
        assert not (verdict.cause is cause and confidence in (None, verdict.confidence)), got
    ruled = {r.cause for r in verdict.ruled_out}
    assert set(case.ruled_out) <= ruled, ruled
    assert set(case.open) <= {o.cause for o in verdict.not_ruled_out}, verdict.not_ruled_out
    assert verdict.cause not in ruled  # the verdict is never a cause it ruled out itself


def test_ruled_out_rivals_say_what_excluded_them_in_plain_words() -> None:
    shared = next(c for c in CASES if c.id.startswith("shared refusal"))
    verdict = judge([Seen("t.step", o) for o in shared.seen], shared.context)
    by = {r.cause: r.by for r in verdict.ruled_out}
    assert by[C.SCOPED_TOKEN_SITE_URL] == "Not a scoped token: the gateway refused it as well, 403"
    assert verdict.observed and not any(o.startswith("t.step") for o in verdict.observed)  # words, not step ids


def test_never_used_clue_names_our_own_use() -> None:
    verdict = judge([Seen("credential.api_tokens", o) for o in (*HEALTHY, NEVER_BUT_OURS)],
                    Context(reported_status=403))
    assert "last used by this check at 2026-12-07 01:00; before that, never" in verdict.explanation


def test_no_report_says_what_was_checked_in_the_title() -> None:
    verdict = judge([Seen("t", o) for o in (*HEALTHY, USED)], Context())
    assert (verdict.cause, verdict.title) == (C.OK, "No blocker found in the account")


def test_catalogue_order_breaks_ties_between_equally_supported_causes() -> None:
    # two indirect, non-decisive clues: the enabled IP allowlist (policy) and a PermissionException body
    from bot.observations import IpAllowlist
    seen = [Seen("t", o) for o in (SITE_OK, IpAllowlist(("office",), True),
                                    ReportedBody(403, Kind.PERMISSION_EXCEPTION, "PermissionException"))]
    verdict = assess(seen, Context(reported_status=403, reported_body=True)).verdict
    assert (verdict.cause, verdict.confidence) == (C.IP_NOT_ALLOWLISTED, CF.POSSIBLE)
    assert C.SPACE_PERMISSION_MISSING in {o.cause for o in verdict.not_ruled_out}
