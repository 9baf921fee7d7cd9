"""The judge: the one place that turns a run's observations into a verdict (differential diagnosis).

Public API: `judge(seen, context) -> Verdict` (and `assess`, which also returns the other supported
causes as `FindingSummary`s). `Seen(step, observation)` pairs an observation with the step that made it;
`Context` holds the run's input (what was reported) and the fix-template facts.

`TABLE` holds, for every cause of docs/causes.md, as data: the observations that support it (each with
a weight, and whether it is decisive), the observations that rule it out (each with the sentence shown
to the admin), and what would decide it when nothing does. The verdict rules:

- a cause is a *candidate* unless an observation rules it out; it is *supported* when one supports it;
- the verdict is the best-supported candidate: direct observations (the product's own replay, the admin
  API's own answers) outrank indirect ones (a reported body, `lastAccess`, an enabled policy); catalogue
  order breaks ties;
- `confirmed` only when a decisive observation holds for it and every rival (every other supported
  candidate, and every cause its own evidence cannot tell it from) is ruled out; a cause of a later
  stage (the account before its credential, the credential before product access, access before the
  content) is no rival of a decisive one: the call never gets there, it is a further problem, listed
  among the findings; `likely` when it is
  better supported than every remaining rival (they are named); `possible` when a rival is as well
  supported, or when its only support is a hint (an absence in a list cut short);
- faults (`Unreadable`) and lists cut short are missing evidence: they support and rule out nothing, and
  keep an `ok` from being `confirmed`;
- a reported failure is never `ok`: when nothing explains it, the verdict is `request_not_as_tested`
  (`likely` at best) when enough was checked, `inconclusive` otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Generic, Protocol, TypeVar

from bot.atlassian.signatures import SIGNATURES, Kind
from bot.causes import BY_CODE, fill_fix, position
from bot.facts import Claim
from bot.model import CauseCode, Confidence, FindingSummary, NotChecked, Open, RuledOut, Verdict
from bot.needs import what_would_decide
from bot.observations import (
    Absent,
    AccessByEmail,
    AccountKind,
    AccountLookup,
    AccountState,
    AccountStatus,
    Answer,
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
    ReplayAnswer,
    ReportedBody,
    RoleList,
    SiteAnswer,
    SpaceGrant,
    StatusPage,
    TokenList,
    Unreadable,
    Where,
)

Obs = TypeVar("Obs", bound=Observation)
C = CauseCode


class Weight(IntEnum):
    """How much a supporting observation weighs."""

    HINT = 0  # consistent, but from an absence in a list cut short: the verdict stays `possible`
    INDIRECT = 1  # what someone reported, `lastAccess`, a policy that may or may not apply
    DIRECT = 2  # the product's own replay, the admin API's own answer


@dataclass(frozen=True, slots=True)
class Seen:
    """One observation and the step that made it."""

    step: str
    what: Observation


@dataclass(frozen=True, slots=True)
class Context:
    """What the run was asked (no secrets), and the facts that fill fix templates."""

    reported_status: int | None = None
    reported_body: bool = False
    endpoint: bool = False  # a failing call was named
    rule: bool = False  # the run reads an automation rule
    replayed_exactly: bool = True  # the replay sent the caller's request as it is
    oauth: bool = False  # the actor's credential is OAuth 2.0 (tested by the oauth steps, never as Basic)
    facts: Mapping[str, str] = field(default_factory=dict)
    not_checked: tuple[NotChecked, ...] = ()


class Evidence:
    """The observations of one run, for the clues to look at each other."""

    def __init__(self, seen: Sequence[Seen], context: Context) -> None:
        self.seen = tuple(seen)
        self.context = context

    def all(self, kind: type[Obs]) -> list[Obs]:
        return [s.what for s in self.seen if isinstance(s.what, kind)]

    def any(self, kind: type[Obs], test: Callable[[Obs], bool] = lambda _o: True) -> bool:
        return any(test(o) for o in self.all(kind))

    def replay(self, where: Where) -> ReplayAnswer | None:
        return next((o for o in self.all(ReplayAnswer) if o.where is where), None)

    @property
    def failing(self) -> FailingCall | None:
        return next(iter(self.all(FailingCall)), None)

    @property
    def caller_where(self) -> Where | None:
        failing = self.failing
        return failing.where if failing is not None else None

    @property
    def reported_failure(self) -> bool:
        """The admin reported a failure: a status, a body, or a rule whose request as sent did not work.
        A call named without a status is what to check (compare names one call for two accounts): when our
        replay of it fails, that is a failure seen, not reported (the verdict is then never `ok`)."""
        status = self.context.reported_status
        if (status is not None and status >= 400) or self.context.reported_body:
            return True
        return self.context.rule and not self.any(HeaderAsSent, lambda o: o.worked)

    @property
    def endpoint_works_yet_fails(self) -> bool:
        """Our replay of the failing call works while the caller reported it failing."""
        status = self.context.reported_status
        return self.any(EndpointReplay, lambda o: o.worked) and (
            (status is not None and status in (401, 403, 404)) or self.context.reported_body)


@dataclass(frozen=True, slots=True)
class Clue(Generic[Obs]):
    """One observation's bearing on one cause: support (with a weight) or ruling out (weight None)."""

    kind: type[Obs]
    when: Callable[[Obs, Evidence], bool]
    says: Callable[[Obs, Evidence], str]
    weight: Weight | None = None
    decisive: bool = False
    alike: tuple[CauseCode, ...] = ()  # causes this observation cannot tell this one from

    def read(self, what: Observation, evidence: Evidence) -> str | None:
        """What this clue says of one observation, or None when it does not bear on it."""
        if not isinstance(what, self.kind) or not self.when(what, evidence):
            return None
        return self.says(what, evidence)


class Bearing(Protocol):
    """A clue of any observation kind, as the verdict reads it (a cause's clues differ in kind)."""

    @property
    def weight(self) -> Weight | None: ...

    @property
    def decisive(self) -> bool: ...

    @property
    def alike(self) -> tuple[CauseCode, ...]: ...

    def read(self, what: Observation, evidence: Evidence) -> str | None: ...


def supports(kind: type[Obs], when: Callable[[Obs, Evidence], bool], says: Callable[[Obs, Evidence], str],
             weight: Weight, *, decisive: bool = False, alike: tuple[CauseCode, ...] = ()) -> Clue[Obs]:
    return Clue(kind, when, says, weight, decisive, alike)


def rules_out(kind: type[Obs], when: Callable[[Obs, Evidence], bool],
              says: Callable[[Obs, Evidence], str]) -> Clue[Obs]:
    return Clue(kind, when, says)


@dataclass(frozen=True, slots=True)
class Rules:
    """A cause's row of the judge's table."""

    clues: tuple[Bearing, ...]
    would_decide: str  # what would decide it when it is neither supported nor ruled out


# --- what observations say, as the judge reads them ---------------------------------------------------

CAUSE_OF_KIND: Mapping[Kind, CauseCode] = {s.kind: s.cause for s in SIGNATURES if s.cause is not None}
# bodies Atlassian gives a request whose credential it did not resolve (docs/atlassian.md §0, §0.1)
UNRESOLVED_BODIES = frozenset({Kind.HEADLINE_403, Kind.V2_NOT_FOUND, Kind.GATEWAY_UNAUTHORIZED,
                               Kind.SCOPED_ON_SITE, Kind.PASSWORD})
# bodies only the gateway answers (docs/atlassian.md §0.1, §8 A8): a caller that got one uses the gateway
GATEWAY_BODIES = frozenset({Kind.SCOPE_MISMATCH, Kind.GATEWAY_UNAUTHORIZED})
JIRA_PREFIXES = ("/rest/api/2/", "/rest/api/3/", "/rest/agile/", "/rest/servicedeskapi/")


def _reported_as(cause: CauseCode) -> Callable[[ReportedBody, Evidence], bool]:
    return lambda o, _e: CAUSE_OF_KIND.get(o.kind) is cause


def _reported(cause: CauseCode) -> Clue[ReportedBody]:
    """A reported body naming the cause. What someone pasted is indirect: it may come from another call,
    so alone it makes the cause `likely`, and the product's own replay outranks it."""
    return supports(ReportedBody, _reported_as(cause),
                    lambda o, _e: f"The failing call was reported answering {o.label}", Weight.INDIRECT)


def _replayed_as(cause: CauseCode) -> Clue[EndpointReplay]:
    return supports(EndpointReplay, lambda o, _e: o.kind is not None and CAUSE_OF_KIND.get(o.kind) is cause,
                    lambda o, _e: f"Replayed as the actor, {o.method} {o.path} answered {o.label}",
                    Weight.DIRECT, decisive=True)


