"""Typed facts the probes pass to each other (docs/architecture.md §Missing evidence).

A fact is a small frozen value, or `Unknown` with the reason it could not be established
(a request failed, a list was cut short, a setting is missing, the providing probe found
nothing). Each probe declares, by `FactKey`, the facts it needs to *build* its requests,
the facts it needs only to *judge* the answers, and the facts it *provides*; the engine
resolves every key exactly once. No rule may turn an `Unknown` into a cause.

Plain data only: no I/O, no Slack, no terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Generic, Self, TypeVar

# Covariant: a key of one fact type is a key of `object`, so `tuple[FactKey[object], ...]` holds any keys
# (the store checks each value against `key.type` when it is set).
T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True, slots=True)
class Unknown:
    """A fact that could not be established, and why (shown to the user in skip reasons)."""

    reason: str

    def __post_init__(self) -> None:
        if not self.reason:
            raise ValueError("an unknown fact must say why")


@dataclass(frozen=True, slots=True)
class FactKey(Generic[T_co]):
    """Names one fact and its type. `what` is how a user is told about it ("the site's cloudId")."""

    name: str
    type: type[T_co]
    what: str

    def __repr__(self) -> str:
        return f"FactKey({self.name})"


class _OpenEnum(StrEnum):
    """An Atlassian enum read from an answer: a value this code does not know is UNKNOWN."""

    @classmethod
    def parse(cls, value: object) -> Self:
        try:
            return cls(str(value))
        except ValueError:
            return cls("unknown")


class AccountType(_OpenEnum):
    PERSON = "atlassian"
    APP = "app"  # a service account (docs/atlassian.md §1.7)
    CUSTOMER = "customer"
    UNKNOWN = "unknown"


class Claim(_OpenEnum):
    """Whether the organization manages the account (`claimStatus`, docs/atlassian.md §2.6)."""

    MANAGED = "managed"
    UNMANAGED = "unmanaged"  # external to the org: the external-user policy may apply (§8 A1)
    UNKNOWN = "unknown"


class Source(StrEnum):
    DIRECTORY = "the organization's directory"
    SITE = "this site"
    BOTH = "the organization's directory or this site"


SERVICE_ACCOUNT_DOMAIN = "@serviceaccount.atlassian.com"  # docs/atlassian.md §1.7


def looks_like_service_account(actor: str) -> bool:
    return actor.lower().endswith(SERVICE_ACCOUNT_DOMAIN)


@dataclass(frozen=True, slots=True)
class Site:
    cloud_id: str
    gateway: str  # {api}/ex/confluence/{cloudId}
    name: str  # the site's host name, for messages

    @property
    def ari(self) -> str:
        # docs/atlassian.md §8 A5c: the Confluence site ARI form Atlassian's own front end builds
        return f"ari:cloud:confluence::site/{self.cloud_id}"

    def template(self) -> dict[str, str]:
        return {"cloud_id": self.cloud_id, "gateway": self.gateway, "site_name": self.name}


@dataclass(frozen=True, slots=True)
class Org:
    org_id: str

    def template(self) -> dict[str, str]:
        return {"org_id": self.org_id}


@dataclass(frozen=True, slots=True)
class InspectorLogin:
    """The bot's own site login was accepted (so its 401/403/404 answers mean something)."""

    account_id: str


@dataclass(frozen=True, slots=True)
class DirectoryState:
    """The admin directory's status fields of an account (docs/atlassian.md §1.10, §8 A5a)."""

    account_status: str | None
    membership_status: str | None
    status: str | None
    deactivated_on: str | None = None


@dataclass(frozen=True, slots=True)
class Identity:
    """The actor, resolved once (by email in the directory, or by account id)."""

    account_id: str
    email: str | None
    name: str
    account_type: AccountType
    claim: Claim
    found_in: Source
    directory: DirectoryState | None = None  # present when the directory answered
    org_id: str | None = None

    @property
    def admin_page(self) -> str | None:
        if self.org_id is None:
            return None
        return f"https://admin.atlassian.com/o/{self.org_id}/users/{self.account_id}"

    def template(self) -> dict[str, str]:
        out = {"account_id": self.account_id}
        if self.email:
            out["actor_email"] = self.email
        if self.admin_page:
            out["admin_user_page"] = self.admin_page
        return out


@dataclass(frozen=True, slots=True)
class ActorEmail:
    """The email the actor's Basic email:token pair is built with."""

    email: str


@dataclass(frozen=True, slots=True)
class Tokens:
    valid: int
    never_used: bool  # valid tokens exist and none was ever used


@dataclass(frozen=True, slots=True)
class OwnUse:
    """When this tool last used the actor's credential (a replay is a use: Atlassian moves the token's
    lastAccess), and the caller's last use it saw before that (None: never). Kept between runs."""

    at: datetime
    caller_before: str | None
    caller_known: bool = True  # False: our use hid the caller's (the list was answered after it), so unknown


