"""What the probes saw: typed observations, with no cause and no confidence.

A probe records what it asked and what came back (`ctx.observe(...)`); only `bot.judge` turns the
observations of a whole run into a verdict. Each observation is a small frozen value. A fault (an
answer that could not be read) is `Unreadable`: missing evidence, never evidence. A list cut short
says so (`complete=False`), and the judge never reads an absence from it as proof.

Plain data only: no I/O, no Slack, no terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.atlassian.signatures import Kind
from bot.facts import AccountType, Claim, Source
from bot.model import Observation as Observation  # the base lives with the run's plain data; re-exported


class Where(StrEnum):
    """Where a replayed call went."""

    SITE = "site"  # https://<name>.atlassian.net
    GATEWAY = "gateway"  # https://api.atlassian.com/ex/confluence/<cloudId>
    NOWHERE = "none"  # the control call, sent with no credential at all (to the site)


class Answer(StrEnum):
    """What an identity call (`/wiki/rest/api/user/current`) showed."""

    KNOWN = "known"  # 200, a resolved user
    GUEST = "guest"  # 200, a resolved user with isGuest
    ANONYMOUS = "anonymous"  # 200, the anonymous user: the credential was ignored (docs/atlassian.md §1.1)
    REFUSED = "refused"  # an error status; `kind` says which


@dataclass(frozen=True, slots=True)
class SiteAnswer(Observation):
    """`{site}/_edge/tenant_info`: the cloudId, or the client error that says there is no site."""

    url: str
    status: int
    cloud_id: str | None
    data_center: bool = False  # no tenant info, and /status answers like a Data Center node


@dataclass(frozen=True, slots=True)
class StatusPage(Observation):
    incident: bool
    degraded: bool
    summary: str
    url: str | None = None

    def template(self) -> dict[str, str]:
        return {"incident_url": self.url} if self.url else {}


class BotCredential(StrEnum):
    SITE_LOGIN = "ATLASSIAN_EMAIL/ATLASSIAN_API_TOKEN"
    ORG_KEY = "ATLASSIAN_ORG_API_KEY"
    ORG_ID = "ATLASSIAN_ORG_ID"


@dataclass(frozen=True, slots=True)
class BotRefused(Observation):
    """The bot's own credential (or setting) was refused: its other answers mean nothing."""

    setting: BotCredential
    detail: str

    def template(self) -> dict[str, str]:
        return {"inspector_setting": self.setting.value, "inspector_detail": self.detail}


@dataclass(frozen=True, slots=True)
class BotTokenOffByPolicy(Observation):
    """The bot's own API token is refused with 'Basic Authentication has been disabled on this instance.':
    an authentication policy turns API tokens off, and any account it covers is refused the same way."""

    detail: str

    def template(self) -> dict[str, str]:
        return {"inspector_policy_note": self.detail}


@dataclass(frozen=True, slots=True)
class ReportedBody(Observation):
    """What the admin reported the failing call answered (status and/or body), classified."""

    status: int | None
    kind: Kind
    label: str


@dataclass(frozen=True, slots=True)
class FailingCall(Observation):
    """The failing call as described (method, path, where it goes); nothing was sent for this."""

    method: str
    path: str
    where: Where | None  # None: another host (neither the site nor the gateway)
    described: str

    def template(self) -> dict[str, str]:
        out = {"path": self.path}
        if self.path.startswith("/rest/") and not self.path.startswith("/wiki/"):
            out["suggested_path"] = f"did you mean /wiki{self.path}?"
        return out


@dataclass(frozen=True, slots=True)
class AccountLookup(Observation):
    """Whether the actor was found, and where it was looked for."""

    actor: str
    found: bool
    where: Source
    by_email: bool
    service_address: bool  # an @serviceaccount.atlassian.com address (not always listed)


class AccountState(StrEnum):
    ACTIVE = "active"
    DEACTIVATED = "deactivated"
    SUSPENDED = "suspended"  # active account, no active membership


@dataclass(frozen=True, slots=True)
class AccountStatus(Observation):
    """The admin directory's status fields (docs/atlassian.md §1.10)."""

    state: AccountState
    seen: str  # accountStatus=..., membershipStatus=..., status=...
    since: str | None = None
    rule_actor: bool = False  # the automation rule's actor, not the account the request runs as
    who: str = ""
    admin_page: str | None = None
    account_id: str | None = None  # set when it is not the run's actor (the rule's actor)

    def template(self) -> dict[str, str]:
        out = {"admin_user_page": self.admin_page} if self.admin_page else {}
        if self.account_id:
            out["account_id"] = self.account_id
        return out


@dataclass(frozen=True, slots=True)
class AccountKind(Observation):
    kind: AccountType
    claim: Claim


@dataclass(frozen=True, slots=True)
class TokenList(Observation):
    """The actor's API tokens as the admin API lists them. `never_used` and `last_used` leave out
    this tool's own replays: a use at or after our own is not the caller's."""

    total: int
    live: int
    never_used: bool  # live tokens exist and the caller never used any (our replays left out)
    last_used: str | None  # the caller's last use, when known
    ours: str | None  # when this tool last used the actor's credential (None: never)
    labels: str
    latest_expiry: str | None = None
    caller_last: str | None = None  # the caller's last use as Atlassian wrote it (kept for the next run)
    caller_known: bool = True  # False: a use of ours replaced the caller's before the list was read