def _endpoint_works() -> Clue[EndpointReplay]:
    return rules_out(EndpointReplay, lambda o, _e: o.worked,
                     lambda o, _e: f"the failing call itself works when replayed as the actor ({o.status})")


def _active(what: str) -> Clue[AccountStatus]:
    return rules_out(AccountStatus, lambda o, e: o.state is AccountState.ACTIVE and not o.rule_actor
                     and not _rule_actor_down(e),
                     lambda o, _e: f"{what}: the admin API reports the account active ({o.seen})")


def _signed_in(o: ReplayAnswer, _e: Evidence) -> bool:
    return o.where in (Where.SITE, Where.GATEWAY) and o.answer in (Answer.KNOWN, Answer.GUEST)


def _account_state(o: AccountStatus, _e: Evidence) -> str:
    since = f" since {o.since}" if o.since else ""
    who = f"the rule's actor {o.who}" if o.rule_actor else "the account"
    return f"The admin API reports {who} {o.state.value}{since} ({o.seen})"


def _scoped_at_site(o: ReplayAnswer, e: Evidence) -> bool:
    """Accepted at the gateway and refused at the site with a different answer: a scoped token
    (docs/atlassian.md §1.5). The same refusal at both is no such sign."""
    if o.where is not Where.GATEWAY or not o.authenticated:
        return False
    site = e.replay(Where.SITE)
    return site is not None and site.answer in (Answer.REFUSED, Answer.ANONYMOUS)


def _same_refusal(o: ReplayAnswer, e: Evidence) -> bool:
    site = e.replay(Where.SITE)
    return (o.where is Where.GATEWAY and o.answer is Answer.REFUSED and site is not None
            and site.answer is Answer.REFUSED and site.status == o.status and site.kind == o.kind)


def _rejected_everywhere(o: ReplayAnswer, e: Evidence) -> bool:
    """The site ignored or refused the credential and the gateway refused it as unauthenticated."""
    if o.where is not Where.SITE or o.answer not in (Answer.ANONYMOUS, Answer.REFUSED):
        return False
    if o.kind in (Kind.PASSWORD, Kind.BASIC_DISABLED, Kind.IP_ALLOWLIST):
        return False
    gateway = e.replay(Where.GATEWAY)
    return o.answer is Answer.ANONYMOUS or (gateway is not None and gateway.kind is Kind.GATEWAY_UNAUTHORIZED)


def _rejected_sentence(o: ReplayAnswer, e: Evidence) -> str:
    gateway = e.replay(Where.GATEWAY)
    parts = [f"site: {o.label}"]
    if o.answer is Answer.ANONYMOUS:
        parts.append("the site served the anonymous view: it ignored the credential")
    elif (control := e.replay(Where.NOWHERE)) is not None and (control.status, control.kind) == (o.status, o.kind):
        parts.append("the same answer as the call without any credential")
    if gateway is not None:
        parts.append(f"gateway: {gateway.label}")
    return f"Neither the site nor the gateway accepts the actor's credential ({'; '.join(parts)})"


def _unmanaged_refused(o: AccountKind, e: Evidence) -> bool:
    """An external account whose token was not seen accepted: a block on external users' API tokens is
    exposed by no API (docs/atlassian.md §8 A1), so it stays a rival until a replay shows the token taken."""
    return o.claim is Claim.UNMANAGED and not e.any(ReplayAnswer, lambda r: _signed_in(r, e))


def _claim(e: Evidence) -> Claim:
    """Whether the organization manages the account, as the lookups saw it (UNKNOWN when not read)."""
    claims = {o.claim for o in e.all(AccountKind)} - {Claim.UNKNOWN}
    return next(iter(claims)) if len(claims) == 1 else Claim.UNKNOWN


def _basic_disabled(o: ReplayAnswer, _e: Evidence) -> bool:
    return o.where is Where.SITE and o.kind is Kind.BASIC_DISABLED


def _oauth_refused(e: Evidence) -> bool:
    """accessible-resources or the gateway refused the OAuth token as unauthenticated."""
    return e.any(OAuthResources, lambda o: o.refused) or e.any(
        OAuthAnswer, lambda o: o.where is Where.GATEWAY and o.kind is Kind.GATEWAY_UNAUTHORIZED)


def _oauth_refused_both(e: Evidence) -> bool:
    return e.any(OAuthResources, lambda o: o.refused) and e.any(
        OAuthAnswer, lambda o: o.where is Where.GATEWAY and o.kind is Kind.GATEWAY_UNAUTHORIZED)


def _oauth_expired(e: Evidence) -> bool:
    return e.any(OAuthToken, lambda o: o.expired)


def _site_refusal_reported(e: Evidence) -> bool:
    """What was reported is what the site URL answers a credential it does not take, and not what the gateway
    answers a token without a scope (401 'scope does not match'): one of the site's refusals, or a bare 403.
    A bare 401 fits both, so it leaves the URL and the scopes open (request_not_as_tested names them)."""
    status = e.context.reported_status
    if status not in (401, 403):
        return False
    if not e.context.reported_body:
        return status == 403
    return all(o.kind in (Kind.HEADLINE_403, Kind.SCOPED_ON_SITE) for o in e.all(ReportedBody))


def _oauth_accepted_at_gateway(o: OAuthAnswer, _e: Evidence) -> bool:
    return o.where is Where.GATEWAY and o.authenticated


def _rule_actor_down(e: Evidence) -> bool:
    return e.any(AccountStatus, lambda o: o.rule_actor and o.state is not AccountState.ACTIVE)


def _unknown_path(o: FailingCall, _e: Evidence) -> bool:
    """A path Confluence Cloud's REST API does not serve (docs/atlassian.md §1.17): Confluence's REST
    routes are /wiki/rest/... and /wiki/api/v2/... (on the site, or after the gateway's /ex/confluence/<id>);
    an empty segment (//) is no route either. Jira's routes and the tenant info are not judged here."""
    if o.where is None:
        return False
    path = o.path
    if o.where is Where.GATEWAY:
        path = "/" + path.split("/", 4)[4] if path.count("/") >= 4 else "/"
    if "//" in path:
        return True
    return not path.startswith(("/wiki/rest/", "/wiki/api/v2/", "/_edge/", *JIRA_PREFIXES))


def _path_unexplained(o: FailingCall, e: Evidence) -> bool:
    status = e.context.reported_status
    return _unknown_path(o, e) and status in (None, 404, 405)


def _never_used(o: TokenList, e: Evidence) -> bool:
    """Never used while a refusal is reported (a rule run sends the request as the rule does instead)."""
    status = e.context.reported_status
    failing = (status in (401, 403, 404)) or (e.context.reported_body and status is None)
    return o.never_used and failing


def _never_used_sentence(o: TokenList, e: Evidence) -> str:
    ours = f" (last used by this check at {o.ours}; before that, never)" if o.ours else ""
    status = e.context.reported_status
    fails = f"fails with {status}" if status else "fails"
    return (f"The account's valid token(s) {o.labels} were never used by the caller{ours}, yet the call {fails}: "
            "the failing request is not presenting that token as Basic email:token to a URL that accepts it")


def _page_ok(o: PageCheck, _e: Evidence) -> str:
    return f"Confluence's permission check lets the account {o.operation} page {o.page}"


def _not_replayed(e: Evidence) -> bool:
    """The actor's credential was not tried: no replay of it at the site or the gateway, of the failing call,
    or of an OAuth token (a replay tells whether the site ignores it)."""
    return not (e.any(ReplayAnswer, lambda o: o.where is not Where.NOWHERE) or e.any(EndpointReplay)
                or e.any(OAuthAnswer))


def _fallback_open(e: Evidence) -> bool:
    """The site lets anonymous users in (our call without any credential was answered as the anonymous
    user) and the actor's credential was not tried: a credential the site ignores runs the call as the
    anonymous user (docs/atlassian.md §1.1), which is refused what the account may not see as well."""
    return e.any(ReplayAnswer, lambda o: o.where is Where.NOWHERE and o.answer is Answer.ANONYMOUS) \
        and _not_replayed(e)


def _fallback_failure(o: ReplayAnswer, e: Evidence) -> bool:
    """A failure reported or named on a site where an ignored credential would produce it too."""
    return (o.where is Where.NOWHERE and o.answer is Answer.ANONYMOUS and _fallback_open(e)
            and not e.context.oauth and (e.reported_failure or e.failing is not None))


URL_DECIDES = "the failing call's URL and method (--endpoint)"
HEADER_DECIDES = ("the header as the caller sends it (--sent-as basic|bearer|none; for an automation rule, "
                  "confluence-check rule reads it)")


def _as_described(o: HeaderAsSent) -> str:
    return ", as described" if o.reported else ""