@dataclass(frozen=True, slots=True)
class Groups:
    ids: frozenset[str]
    names: tuple[str, ...]
    complete: bool  # False: the list was cut short, so "in no granted group" is not proven


class SpaceAccess(StrEnum):
    GRANTED = "granted"
    MISSING = "missing"  # proven: the complete list grants nothing to the account or its groups


@dataclass(frozen=True, slots=True)
class Space:
    id: str
    key: str
    access: SpaceAccess | None = None  # None: the grant could not be judged


class ReplayKind(StrEnum):
    """What an identity call made as the actor (or anonymously) showed."""

    KNOWN = "known"  # 200 with a resolved user
    ANONYMOUS = "anonymous"  # 200 with the anonymous user: the credential was ignored (§1.1)
    REFUSED = "refused"  # an error status; `signature` says which


@dataclass(frozen=True, slots=True)
class Observation:
    status: int
    kind: ReplayKind
    signature: str  # a signatures.Kind value, or "known"/"anonymous"
    label: str
    body: str
    is_guest: bool = False


class AcceptedAt(StrEnum):
    SITE = "site"
    GATEWAY = "gateway"


@dataclass(frozen=True, slots=True)
class Credential:
    """Where the actor's credential was accepted."""

    accepted_at: AcceptedAt


@dataclass(frozen=True, slots=True)
class Access:
    """The account holds a licensed Confluence role on this site (admin API role assignments)."""

    roles: str  # e.g. "atlassian/user (group_direct)"


class TokenSource(StrEnum):
    GIVEN = "given"  # an OAuth 2.0 access token on --actor-token-stdin or in the Slack form
    EXCHANGED = "exchanged"  # issued for the client credentials during this run


@dataclass(frozen=True, slots=True)
class AccessToken:
    """The OAuth 2.0 access token the run holds (never its value). `expires_at` is the JWT's `exp`
    claim, read without verifying the token: a hint for the expiry cause, never proof of anything
    else (docs/credentials.md)."""

    source: TokenSource
    expires_at: datetime | None
    granted: tuple[str, ...] | None = None  # the exchange answer's `scope`

    def template(self) -> dict[str, str]:
        return {"token_expiry": f"at {self.expires_at:%Y-%m-%d %H:%M} UTC"} if self.expires_at else {}


@dataclass(frozen=True, slots=True)
class Resources:
    """`GET {api}/oauth/token/accessible-resources` (docs/atlassian.md §2.1): the sites a token reaches,
    and the scopes it holds on this one. `status` 200, or the refusal (then nothing is listed)."""

    status: int
    site_listed: bool
    scopes: tuple[str, ...]  # on this site ("" when it is not listed)
    sites: tuple[str, ...]  # every listed site, as "name (url)"

    def template(self) -> dict[str, str]:
        return {"oauth_sites": ", ".join(self.sites) or "none"}


# The keys. A key is provided by exactly one probe (the registry checks it).
SITE = FactKey("site", Site, "the site's cloudId")
ORG = FactKey("org", Org, "the organization")
INSPECTOR = FactKey("inspector", InspectorLogin, "the bot's own site login")
ACTOR = FactKey("actor", Identity, "the actor's account")
ACTOR_EMAIL = FactKey("actor_email", ActorEmail, "the actor's email")
TOKENS = FactKey("tokens", Tokens, "the actor's API tokens")
# When the run asked for the token list: a replay (a use of the token) waits for this, not for the list
# itself, so both go in one round trip; the list then reads a use at or after our first one as ours
TOKENS_ASKED = FactKey("tokens_asked", datetime, "when the actor's token list was asked for")
GROUPS = FactKey("groups", Groups, "the actor's groups")
SPACE = FactKey("space", Space, "the space")
SITE_REPLAY = FactKey("site_replay", Observation, "the replay at the site URL")
GATEWAY_REPLAY = FactKey("gateway_replay", Observation, "the replay at the gateway")
ANONYMOUS_REPLAY = FactKey("anonymous_replay", Observation, "the anonymous control call")
CREDENTIAL = FactKey("credential", Credential, "whether the actor's credential is accepted")
ACCESS = FactKey("access", Access, "the account's Confluence access")
OAUTH_TOKEN = FactKey("oauth_token", AccessToken, "the OAuth 2.0 access token")
OAUTH_RESOURCES = FactKey("oauth_resources", Resources, "the OAuth token's accessible resources")
OAUTH_GATEWAY = FactKey("oauth_gateway", Observation, "the OAuth token's identity call at the gateway")
OAUTH_SITE = FactKey("oauth_site", Observation, "the OAuth token's identity call at the site URL")

ALL_KEYS: tuple[FactKey[object], ...] = (
    SITE, ORG, INSPECTOR, ACTOR, ACTOR_EMAIL, TOKENS, GROUPS, SPACE, SITE_REPLAY, GATEWAY_REPLAY, ANONYMOUS_REPLAY,
    CREDENTIAL, ACCESS, OAUTH_TOKEN, OAUTH_RESOURCES, OAUTH_GATEWAY, OAUTH_SITE)