@dataclass(frozen=True, slots=True)
class ReplayAnswer(Observation):
    """The identity call made with the actor's credential (or with none, `Where.NOWHERE`)."""

    where: Where
    status: int
    answer: Answer
    kind: Kind | None  # the refusal's signature; None when accepted
    label: str

    @property
    def authenticated(self) -> bool:
        """Atlassian took the credential for a known account: it answered as that account, or the
        gateway refused it only for a scope (it says that only to a credential it has authenticated)."""
        return self.answer in (Answer.KNOWN, Answer.GUEST) or self.kind is Kind.SCOPE_MISMATCH


@dataclass(frozen=True, slots=True)
class OAuthRefused(Observation):
    """The token host refused the OAuth 2.0 client id and secret (an RFC 6749 error)."""

    said: str  # "401 invalid_client"

    def template(self) -> dict[str, str]:
        return {"oauth_error": self.said}


@dataclass(frozen=True, slots=True)
class OAuthToken(Observation):
    """The OAuth 2.0 access token, and what its exp claim says (read, not verified)."""

    expired: bool
    expiry: str | None  # "2026-12-07 01:00 UTC"; None when the token carries no readable claim

    def template(self) -> dict[str, str]:
        return {"token_expiry": self.expiry} if self.expiry else {}


@dataclass(frozen=True, slots=True)
class OAuthResources(Observation):
    """`accessible-resources` for the OAuth token: refused, or the sites it lists."""

    status: int
    site_listed: bool
    sites: tuple[str, ...] = ()

    @property
    def refused(self) -> bool:
        return self.status in (401, 403)

    def template(self) -> dict[str, str]:
        return {"oauth_sites": ", ".join(self.sites) or "none"}


@dataclass(frozen=True, slots=True)
class OAuthAnswer(Observation):
    """The identity call made with the OAuth access token as Bearer (at the gateway, or the site as a contrast)."""

    where: Where
    status: int
    answer: Answer
    kind: Kind | None
    label: str

    @property
    def authenticated(self) -> bool:
        return self.answer in (Answer.KNOWN, Answer.GUEST) or self.kind is Kind.SCOPE_MISMATCH


@dataclass(frozen=True, slots=True)
class EndpointReplay(Observation):
    """The failing call itself, replayed with the actor's credential."""

    method: str
    path: str
    status: int
    kind: Kind | None  # None for a 2xx
    label: str
    anonymous: bool = False  # a 2xx served as the anonymous user
    through_gateway: bool = False  # sent through the gateway (an OAuth token), whatever URL the caller used

    @property
    def worked(self) -> bool:
        return 200 <= self.status < 300 and not self.anonymous


@dataclass(frozen=True, slots=True)
class IpAllowlist(Observation):
    enabled: tuple[str, ...]
    complete: bool


@dataclass(frozen=True, slots=True)
class RoleList(Observation):
    """The account's role assignments on this site (admin API)."""

    has_confluence: bool  # a licensed role (atlassian/user or atlassian/admin)
    guest: bool
    roles: str
    complete: bool
    site: str


@dataclass(frozen=True, slots=True)
class AccessByEmail(Observation):
    """Confluence's check-access-by-email answer for the actor's email."""

    email: str
    has_access: bool


@dataclass(frozen=True, slots=True)
class SpaceGrant(Observation):
    """Whether the space's permission list grants the operations the call needs."""

    space: str
    missing: tuple[str, ...]  # empty: every operation is granted
    doubts: tuple[str, ...] = ()  # why an absence is not proof (a list cut short...)
    page: str | None = None

    def template(self) -> dict[str, str]:
        return {"space_permissions_page": self.page} if self.page else {}


@dataclass(frozen=True, slots=True)
class Absent(Observation):
    """What the call names does not exist (or the bot cannot see it): no cause, but not 'no problem'."""

    what: str
    fix: str | None = None


@dataclass(frozen=True, slots=True)
class PageCheck(Observation):
    page: str
    operation: str
    may: bool
    space_granted: bool | None  # None: the space grant is unknown
    url: str = ""

    def template(self) -> dict[str, str]:
        return {"page_url": self.url} if self.url else {}


class HeaderProblem(StrEnum):
    MISSING = "missing"
    MALFORMED = "malformed"
    BEARER = "bearer"


@dataclass(frozen=True, slots=True)
class HeaderAsSent(Observation):
    """The Authorization header as the caller sends it, and what sending it showed: read from an automation
    rule, or as the admin describes it (`reported`, with the actor's token put in that form)."""

    problem: HeaderProblem | None
    worked: bool  # sent, and answered 2xx as a known account
    sent: bool
    detail: str
    xsrf_missing: bool = False
    facts: tuple[tuple[str, str], ...] = ()
    reported: bool = False  # the form is the admin's word (--sent-as), not read from the rule

    @property
    def direct(self) -> bool:
        """Read from the rule itself, or sent in that form and answered: not only someone's description."""
        return self.sent or not self.reported

    def template(self) -> dict[str, str]:
        return dict(self.facts)


class PathProblem(StrEnum):
    GONE = "gone"
    NOT_FOUND = "not_found"


@dataclass(frozen=True, slots=True)
class PathAsSent(Observation):
    problem: PathProblem
    answered: int | None  # the status of the request as sent, when it was sent
    path: str
    detail: str
    suggestion: str = ""

    def template(self) -> dict[str, str]:
        out = {"path": self.path}
        if self.suggestion:
            out["suggested_path"] = self.suggestion
        return out


@dataclass(frozen=True, slots=True)
class Unreadable(Observation):
    """An answer that is not evidence (a 5xx, a 429 after retries, a body that does not parse)."""

    what: str