def _header_clues(problem: HeaderProblem) -> tuple[Bearing, ...]:
    """A header form that fails is decisive when the rule's own header shows it, or when the actor's token sent
    in the form the admin describes is refused (the form is their word, like the endpoint); their word alone,
    not sent, is indirect. A described form that works when sent is not why the call fails."""
    return (
        supports(HeaderAsSent, lambda o, _e: o.problem is problem and not o.worked and o.direct,
                 lambda o, _e: o.detail, Weight.DIRECT, decisive=True),
        supports(HeaderAsSent, lambda o, _e: o.problem is problem and not o.sent and o.reported,
                 lambda o, _e: o.detail, Weight.INDIRECT),
        supports(HeaderAsSent, lambda o, _e: o.problem is problem and o.worked and not o.reported,
                 lambda o, _e: o.detail, Weight.DIRECT),
        rules_out(HeaderAsSent, lambda o, _e: o.problem is problem and o.worked and o.reported,
                  lambda o, _e: f"Not the header form: {o.detail[0].lower() + o.detail[1:]}"),
    )


FALLBACK = ("; but the site lets anonymous users in, so a credential it ignores is refused the same way (only a "
            "replay with the actor's token tells them apart)")


# --- the table ----------------------------------------------------------------------------------------

TABLE: Mapping[CauseCode, Rules] = {
    C.SITE_NOT_FOUND: Rules((
        supports(SiteAnswer, lambda o, _e: o.cloud_id is None and 400 <= o.status < 500 and o.status != 429
                 and not o.data_center,
                 lambda o, _e: f"{o.url}/_edge/tenant_info answered {o.status} without a cloudId",
                 Weight.DIRECT, decisive=True),
        rules_out(SiteAnswer, lambda o, _e: o.cloud_id is not None,
                  lambda o, _e: f"Not a wrong site: the site answered with its cloudId {o.cloud_id}"),
    ), "the site's /_edge/tenant_info answer"),
    C.NOT_A_CLOUD_SITE: Rules((
        supports(SiteAnswer, lambda o, _e: o.data_center,
                 lambda o, _e: f"{o.url} has no /_edge/tenant_info ({o.status}) and its /status answers like a "
                 "running Confluence Data Center/Server node: it is not an Atlassian Cloud site", Weight.DIRECT,
                 decisive=True),
        rules_out(SiteAnswer, lambda o, _e: o.cloud_id is not None,
                  lambda o, _e: f"Not Data Center: the site answered with its cloudId {o.cloud_id}"),
    ), "the site's /_edge/tenant_info and /status answers"),
    C.INSPECTOR_MISCONFIGURED: Rules((
        supports(BotRefused, lambda _o, _e: True, lambda o, _e: f"The bot's own {o.setting.value} was refused: "
                 f"{o.detail}", Weight.DIRECT, decisive=True),
    ), "the bot's own login and organization API key"),
    C.ATLASSIAN_INCIDENT: Rules((
        supports(StatusPage, lambda o, e: o.incident and (e.context.reported_status or 0) >= 500,
                 lambda o, e: f"{o.summary}; the failing call answered {e.context.reported_status}", Weight.DIRECT),
        rules_out(StatusPage, lambda o, _e: not o.incident and not o.degraded,
                  lambda _o, _e: "Not an incident: Atlassian's status page reports every system operational"),
        rules_out(ReportedBody, lambda o, _e: o.status is not None and 400 <= o.status < 500,
                  lambda o, _e: f"Not an incident: a {o.status} is a refusal, not an outage symptom"),
    ), "Atlassian's status page and a 5xx from the failing call"),
    C.ACTOR_NOT_FOUND: Rules((
        supports(AccountLookup, lambda o, _e: not o.found and not o.service_address and (
            o.by_email or o.where.name != "DIRECTORY"),
                 lambda o, _e: f"{o.where.value.capitalize()} has no account {o.actor}", Weight.DIRECT, decisive=True),
        supports(AccountLookup, lambda o, _e: not o.found and not o.service_address and not o.by_email
                 and o.where.name == "DIRECTORY",
                 lambda o, _e: f"{o.where.value.capitalize()} has no account {o.actor} (a service account would not "
                 "be listed there either: ATLASSIAN_EMAIL/ATLASSIAN_API_TOKEN let the site be asked too)",
                 Weight.DIRECT),
        rules_out(AccountLookup, lambda o, _e: o.found,
                  lambda o, _e: f"The account exists: {o.where.value} lists {o.actor}"),
        rules_out(ReplayAnswer, _signed_in, lambda o, _e: f"The account exists: the {o.where.value} signed its token "
                  "in"),
    ), "the admin API's directory (ATLASSIAN_ORG_API_KEY) or the site's user lookup"),
    C.ACCOUNT_DEACTIVATED: Rules((
        supports(AccountStatus, lambda o, _e: o.state is AccountState.DEACTIVATED and not o.rule_actor,
                 _account_state, Weight.DIRECT, decisive=True),
        supports(AccountStatus, lambda o, _e: o.state is AccountState.DEACTIVATED and o.rule_actor,
                 lambda o, e: _account_state(o, e) + ": Confluence stops running a rule whose actor is inactive",
                 Weight.DIRECT),
        _active("Not deactivated"),
        rules_out(ReplayAnswer, lambda o, e: _signed_in(o, e) and not _rule_actor_down(e),
                  lambda o, _e: f"Not deactivated: the {o.where.value} signed the account in"),
    ), "the admin API's account status (ATLASSIAN_ORG_API_KEY)"),
    C.ACCOUNT_SUSPENDED: Rules((
        supports(AccountStatus, lambda o, _e: o.state is AccountState.SUSPENDED and not o.rule_actor,
                 _account_state, Weight.DIRECT, decisive=True),
        _active("Not suspended"),
        rules_out(ReplayAnswer, _signed_in, lambda o, _e: f"Not suspended: the {o.where.value} signed the account "
                  "in"),
    ), "the admin API's membership status (ATLASSIAN_ORG_API_KEY)"),
    C.PASSWORD_USED: Rules((
        supports(ReplayAnswer, lambda o, _e: o.kind is Kind.PASSWORD,
                 lambda o, _e: f"The secret given is a password or an org API key, not an API token ({o.label})",
                 Weight.DIRECT, decisive=True),
        _reported(C.PASSWORD_USED),
        rules_out(ReplayAnswer, _signed_in,
                  lambda o, _e: f"Not a password: the secret given is a working API token (the {o.where.value} "
                  "accepted it)"),
    ), "a replay with the caller's secret (--actor-token-stdin)"),
    C.BEARER_WITH_API_TOKEN: Rules((
        _reported(C.BEARER_WITH_API_TOKEN),
        # the body is unique to a Bearer that is no OAuth token, and the replay proves the secret an API token
        supports(ReportedBody, lambda o, e: o.kind is Kind.BEARER_PARSE and e.any(
            ReplayAnswer, lambda r: r.where is Where.SITE and r.answer in (Answer.KNOWN, Answer.GUEST)),
                 lambda _o, _e: "The caller was answered 'Failed to parse Connect Session Auth Token', which Atlassian "
                 "gives a Bearer value that is no OAuth token, and the secret given is a working API token when sent "
                 "as Basic email:token", Weight.INDIRECT, decisive=True),
        *_header_clues(HeaderProblem.BEARER),
        rules_out(HeaderAsSent, lambda o, _e: o.problem is None,
                  lambda o, _e: f"Not Bearer: the caller sends Authorization: Basic{_as_described(o)}"),
    ), HEADER_DECIDES),
    C.AUTH_HEADER_MISSING: Rules((
        *_header_clues(HeaderProblem.MISSING),
        rules_out(HeaderAsSent, lambda o, _e: o.problem is not HeaderProblem.MISSING,
                  lambda o, _e: f"Not a missing header: the caller sends an Authorization header{_as_described(o)}"),
    ), HEADER_DECIDES),
    C.AUTH_HEADER_MALFORMED: Rules((
        *_header_clues(HeaderProblem.MALFORMED),
        # (a Basic header described, not read, may still be malformed: only the rule's own is known well-formed)
        rules_out(HeaderAsSent, lambda o, _e: o.problem is None and not o.reported,
                  lambda _o, _e: "Not a malformed header: the rule's header is Basic base64(email:token)"),
    ), HEADER_DECIDES),
    C.OAUTH_CLIENT_REJECTED: Rules((
        supports(OAuthRefused, lambda _o, _e: True,
                 lambda o, _e: f"The token host answered {o.said} to the client credentials: the client id and "
                 "secret are not a live credential allowed the client-credentials grant", Weight.DIRECT,
                 decisive=True),
        rules_out(OAuthToken, lambda _o, _e: True,
                  lambda _o, _e: "Not the client credentials: an access token was obtained"),
    ), "the token host's answer to the client credentials (--client-credentials-stdin)"),
    C.SCOPED_TOKEN_SITE_URL: Rules((
        supports(ReplayAnswer, lambda o, e: _scoped_at_site(o, e) and e.caller_where is Where.SITE,
                 lambda o, e: f"The gateway accepts the token ({o.label}) but the site URL refuses it "
                 f"({_site_label(e)}): it is a scoped token, and the failing call goes to the site URL",
                 Weight.DIRECT, decisive=True),
        # With the caller's URL unknown, a scoped token names the site URL only when what the caller was
        # answered is the site's own page for scoped tokens: a bare 401 is also the gateway's answer to a
        # scope the token lacks, so the status alone leaves both open (request_not_as_tested names them).
        supports(ReplayAnswer, lambda o, e: _scoped_at_site(o, e) and e.caller_where is None
                 and e.any(ReportedBody, lambda b: b.kind is Kind.SCOPED_ON_SITE),
                 lambda o, e: f"The gateway accepts the token ({o.label}) but the site URL refuses it "
                 f"({_site_label(e)}): it is a scoped token, which fails if the caller uses the site URL",
                 Weight.DIRECT),
        # (a service account's credential may be a scoped API token or OAuth 2.0 client credentials; with
        # neither given, nor the URL, its kind alone names no cause: both fail at the site URL, and the OAuth
        # ones fail in ways of their own, which only the credential tells apart)
        supports(AccountKind, lambda o, e: o.kind.name == "APP" and e.caller_where is Where.SITE
                 and not e.context.oauth,
                 lambda _o, e: "The actor is a service account (its tokens are always scoped) and the failing "
                 f"call goes to the site URL ({_failing(e)}), which never accepts scoped tokens",
                 Weight.DIRECT, decisive=True),
        supports(ReportedBody, lambda o, e: o.kind is Kind.SCOPED_ON_SITE and e.caller_where is not Where.GATEWAY,
                 lambda _o, _e: "The reported 401 is the HTML page the site returns to scoped tokens",
                 Weight.INDIRECT),
        rules_out(ReplayAnswer, lambda o, _e: o.where is Where.SITE and o.answer in (Answer.KNOWN, Answer.GUEST),
                  lambda o, _e: f"Not a scoped token: the site URL accepted it ({o.label})"),
        rules_out(ReplayAnswer, _same_refusal,
                  lambda o, _e: f"Not a scoped token: the gateway refused it as well, {o.status}"),
        rules_out(ReplayAnswer, lambda o, _e: o.kind is Kind.PASSWORD,
                  lambda _o, _e: "Not a scoped token: the site says the secret given is a password"),
        rules_out(ReportedBody, lambda o, _e: o.kind in GATEWAY_BODIES,
                  lambda o, _e: f"Not the site URL: the caller was answered {o.label}, which only the gateway says, "
                  "so the caller already uses it"),
        rules_out(FailingCall, lambda o, _e: o.where is Where.GATEWAY,
                  lambda _o, _e: "Not the site URL: the failing call already goes to the gateway"),
        # a Data Center server's Tomcat 401 looks like the page a Cloud site gives scoped tokens
        rules_out(SiteAnswer, lambda o, _e: o.data_center,
                  lambda o, _e: f"Not a scoped token on a Cloud site: {o.url} is a Data Center/Server instance"),
    ), "a replay at the site and at the gateway with the caller's token (--actor-token-stdin)"),
    C.OAUTH_TOKEN_SITE_URL: Rules((
        supports(OAuthAnswer, lambda o, e: _oauth_accepted_at_gateway(o, e) and e.caller_where is Where.SITE,
                 lambda o, _e: f"The gateway accepts the access token ({o.label}) and the failing call goes to the "
                 "site URL, which accepts no OAuth token", Weight.DIRECT, decisive=True),
        supports(OAuthAnswer, lambda o, e: _oauth_accepted_at_gateway(o, e) and e.caller_where is None
                 and _site_refusal_reported(e),
                 lambda o, _e: f"The gateway accepts the access token ({o.label}): if the failing caller uses the "
                 "site URL, it fails there, as the site accepts no OAuth token", Weight.DIRECT),
        rules_out(FailingCall, lambda o, _e: o.where is Where.GATEWAY,
                  lambda _o, _e: "Not the site URL: the failing call already goes to the gateway"),
        rules_out(ReportedBody, lambda o, _e: o.kind in GATEWAY_BODIES,
                  lambda o, _e: f"Not the site URL: the caller was answered {o.label}, which only the gateway says"),
    ), "the failing call's URL (--endpoint), with the OAuth token"),
    C.TOKEN_EXPIRED: Rules((
        supports(TokenList, lambda o, _e: o.total == 0,
                 lambda _o, _e: "The account has no API token at all: whatever the caller sends cannot be one of "
                 "its tokens", Weight.DIRECT, decisive=True),
        supports(TokenList, lambda o, _e: o.total > 0 and o.live == 0,
                 lambda o, _e: f"Every API token of the account has expired (latest expiry {o.latest_expiry})",
                 Weight.DIRECT, decisive=True),
        rules_out(TokenList, lambda o, _e: o.live > 0,
                  lambda o, _e: f"Not an expired token: the account has {o.live} valid token(s)"),
        rules_out(ReplayAnswer, lambda o, _e: o.authenticated,
                  lambda o, _e: f"Not an expired token: the {o.where.value} authenticated it"),
    ), "the admin API's token list (ATLASSIAN_ORG_API_KEY; managed accounts only)"),
    C.OAUTH_TOKEN_EXPIRED: Rules((
        supports(OAuthToken, lambda o, e: o.expired and _oauth_refused(e),
                 lambda o, _e: f"The token's exp claim says it expired {o.expiry}, and Atlassian refuses it: an "
                 "expired token, not a wrong one", Weight.DIRECT, decisive=True),
        rules_out(OAuthToken, lambda o, _e: not o.expired and o.expiry is not None,
                  lambda o, _e: f"Not expired: the token's exp claim says {o.expiry}"),
        rules_out(OAuthAnswer, _oauth_accepted_at_gateway,
                  lambda o, _e: f"Not expired: the gateway authenticated the access token ({o.label})"),
    ), "the access token's exp claim and the gateway's answer"),
    C.OAUTH_SITE_NOT_AUTHORIZED: Rules((
        supports(OAuthResources, lambda o, _e: o.status == 200 and not o.site_listed,
                 lambda o, _e: "accessible-resources accepts the token (200) and lists "
                 f"{', '.join(o.sites) or 'no site'}, not this one: the credential does not reach this site",
                 Weight.DIRECT, decisive=True),
        rules_out(OAuthResources, lambda o, _e: o.site_listed,
                  lambda _o, _e: "Not another site's token: accessible-resources lists this site"),
    ), "the OAuth token's accessible resources"),
    C.CREDENTIAL_REJECTED: Rules((
        supports(OAuthResources, lambda o, e: o.refused and not _oauth_expired(e),
                 lambda o, e: f"accessible-resources answered {o.status}"
                 + (" and the gateway answered 401 'Unauthorized'" if _oauth_refused_both(e) else "")
                 + ": the access token is not valid (revoked, truncated, or from another environment)",
                 Weight.DIRECT, decisive=True),
        supports(OAuthAnswer, lambda o, e: o.where is Where.GATEWAY and o.kind is Kind.GATEWAY_UNAUTHORIZED
                 and not _oauth_expired(e),
                 lambda o, _e: f"The gateway answered {o.label}: the access token is not valid (revoked, "
                 "truncated, or from another environment)", Weight.DIRECT),
        rules_out(OAuthToken, lambda o, e: o.expired and _oauth_refused(e),
                  lambda o, _e: f"Explained by the token's expiry ({o.expiry})"),
        rules_out(OAuthResources, lambda o, _e: o.status == 200,
                  lambda _o, _e: "Not a rejected credential: accessible-resources accepts the access token (200)"),
        rules_out(OAuthAnswer, _oauth_accepted_at_gateway,
                  lambda o, _e: f"Not a rejected credential: the gateway authenticated the access token ({o.label})"),
        supports(ReplayAnswer, _rejected_everywhere, _rejected_sentence, Weight.DIRECT, decisive=True),
        supports(EndpointReplay, lambda o, e: e.endpoint_works_yet_fails and _unresolved_reported(e)
                 and not e.context.oauth,
                 lambda o, e: f"The same call succeeds ({o.status}) when the actor's token is sent as Basic "
                 f"email:token, while the caller got {_reported_status(e)}, the answer to a credential Atlassian "
                 "did not resolve: the failing caller is not sending this credential that way", Weight.DIRECT,
                 decisive=True),
        supports(EndpointReplay, lambda o, e: e.endpoint_works_yet_fails and not _unresolved_reported(e)
                 and not e.context.oauth,
                 lambda o, e: f"The same call succeeds ({o.status}) when the actor's token is sent as Basic "
                 f"email:token, while the caller got {_reported_status(e)}: the failing caller is not sending "
                 "this credential that way", Weight.DIRECT),
        supports(TokenList, _never_used, _never_used_sentence, Weight.INDIRECT),
        # as direct as the content refusal it rivals: both predict the failure seen, so neither outranks the
        # other, and catalogue order (the credential before what it may read) names this one first
        supports(ReplayAnswer, _fallback_failure,
                 lambda _o, _e: "The site lets anonymous users in (the call without any credential was answered as "
                 "the anonymous user): a credential it does not accept is ignored, and the call then runs as the "
                 "anonymous user, which fails the same way; the actor's credential was not replayed",
                 Weight.DIRECT, alike=(C.SPACE_PERMISSION_MISSING, C.PAGE_RESTRICTED)),
        # (an OAuth credential's 401 may be an expired token or another site's: the oauth steps tell)
        supports(ReportedBody, lambda o, e: o.kind is Kind.GATEWAY_UNAUTHORIZED and not e.context.oauth
                 and not e.any(AccountKind, lambda k: k.kind.name == "APP"),
                 lambda _o, _e: "The gateway answered the caller 401 'Unauthorized': it did not accept the "
                 "credential", Weight.INDIRECT),
        # (a token that works when we send it says nothing of how the caller sends it; a gateway that took
        # it and refused only for a scope or for product access says the token itself is alive)
        rules_out(ReplayAnswer, lambda o, e: o.where is Where.GATEWAY and o.kind in (
            Kind.SCOPE_MISMATCH, Kind.HEADLINE_403) and not e.endpoint_works_yet_fails
                  and not _site_rejects_anonymously(e),
                  lambda o, _e: f"Not a rejected credential: the gateway authenticated it ({o.label})"),
        rules_out(AccountStatus, lambda o, _e: o.state is not AccountState.ACTIVE and not o.rule_actor,
                  lambda o, _e: f"Explained by the account itself: it is {o.state.value}, so its tokens are "
                  "refused"),
        rules_out(TokenList, lambda o, _e: o.live == 0,
                  lambda _o, _e: "Explained by the token list: no valid token is left"),
        # (the form as the admin describes it counts like the endpoint they name: it is what the caller sends)
        rules_out(HeaderAsSent, lambda o, _e: o.problem is not None and not o.worked,
                  lambda o, _e: f"Explained by the header as sent: it is {o.problem.value if o.problem else ''}"
                  f"{_as_described(o)}, so no token is presented the way Atlassian accepts it"),
    ), "a replay with the caller's token (--actor-token-stdin) and the header as the caller sends it"),
    C.API_TOKEN_BLOCKED: Rules((
        # 'Basic Authentication has been disabled on this instance.' (docs/atlassian.md §8 A1): for an account
        # external to the organization, its external-user policy; for a managed one, an authentication policy
        supports(ReplayAnswer, lambda o, e: _basic_disabled(o, e) and _claim(e) is Claim.UNMANAGED,
                 lambda _o, _e: "The site refuses the actor's API token: 'Basic Authentication has been disabled "
                 "on this instance.', and the account is external to the organization: its external-user policy "
                 "blocks API tokens", Weight.DIRECT, decisive=True),
        supports(ReplayAnswer, lambda o, e: _basic_disabled(o, e) and _claim(e) is Claim.UNKNOWN,
                 lambda _o, _e: "If the account is external to the organization, admin.atlassian.com > Security > "
                 "External users may block its API tokens", Weight.INDIRECT),
        supports(ReportedBody, lambda o, e: o.kind is Kind.BASIC_DISABLED and _claim(e) is Claim.UNMANAGED,
                 lambda _o, _e: "The caller was answered 'Basic Authentication has been disabled on this instance.' "
                 "and the account is external to the organization", Weight.INDIRECT),
        supports(AccountKind, _unmanaged_refused,
                 lambda _o, _e: "The account is external to the organization: if admin.atlassian.com > Security > "
                 "External users blocks API token access, its tokens are refused exactly like this",
                 Weight.INDIRECT),
        rules_out(ReplayAnswer, lambda o, _e: o.where is Where.SITE and o.answer in (Answer.KNOWN, Answer.GUEST),
                  lambda _o, _e: "Not a token policy: the site accepted the actor's API token"),
        rules_out(AccountKind, lambda o, _e: o.claim is Claim.MANAGED,
                  lambda _o, _e: "Not the external-user token policy: the organization manages the account"),
    ), "admin.atlassian.com > Security > External users (no API exposes it)"),
    C.API_TOKEN_AUTH_DISABLED: Rules((
        supports(ReplayAnswer, lambda o, e: _basic_disabled(o, e) and _claim(e) is Claim.MANAGED,
                 lambda _o, _e: "The site refuses the actor's API token: 'Basic Authentication has been disabled "
                 "on this instance.', and the organization manages the account: an authentication policy turns API "
                 "tokens off for it", Weight.DIRECT, decisive=True),
        supports(ReplayAnswer, lambda o, e: _basic_disabled(o, e) and _claim(e) is Claim.UNKNOWN,
                 lambda _o, _e: "The site refuses the actor's API token: 'Basic Authentication has been disabled "
                 "on this instance.': an authentication policy turns API tokens off (whether the organization "
                 "manages the account was not read)", Weight.DIRECT),
        supports(BotTokenOffByPolicy, lambda _o, _e: True,
                 lambda o, _e: "The site refuses the bot's own API token with 'Basic Authentication has been "
                 "disabled on this instance.': an authentication policy turns API tokens off, and an API token of "
                 "any account it covers is refused the same way", Weight.DIRECT),
        _reported(C.API_TOKEN_AUTH_DISABLED),
        rules_out(ReplayAnswer, lambda o, _e: o.where is Where.SITE and o.answer in (Answer.KNOWN, Answer.GUEST),
                  lambda _o, _e: "Not a token policy: the site accepted the actor's API token"),
        rules_out(AccountKind, lambda o, _e: o.claim is Claim.UNMANAGED,
                  lambda _o, _e: "Not an authentication policy: the account is external to the organization, so "
                  "its external-user policy applies"),
    ), "Atlassian Administration > Security > Authentication policies (the policy holding the account)"),
    C.IP_NOT_ALLOWLISTED: Rules((
        supports(ReplayAnswer, lambda o, _e: o.kind is Kind.IP_ALLOWLIST,
                 lambda _o, _e: "The site rejected the request's IP address (allowlist)", Weight.DIRECT,
                 decisive=True),
        _replayed_as(C.IP_NOT_ALLOWLISTED),
        _reported(C.IP_NOT_ALLOWLISTED),
        supports(IpAllowlist, lambda o, _e: bool(o.enabled),
                 lambda o, _e: f"An IP allowlist is enabled ({', '.join(o.enabled)}); a caller outside it is "
                 "refused", Weight.INDIRECT),
        rules_out(IpAllowlist, lambda o, _e: not o.enabled and o.complete,
                  lambda _o, _e: "Not an IP allowlist: the organization has none enabled"),
    ), "the caller's egress address compared with the organization's IP allowlists"),
    C.NO_CONFLUENCE_ACCESS: Rules((
        supports(RoleList, lambda o, _e: not o.has_confluence and not o.guest and o.complete,
                 lambda o, _e: f"The admin API lists no Confluence role for the account on {o.site}; without one, "
                 "every call gets the 403 'caller cannot access Confluence'", Weight.DIRECT, decisive=True),
        supports(RoleList, lambda o, _e: not o.has_confluence and not o.guest and not o.complete,
                 lambda o, _e: f"No Confluence role for the account among the role assignments read on {o.site} "
                 "(the list was not read to its end)", Weight.HINT),
        supports(AccessByEmail, lambda o, _e: not o.has_access,
                 lambda o, _e: f"Confluence's check-access-by-email lists {o.email} among the emails without "
                 "access to this site (a deactivated, suspended or unknown account would be listed too)",
                 Weight.DIRECT, alike=(C.ACTOR_NOT_FOUND, C.ACCOUNT_DEACTIVATED, C.ACCOUNT_SUSPENDED)),
        supports(OAuthAnswer, lambda o, e: o.where is Where.GATEWAY and o.kind is Kind.HEADLINE_403,
                 lambda _o, e: "The gateway authenticates the OAuth token"
                 + (" and accessible-resources lists this site" if e.any(OAuthResources, lambda r: r.site_listed)
                    else "") + ", yet Confluence refuses the account (403 'caller cannot access Confluence')",
                 Weight.DIRECT, decisive=True),
        supports(ReplayAnswer, lambda o, e: o.where is Where.GATEWAY and o.kind is Kind.HEADLINE_403
                 and not _site_rejects_anonymously(e),
                 lambda _o, _e: "The gateway took the token and Confluence still refuses the account (403 'caller "
                 "cannot access Confluence')", Weight.DIRECT),
        rules_out(RoleList, lambda o, _e: o.has_confluence,
                  lambda o, _e: f"Not product access: the admin API lists a Confluence role ({o.roles})"),
        rules_out(AccessByEmail, lambda o, _e: o.has_access,
                  lambda o, _e: f"Not product access: Confluence says {o.email} has access"),
        rules_out(ReplayAnswer, lambda o, _e: o.where is Where.SITE and o.answer is Answer.KNOWN,
                  lambda _o, _e: "Not product access: Confluence signed the account in at the site"),
        _endpoint_works(),
    ), "the admin API's role assignments (ATLASSIAN_ORG_API_KEY) or check-access-by-email"),
    C.GUEST_ACCESS_ONLY: Rules((
        supports(RoleList, lambda o, _e: o.guest and not o.has_confluence and o.complete,
                 lambda _o, _e: "The admin API shows the account only as a Confluence guest on this site "
                 "(atlassian/guest): guests reach one assigned space and nothing else", Weight.DIRECT, decisive=True),
        supports(RoleList, lambda o, _e: o.guest and not o.has_confluence and not o.complete,
                 lambda _o, _e: "Only a guest role among the role assignments read (the list was not read to its "
                 "end)", Weight.HINT),
        supports(ReplayAnswer, lambda o, _e: o.answer is Answer.GUEST,
                 lambda _o, _e: "The credential works, and Confluence reports the account as a guest (isGuest: "
                 "true): guests reach only their one assigned space", Weight.DIRECT, decisive=True),
        rules_out(RoleList, lambda o, _e: o.has_confluence,
                  lambda o, _e: f"Not a guest: the admin API lists a licensed Confluence role ({o.roles})"),
        rules_out(ReplayAnswer, lambda o, _e: o.answer is Answer.KNOWN and o.where is Where.SITE,
                  lambda _o, _e: "Not a guest: Confluence signed the account in as a full user"),
    ), "the admin API's role assignments (ATLASSIAN_ORG_API_KEY)"),
    C.MISSING_SCOPE: Rules((
        _replayed_as(C.MISSING_SCOPE),
        _reported(C.MISSING_SCOPE),
        _endpoint_works(),
    ), "the failing call replayed at the gateway with the caller's token"),
    C.XSRF_CHECK_FAILED: Rules((
        _reported(C.XSRF_CHECK_FAILED),
        supports(HeaderAsSent, lambda o, _e: o.xsrf_missing,
                 lambda _o, _e: "The rule sends a form/multipart write without X-Atlassian-Token: no-check, which "
                 "Confluence refuses with 403 'XSRF check failed'", Weight.DIRECT),
        rules_out(FailingCall, lambda o, _e: o.method in ("GET", "HEAD"),
                  lambda o, _e: f"Not XSRF protection: it applies to writes, and the call is a {o.method}"),
    ), "the failing call's method and headers"),
    C.ENDPOINT_GONE: Rules((
        _replayed_as(C.ENDPOINT_GONE),
        _reported(C.ENDPOINT_GONE),
        supports(PathAsSent, lambda o, _e: o.problem is PathProblem.GONE and o.answered == 410,
                 lambda o, _e: o.detail, Weight.DIRECT, decisive=True),
        supports(PathAsSent, lambda o, _e: o.problem is PathProblem.GONE and o.answered != 410,
                 lambda o, _e: o.detail, Weight.INDIRECT),
        _endpoint_works(),
    ), "the failing call replayed (--endpoint with --actor-token-stdin)"),
    C.ENDPOINT_NOT_FOUND: Rules((
        _replayed_as(C.ENDPOINT_NOT_FOUND),
        _reported(C.ENDPOINT_NOT_FOUND),
        supports(EndpointReplay, lambda o, e: o.status == 404 and o.kind is not Kind.UNKNOWN_PATH
                 and e.failing is not None and _unknown_path(e.failing, e)
                 and e.any(ReplayAnswer, lambda r: _signed_in(r, e)),
                 lambda o, _e: f"{o.path} is not a path Confluence Cloud serves: replayed with a working "
                 f"credential it answered {o.status}", Weight.DIRECT, decisive=True),
        supports(FailingCall, _path_unexplained,
                 lambda o, _e: f"{o.path} is not a path Confluence Cloud's REST API serves (its routes start with "
                 "/wiki/rest/ or /wiki/api/v2/)", Weight.INDIRECT),
        supports(PathAsSent, lambda o, _e: o.problem is PathProblem.NOT_FOUND and o.answered == 404,
                 lambda o, _e: o.detail, Weight.DIRECT, decisive=True),
        supports(PathAsSent, lambda o, _e: o.problem is PathProblem.NOT_FOUND and o.answered != 404,
                 lambda o, _e: o.detail, Weight.INDIRECT),
        _endpoint_works(),
    ), "the failing call replayed (--endpoint with --actor-token-stdin)"),
    C.SPACE_PERMISSION_MISSING: Rules((
        supports(SpaceGrant, lambda o, e: bool(o.missing) and not o.doubts and not _fallback_open(e),
                 lambda o, _e: f"Space {o.space} grants {' / '.join(o.missing)} neither to the account nor to any "
                 "of its groups", Weight.DIRECT, decisive=True),
        # the same absence on a site that serves anonymous users decides nothing between the two
        supports(SpaceGrant, lambda o, e: bool(o.missing) and not o.doubts and _fallback_open(e),
                 lambda o, _e: f"Space {o.space} grants {' / '.join(o.missing)} neither to the account nor to any "
                 "of its groups" + FALLBACK, Weight.DIRECT, alike=(C.CREDENTIAL_REJECTED,)),
        supports(SpaceGrant, lambda o, _e: bool(o.missing) and bool(o.doubts),
                 lambda o, _e: f"Space {o.space} grants {' / '.join(o.missing)} neither to the account nor to any "
                 f"of its groups read, but {'; '.join(o.doubts)}", Weight.HINT),
        _reported(C.SPACE_PERMISSION_MISSING),
        rules_out(SpaceGrant, lambda o, e: not o.missing and e.failing is not None,
                  lambda o, _e: f"Not a space permission: space {o.space} grants the account what the call needs"),
        _endpoint_works(),
    ), "the space the call is about (--space KEY)"),
    C.PAGE_RESTRICTED: Rules((
        supports(PageCheck, lambda o, e: not o.may and o.space_granted is True and not _fallback_open(e),
                 lambda o, _e: f"Confluence's permission check says the account may not {o.operation} page "
                 f"{o.page} although it may use the space: a page restriction denies it", Weight.DIRECT,
                 decisive=True),
        supports(PageCheck, lambda o, e: not o.may and o.space_granted is True and _fallback_open(e),
                 lambda o, _e: f"Confluence's permission check says the account may not {o.operation} page "
                 f"{o.page} although it may use the space" + FALLBACK, Weight.DIRECT, alike=(C.CREDENTIAL_REJECTED,)),
        supports(PageCheck, lambda o, _e: not o.may and o.space_granted is None,
                 lambda o, _e: f"Confluence's permission check says the account may not {o.operation} page "
                 f"{o.page}", Weight.DIRECT),
        rules_out(PageCheck, lambda o, _e: o.may, lambda o, e: "Not a page restriction: " + _page_ok(o, e)),
        _endpoint_works(),
    ), "the failing call with its page id (…/content/ID or …/pages/ID)"),
    C.RATE_LIMITED: Rules((
        _reported(C.RATE_LIMITED),
        rules_out(ReportedBody, lambda o, _e: o.status is not None and o.status != 429,
                  lambda o, _e: f"Not rate limiting: the call answered {o.status}, not 429"),
    ), "the failing call's status (429 with Retry-After)"),
}

