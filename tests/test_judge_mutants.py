"""The judge's rules that no scenario pinned on its own, found by mutating `bot/judge.py`
(`python scripts/mutate.py`): observations in, verdict out (no HTTP).

Each case is one rule the verdict depends on — which bodies only an unresolved credential gets, which
stage of the request shadows which, which causes stop the diagnosis, when a fault keeps a verdict
from `confirmed`, what the explanation may claim was seen, which caller-side causes stay open — stated
as what a run observed and what the verdict must then be.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.atlassian.signatures import Kind
from bot.causes import BY_CODE, position
from bot.facts import AccountType, Claim, Source
from bot.judge import URL_DECIDES, Context, Seen, assess, judge
from bot.model import CauseCode, Confidence, NotChecked, Verdict
from bot.needs import NEED_ACTION, NEED_REASON
from bot.observations import (
    Absent,
    AccessByEmail,
    AccountKind,
    AccountLookup,
    AccountState,
    AccountStatus,
    Answer,
    BotCredential,
    BotRefused,
    BotTokenOffByPolicy,
    EndpointReplay,
    FailingCall,
    HeaderAsSent,
    HeaderProblem,
    IpAllowlist,
    OAuthAnswer,
    OAuthRefused,
    OAuthResources,
    OAuthToken,
    Observation,
    PageCheck,
    PathAsSent,
    PathProblem,
    ReportedBody,
    RoleList,
    SiteAnswer,
    SpaceGrant,
    StatusPage,
    TokenList,
    Unreadable,
    Where,
)
from tests.test_judge import (
    ACTIVE,
    FOUND,
    HEALTHY,
    KNOWN_GATEWAY,
    KNOWN_SITE,
    NEVER,
    NO_ROLE,
    PERSON,
    ROLE,
    SITE_CALL,
    SITE_OK,
    USED,
    at,
)

C, CF = CauseCode, Confidence
# the ways a caller can present a working credential wrongly, left open when every layer checked passes
CALLER_SIDE = (C.AUTH_HEADER_MISSING, C.AUTH_HEADER_MALFORMED, C.BEARER_WITH_API_TOKEN, C.SCOPED_TOKEN_SITE_URL,
               C.CREDENTIAL_REJECTED, C.ENDPOINT_NOT_FOUND)
PATH = "/wiki/rest/api/space"
WORKS = EndpointReplay("GET", PATH, 200, None, "200")
REJECTED_AT_SITE = at(Where.SITE, 403, Answer.REFUSED, Kind.HEADLINE_403)
GATEWAY_401 = at(Where.GATEWAY, 401, Answer.REFUSED, Kind.GATEWAY_UNAUTHORIZED)
ANONYMOUS_CONTROL = at(Where.NOWHERE, 200, Answer.ANONYMOUS)  # the call without a credential, as anonymous
NO_READ = SpaceGrant("DOCS", ("read",))
LIVE_OAUTH = OAuthToken(False, "2027-01-01 00:00 UTC")
EXPIRED_OAUTH = OAuthToken(True, "2026-12-01 00:00 UTC")
OAUTH_GATEWAY_OK = OAuthAnswer(Where.GATEWAY, 200, Answer.KNOWN, None, "200 as the account")
OAUTH_GATEWAY_401 = OAuthAnswer(Where.GATEWAY, 401, Answer.REFUSED, Kind.GATEWAY_UNAUTHORIZED, "401 'Unauthorized'")
LISTED = OAuthResources(200, True, ("acme",))
GATEWAY_CALL = FailingCall("GET", "/ex/confluence/c1/wiki/rest/api/space", Where.GATEWAY, "GET gateway")
HEADER_OK = HeaderAsSent(None, True, True, "Basic, 200")
BASE = (SITE_OK, FOUND, PERSON, ROLE, USED)
USED_HEALTHY = (*HEALTHY, USED)
SITE = "https://acme.atlassian.net"
APP = AccountKind(AccountType.APP, Claim.UNKNOWN)
EXTERNAL = AccountKind(AccountType.PERSON, Claim.UNMANAGED)
NOT_FOUND = [(AccountLookup("a@acme.com", False, Source.DIRECTORY, True, False), CF.CONFIRMED),
             # the directory does not list service accounts: not found there by id is not proof
             (AccountLookup("a@acme.com", False, Source.DIRECTORY, False, False), CF.LIKELY),
             (AccountLookup("a@acme.com", False, Source.SITE, False, False), CF.CONFIRMED),
             (AccountLookup("a@acme.com", False, Source.BOTH, False, False), CF.CONFIRMED)]
HEADER_CAUSES = ((HeaderProblem.BEARER, C.BEARER_WITH_API_TOKEN), (HeaderProblem.MISSING, C.AUTH_HEADER_MISSING),
                 (HeaderProblem.MALFORMED, C.AUTH_HEADER_MALFORMED))


def body(status: int | None, kind: Kind) -> ReportedBody:
    return ReportedBody(status, kind, f"the {kind.value} body")


def reported(status: int | None = None, *, with_body: bool = False, **more: object) -> Context:
    return Context(reported_status=status, reported_body=with_body, **more)  # type: ignore[arg-type]


@dataclass
class Case:
    id: str
    seen: tuple[Observation, ...]
    context: Context
    cause: CauseCode
    confidence: Confidence
    says: tuple[str, ...] = ()  # in the explanation
    never_says: tuple[str, ...] = ()
    open: tuple[CauseCode, ...] | None = None  # exactly these left open (None: not checked)
    title: str | None = None
    fix_says: tuple[str, ...] = ()  # in the fix lines
    starts: str = ""  # the explanation's first words: the strongest observation comes first


def verdict_of(seen: tuple[Observation, ...], context: Context) -> Verdict:
    return judge([Seen("t.step", o) for o in seen], context)


# -- bodies Atlassian gives only a credential it did not resolve -----------------------------------
# The call works when we send the actor's token as Basic email:token, while the caller got one of these:
# the caller's credential is the problem, and the body proves it (confirmed). Any other body (a
# permission refusal, an unknown one) leaves how the caller sends it open: likely, rivals named.
UNRESOLVED = [Kind.HEADLINE_403, Kind.V2_NOT_FOUND, Kind.GATEWAY_UNAUTHORIZED, Kind.SCOPED_ON_SITE, Kind.PASSWORD]
RESOLVED = [Kind.PERMISSION_EXCEPTION, Kind.UNRECOGNISED]

CASES = [
    *(Case(f"the call works as Basic while the caller got the {k.value} body: confirmed",
           (*HEALTHY, USED, KNOWN_SITE, SITE_CALL, body(401, k), WORKS), reported(401, with_body=True, endpoint=True),
           C.CREDENTIAL_REJECTED, CF.CONFIRMED, starts="The same call succeeds (200)",
           says=("while the caller got 401, the answer to a credential Atlassian did not resolve",),
           open=()) for k in UNRESOLVED),
    *(Case(f"the call works as Basic while the caller got a {k.value} body: likely",
           (*HEALTHY, USED, KNOWN_SITE, SITE_CALL, body(401, k), WORKS), reported(401, with_body=True, endpoint=True),
           C.CREDENTIAL_REJECTED, CF.LIKELY, never_says=("did not resolve",),
           open=(C.BEARER_WITH_API_TOKEN, C.AUTH_HEADER_MISSING, C.AUTH_HEADER_MALFORMED)) for k in RESOLVED),

    # -- a fault is missing evidence: it supports nothing and confirms nothing --------------------
    Case("the gateway takes the token and the site replay was lost: no scoped-token finding, no crash",
         (*HEALTHY, USED, at(Where.GATEWAY, 200, Answer.KNOWN), Unreadable("the site replay")), reported(403),
         C.REQUEST_NOT_AS_TESTED, CF.LIKELY),
    Case("a gateway 401 while the site replay was lost confirms no rejected credential",
         (*HEALTHY, USED, GATEWAY_401, Unreadable("the site replay")), reported(403),
         C.REQUEST_NOT_AS_TESTED, CF.POSSIBLE),

    # -- what the explanation may claim was seen ----------------------------------------------------
    Case("a site that served the anonymous view ignored the credential (no gateway replay)",
         (*HEALTHY, USED, at(Where.SITE, 200, Answer.ANONYMOUS)), reported(403),
         C.CREDENTIAL_REJECTED, CF.CONFIRMED, says=("site: 200: anonymous", "it ignored the credential"),
         never_says=("gateway:",)),
    Case("a refusal at both: the explanation gives the gateway's answer, not anonymity",
         (*HEALTHY, USED, REJECTED_AT_SITE, GATEWAY_401), reported(403),
         C.CREDENTIAL_REJECTED, CF.CONFIRMED, says=("site: 403", "gateway: 401: gateway_unauthorized"),
         never_says=("anonymous",)),
    Case("the same answer as the call without a credential is said so",
         (*HEALTHY, USED, REJECTED_AT_SITE, GATEWAY_401, at(Where.NOWHERE, 403, Answer.REFUSED, Kind.HEADLINE_403)),
         reported(403), C.CREDENTIAL_REJECTED, CF.CONFIRMED,
         says=("the same answer as the call without any credential",)),

    # -- the external-user token policy stays a rival only for an external account ----------------
    Case("an account not known to be external is no token-policy suspect without a refusal seen",
         (SITE_OK, FOUND, ACTIVE, AccountKind(AccountType.PERSON, Claim.UNKNOWN), ROLE, USED), reported(403),
         C.REQUEST_NOT_AS_TESTED, CF.POSSIBLE),
    Case("an external account whose token was never replayed: the external-user policy is a suspect",
         (SITE_OK, FOUND, ACTIVE, AccountKind(AccountType.PERSON, Claim.UNMANAGED), ROLE, USED), reported(403),
         C.API_TOKEN_BLOCKED, CF.LIKELY),

    # -- OAuth 2.0 ---------------------------------------------------------------------------------
    Case("an expired access token refused by accessible-resources alone",
         (SITE_OK, EXPIRED_OAUTH, OAuthResources(401, False)), reported(401, oauth=True),
         C.OAUTH_TOKEN_EXPIRED, CF.CONFIRMED),
    Case("an expired access token refused by the gateway alone",
         (SITE_OK, EXPIRED_OAUTH, OAUTH_GATEWAY_401), reported(401, oauth=True), C.OAUTH_TOKEN_EXPIRED, CF.CONFIRMED),
    Case("a live access token refused by accessible-resources: the gateway is not said to refuse it unasked",
         (SITE_OK, LIVE_OAUTH, OAuthResources(401, False)), reported(401, oauth=True),
         C.CREDENTIAL_REJECTED, CF.CONFIRMED, says=("accessible-resources answered 401",), never_says=("gateway",)),
    Case("a live access token refused by both says both",
         (SITE_OK, LIVE_OAUTH, OAuthResources(401, False), OAUTH_GATEWAY_401), reported(401, oauth=True),
         C.CREDENTIAL_REJECTED, CF.CONFIRMED,
         says=("accessible-resources answered 401 and the gateway answered 401 'Unauthorized'",)),
    Case("a live access token the gateway refuses is rejected, not accepted",
         (SITE_OK, LIVE_OAUTH, OAUTH_GATEWAY_401), reported(401, oauth=True), C.CREDENTIAL_REJECTED, CF.LIKELY),
    Case("an access token the gateway takes, the caller's URL unknown, a reported 403: the site URL",
         (*HEALTHY, LIVE_OAUTH, LISTED, OAUTH_GATEWAY_OK), reported(403, oauth=True), C.OAUTH_TOKEN_SITE_URL,
         CF.LIKELY),
    # a bare 401 is also the gateway's answer to a scope the token lacks: the URL and the scope stay open
    Case("an access token the gateway takes, the caller's URL unknown, a bare 401: the URL or a scope",
         (*HEALTHY, LIVE_OAUTH, LISTED, OAUTH_GATEWAY_OK), reported(401, oauth=True), C.REQUEST_NOT_AS_TESTED,
         CF.LIKELY),
    Case("an access token the gateway takes and a reported 404: not what the site URL answers an OAuth token",
         (*HEALTHY, LIVE_OAUTH, LISTED, OAUTH_GATEWAY_OK), reported(404, oauth=True), C.REQUEST_NOT_AS_TESTED,
         CF.LIKELY),
    Case("an access token the gateway takes and the site's headline 403 reported: the site URL",
         (*HEALTHY, LIVE_OAUTH, LISTED, OAUTH_GATEWAY_OK, body(401, Kind.HEADLINE_403)),
         reported(401, with_body=True, oauth=True), C.OAUTH_TOKEN_SITE_URL, CF.LIKELY),
    Case("an access token the gateway takes and a body the site does not give it: not the site URL",
         (*HEALTHY, LIVE_OAUTH, LISTED, OAUTH_GATEWAY_OK, body(401, Kind.PERMISSION_EXCEPTION)),
         reported(401, with_body=True, oauth=True), C.SPACE_PERMISSION_MISSING, CF.LIKELY),

    # -- a site that serves anonymous users: an ignored credential fails like a content refusal ----
    Case("a missing space grant, no anonymous access seen, nothing replayed: confirmed",
         (*HEALTHY, USED, SITE_CALL, NO_READ), reported(403, endpoint=True), C.SPACE_PERMISSION_MISSING, CF.CONFIRMED),
    Case("a missing space grant where the call without a credential was refused: confirmed",
         (*HEALTHY, USED, SITE_CALL, NO_READ, at(Where.NOWHERE, 401, Answer.REFUSED, Kind.UNRECOGNISED)),
         reported(403, endpoint=True), C.SPACE_PERMISSION_MISSING, CF.CONFIRMED),
    Case("a missing space grant on a site open to anonymous users, the credential not replayed: possible",
         (*HEALTHY, USED, SITE_CALL, NO_READ, ANONYMOUS_CONTROL), reported(403, endpoint=True),
         C.CREDENTIAL_REJECTED, CF.POSSIBLE),
    Case("a missing space grant on a site open to anonymous users, the credential accepted: confirmed",
         (*HEALTHY, USED, SITE_CALL, NO_READ, ANONYMOUS_CONTROL, KNOWN_SITE), reported(403, endpoint=True),
         C.SPACE_PERMISSION_MISSING, CF.CONFIRMED),
    Case("a page restriction on a site open to anonymous users, the credential not replayed: possible",
         (*HEALTHY, USED, SITE_CALL, PageCheck("123", "read", False, True), ANONYMOUS_CONTROL),
         reported(403, endpoint=True), C.CREDENTIAL_REJECTED, CF.POSSIBLE),

    # -- causes that stop the diagnosis: nothing else seen is a rival ---------------------------------
    Case("no site: the bot's refused login is no rival",
         (SiteAnswer("https://acme.atlassian.net", 404, None), BotRefused(BotCredential.SITE_LOGIN, "401")),
         reported(403), C.SITE_NOT_FOUND, CF.CONFIRMED),
    Case("a Data Center node: the bot's refused login is no rival",
         (SiteAnswer("https://wiki.acme.com", 404, None, data_center=True),
          BotRefused(BotCredential.SITE_LOGIN, "401")), reported(401), C.NOT_A_CLOUD_SITE, CF.CONFIRMED),
    Case("the bot's own login refused: an incident on the status page is no rival",
         (SITE_OK, BotRefused(BotCredential.ORG_KEY, "401"), StatusPage(True, True, "Confluence is degraded")),
         reported(503), C.INSPECTOR_MISCONFIGURED, CF.CONFIRMED),

    # -- a decisive cause shadows the causes of later stages of the request -------------------------
    Case("no such account shadows a reported password body (identity before credential)",
         (SITE_OK, AccountLookup("a@acme.com", False, Source.DIRECTORY, True, False), body(401, Kind.PASSWORD)),
         reported(401, with_body=True), C.ACTOR_NOT_FOUND, CF.CONFIRMED),
    Case("a credential rejected everywhere shadows a missing Confluence role (credential before product)",
         (SITE_OK, FOUND, ACTIVE, PERSON, NO_ROLE, USED, REJECTED_AT_SITE, GATEWAY_401), reported(403),
         C.CREDENTIAL_REJECTED, CF.CONFIRMED),
    Case("API tokens off by policy shadow a missing Confluence role (policy before product)",
         (SITE_OK, FOUND, ACTIVE, PERSON, NO_ROLE, USED, at(Where.SITE, 403, Answer.REFUSED, Kind.BASIC_DISABLED)),
         reported(403), C.API_TOKEN_AUTH_DISABLED, CF.CONFIRMED),
    Case("no Confluence role shadows a reported scope refusal (product before scope)",
         (SITE_OK, FOUND, ACTIVE, PERSON, NO_ROLE, USED, body(401, Kind.SCOPE_MISMATCH)),
         reported(401, with_body=True), C.NO_CONFLUENCE_ACCESS, CF.CONFIRMED),
    Case("a scope the replay lacks shadows a missing space grant (scope before content)",
         (*HEALTHY, USED, SITE_CALL, NO_READ, EndpointReplay("GET", PATH, 401, Kind.SCOPE_MISMATCH, "401 scope")),
         reported(401, endpoint=True), C.MISSING_SCOPE, CF.CONFIRMED),
    Case("a path Confluence does not serve shadows a missing space grant (request before content)",
         (*HEALTHY, USED, SITE_CALL, NO_READ, EndpointReplay("GET", PATH, 404, Kind.UNKNOWN_PATH, "404 null for uri")),
         reported(404, endpoint=True), C.ENDPOINT_NOT_FOUND, CF.CONFIRMED),

    # -- whether the organization manages the account decides which token policy --------------------
    Case("API tokens off at the site for an account whose owner was not read: likely, the other policy open",
         (SITE_OK, FOUND, ACTIVE, ROLE, USED, at(Where.SITE, 403, Answer.REFUSED, Kind.BASIC_DISABLED)), reported(403),
         C.API_TOKEN_AUTH_DISABLED, CF.LIKELY, open=(C.API_TOKEN_BLOCKED,)),

    # -- the never-used clue needs a reported refusal ----------------------------------------------
    Case("a token never used while nothing is reported is no clue of a rejected credential",
         (*HEALTHY, NEVER, KNOWN_SITE), Context(), C.OK, CF.LIKELY),
    Case("a token never used while a body without a status is reported: the caller does not present it",
         (*HEALTHY, NEVER, KNOWN_SITE, body(None, Kind.UNRECOGNISED)), reported(None, with_body=True),
         C.CREDENTIAL_REJECTED, CF.LIKELY, says=("never used by the caller", "yet the call fails:")),
    Case("a token never used while a 500 is reported: an outage symptom is no refusal",
         (*HEALTHY, NEVER, KNOWN_SITE, body(500, Kind.SERVER_ERROR)), reported(500, with_body=True),
         C.REQUEST_NOT_AS_TESTED, CF.LIKELY),

    # -- the failing call's own place and path ------------------------------------------------------
    Case("a failing call to another host is no Confluence path to judge",
         (*HEALTHY, USED, KNOWN_SITE, FailingCall("GET", "/api/v1/things", None, "GET https://other.example/api")),
         reported(404, endpoint=True), C.REQUEST_NOT_AS_TESTED, CF.LIKELY),
    Case("a removed endpoint's fix names the failing call's path",
         (*HEALTHY, USED, KNOWN_SITE, FailingCall("GET", "/wiki/rest/api/content/search", Where.SITE, "GET search"),
          EndpointReplay("GET", "/wiki/rest/api/content/search", 410, Kind.GONE, "410 gone")),
         reported(410, endpoint=True), C.ENDPOINT_GONE, CF.CONFIRMED,
         fix_says=("REST v2 equivalent of /wiki/rest/api/content/search",)),
    Case("a scoped token: the explanation gives the site's own refusal",
         (*HEALTHY, USED, SITE_CALL, at(Where.SITE, 401, Answer.REFUSED, Kind.SCOPED_ON_SITE),
          at(Where.GATEWAY, 200, Answer.KNOWN)), reported(401, endpoint=True), C.SCOPED_TOKEN_SITE_URL, CF.CONFIRMED,
         says=("the site URL refuses it (401: scoped_on_site)",)),
    Case("a service account calling the site URL: the explanation names the call",
         (SITE_OK, FOUND, ACTIVE, AccountKind(AccountType.APP, Claim.UNKNOWN), ROLE, SITE_CALL),
         reported(401, endpoint=True), C.SCOPED_TOKEN_SITE_URL, CF.CONFIRMED, says=(SITE_CALL.described,)),
    Case("a site that ignores the token while the gateway gives the headline 403: the credential",
         (*HEALTHY, USED, at(Where.SITE, 200, Answer.ANONYMOUS),
          at(Where.GATEWAY, 403, Answer.REFUSED, Kind.HEADLINE_403)), reported(403),
         C.CREDENTIAL_REJECTED, CF.CONFIRMED),

    # -- an anonymous fallback explains a failure reported or a call named, not the absence of both --
    Case("a missing space grant on a site open to anonymous users, a failure reported, no call named",
         (*HEALTHY, USED, NO_READ, ANONYMOUS_CONTROL), reported(403), C.CREDENTIAL_REJECTED, CF.POSSIBLE),
    Case("a missing space grant on a site open to anonymous users, a call named, nothing reported",
         (*HEALTHY, USED, SITE_CALL, NO_READ, ANONYMOUS_CONTROL), Context(endpoint=True), C.CREDENTIAL_REJECTED,
         CF.POSSIBLE),

    Case("an incident the status page reports is no later stage: a rival of a deactivated account at a 503",
         (SITE_OK, FOUND, AccountStatus(AccountState.DEACTIVATED, "inactive"), StatusPage(True, True, "outage")),
         reported(503), C.ACCOUNT_DEACTIVATED, CF.POSSIBLE, open=(C.ATLASSIAN_INCIDENT,)),
    Case("an incident with a 5xx from the call: likely, the status page's word",
         (*HEALTHY, USED, KNOWN_SITE, StatusPage(True, True, "Confluence outage")), reported(503),
         C.ATLASSIAN_INCIDENT, CF.LIKELY, says=("Confluence outage; the failing call answered 503",)),
    Case("an incident does not explain a 403",
         (*HEALTHY, USED, KNOWN_SITE, StatusPage(True, True, "Confluence outage")), reported(403),
         C.REQUEST_NOT_AS_TESTED, CF.LIKELY),

    # -- which reported statuses count ---------------------------------------------------------------
    Case("a reported 400 is a failure",
         (*HEALTHY, USED, KNOWN_SITE), reported(400), C.REQUEST_NOT_AS_TESTED, CF.LIKELY),
    Case("the call works as Basic while the caller got a 500: no sign of the caller's credential",
         (*HEALTHY, USED, KNOWN_SITE, SITE_CALL, WORKS), reported(500, endpoint=True), C.REQUEST_NOT_AS_TESTED,
         CF.LIKELY),
    *(Case(f"a token never used while a {status} is reported: the caller does not present it",
           (*HEALTHY, NEVER), reported(status), C.CREDENTIAL_REJECTED, CF.LIKELY,
           says=(f"never used by the caller, yet the call fails with {status}",)) for status in (401, 403, 404)),
    Case("a token never used while a 405 is reported: a method refused is no sign of the credential",
         (*HEALTHY, NEVER), reported(405), C.REQUEST_NOT_AS_TESTED, CF.POSSIBLE),
    *(Case(f"a path Confluence Cloud does not serve, reported {status}",
           (*HEALTHY, USED, FailingCall("GET", "/confluence/rest/api/space", Where.SITE, "GET /confluence/rest")),
           reported(status, endpoint=True), C.ENDPOINT_NOT_FOUND, CF.LIKELY) for status in (404, 405)),
    Case("a path Confluence Cloud does not serve, reported 403: the path does not explain a refusal",
         (*HEALTHY, USED, FailingCall("GET", "/confluence/rest/api/space", Where.SITE, "GET /confluence/rest")),
         reported(403, endpoint=True), C.REQUEST_NOT_AS_TESTED, CF.POSSIBLE),
    Case("a gateway call to a Confluence path is a path Confluence serves",
         (*HEALTHY, USED, KNOWN_SITE, GATEWAY_CALL), reported(404, endpoint=True), C.REQUEST_NOT_AS_TESTED, CF.LIKELY),
    Case("a gateway call without /wiki is no Confluence path",
         (*HEALTHY, USED, KNOWN_SITE, FailingCall("GET", "/ex/confluence/c1/rest/api/space", Where.GATEWAY, "GET gw")),
         reported(404, endpoint=True), C.ENDPOINT_NOT_FOUND, CF.LIKELY),
    Case("a gateway call that stops before any route is no Confluence path",
         (*HEALTHY, USED, KNOWN_SITE, FailingCall("GET", "/ex/confluence", Where.GATEWAY, "GET gw")),
         reported(404, endpoint=True), C.ENDPOINT_NOT_FOUND, CF.LIKELY),

    # -- OAuth refusals: only the gateway's 401 is a refusal of the token -----------------------------
    Case("an expired exp claim while the gateway authenticated the token (403 headline): product access",
         (SITE_OK, EXPIRED_OAUTH, OAuthAnswer(Where.GATEWAY, 403, Answer.REFUSED, Kind.HEADLINE_403, "403 headline")),
         reported(403, oauth=True), C.NO_CONFLUENCE_ACCESS, CF.CONFIRMED),
    Case("accessible-resources refused and the gateway's 403 headline: the gateway is not said to answer 401",
         (SITE_OK, LIVE_OAUTH, OAuthResources(401, False),
          OAuthAnswer(Where.GATEWAY, 403, Answer.REFUSED, Kind.HEADLINE_403, "403 headline")),
         reported(403, oauth=True), C.CREDENTIAL_REJECTED, CF.CONFIRMED, never_says=("the gateway answered 401",)),

    # -- a service account's address is not always listed ------------------------------------------
    Case("a service account's address missing from the directory is no missing account",
         (SITE_OK, AccountLookup("bot@serviceaccount.atlassian.com", False, Source.DIRECTORY, True, True)),
         reported(401), C.INCONCLUSIVE, CF.POSSIBLE),

    # -- what keeps an ok (or a caller-side verdict) from being sure -----------------------------------
    Case("a site that refused the token is never ok, whatever else was not read",
         (SITE_OK, at(Where.SITE, 401, Answer.REFUSED, Kind.UNRECOGNISED)), Context(), C.INCONCLUSIVE, CF.POSSIBLE),
    Case("a site that refused the token, a 401 reported, nothing else read: inconclusive",
         (SITE_OK, at(Where.SITE, 401, Answer.REFUSED, Kind.UNRECOGNISED)), reported(401), C.INCONCLUSIVE, CF.POSSIBLE),
    Case("an OAuth token refused at the site URL (as every OAuth token is) shows no working credential",
         (SITE_OK, LIVE_OAUTH, OAuthAnswer(Where.SITE, 401, Answer.REFUSED, Kind.UNRECOGNISED, "401")),
         Context(oauth=True), C.INCONCLUSIVE, CF.POSSIBLE),
    Case("a token never used by any caller: the call works as we send it, ok only likely",
         (*HEALTHY, NEVER, KNOWN_SITE, SITE_CALL, WORKS), Context(endpoint=True), C.OK, CF.LIKELY),
    Case("a token never used, but the rule's header as sent works: ok, confirmed",
         (*HEALTHY, NEVER, KNOWN_SITE, HEADER_OK), Context(rule=True), C.OK, CF.CONFIRMED),
    Case("the rule actor's active status is not the account's: too little to say ok",
         (SITE_OK, FOUND, PERSON, ROLE, AccountStatus(AccountState.ACTIVE, "active", rule_actor=True, who="bot")),
         Context(), C.INCONCLUSIVE, CF.POSSIBLE),
    Case("something the call names is absent: inconclusive, with its own fix",
         (*HEALTHY, USED, KNOWN_SITE, Absent("space NOPE does not exist", "Check the space key")), reported(403),
         C.INCONCLUSIVE, CF.POSSIBLE, says=("space NOPE does not exist",), fix_says=("Check the space key",)),
    Case("our own replay of the call failed: inconclusive, never ok, and says what to do",
         (*HEALTHY, USED, KNOWN_SITE, SITE_CALL, EndpointReplay("GET", PATH, 404, Kind.UNRECOGNISED, "404")),
         Context(endpoint=True), C.INCONCLUSIVE, CF.POSSIBLE, fix_says=(BY_CODE[C.INCONCLUSIVE].fix[0],),
         says=("replayed as the actor, GET /wiki/rest/api/space answered 404",)),
    Case("our own replay of the call worked: it is not what looked wrong",
         (*HEALTHY, USED, KNOWN_SITE, SITE_CALL, WORKS, Absent("page 123 does not exist")), Context(endpoint=True),
         C.INCONCLUSIVE, CF.POSSIBLE, says=("page 123 does not exist",), never_says=("answered 200",)),

    # -- the account and the header as sent decide on their own -------------------------------------
    Case("a deactivated account", (*BASE, AccountStatus(AccountState.DEACTIVATED, "inactive")), reported(403),
         C.ACCOUNT_DEACTIVATED, CF.CONFIRMED, says=("reports the account deactivated",)),
    Case("a suspended account is not a deactivated one",
         (*BASE, AccountStatus(AccountState.SUSPENDED, "membership suspended")), reported(403),
         C.ACCOUNT_SUSPENDED, CF.CONFIRMED),
    Case("the rule's actor deactivated: likely (the rule stops running), the account itself active",
         (*BASE, ACTIVE, AccountStatus(AccountState.DEACTIVATED, "inactive", rule_actor=True, who="bot")),
         Context(rule=True), C.ACCOUNT_DEACTIVATED, CF.LIKELY, says=("the rule's actor bot deactivated",)),
    Case("the rule's actor active is no deactivated account",
         (*BASE, ACTIVE, AccountStatus(AccountState.ACTIVE, "active", rule_actor=True, who="bot")),
         reported(403, rule=True), C.REQUEST_NOT_AS_TESTED, CF.POSSIBLE),
    Case("the site says the secret is a password", (*BASE, ACTIVE, at(Where.SITE, 401, Answer.REFUSED, Kind.PASSWORD)),
         reported(401), C.PASSWORD_USED, CF.CONFIRMED),
    *(Case(f"the rule's header is {problem.value} and the call as sent fails: confirmed",
           (*BASE, ACTIVE, KNOWN_SITE, HeaderAsSent(problem, False, True, f"the header is {problem.value}")),
           Context(rule=True), cause, CF.CONFIRMED, open=()) for problem, cause in HEADER_CAUSES),
    *(Case(f"the rule's header is {problem.value} yet the call as sent works: likely, not confirmed",
           (*BASE, ACTIVE, KNOWN_SITE, HeaderAsSent(problem, True, True, f"the header is {problem.value}")),
           Context(rule=True), cause, CF.LIKELY) for problem, cause in HEADER_CAUSES),
    Case("the token host refuses the client credentials", (SITE_OK, OAuthRefused("401 invalid_client")),
         reported(401, oauth=True), C.OAUTH_CLIENT_REJECTED, CF.CONFIRMED, says=("401 invalid_client",)),

    # -- each supporting observation alone, and how sure it makes the cause ----------------------------
    *(Case(f"tenant_info answered {status} without a cloudId: no such site", (SiteAnswer(SITE, status, None),),
           reported(403), C.SITE_NOT_FOUND, CF.CONFIRMED) for status in (400, 499)),
    *(Case(f"tenant_info answered {status} without a cloudId: no proof there is no site",
           (SiteAnswer(SITE, status, None),), reported(403), C.INCONCLUSIVE, CF.POSSIBLE)
      for status in (399, 429, 500)),
    Case("an incident and a 500 from the call", (*USED_HEALTHY, KNOWN_SITE, StatusPage(True, True, "outage")),
         reported(500), C.ATLASSIAN_INCIDENT, CF.LIKELY),
    *(Case(f"no account {a.actor} in {a.where.name} (by email: {a.by_email})", (SITE_OK, a), reported(401),
           C.ACTOR_NOT_FOUND, confidence) for a, confidence in NOT_FOUND),
    Case("a reported Bearer body, the token only tried at the gateway: likely",
         (*USED_HEALTHY, KNOWN_GATEWAY, body(403, Kind.BEARER_PARSE)), reported(403, with_body=True),
         C.BEARER_WITH_API_TOKEN, CF.LIKELY),
    Case("an access token the gateway takes, the failing call at the site URL",
         (*HEALTHY, LIVE_OAUTH, LISTED, OAUTH_GATEWAY_OK, SITE_CALL), reported(401, endpoint=True, oauth=True),
         C.OAUTH_TOKEN_SITE_URL, CF.CONFIRMED),
    Case("a scoped token, the caller's URL not given, the site's page for scoped tokens reported: likely",
         (*USED_HEALTHY, at(Where.SITE, 401, Answer.REFUSED, Kind.SCOPED_ON_SITE), KNOWN_GATEWAY,
          body(401, Kind.SCOPED_ON_SITE)), reported(401, with_body=True), C.SCOPED_TOKEN_SITE_URL, CF.LIKELY,
         starts="The gateway accepts the token"),
    # a bare 401 is also the gateway's answer to a scope the token lacks: the URL and the scope stay open
    Case("a scoped token, the caller's URL not given, a bare 401: the URL or a scope, and a note of what was seen",
         (*USED_HEALTHY, at(Where.SITE, 401, Answer.REFUSED, Kind.SCOPED_ON_SITE), KNOWN_GATEWAY), reported(401),
         C.REQUEST_NOT_AS_TESTED, CF.LIKELY,
         says=("Note: the gateway accepts the token but the site URL refuses it (401: scoped_on_site)",)),
    Case("a service account, a failure reported, the caller's URL not given: its kind alone names no cause",
         (SITE_OK, FOUND, ACTIVE, APP, ROLE), reported(401), C.REQUEST_NOT_AS_TESTED, CF.POSSIBLE),
    Case("a service account with nothing reported names no problem",
         (SITE_OK, FOUND, ACTIVE, APP, ROLE), Context(), C.OK, CF.LIKELY),
    Case("the site's page for scoped tokens reported", (*USED_HEALTHY, body(401, Kind.SCOPED_ON_SITE)),
         reported(401, with_body=True), C.SCOPED_TOKEN_SITE_URL, CF.LIKELY),
    Case("the site's page for scoped tokens reported by a caller of the gateway: not the site URL",
         (*USED_HEALTHY, GATEWAY_CALL, body(401, Kind.SCOPED_ON_SITE)), reported(401, with_body=True, endpoint=True),
         C.REQUEST_NOT_AS_TESTED, CF.POSSIBLE),
    Case("no API token at all", (SITE_OK, FOUND, ACTIVE, PERSON, ROLE, TokenList(0, 0, False, None, None, "")),
         reported(401), C.TOKEN_EXPIRED, CF.CONFIRMED, says=("no API token at all",)),
    Case("every API token expired",
         (SITE_OK, FOUND, ACTIVE, PERSON, ROLE, TokenList(2, 0, False, None, None, "'a', 'b'", "2026-11-01")),
         reported(401), C.TOKEN_EXPIRED, CF.CONFIRMED, says=("latest expiry 2026-11-01",)),
    Case("accessible-resources lists another site only", (SITE_OK, LIVE_OAUTH, OAuthResources(200, False, ("other",))),
         reported(401, oauth=True), C.OAUTH_SITE_NOT_AUTHORIZED, CF.CONFIRMED),
    Case("the gateway's 401 reported: the credential, likely", (*USED_HEALTHY, body(401, Kind.GATEWAY_UNAUTHORIZED)),
         reported(401, with_body=True), C.CREDENTIAL_REJECTED, CF.LIKELY),
    Case("the gateway's 401 reported for a service account: no proof of the credential",
         (SITE_OK, FOUND, ACTIVE, APP, ROLE, USED, body(401, Kind.GATEWAY_UNAUTHORIZED)),
         reported(401, with_body=True), C.REQUEST_NOT_AS_TESTED, CF.POSSIBLE),
    Case("the gateway's 401 reported for an OAuth credential: expired or another site's, the oauth steps tell",
         (*USED_HEALTHY, body(401, Kind.GATEWAY_UNAUTHORIZED)), reported(401, with_body=True, oauth=True),
         C.REQUEST_NOT_AS_TESTED, CF.POSSIBLE),
    Case("API tokens off at the site for an external account: its external-user policy",
         (SITE_OK, FOUND, ACTIVE, EXTERNAL, ROLE, USED, at(Where.SITE, 403, Answer.REFUSED, Kind.BASIC_DISABLED)),
         reported(403), C.API_TOKEN_BLOCKED, CF.CONFIRMED),
    Case("'Basic Authentication has been disabled' reported for an external account",
         (SITE_OK, FOUND, ACTIVE, EXTERNAL, ROLE, USED, body(403, Kind.BASIC_DISABLED)), reported(403, with_body=True),
         C.API_TOKEN_BLOCKED, CF.LIKELY),
    Case("'Basic Authentication has been disabled' reported for a managed account",
         (*USED_HEALTHY, body(403, Kind.BASIC_DISABLED)), reported(403, with_body=True), C.API_TOKEN_AUTH_DISABLED,
         CF.LIKELY),
    Case("the bot's own API token off by policy", (*USED_HEALTHY, BotTokenOffByPolicy("the bot's token is refused")),
         reported(403), C.API_TOKEN_AUTH_DISABLED, CF.LIKELY),
    Case("the site rejects the replay's IP address",
         (*USED_HEALTHY, at(Where.SITE, 403, Answer.REFUSED, Kind.IP_ALLOWLIST)), reported(403),
         C.IP_NOT_ALLOWLISTED, CF.CONFIRMED),
    Case("the call replayed is refused for its IP address",
         (*USED_HEALTHY, KNOWN_SITE, SITE_CALL, EndpointReplay("GET", PATH, 403, Kind.IP_ALLOWLIST, "403 IP")),
         reported(403, endpoint=True), C.IP_NOT_ALLOWLISTED, CF.CONFIRMED),
    Case("the IP allowlist body reported", (*USED_HEALTHY, body(403, Kind.IP_ALLOWLIST)), reported(403, with_body=True),
         C.IP_NOT_ALLOWLISTED, CF.LIKELY),
    Case("an IP allowlist enabled", (*USED_HEALTHY, IpAllowlist(("office",), True)), reported(403),
         C.IP_NOT_ALLOWLISTED, CF.LIKELY),
    Case("the gateway took the token and gave the headline 403",
         (SITE_OK, FOUND, ACTIVE, PERSON, USED, at(Where.GATEWAY, 403, Answer.REFUSED, Kind.HEADLINE_403)),
         reported(403), C.NO_CONFLUENCE_ACCESS, CF.LIKELY),
    Case("only a guest role",
         (SITE_OK, FOUND, ACTIVE, PERSON, USED, RoleList(False, True, "atlassian/guest", True, "a")),
         reported(403), C.GUEST_ACCESS_ONLY, CF.CONFIRMED),
    Case("only a guest role among a list cut short",
         (SITE_OK, FOUND, ACTIVE, PERSON, USED, RoleList(False, True, "atlassian/guest", False, "a")),
         reported(403), C.GUEST_ACCESS_ONLY, CF.POSSIBLE),
    Case("the site signs the account in as a guest", (SITE_OK, FOUND, ACTIVE, PERSON, USED, at(Where.SITE, 200,
                                                                                              Answer.GUEST)),
         reported(403), C.GUEST_ACCESS_ONLY, CF.CONFIRMED),
    Case("the gateway's scope refusal reported", (*USED_HEALTHY, body(401, Kind.SCOPE_MISMATCH)),
         reported(401, with_body=True), C.MISSING_SCOPE, CF.LIKELY),
    Case("'XSRF check failed' reported", (*USED_HEALTHY, body(403, Kind.XSRF)), reported(403, with_body=True),
         C.XSRF_CHECK_FAILED, CF.LIKELY),
    Case("the rule writes a form without the no-check header",
         (*USED_HEALTHY, KNOWN_SITE, HeaderAsSent(None, False, True, "Basic", xsrf_missing=True)),
         reported(403, rule=True), C.XSRF_CHECK_FAILED, CF.LIKELY),
    Case("the rule's path answered 410 as sent", (*USED_HEALTHY, KNOWN_SITE, PathAsSent(
        PathProblem.GONE, 410, "/wiki/rest/api/x", "gone as sent")), Context(rule=True), C.ENDPOINT_GONE, CF.CONFIRMED),
    Case("the rule's path is a removed one, not sent", (*USED_HEALTHY, KNOWN_SITE, PathAsSent(
        PathProblem.GONE, None, "/wiki/rest/api/x", "gone")), Context(rule=True), C.ENDPOINT_GONE, CF.LIKELY),
    Case("the rule's path answered 404 as sent", (*USED_HEALTHY, KNOWN_SITE, PathAsSent(
        PathProblem.NOT_FOUND, 404, "/rest/api/x", "not found as sent", "did you mean /wiki/rest/api/x?")),
         Context(rule=True), C.ENDPOINT_NOT_FOUND, CF.CONFIRMED, fix_says=("did you mean /wiki/rest/api/x?",)),
    Case("the rule's path is no route, not sent", (*USED_HEALTHY, KNOWN_SITE, PathAsSent(
        PathProblem.NOT_FOUND, None, "/rest/api/x", "not found")), Context(rule=True), C.ENDPOINT_NOT_FOUND,
         CF.LIKELY),
    Case("a space grant missing from a list cut short", (*USED_HEALTHY, SITE_CALL, SpaceGrant(
        "DOCS", ("read",), ("the list was cut short",))), reported(403, endpoint=True), C.SPACE_PERMISSION_MISSING,
         CF.POSSIBLE),
    Case("the page check refuses, the space grant unknown",
         (*USED_HEALTHY, SITE_CALL, PageCheck("1", "read", False, None)), reported(403, endpoint=True),
         C.PAGE_RESTRICTED, CF.LIKELY),
    *(Case(f"the {kind.value} body reported", (*USED_HEALTHY, body(status, kind)), reported(status, with_body=True),
           cause, CF.LIKELY) for status, kind, cause in (
        (429, Kind.RATE_LIMITED, C.RATE_LIMITED), (410, Kind.GONE, C.ENDPOINT_GONE),
        (404, Kind.UNKNOWN_PATH, C.ENDPOINT_NOT_FOUND))),

    # -- near misses of the support rules ------------------------------------------------------------
    Case("an external account signed in at the gateway, a permission body reported: no token-policy suspect",
         (SITE_OK, FOUND, ACTIVE, EXTERNAL, ROLE, USED, KNOWN_GATEWAY, body(403, Kind.PERMISSION_EXCEPTION)),
         reported(403, with_body=True), C.SPACE_PERMISSION_MISSING, CF.LIKELY),
    Case("'Basic Authentication has been disabled' reported, the account's owner not read: the authentication policy",
         (SITE_OK, FOUND, ACTIVE, ROLE, USED, body(403, Kind.BASIC_DISABLED)), reported(403, with_body=True),
         C.API_TOKEN_AUTH_DISABLED, CF.LIKELY),
    Case("a space that grants everything, read from a list cut short, is no space suspect",
         (*USED_HEALTHY, KNOWN_SITE, SpaceGrant("DOCS", (), ("cut short",))), reported(403), C.REQUEST_NOT_AS_TESTED,
         CF.LIKELY),
    Case("the page check refuses though the space grants it: a page restriction",
         (*USED_HEALTHY, SITE_CALL, PageCheck("1", "read", False, True)), reported(403, endpoint=True),
         C.PAGE_RESTRICTED, CF.CONFIRMED, says=("a page restriction denies it",)),
    Case("the page check refuses and the space does not grant it: no page restriction shown",
         (*USED_HEALTHY, KNOWN_SITE, SITE_CALL, PageCheck("1", "read", False, False)), reported(403, endpoint=True),
         C.REQUEST_NOT_AS_TESTED, CF.LIKELY),
    Case("an anonymous fallback is a direct clue and comes before the never-used one",
         (*HEALTHY, NEVER, SITE_CALL, NO_READ, ANONYMOUS_CONTROL), reported(403, endpoint=True),
         C.CREDENTIAL_REJECTED, CF.POSSIBLE, starts="The site lets anonymous users in", says=("never used",)),

    # -- an OAuth token works only where it is meant to be used ---------------------------------------
    Case("an access token the gateway refuses with a 401 of its own is never ok",
         (SITE_OK, LIVE_OAUTH, OAuthAnswer(Where.GATEWAY, 401, Answer.REFUSED, Kind.UNRECOGNISED, "401")),
         Context(oauth=True), C.INCONCLUSIVE, CF.POSSIBLE),
    Case("an access token the site URL answered is no working credential (only the gateway takes one)",
         (SITE_OK, LIVE_OAUTH, OAuthAnswer(Where.SITE, 200, Answer.KNOWN, None, "200")), Context(oauth=True),
         C.INCONCLUSIVE, CF.POSSIBLE),
    Case("an access token the gateway takes, nothing reported, no call named: no blocker",
         (SITE_OK, LIVE_OAUTH, LISTED, OAUTH_GATEWAY_OK), Context(oauth=True), C.OK, CF.LIKELY,
         title="No blocker found in the account"),

    *(Case(f"the call works as Basic while the caller got a bare {status}: the caller's credential, likely",
           (*USED_HEALTHY, KNOWN_SITE, SITE_CALL, WORKS), reported(status, endpoint=True), C.CREDENTIAL_REJECTED,
           CF.LIKELY) for status in (401, 403, 404)),
    Case("one API token, expired", (SITE_OK, FOUND, ACTIVE, PERSON, ROLE, TokenList(1, 0, False, None, None, "'a'")),
         reported(401), C.TOKEN_EXPIRED, CF.CONFIRMED, says=("Every API token of the account has expired",)),
    Case("accessible-resources lists no site at all", (SITE_OK, LIVE_OAUTH, OAuthResources(200, False, ())),
         reported(401, oauth=True), C.OAUTH_SITE_NOT_AUTHORIZED, CF.CONFIRMED, says=("lists no site, not this one",)),
    *(Case(f"the rule's removed path answered {answered} as sent: indirect", (*USED_HEALTHY, KNOWN_SITE, PathAsSent(
        PathProblem.GONE, answered, "/wiki/rest/api/x", "gone")), Context(rule=True), C.ENDPOINT_GONE, CF.LIKELY)
      for answered in (400, 404, 411)),
    *(Case(f"the rule's unknown path answered {answered} as sent: indirect", (*USED_HEALTHY, KNOWN_SITE, PathAsSent(
        PathProblem.NOT_FOUND, answered, "/rest/api/x", "not found")), Context(rule=True), C.ENDPOINT_NOT_FOUND,
        CF.LIKELY) for answered in (400, 405)),
    Case("a space grant missing from a list cut short and a permission body reported: the body first, the hint after",
         (*USED_HEALTHY, SITE_CALL, SpaceGrant("DOCS", ("read",), ("the list was cut short",)),
          body(403, Kind.PERMISSION_EXCEPTION)), reported(403, with_body=True, endpoint=True),
         C.SPACE_PERMISSION_MISSING, CF.LIKELY, starts="The failing call was reported answering",
         says=("the list was cut short",)),
    Case("the gateway took the token, the site's answer lost, nothing else read: inconclusive",
         (SITE_OK, KNOWN_GATEWAY, Unreadable("the site replay")), Context(), C.INCONCLUSIVE, CF.POSSIBLE),
    Case("the gateway took the token and the call goes to the gateway: ok",
         (SITE_OK, KNOWN_GATEWAY, GATEWAY_CALL, EndpointReplay("GET", "/ex/confluence/c1/wiki/rest/api/space", 200,
                                                                 None, "200")), Context(endpoint=True),
         C.OK, CF.CONFIRMED),

    Case("a service account and too little read: inconclusive, and it says the credential works only at the gateway",
         (SITE_OK, APP), reported(401), C.INCONCLUSIVE, CF.POSSIBLE,
         starts="The actor is a service account: its credential", says=("never at the site URL",)),

    # -- what is left open, and the title of an `ok` -------------------------------------------------
    Case("a reported failure every checked layer passes leaves every caller-side cause open",
         (*HEALTHY, USED), reported(403), C.REQUEST_NOT_AS_TESTED, CF.POSSIBLE, open=CALLER_SIDE),
    Case("... but the site URL once the site took the token",
         (*HEALTHY, USED, KNOWN_SITE), reported(403), C.REQUEST_NOT_AS_TESTED, CF.LIKELY, never_says=("Note:",),
         open=tuple(c for c in CALLER_SIDE if c is not C.SCOPED_TOKEN_SITE_URL)),
    Case("a likely product-access verdict leaves open its own rivals only, no caller-side cause",
         (SITE_OK, FOUND, ACTIVE, AccessByEmail("a@acme.com", has_access=False), SITE_CALL), reported(403),
         C.NO_CONFLUENCE_ACCESS, CF.LIKELY, open=()),
    Case("a confirmed caller-side verdict leaves no other caller-side cause open",
         (*HEALTHY, USED, REJECTED_AT_SITE, GATEWAY_401), reported(403), C.CREDENTIAL_REJECTED, CF.CONFIRMED, open=()),
    Case("nothing reported and nothing named: the call was not described",
         (*HEALTHY, USED, KNOWN_SITE), Context(), C.OK, CF.LIKELY, title="No blocker found in the account",
         says=("the failing call itself was not described",)),
    Case("a call named but not replayed (no token): the explanation says so",
         (*HEALTHY, USED), Context(endpoint=True), C.OK, CF.LIKELY, title="No blocker found in the account",
         says=("not replayed (no actor token)",)),
    Case("the named call replayed and working: the plain ok title",
         (*HEALTHY, USED, KNOWN_SITE, SITE_CALL, WORKS), Context(endpoint=True), C.OK, CF.CONFIRMED,
         title=BY_CODE[C.OK].title),
    Case("a rule whose header works as sent: the plain ok title",
         (*HEALTHY, USED, KNOWN_SITE, HeaderAsSent(None, True, True, "Basic, 200")), Context(rule=True), C.OK,
         CF.CONFIRMED, title=BY_CODE[C.OK].title),
    Case("a scoped token used at the gateway, the call replayed there and working: ok, confirmed",
         (*HEALTHY, USED, at(Where.SITE, 401, Answer.REFUSED, Kind.SCOPED_ON_SITE),
          at(Where.GATEWAY, 200, Answer.KNOWN),
          FailingCall("GET", "/ex/confluence/c1/wiki/rest/api/space", Where.GATEWAY, "GET gateway"), WORKS),
         Context(endpoint=True), C.OK, CF.CONFIRMED),
    Case("an active account whose product access was not read: too little to say ok",
         (SITE_OK, FOUND, ACTIVE, PERSON), Context(), C.INCONCLUSIVE, CF.POSSIBLE,
         fix_says=(BY_CODE[C.INCONCLUSIVE].fix[0],)),
    Case("too little checked because a step could not run: the fix says how to get it run",
         (SITE_OK, FOUND, ACTIVE, PERSON), Context(not_checked=(NotChecked("role assignments", "a request failed"),)),
         C.INCONCLUSIVE, CF.POSSIBLE, fix_says=("Run the check again",)),
    Case("a rule whose header works as sent, nothing else replayed: ok, likely",
         (SITE_OK, FOUND, PERSON, HeaderAsSent(None, True, True, "Basic, 200")), Context(rule=True), C.OK, CF.LIKELY,
         title=BY_CODE[C.OK].title),

    # -- what a caller-side verdict says passed is only what passed ---------------------------------
    Case("the rule actor's status is not said to be the account's",
         (SITE_OK, FOUND, PERSON, ROLE, KNOWN_SITE,
          AccountStatus(AccountState.ACTIVE, "accountStatus=active", rule_actor=True, who="bot@acme.com")),
         reported(403), C.REQUEST_NOT_AS_TESTED, CF.LIKELY, says=("it has a Confluence role",),
         never_says=("the account is active",)),
    Case("a refused replay is not said to be accepted",
         (*HEALTHY, USED, REJECTED_AT_SITE, at(Where.GATEWAY, 403, Answer.REFUSED, Kind.HEADLINE_403)), reported(403),
         C.REQUEST_NOT_AS_TESTED, CF.POSSIBLE, says=("the account is active",), never_says=("accepted",)),
    Case("a space that grants what the call needs is said to",
         (*HEALTHY, USED, KNOWN_SITE, SpaceGrant("DOCS", ())), reported(403), C.REQUEST_NOT_AS_TESTED, CF.LIKELY,
         says=("the site accepted the actor's token", "space DOCS grants the account what the call needs")),
    Case("a missing space grant with the call replayed (refused) on a site open to anonymous users: confirmed",
         (*HEALTHY, USED, SITE_CALL, NO_READ, ANONYMOUS_CONTROL,
          EndpointReplay("GET", PATH, 403, Kind.PERMISSION_EXCEPTION, "403 PermissionException")),
         reported(403, endpoint=True), C.SPACE_PERMISSION_MISSING, CF.CONFIRMED),
    Case("a rule whose header could not be sent: too little to say what fails",
         (SITE_OK, FOUND, PERSON, HeaderAsSent(None, False, False, "not sent")), Context(rule=True),
         C.INCONCLUSIVE, CF.POSSIBLE),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_rule_holds(case: Case) -> None:
    verdict = verdict_of(case.seen, case.context)
    got = (verdict.cause, verdict.confidence)
    assert got == (case.cause, case.confidence), (got, verdict.explanation, verdict.not_ruled_out)
    assert verdict.explanation.startswith(case.starts), verdict.explanation
    for words in case.says:
        assert words in verdict.explanation, verdict.explanation
    for words in case.never_says:
        assert words not in verdict.explanation, verdict.explanation
    if case.open is not None:
        assert {o.cause for o in verdict.not_ruled_out} == set(case.open), verdict.not_ruled_out
    if case.title is not None:
        assert verdict.title == case.title
    for words in case.fix_says:
        assert words in " ".join(verdict.fix), verdict.fix
    assert bool(verdict.fix) is (verdict.cause is not C.OK), verdict.fix  # every problem says what to do


def test_a_reported_gateway_refusal_rules_the_site_url_out_for_a_service_account() -> None:
    # 401 'Unauthorized' comes only from the gateway: the caller already uses it, whatever its account
    seen = (SITE_OK, FOUND, ACTIVE, AccountKind(AccountType.APP, Claim.UNKNOWN), ROLE,
            body(401, Kind.GATEWAY_UNAUTHORIZED))
    verdict = verdict_of(seen, reported(401, with_body=True))
    assert verdict.cause is not C.SCOPED_TOKEN_SITE_URL
    assert C.SCOPED_TOKEN_SITE_URL in {r.cause for r in verdict.ruled_out}



# -- what rules each cause out ---------------------------------------------------------------------
# One observation (or the fewest that make the rule apply), and the sentence the verdict gives for the
# cause it excludes; None: the observation must not exclude it (a near miss of the rule).
MANAGED = PERSON
RULE_ACTOR_DOWN = AccountStatus(AccountState.DEACTIVATED, "accountStatus=inactive", rule_actor=True, who="bot")
R403 = reported(403)

RULED_OUT: list[tuple[str, tuple[Observation, ...], Context, CauseCode, str | None]] = [
    ("a cloudId: a site", (SITE_OK,), Context(), C.SITE_NOT_FOUND, "Not a wrong site: "),
    ("a cloudId: not Data Center", (SITE_OK,), Context(), C.NOT_A_CLOUD_SITE, "Not Data Center: "),
    ("every system operational", (StatusPage(False, False, "All Systems Operational"),), Context(),
     C.ATLASSIAN_INCIDENT, "Not an incident: Atlassian's status page"),
    ("a degraded status page is no all-clear", (StatusPage(False, True, "Degraded"),), Context(),
     C.ATLASSIAN_INCIDENT, None),
    ("a 4xx body is a refusal", (body(403, Kind.UNRECOGNISED),), reported(403, with_body=True),
     C.ATLASSIAN_INCIDENT, "Not an incident: a 403 is a refusal"),
    ("a 5xx body is no refusal", (body(503, Kind.SERVER_ERROR),), reported(503, with_body=True),
     C.ATLASSIAN_INCIDENT, None),
    ("a 400 body is a refusal", (body(400, Kind.UNRECOGNISED),), reported(400, with_body=True),
     C.ATLASSIAN_INCIDENT, "Not an incident: a 400 is a refusal"),
    ("a 500 body is no refusal", (body(500, Kind.SERVER_ERROR),), reported(500, with_body=True),
     C.ATLASSIAN_INCIDENT, None),
    ("the directory lists the account", (FOUND,), Context(), C.ACTOR_NOT_FOUND, "The account exists: "),
    ("the gateway signed the token in as a guest", (at(Where.GATEWAY, 200, Answer.GUEST),), Context(),
     C.ACTOR_NOT_FOUND, "The account exists: the gateway signed"),
    ("the control call without a credential proves no account", (at(Where.NOWHERE, 200, Answer.KNOWN),), Context(),
     C.ACTOR_NOT_FOUND, None),
    ("active: not deactivated", (ACTIVE,), Context(), C.ACCOUNT_DEACTIVATED, "Not deactivated: the admin API"),
    ("the rule actor active says nothing of the account", (AccountStatus(
        AccountState.ACTIVE, "accountStatus=active", rule_actor=True, who="bot"),), Context(),
     C.ACCOUNT_DEACTIVATED, None),
    ("signed in at the site: not deactivated", (KNOWN_SITE,), Context(), C.ACCOUNT_DEACTIVATED,
     "Not deactivated: the site signed"),
    ("signed in at the site, the rule's actor active: not deactivated", (KNOWN_SITE, AccountStatus(
        AccountState.ACTIVE, "accountStatus=active", rule_actor=True, who="bot")), Context(rule=True),
     C.ACCOUNT_DEACTIVATED, "Not deactivated: the site signed"),
    ("signed in, but the rule's actor is deactivated", (KNOWN_SITE, RULE_ACTOR_DOWN), Context(rule=True),
     C.ACCOUNT_DEACTIVATED, None),
    ("active: not suspended", (ACTIVE,), Context(), C.ACCOUNT_SUSPENDED, "Not suspended: the admin API"),
    ("signed in at the gateway: not suspended", (KNOWN_GATEWAY,), Context(), C.ACCOUNT_SUSPENDED,
     "Not suspended: the gateway signed"),
    ("a token the site takes is no password", (KNOWN_SITE,), Context(), C.PASSWORD_USED, "Not a password: "),
    ("a Basic header is no Bearer", (HEADER_OK,), Context(rule=True), C.BEARER_WITH_API_TOKEN, "Not Bearer: "),
    ("a malformed header may still be Bearer", (HeaderAsSent(HeaderProblem.MALFORMED, False, True, "x"),),
     Context(rule=True), C.BEARER_WITH_API_TOKEN, None),
    ("a header form described that works when sent is not why the call fails", (HeaderAsSent(
        HeaderProblem.BEARER, True, True, "Sent as Bearer, the token was answered 200", reported=True),), reported(401),
     C.BEARER_WITH_API_TOKEN, "Not the header form: sent as Bearer, the token was answered 200"),
    ("a Bearer header is a header", (HeaderAsSent(HeaderProblem.BEARER, False, True, "Bearer"),), Context(rule=True),
     C.AUTH_HEADER_MISSING, "Not a missing header: "),
    ("a missing header is missing", (HeaderAsSent(HeaderProblem.MISSING, False, True, "none"),), Context(rule=True),
     C.AUTH_HEADER_MISSING, None),
    ("a Basic header is well formed", (HEADER_OK,), Context(rule=True), C.AUTH_HEADER_MALFORMED,
     "Not a malformed header: "),
    ("an access token obtained: the client credentials work", (LIVE_OAUTH,), Context(oauth=True),
     C.OAUTH_CLIENT_REJECTED, "Not the client credentials: "),
    ("the site took the token: not scoped", (KNOWN_SITE,), Context(), C.SCOPED_TOKEN_SITE_URL,
     "Not a scoped token: the site URL accepted"),
    ("the same refusal at site and gateway", (REJECTED_AT_SITE, at(Where.GATEWAY, 403, Answer.REFUSED,
                                                                    Kind.HEADLINE_403)), R403,
     C.SCOPED_TOKEN_SITE_URL, "Not a scoped token: the gateway refused it as well, 403"),
    ("a different refusal at site and gateway is not the same refusal",
     (at(Where.SITE, 401, Answer.REFUSED, Kind.UNRECOGNISED), at(Where.GATEWAY, 403, Answer.REFUSED,
                                                                  Kind.HEADLINE_403)), R403,
     C.SCOPED_TOKEN_SITE_URL, None),
    ("the site says password", (at(Where.SITE, 401, Answer.REFUSED, Kind.PASSWORD),), reported(401),
     C.SCOPED_TOKEN_SITE_URL, "Not a scoped token: the site says the secret given is a password"),
    ("a body only the gateway gives", (body(401, Kind.SCOPE_MISMATCH),), reported(401, with_body=True),
     C.SCOPED_TOKEN_SITE_URL, "Not the site URL: the caller was answered"),
    ("a call to the gateway", (GATEWAY_CALL,), Context(endpoint=True), C.SCOPED_TOKEN_SITE_URL,
     "Not the site URL: the failing call already goes to the gateway"),
    ("a call to the site", (SITE_CALL,), Context(endpoint=True), C.SCOPED_TOKEN_SITE_URL, None),
    ("a Data Center node", (SiteAnswer("https://wiki.acme.com", 404, None, data_center=True),), Context(),
     C.SCOPED_TOKEN_SITE_URL, "Not a scoped token on a Cloud site: "),
    ("an OAuth call to the gateway", (GATEWAY_CALL,), Context(endpoint=True, oauth=True), C.OAUTH_TOKEN_SITE_URL,
     "Not the site URL: the failing call already goes"),
    ("an OAuth caller answered what only the gateway says", (body(401, Kind.GATEWAY_UNAUTHORIZED),),
     reported(401, with_body=True, oauth=True), C.OAUTH_TOKEN_SITE_URL, "Not the site URL: the caller was answered"),
    ("a valid token listed", (USED,), Context(), C.TOKEN_EXPIRED, "Not an expired token: the account has 1"),
    ("the gateway refused only for a scope: the token was authenticated",
     (at(Where.GATEWAY, 401, Answer.REFUSED, Kind.SCOPE_MISMATCH),), reported(401), C.TOKEN_EXPIRED,
     "Not an expired token: the gateway authenticated it"),
    ("a refusal at the gateway authenticates nothing", (GATEWAY_401,), reported(401), C.TOKEN_EXPIRED, None),
    ("a live exp claim", (LIVE_OAUTH,), Context(oauth=True), C.OAUTH_TOKEN_EXPIRED, "Not expired: the token's exp"),
    ("no readable exp claim says nothing", (OAuthToken(False, None),), Context(oauth=True), C.OAUTH_TOKEN_EXPIRED,
     None),
    ("the gateway took the access token: not expired", (OAUTH_GATEWAY_OK,), Context(oauth=True),
     C.OAUTH_TOKEN_EXPIRED, "Not expired: the gateway authenticated"),
    ("accessible-resources lists this site", (LISTED,), Context(oauth=True), C.OAUTH_SITE_NOT_AUTHORIZED,
     "Not another site's token: "),
    ("an expired access token refused: expiry explains it", (EXPIRED_OAUTH, OAuthResources(401, False)),
     reported(401, oauth=True), C.CREDENTIAL_REJECTED, "Explained by the token's expiry"),
    ("accessible-resources accepts the access token", (OAuthResources(200, False),), Context(oauth=True),
     C.CREDENTIAL_REJECTED, "Not a rejected credential: accessible-resources accepts"),
    ("the gateway took the access token: not rejected", (OAUTH_GATEWAY_OK,), Context(oauth=True),
     C.CREDENTIAL_REJECTED, "Not a rejected credential: the gateway authenticated the access token"),
    ("the gateway refused only for a scope: not rejected", (at(Where.GATEWAY, 401, Answer.REFUSED,
                                                                Kind.SCOPE_MISMATCH),), reported(401),
     C.CREDENTIAL_REJECTED, "Not a rejected credential: the gateway authenticated it"),
    ("the gateway's headline 403 while the site ignores the token is no such proof",
     (at(Where.GATEWAY, 403, Answer.REFUSED, Kind.HEADLINE_403), at(Where.SITE, 200, Answer.ANONYMOUS)), R403,
     C.CREDENTIAL_REJECTED, None),
    ("a deactivated account explains a refused token", (AccountStatus(AccountState.DEACTIVATED, "inactive"),),
     R403, C.CREDENTIAL_REJECTED, "Explained by the account itself"),
    ("the rule's actor deactivated explains nothing of the account's token", (RULE_ACTOR_DOWN,), R403,
     C.CREDENTIAL_REJECTED, None),
    ("no valid token left", (TokenList(1, 0, False, None, None, "'old'"),), R403, C.CREDENTIAL_REJECTED,
     "Explained by the token list"),
    ("a header the rule does not send", (HeaderAsSent(HeaderProblem.MISSING, False, True, "none"),),
     Context(rule=True), C.CREDENTIAL_REJECTED, "Explained by the header as sent: it is missing"),
    ("the site took the token: no external-user policy", (KNOWN_SITE,), Context(), C.API_TOKEN_BLOCKED,
     "Not a token policy: "),
    ("a managed account: no external-user policy", (MANAGED,), Context(), C.API_TOKEN_BLOCKED,
     "Not the external-user token policy"),
    ("the site took the token: no authentication policy", (KNOWN_SITE,), Context(), C.API_TOKEN_AUTH_DISABLED,
     "Not a token policy: "),
    ("an external account: no authentication policy", (EXTERNAL,), Context(), C.API_TOKEN_AUTH_DISABLED,
     "Not an authentication policy: "),
    ("the gateway took the token says nothing of the site's policy", (KNOWN_GATEWAY,), Context(),
     C.API_TOKEN_AUTH_DISABLED, None),
    ("no allowlist enabled", (IpAllowlist((), True),), Context(), C.IP_NOT_ALLOWLISTED, "Not an IP allowlist"),
    ("no allowlist among a list cut short proves nothing", (IpAllowlist((), False),), Context(),
     C.IP_NOT_ALLOWLISTED, None),
    ("a Confluence role", (ROLE,), Context(), C.NO_CONFLUENCE_ACCESS, "Not product access: the admin API lists"),
    ("check-access-by-email says access", (AccessByEmail("a@acme.com", True),), Context(), C.NO_CONFLUENCE_ACCESS,
     "Not product access: Confluence says"),
    ("signed in at the site", (KNOWN_SITE,), Context(), C.NO_CONFLUENCE_ACCESS,
     "Not product access: Confluence signed"),
    ("signed in at the site as a guest is no licensed access", (at(Where.SITE, 200, Answer.GUEST),), Context(),
     C.NO_CONFLUENCE_ACCESS, None),
    ("the call works", (WORKS,), Context(endpoint=True), C.NO_CONFLUENCE_ACCESS, "the failing call itself works"),
    ("the call served as anonymous does not work", (EndpointReplay("GET", PATH, 200, None, "200", anonymous=True),),
     Context(endpoint=True), C.NO_CONFLUENCE_ACCESS, None),
    ("a licensed role: no guest", (ROLE,), Context(), C.GUEST_ACCESS_ONLY, "Not a guest: the admin API"),
    ("a full user at the site: no guest", (KNOWN_SITE,), Context(), C.GUEST_ACCESS_ONLY, "Not a guest: Confluence"),
    ("a known user at the gateway may still be a guest at the site", (KNOWN_GATEWAY,), Context(),
     C.GUEST_ACCESS_ONLY, None),
    *((f"the call works: not {c.value}", (WORKS,), Context(endpoint=True), c, "the failing call itself works")
      for c in (C.MISSING_SCOPE, C.ENDPOINT_GONE, C.ENDPOINT_NOT_FOUND, C.SPACE_PERMISSION_MISSING,
                C.PAGE_RESTRICTED)),
    ("a GET is no write", (SITE_CALL,), Context(endpoint=True), C.XSRF_CHECK_FAILED, "Not XSRF protection: "),
    ("a POST may be refused as XSRF", (FailingCall("POST", "/wiki/rest/api/content", Where.SITE, "POST content"),),
     Context(endpoint=True), C.XSRF_CHECK_FAILED, None),
    ("the space grants what the call needs", (SpaceGrant("DOCS", ()), SITE_CALL), Context(endpoint=True),
     C.SPACE_PERMISSION_MISSING, "Not a space permission: "),
    ("a space grant without a call to need it proves nothing", (SpaceGrant("DOCS", ()),), Context(),
     C.SPACE_PERMISSION_MISSING, None),
    ("the page check lets the account read", (PageCheck("123", "read", True, True),), Context(), C.PAGE_RESTRICTED,
     "Not a page restriction: "),
    ("a 403 is no rate limit", (body(403, Kind.UNRECOGNISED),), reported(403, with_body=True), C.RATE_LIMITED,
     "Not rate limiting: the call answered 403"),
    ("a body without its status says nothing of 429", (body(None, Kind.UNRECOGNISED),), reported(with_body=True),
     C.RATE_LIMITED, None),
]


@pytest.mark.parametrize(("seen", "context", "cause", "says"), [r[1:] for r in RULED_OUT],
                         ids=[r[0] for r in RULED_OUT])
def test_what_rules_a_cause_out(seen: tuple[Observation, ...], context: Context, cause: CauseCode,
                                says: str | None) -> None:
    verdict = verdict_of(seen, context)
    by = {r.cause: r.by for r in verdict.ruled_out}
    if says is None:
        assert cause not in by, by.get(cause)
    else:
        assert by.get(cause, "").startswith(says), (cause, by.get(cause))


def test_findings_beside_the_verdict_are_never_surer_than_their_own_evidence() -> None:
    """The verdict's own finding carries the verdict's confidence; another cause a direct, decisive
    observation supports is at most `likely` (the verdict shadows or rivals it); any other is `possible`."""
    seen = (SITE_OK, FOUND, ACTIVE, PERSON, NO_ROLE, USED, REJECTED_AT_SITE, GATEWAY_401,
            body(403, Kind.PERMISSION_EXCEPTION))
    found = assess([Seen("t.step", o) for o in seen], reported(403, with_body=True)).findings
    assert [(f.cause, f.confidence) for f in found] == [
        (C.CREDENTIAL_REJECTED, CF.CONFIRMED),  # the verdict
        (C.NO_CONFLUENCE_ACCESS, CF.LIKELY),  # the role list: direct and decisive, but behind the credential
        (C.SPACE_PERMISSION_MISSING, CF.POSSIBLE),  # a reported body: indirect
    ]
    outage = (SITE_OK, FOUND, AccountStatus(AccountState.DEACTIVATED, "inactive"), StatusPage(True, True, "outage"))
    found = assess([Seen("t.step", o) for o in outage], reported(503)).findings
    assert [(f.cause, f.confidence) for f in found] == [
        (C.ATLASSIAN_INCIDENT, CF.POSSIBLE),  # direct, but the status page decides nothing alone
        (C.ACCOUNT_DEACTIVATED, CF.POSSIBLE),  # the verdict, rivalled by the incident
    ]


def test_a_rival_something_spoke_for_is_named_first_among_the_ruled_out() -> None:
    # the reported body spoke for a password; the replay ruled it out: that is the exclusion to show first
    seen = (*USED_HEALTHY, KNOWN_SITE, body(401, Kind.PASSWORD))
    verdict = verdict_of(seen, reported(401, with_body=True))
    assert verdict.cause is C.REQUEST_NOT_AS_TESTED
    assert verdict.ruled_out[0].cause is C.PASSWORD_USED, verdict.ruled_out[:3]


# Every reason a step could not run, and one it does not explain: more actions than a fix should list.
EVERY_NEED = (*(NotChecked(need.value, why) for need, why in NEED_REASON.items()),
              NotChecked("the status page", "the request failed"))


@pytest.mark.parametrize("status", [None, 403])
def test_an_inconclusive_fix_lists_the_six_actions_first_needed(status: int | None) -> None:
    verdict = verdict_of((SITE_OK,), Context(reported_status=status, not_checked=EVERY_NEED))
    assert verdict.cause is C.INCONCLUSIVE
    assert verdict.fix == tuple(NEED_ACTION[need] for need in NEED_REASON)[:6]


def test_something_absent_leads_the_fix_followed_by_three_actions() -> None:
    seen = (*USED_HEALTHY, KNOWN_SITE, Absent("space NOPE does not exist", "Check the space key"))
    verdict = verdict_of(seen, Context(reported_status=403, not_checked=EVERY_NEED))
    assert verdict.fix == ("Check the space key", *tuple(NEED_ACTION[need] for need in NEED_REASON)[:3])


@pytest.mark.parametrize("refusal", [NO_READ, PageCheck("123", "read", False, True)], ids=["space", "page"])
def test_an_anonymous_fallback_keeps_the_content_refusal_as_a_finding_that_says_why_it_decides_nothing(
        refusal: Observation) -> None:
    seen = (*USED_HEALTHY, SITE_CALL, refusal, ANONYMOUS_CONTROL)
    found = assess([Seen("t.step", o) for o in seen], reported(403, endpoint=True)).findings
    content = C.SPACE_PERMISSION_MISSING if isinstance(refusal, SpaceGrant) else C.PAGE_RESTRICTED
    assert [(f.cause, f.confidence) for f in found] == [(C.CREDENTIAL_REJECTED, CF.POSSIBLE), (content, CF.POSSIBLE)]
    assert "only a replay with the actor's token tells them apart" in found[1].detail


def test_the_explanation_gives_the_two_strongest_observations_and_observed_lists_every_one() -> None:
    steps = {"replay.endpoint": WORKS, "credential.api_tokens": NEVER,
             "input.body": body(401, Kind.GATEWAY_UNAUTHORIZED)}
    seen = [Seen("t.step", o) for o in (*HEALTHY, KNOWN_SITE, SITE_CALL)] + [Seen(k, o) for k, o in steps.items()]
    assessed = assess(seen, reported(401, with_body=True, endpoint=True))
    verdict = assessed.verdict
    assert (verdict.cause, verdict.confidence) == (C.CREDENTIAL_REJECTED, CF.CONFIRMED)
    first, second, third = verdict.observed  # strongest first: the replay (direct, decisive), then the indirect
    assert first.startswith("The same call succeeds") and third.startswith("The gateway answered the caller")
    assert first in verdict.explanation and second in verdict.explanation and third not in verdict.explanation
    assert verdict.decided_by == ("replay.endpoint", "credential.api_tokens", "input.body")
    (finding,) = assessed.findings
    assert second in finding.detail and third not in finding.detail


def test_an_inconclusive_explanation_names_three_things_that_looked_wrong_and_observed_every_one() -> None:
    absent = [Absent(f"space S{i} does not exist") for i in range(4)]
    verdict = verdict_of((*USED_HEALTHY, KNOWN_SITE, *absent), reported(403))
    assert verdict.cause is C.INCONCLUSIVE
    assert [a.what in verdict.explanation for a in absent] == [True, True, True, False]
    assert verdict.observed == tuple(a.what for a in absent)


def test_a_step_whose_answer_was_lost_decides_nothing() -> None:
    seen = [Seen("site.identity", KNOWN_SITE), Seen("admin.status", ACTIVE), Seen("admin.roles", ROLE),
            Seen("status.page", Unreadable("the status page"))]
    verdict = judge(seen, reported(403))
    assert verdict.cause is C.REQUEST_NOT_AS_TESTED
    assert verdict.decided_by == ("site.identity", "admin.status", "admin.roles")


@pytest.mark.parametrize(("seen", "context"), [
    ((*USED_HEALTHY, KNOWN_SITE, HEADER_OK), Context(rule=True)),
    ((*USED_HEALTHY, KNOWN_SITE, KNOWN_GATEWAY), reported(403)),
    ((SITE_OK, FOUND, ACTIVE, PERSON, ROLE, LIVE_OAUTH, LISTED, OAUTH_GATEWAY_OK), Context(oauth=True)),
], ids=["rule header works", "token works at site and gateway", "oauth token works"])
def test_with_nothing_spoken_for_the_ruled_out_are_listed_in_catalogue_order(
        seen: tuple[Observation, ...], context: Context) -> None:
    # an observation that rules a cause out speaks for none of them: no excluded cause jumps the queue
    excluded = [r.cause for r in verdict_of(seen, context).ruled_out]
    assert len(excluded) > 5 and excluded == sorted(excluded, key=position)


HEADER_WAYS = (C.AUTH_HEADER_MISSING, C.AUTH_HEADER_MALFORMED)


@pytest.mark.parametrize(("seen", "context", "lead", "rest"), [
    ((*HEALTHY, LIVE_OAUTH, LISTED, OAUTH_GATEWAY_OK), reported(401, oauth=True),
     (C.OAUTH_TOKEN_SITE_URL, C.MISSING_SCOPE), (*HEADER_WAYS, C.ENDPOINT_NOT_FOUND)),
    ((*USED_HEALTHY, at(Where.SITE, 401, Answer.REFUSED, Kind.SCOPED_ON_SITE), KNOWN_GATEWAY), reported(401),
     (C.SCOPED_TOKEN_SITE_URL, C.MISSING_SCOPE),
     (*HEADER_WAYS, C.BEARER_WITH_API_TOKEN, C.CREDENTIAL_REJECTED, C.ENDPOINT_NOT_FOUND)),
    # the OAuth credential given, its gateway answer lost: still an OAuth token, so the same lead
    ((SITE_OK, FOUND, ACTIVE, PERSON, ROLE, LIVE_OAUTH, LISTED, Unreadable("the gateway identity call")),
     reported(401, oauth=True), (C.OAUTH_TOKEN_SITE_URL, C.MISSING_SCOPE), (*HEADER_WAYS, C.ENDPOINT_NOT_FOUND)),
], ids=["oauth token", "scoped token", "oauth token, gateway answer lost"])
def test_a_gateway_only_credential_leads_the_open_list_with_the_url_and_keeps_the_other_ways_after(
        seen: tuple[Observation, ...], context: Context, lead: tuple[CauseCode, ...],
        rest: tuple[CauseCode, ...]) -> None:
    verdict = verdict_of(seen, context)
    assert verdict.cause is C.REQUEST_NOT_AS_TESTED
    assert tuple(o.cause for o in verdict.not_ruled_out) == (*lead, *rest)
    # the credential was tried: what decides the lead is the failing call's URL; the rest keep their own
    assert [o.would_decide == URL_DECIDES for o in verdict.not_ruled_out] == [c in lead for c in (*lead, *rest)]


def test_a_service_account_untried_leads_with_every_gateway_only_way_each_with_its_own_check() -> None:
    verdict = verdict_of((SITE_OK, FOUND, ACTIVE, APP, ROLE, USED), reported(401))
    assert tuple(o.cause for o in verdict.not_ruled_out) == (
        C.SCOPED_TOKEN_SITE_URL, C.OAUTH_TOKEN_SITE_URL, C.OAUTH_TOKEN_EXPIRED, C.MISSING_SCOPE, *HEADER_WAYS,
        C.BEARER_WITH_API_TOKEN, C.CREDENTIAL_REJECTED, C.ENDPOINT_NOT_FOUND)
    assert all(o.would_decide != URL_DECIDES for o in verdict.not_ruled_out)