# Caller-side causes a reported failure leaves open when every layer checked passes.
CALLER_SIDE = (C.AUTH_HEADER_MISSING, C.AUTH_HEADER_MALFORMED, C.BEARER_WITH_API_TOKEN, C.SCOPED_TOKEN_SITE_URL,
               C.CREDENTIAL_REJECTED, C.ENDPOINT_NOT_FOUND)
# Causes that stop the diagnosis: nothing else the run saw can be trusted, or there is no site.
HALTING = (C.SITE_NOT_FOUND, C.NOT_A_CLOUD_SITE, C.INSPECTOR_MISCONFIGURED)


# The stage of the request at which each layer's causes act: the site and the bot first, then who the
# caller is, whether its credential is taken, whether it may use Confluence, the request, the content.
_STAGES = {"site": 0, "bot": 0, "platform": 0, "-": 0, "identity": 1, "credential": 2, "policy": 2, "product": 3,
           "scope": 4, "request": 4, "content": 5}


def _stage(code: CauseCode) -> int:
    return _STAGES[BY_CODE[code].layer]


def _site_label(e: Evidence) -> str:
    site = e.replay(Where.SITE)
    return site.label if site is not None else "refused"


def _site_rejects_anonymously(e: Evidence) -> bool:
    site = e.replay(Where.SITE)
    return site is not None and site.answer is Answer.ANONYMOUS


def _failing(e: Evidence) -> str:
    failing = e.failing
    return failing.described if failing is not None else "the failing call"


def _unresolved_reported(e: Evidence) -> bool:
    return e.any(ReportedBody, lambda o: o.kind in UNRESOLVED_BODIES)


def _reported_status(e: Evidence) -> str:
    status = e.context.reported_status
    return str(status) if status is not None else "an error"


# --- the verdict --------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Hit:
    cause: CauseCode
    clue: Bearing
    seen: Seen
    sentence: str


@dataclass(slots=True)
class _Standing:
    """One cause as the observations leave it."""

    cause: CauseCode
    support: list[_Hit] = field(default_factory=list)
    against: list[_Hit] = field(default_factory=list)

    @property
    def candidate(self) -> bool:
        return not self.against

    @property
    def weight(self) -> int:
        return max((int(h.clue.weight) for h in self.support if h.clue.weight is not None), default=-1)

    @property
    def decisive(self) -> bool:
        return any(h.clue.decisive for h in self.support)

    def score(self) -> tuple[int, int, int]:
        return (self.weight, int(self.decisive), -position(self.cause))


@dataclass(frozen=True, slots=True)
class Assessment:
    verdict: Verdict
    findings: tuple[FindingSummary, ...]


def judge(seen: Sequence[Seen], context: Context) -> Verdict:
    """The verdict of a run from everything it observed."""
    return assess(seen, context).verdict


def assess(seen: Sequence[Seen], context: Context) -> Assessment:
    """The verdict, and every supported candidate as a finding (catalogue order)."""
    evidence = Evidence(seen, context)
    standing = _weigh(evidence)
    supported = sorted((s for s in standing.values() if s.candidate and s.support), key=lambda s: s.score(),
                       reverse=True)
    for halting in HALTING:
        decided = standing[halting]
        if decided.decisive:
            return _finish(evidence, standing, decided, Confidence.CONFIRMED, [], supported)
    if supported:
        best = supported[0]
        # A decisive cause shadows the causes of the stages inside it: the call never gets that far while
        # it holds, so those are further problems, not rival explanations.
        rivals = [s for s in supported[1:] if not (best.decisive and _stage(s.cause) > _stage(best.cause))]
        rivals += [standing[c] for h in best.support for c in h.clue.alike
                   if standing[c].candidate and standing[c] not in rivals]
        confidence = _confidence(best, rivals)
        return _finish(evidence, standing, best, confidence, rivals, supported)
    return _no_cause(evidence, standing)


def _weigh(evidence: Evidence) -> dict[CauseCode, _Standing]:
    standing = {code: _Standing(code) for code in TABLE}
    for code, rules in TABLE.items():
        for clue in rules.clues:
            for item in evidence.seen:
                said = clue.read(item.what, evidence)
                if said is None:
                    continue
                hit = _Hit(code, clue, item, said)
                (standing[code].support if clue.weight is not None else standing[code].against).append(hit)
    return standing


def _confidence(best: _Standing, rivals: list[_Standing]) -> Confidence:
    if best.weight <= Weight.HINT:
        return Confidence.POSSIBLE
    alike = {c for h in best.support for c in h.clue.alike}
    if any(r.weight >= best.weight or r.cause in alike for r in rivals):
        return Confidence.POSSIBLE
    if best.decisive and not rivals:
        return Confidence.CONFIRMED
    return Confidence.LIKELY


def _finish(evidence: Evidence, standing: dict[CauseCode, _Standing], best: _Standing, confidence: Confidence,
            rivals: list[_Standing], supported: list[_Standing]) -> Assessment:
    cause = BY_CODE[best.cause]
    strongest = sorted(best.support, key=lambda h: (h.clue.weight or 0, h.clue.decisive), reverse=True)
    sentences = list(dict.fromkeys(h.sentence for h in strongest))
    facts = _facts(evidence, best.support)
    verdict = Verdict(
        cause=best.cause, confidence=confidence, title=cause.title,
        explanation=". ".join(s.rstrip(".") for s in sentences[:2]) + ".",
        fix=fill_fix(cause, facts),
        decided_by=tuple(dict.fromkeys(h.seen.step for h in strongest)),
        observed=tuple(sentences),
        ruled_out=_ruled_out(standing, best.cause),
        not_ruled_out=_open(best, confidence, rivals, standing),
    )
    return Assessment(verdict, _findings(best, confidence, supported))


def _open(best: _Standing, confidence: Confidence, rivals: list[_Standing],
          standing: Mapping[CauseCode, _Standing]) -> tuple[Open, ...]:
    """The rivals left open, and what would decide each; a caller-side verdict short of `confirmed` also
    leaves open the other ways a caller can present a credential wrongly."""
    causes = [r.cause for r in rivals]
    if best.cause in CALLER_SIDE and confidence is not Confidence.CONFIRMED:
        causes += [c for c in CALLER_SIDE if c is not best.cause and standing[c].candidate and c not in causes]
    return tuple(Open(c, TABLE[c].would_decide) for c in sorted(causes, key=position))


def _findings(best: _Standing, confidence: Confidence, supported: list[_Standing]) -> tuple[FindingSummary, ...]:
    out = []
    for s in sorted(supported, key=lambda s: position(s.cause)):
        sure = confidence if s is best else (Confidence.LIKELY if s.weight >= Weight.DIRECT and s.decisive
                                             else Confidence.POSSIBLE)
        sentences = list(dict.fromkeys(h.sentence for h in s.support))
        out.append(FindingSummary(s.cause, sure, BY_CODE[s.cause].title, ". ".join(sentences[:2]) + ".",
                                  tuple(dict.fromkeys(h.seen.step for h in s.support))))
    return tuple(out)


def _ruled_out(standing: Mapping[CauseCode, _Standing], chosen: CauseCode | None) -> tuple[RuledOut, ...]:
    """Every cause an observation excluded, with the first such observation: first those something also
    spoke for (the real contenders), then the rest, each group in catalogue order."""
    excluded = [(code, s) for code, s in standing.items() if s.against and code is not chosen]
    excluded.sort(key=lambda kv: (not kv[1].support, position(kv[0])))
    return tuple(RuledOut(code, s.against[0].sentence) for code, s in excluded)


def _facts(evidence: Evidence, hits: Iterable[_Hit]) -> dict[str, str]:
    out = dict(evidence.context.facts)
    for item in evidence.seen:  # facts every observation gives (the failing path...), then the deciding ones
        if not isinstance(item.what, (FailingCall,)):
            continue
        out.update(item.what.template())
    for hit in hits:
        out.update(hit.seen.what.template())
    return out


def _no_cause(evidence: Evidence, standing: dict[CauseCode, _Standing]) -> Assessment:
    """Nothing supports a cause: `ok` when nothing failed and enough was checked; a reported failure
    is `request_not_as_tested` (or `inconclusive` when too little could be checked)."""
    context = evidence.context
    ok_confidence = _ok_confidence(evidence)
    absent = evidence.all(Absent)
    ruled_out = _ruled_out(standing, None)
    failed_for_us = evidence.any(EndpointReplay, lambda o: not o.worked)
    if absent or failed_for_us:
        seen = [f"{a.what}" for a in absent] + [f"replayed as the actor, {o.method} {o.path} answered {o.label}"
                                                for o in evidence.all(EndpointReplay) if not o.worked]
        fix = tuple(a.fix for a in absent if a.fix) + what_would_decide(context.not_checked)[:3]
        return Assessment(Verdict(C.INCONCLUSIVE, Confidence.POSSIBLE, BY_CODE[C.INCONCLUSIVE].title,
                                  "No cause was proven, but something looked wrong: " + "; ".join(seen[:3]) + ".",
                                  fix or BY_CODE[C.INCONCLUSIVE].fix, (), tuple(seen), ruled_out,
                                  _open_caller_side(standing, evidence)), ())
    if evidence.reported_failure:
        note = _gateway_only_note(evidence)
        noted = (note[0].upper() + note[1:] + ". ") if note else ""
        if ok_confidence is None:
            why = noted + (
                f"The reported {context.reported_status} is not explained by any layer that could be checked; "
                "see 'Not checked' for what would decide it." if context.reported_status else
                "The reported failure is not explained by any layer that could be checked; see 'Not checked' "
                "for what would decide it.")
            fix = what_would_decide(context.not_checked)[:6] or BY_CODE[C.INCONCLUSIVE].fix
            return Assessment(Verdict(C.INCONCLUSIVE, Confidence.POSSIBLE, BY_CODE[C.INCONCLUSIVE].title, why, fix,
                                      (), (note,) if note else (), ruled_out, _open_caller_side(standing, evidence)),
                              ())
        cause = BY_CODE[C.REQUEST_NOT_AS_TESTED]
        passed = _what_passed(evidence)
        # likely only once the credential itself was tried: without a replay "it works as tested" is unproven
        tried = evidence.any(ReplayAnswer, lambda o: o.where is not Where.NOWHERE and o.authenticated) or evidence.any(
            OAuthAnswer, lambda o: _oauth_accepted_at_gateway(o, evidence)) or evidence.any(
            EndpointReplay, lambda o: o.worked) or evidence.any(HeaderAsSent, lambda o: o.worked)
        confidence = Confidence.LIKELY if tried else Confidence.POSSIBLE
        return Assessment(Verdict(
            C.REQUEST_NOT_AS_TESTED, confidence, cause.title,
            f"A failure was reported, and every layer that was checked passes ({'; '.join(passed) or 'see the steps'}"
            "): the failing request must present something else than what was tested."
            + (f" Note: {note}." if note else ""),
            fill_fix(cause, _facts(evidence, ())), tuple(dict.fromkeys(s.step for s in evidence.seen
                                                                     if not isinstance(s.what, Unreadable))),
            tuple(passed) + ((note,) if note else ()), ruled_out, _open_caller_side(standing, evidence)), ())
    if ok_confidence is None:
        fix = what_would_decide(context.not_checked)[:6] or BY_CODE[C.INCONCLUSIVE].fix
        return Assessment(Verdict(C.INCONCLUSIVE, Confidence.POSSIBLE, BY_CODE[C.INCONCLUSIVE].title,
                                  "Too little could be checked to reach a verdict.", fix, (), (), ruled_out, ()), ())
    tested = context.rule or evidence.any(EndpointReplay, lambda o: o.worked)
    title = BY_CODE[C.OK].title if tested else "No blocker found in the account"
    explanation = ("Every layer that was checked passed." if tested else
                   "Every layer that was checked passed; the failing call itself was not "
                   + ("replayed (no actor token)." if context.endpoint else "described, so it was not tested."))
    return Assessment(Verdict(C.OK, ok_confidence, title, explanation, (), (), tuple(_what_passed(evidence)),
                              ruled_out, ()), ())


def _ok_confidence(evidence: Evidence) -> Confidence | None:
    """How sure an `ok` (or a caller-side verdict) may be: confirmed only when the actor's credential was
    replayed where the caller sends it, the failing call (if named) worked as the actor, no answer was
    lost to a fault and the request was replayed as it is; likely on the admin API's word alone."""
    lost = evidence.any(Unreadable)
    where = evidence.caller_where or Where.SITE
    accepted = evidence.any(ReplayAnswer, lambda o: o.answer is Answer.KNOWN and (
        o.where is Where.SITE or (o.where is Where.GATEWAY and where is Where.GATEWAY))) or evidence.any(
        OAuthAnswer, lambda o: o.where is Where.GATEWAY and o.answer is Answer.KNOWN
        and evidence.caller_where is not Where.SITE)
    if accepted and not evidence.any(EndpointReplay, lambda o: not o.worked):
        # confirmed only when the failing call itself was replayed and worked: without it, what was tested
        # is the account and the credential, not the call
        as_sent = evidence.any(HeaderAsSent, lambda o: o.worked and not o.reported)
        tested = evidence.any(EndpointReplay, lambda o: o.worked) or as_sent
        # a live token no caller ever used (our own uses left out) shows that whatever makes the call does
        # not present it: the call works as we sent it, which says nothing of the caller's own request
        unused = evidence.any(TokenList, lambda o: o.never_used) and not as_sent
        sure = tested and not lost and evidence.context.replayed_exactly and not unused
        return Confidence.CONFIRMED if sure else Confidence.LIKELY
    active = evidence.any(AccountStatus, lambda o: o.state is AccountState.ACTIVE and not o.rule_actor)
    access = evidence.any(RoleList, lambda o: o.has_confluence) or evidence.any(AccessByEmail, lambda o: o.has_access)
    if active and access:
        return Confidence.LIKELY
    if evidence.context.rule and evidence.any(HeaderAsSent, lambda o: o.worked):
        return Confidence.LIKELY
    return None


def _what_passed(evidence: Evidence) -> list[str]:
    out: list[str] = []
    for o in evidence.all(AccountStatus):
        if o.state is AccountState.ACTIVE and not o.rule_actor:
            out.append(f"the account is active ({o.seen})")
    for r in evidence.all(RoleList):
        if r.has_confluence:
            out.append(f"it has a Confluence role ({r.roles})")
    for a in evidence.all(AccessByEmail):
        if a.has_access:
            out.append(f"Confluence says {a.email} has access")
    for t in evidence.all(TokenList):
        if t.live:
            used = f"last used by the caller {t.last_used}" if t.last_used else \
                "never used by the caller" if t.never_used else "the caller's last use not known"
            ours = f"; last used by this check at {t.ours}" if t.ours else ""
            out.append(f"{t.live} valid token(s), {used}{ours}")
    for p in evidence.all(ReplayAnswer):
        if p.where is not Where.NOWHERE and p.answer is Answer.KNOWN:
            out.append(f"the {p.where.value} accepted the actor's token")
    for e in evidence.all(EndpointReplay):
        if e.worked:
            out.append(f"{e.method} {e.path} works as the actor ({e.status})")
    for s in evidence.all(SpaceGrant):
        if not s.missing:
            out.append(f"space {s.space} grants the account what the call needs")
    return out


def _open_caller_side(standing: Mapping[CauseCode, _Standing], evidence: Evidence | None = None) -> tuple[Open, ...]:
    """The ways a caller can still fail where every checked layer passed, each with what would decide it.
    A credential that only the gateway takes (a scoped token, an OAuth token, a service account's) fails
    at the site URL or for a scope it lacks: those two lead, decided by the failing call's URL."""
    causes = [c for c in CALLER_SIDE if standing[c].candidate]
    decide = {c: TABLE[c].would_decide for c in causes}
    if evidence is not None:
        oauth = evidence.context.oauth or evidence.any(OAuthAnswer)
        scoped = evidence.any(ReplayAnswer, lambda o: _scoped_at_site(o, evidence))
        service = evidence.any(AccountKind, lambda o: o.kind.name == "APP")
        tried = scoped or oauth
        lead = ([C.OAUTH_TOKEN_SITE_URL] if oauth else [C.SCOPED_TOKEN_SITE_URL] if scoped else
                [C.SCOPED_TOKEN_SITE_URL, C.OAUTH_TOKEN_SITE_URL, C.OAUTH_TOKEN_EXPIRED] if service else [])
        if lead:
            lead.append(C.MISSING_SCOPE)
            if oauth:  # an OAuth token goes as Bearer by design; a header problem would be no API token's
                causes = [c for c in causes if c not in (C.BEARER_WITH_API_TOKEN, C.SCOPED_TOKEN_SITE_URL)]
            causes = [c for c in lead if standing[c].candidate] + [c for c in causes if c not in lead]
            for c in lead:
                by_url = tried and c is not C.OAUTH_TOKEN_EXPIRED
                decide[c] = URL_DECIDES if by_url else TABLE[c].would_decide
    return tuple(Open(c, decide[c]) for c in causes)


def _gateway_only_note(evidence: Evidence) -> str | None:
    """What the run saw of a credential that works only through the gateway, for a verdict that names no cause."""
    if evidence.any(OAuthAnswer, lambda o: _oauth_accepted_at_gateway(o, evidence)):
        return ("the gateway accepts the OAuth 2.0 access token; the site URL accepts none, and a route needs the "
                "scope it names")
    site = evidence.replay(Where.SITE)
    if site is not None and evidence.any(ReplayAnswer, lambda o: _scoped_at_site(o, evidence)):
        return (f"the gateway accepts the token but the site URL refuses it ({site.label}): a scoped token, which "
                "works only through the gateway and only for the scopes it holds")
    if evidence.any(AccountKind, lambda o: o.kind.name == "APP"):
        return ("the actor is a service account: its credential, a scoped API token or OAuth 2.0 client credentials, "
                "works only through the gateway (api.atlassian.com/ex/confluence/…), never at the site URL")
    return None
