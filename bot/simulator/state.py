"""The simulated Atlassian Cloud world: site, org, accounts, tokens, groups, spaces, pages,
policies, status page and faults, as mutable dataclasses, plus the small queries the routes ask.

Field names follow the scenario file format (snake_case); the routes translate them into
Atlassian's wire names. Secrets (token values, passwords, org keys) are kept out of every repr.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

# The fault model lives in its own module; its names stay importable from here.
from bot.simulator.fault_model import ErrorFault as ErrorFault
from bot.simulator.fault_model import FaultKind as FaultKind
from bot.simulator.fault_model import FaultRole as FaultRole
from bot.simulator.fault_model import Faults as Faults
from bot.simulator.fault_model import RateLimitFault as RateLimitFault
from bot.simulator.fault_model import RetryAfterForm as RetryAfterForm
from bot.simulator.fault_model import RouteFault as RouteFault

AccountType = Literal["atlassian", "app", "customer"]
AccountStatus = Literal["active", "inactive", "closed"]
MembershipStatus = Literal["active", "suspended", "no_membership"]
ClaimStatus = Literal["managed", "unmanaged"]
TokenKind = Literal["classic", "scoped"]
SpaceOperation = Literal["read", "create", "delete", "administer", "export", "restrict_content", "archive"]
# v2 SpacePermissionAssignment.operation.targetType (confluence-v2 spec enum).
TargetType = Literal["page", "blogpost", "comment", "attachment", "whiteboard", "database", "embed", "folder",
                     "space", "application", "userProfile"]
SpaceRoleMode = Literal["PRE_ROLES", "ROLES_TRANSITION", "ROLES"]  # GET /wiki/api/v2/space-role-mode
RolePrincipalType = Literal["USER", "GROUP", "ACCESS_CLASS"]  # v2 PrincipalType
# What an operation is about when a permission does not say (mapping [I]): "create" alone means
# creating pages, so a create grant on comments does not let anyone create a page (bot/openapi/README.md).
DEFAULT_TARGET: dict[str, str] = {"read": "space", "create": "page", "delete": "page", "administer": "space",
                                  "export": "space", "restrict_content": "space", "archive": "page"}
# Access classes a role can be assigned to (v2 `principal-id` with `ACCESS_CLASS`).
LICENSED_CLASSES = ("authenticated-users", "all-licensed-users")

# Confluence-site roles that grant "Can use" (docs/atlassian.md §1.8; guest §1.9).
CONFLUENCE_ACCESS_ROLES = ("atlassian/user", "atlassian/admin", "atlassian/guest")
GUEST_ROLE = "atlassian/guest"


def utcnow() -> datetime:
    return datetime.now(UTC)


_RELATIVE = re.compile(r"^now(?:([+-])(\d+)([dh]))?$")


def parse_time(text: str) -> datetime:
    """An ISO date or timestamp from a scenario file, as an aware UTC datetime; or a time relative
    to the moment it is read (`now`, `now+20d`, `now-400d`, `now-3h`), so a world about token
    expiry keeps the same meaning whatever day it is served."""
    relative = _RELATIVE.match(text.strip())
    if relative is not None:
        sign, amount, unit = relative.groups()
        delta = timedelta(days=int(amount)) if unit == "d" else timedelta(hours=int(amount or 0))
        return utcnow() + (delta if sign != "-" else -delta)
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def wire_time(text: str | None) -> str | None:
    """A scenario time in Atlassian's wire form, e.g. 2027-06-30T00:00:00.000Z."""
    if text is None:
        return None
    return parse_time(text).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class Site:
    name: str
    cloud_id: str
    exists: bool = True
    anonymous_access: bool = False  # "Anonymous Access to Remote API" (docs/atlassian.md §1.17)
    jira: bool = True  # whether /rest/api/3/myself answers (docs/atlassian.md §2.5)
    # ROLES: spaces grant through role assignments (docs/atlassian.md §2.4)
    space_role_mode: SpaceRoleMode = "PRE_ROLES"
    # A Confluence Data Center/Server instance at this URL instead of a Cloud site: no /_edge/tenant_info,
    # Tomcat pages, /status answering {"state":"RUNNING"} (routes/data_center.py has the sources)
    data_center: bool = False
    # v1 lists may come without `_links.next` although more remains: clients page on until a short or
    # empty page (https://github.com/mozilla/markfluence/blob/main/docs/confluence/api.md). Off: always linked.
    v1_next_links: bool = True


@dataclass
class Org:
    id: str
    name: str
    api_keys: list[str] = field(default_factory=list, repr=False)
    block_api_tokens_for_external_users: bool = False  # Guard policy (docs/atlassian.md §1.11, §8 A1)
    # An authentication policy that turns API tokens off for the org's managed users (docs/atlassian.md
    # §8 A1): their Basic email:token is refused with "Basic Authentication has been disabled…"
    api_token_auth_disabled: bool = False

    @property
    def directory_id(self) -> str:
        """A stable directory id; the admin routes also accept `-` (docs/atlassian.md §2.6)."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"directory:{self.id}"))


@dataclass
class Token:
    id: str
    label: str
    value: str = field(repr=False)
    created_at: str
    expiry: str
    kind: TokenKind = "classic"
    scopes: list[str] = field(default_factory=list)
    last_access: str | None = None  # set by the simulator on each accepted use
    revoked: bool = False

    def usable(self, now: datetime) -> bool:
        return not self.revoked and parse_time(self.expiry) > now


@dataclass
class ResourceRoles:
    """The user's roles on another resource of the org, e.g. a Jira site (docs/atlassian.md §8 A5c: one
    role-assignment entry per resource)."""

    resource_id: str  # an ARI, e.g. ari:cloud:jira-software::site/<cloudId>
    roles: list[str]
    resource_owner: str = "jira"


@dataclass
class User:
    account_id: str
    email: str
    name: str
    account_type: AccountType = "atlassian"
    account_status: AccountStatus = "active"
    membership_status: MembershipStatus = "active"
    claim_status: ClaimStatus = "managed"
    roles: list[str] = field(default_factory=list)  # direct Confluence-site roles
    platform_roles: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)  # group names (or ids)
    password: str | None = field(default=None, repr=False)
    tokens: list[Token] = field(default_factory=list)
    other_resources: list[ResourceRoles] = field(default_factory=list)  # listed before this site's roles
    auth_policy_exempt: bool = False  # in another authentication policy, one that allows API tokens

    @property
    def active(self) -> bool:
        return self.account_status == "active"

    @property
    def composite_status(self) -> str:
        """The admin API's `status` (docs/atlassian.md §2.6: composite of account and membership status)."""
        if self.account_status != "active":
            return "deactivated"
        return {"active": "active", "suspended": "suspended", "no_membership": "not_invited"}[
            self.membership_status
        ]

    def token_by_value(self, value: str) -> Token | None:
        return next((t for t in self.tokens if t.value == value), None)


@dataclass
class OAuthClient:
    """A service account's OAuth 2.0 credential (client id and secret), exchanged at the token host
    for an access token (https://support.atlassian.com/user-management/docs/create-oauth-2-0-credential-for-service-accounts)."""

    client_id: str
    secret: str = field(repr=False)
    account_id: str = ""  # the service account it belongs to
    scopes: list[str] = field(default_factory=list)
    sites: list[str] | None = None  # cloudIds its tokens reach; None = this site
    client_credentials_grant: bool = True  # False: an app's (3LO) client, which may not use this grant
    revoked: bool = False


@dataclass
class OAuthToken:
    """An OAuth 2.0 access token (a JWT): minted by the token host, or given by a scenario."""

    value: str = field(repr=False)
    account_id: str
    scopes: list[str] = field(default_factory=list)
    expires_at: str = "2099-01-01T00:00:00Z"
    sites: list[str] | None = None  # cloudIds it reaches; None = this site

    def reaches(self, cloud_id: str, own: str) -> bool:
        return cloud_id in (self.sites if self.sites is not None else [own])


@dataclass
class Group:
    id: str
    name: str
    roles: list[str] = field(default_factory=list)  # Confluence-site roles held by the group


@dataclass
class Principal:
    type: Literal["user", "group", "role"]
    id: str  # account id, group id (group name also accepted), or space role id


@dataclass
class SpacePermission:
    principal: Principal
    operation: SpaceOperation = "read"
    target: TargetType | None = None  # None: the operation's usual target (DEFAULT_TARGET)

    @property
    def target_type(self) -> str:
        return self.target or DEFAULT_TARGET[self.operation]

    @property
    def grants_operation(self) -> bool:
        """True when this grant is the operation itself (create on page), not a narrower one
        (create on comment)."""
        return self.target_type == DEFAULT_TARGET[self.operation]


@dataclass
class RoleAssignment:
    """A space role held by a user, a group or an access class (v2 SpaceRoleAssignment)."""

    principal_type: RolePrincipalType
    principal_id: str  # account id, group id or name, or an access class such as all-licensed-users
    role_id: str


@dataclass
class Space:
    id: str  # numeric string (docs/atlassian.md §2.4)
    key: str
    name: str
    anonymous_read: bool = False
    permissions: list[SpacePermission] = field(default_factory=list)  # `role` principals: what a role grants
    type: str = "global"
    role_assignments: list[RoleAssignment] = field(default_factory=list)  # who holds which role


@dataclass
class Page:
    id: str
    space_key: str
    title: str
    restricted_to: list[str] | None = None  # account ids allowed to view; None = unrestricted


@dataclass
class Policy:
    id: str
    name: str
    type: Literal["ip-allowlist"] = "ip-allowlist"
    status: Literal["enabled", "disabled"] = "enabled"
    cidrs: list[str] = field(default_factory=list)
    resources: list[Literal["confluence", "jira"]] = field(default_factory=lambda: ["confluence"])


@dataclass
class StatusComponent:
    name: str
    status: Literal["operational", "degraded_performance", "partial_outage", "major_outage",
                    "under_maintenance"] = "operational"
    id: str | None = None


@dataclass
class StatusIncident:
    name: str
    status: Literal["investigating", "identified", "monitoring", "resolved", "postmortem"] = "investigating"
    impact: Literal["none", "minor", "major", "critical"] = "major"
    components: list[str] = field(default_factory=list)  # component names
    id: str | None = None
    created_at: str = "2026-11-26T20:00:00Z"

    @property
    def unresolved(self) -> bool:
        return self.status not in ("resolved", "postmortem")


@dataclass
class StatusPage:
    indicator: Literal["none", "minor", "major", "critical"] = "none"
    description: str = "All Systems Operational"
    components: list[StatusComponent] = field(
        default_factory=lambda: [StatusComponent(name="Confluence"),
                                 StatusComponent(name="Authentication and User Management")]
    )
    incidents: list[StatusIncident] = field(default_factory=list)


@dataclass
class RemovedEndpoint:
    path: str  # Confluence path, e.g. /wiki/rest/api/space (exact match)
    roles: list[Literal["site", "gateway"]] = field(default_factory=lambda: ["gateway"])


@dataclass
class World:
    site: Site
    org: Org
    users: list[User] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    spaces: list[Space] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)
    policies: list[Policy] = field(default_factory=list)
    status: StatusPage = field(default_factory=StatusPage)
    removed_endpoints: list[RemovedEndpoint] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)
    # Confluence automation rules as `GET …/rule/{uuid}` returns them ({"rule": …, "connections": […]}),
    # stored as opaque JSON so any component tree round-trips (docs/atlassian.md §A.6)
    automation_rules: list[dict[str, Any]] = field(default_factory=list)
    oauth_clients: list[OAuthClient] = field(default_factory=list)
    oauth_tokens: list[OAuthToken] = field(default_factory=list)  # minted ones are added as they are issued

    # -- accounts -------------------------------------------------------------------------
    def user_by_email(self, email: str) -> User | None:
        """Case-insensitive, as Atlassian matches the Basic username (docs/atlassian.md §1.2)."""
        wanted = email.strip().casefold()
        return next((u for u in self.users if u.email.casefold() == wanted), None)

    def user_by_id(self, account_id: str) -> User | None:
        return next((u for u in self.users if u.account_id == account_id), None)

    def group(self, name_or_id: str) -> Group | None:
        return next((g for g in self.groups if name_or_id in (g.id, g.name)), None)

    def groups_of(self, user: User) -> list[Group]:
        return [g for g in (self.group(n) for n in user.groups) if g is not None]

    def is_org_key(self, secret: str) -> bool:
        return secret in self.org.api_keys

    def oauth_token(self, value: str) -> OAuthToken | None:
        return next((t for t in self.oauth_tokens if t.value == value), None)

    def oauth_client(self, client_id: str) -> OAuthClient | None:
        return next((c for c in self.oauth_clients if c.client_id == client_id), None)

    def api_tokens_off(self, user: User) -> bool:
        """An authentication policy turns API tokens off for this managed person (not for service
        accounts, which authentication policies do not cover [I])."""
        return (self.org.api_token_auth_disabled and user.claim_status == "managed"
                and user.account_type == "atlassian" and not user.auth_policy_exempt)

    # -- Confluence product access (docs/atlassian.md §1.8, §1.9, §1.10) ------------------------------
    def confluence_roles(self, user: User) -> dict[str, list[str]]:
        """Confluence-site role -> how it is held ("direct", "group_direct"; docs/atlassian.md §8 A5c)."""
        held: dict[str, list[str]] = {}
        for role in user.roles:
            held.setdefault(role, []).append("direct")
        for group in self.groups_of(user):
            for role in group.roles:
                methods = held.setdefault(role, [])
                if "group_direct" not in methods:
                    methods.append("group_direct")
        return held

    def is_guest(self, user: User) -> bool:
        roles = set(self.confluence_roles(user))
        return GUEST_ROLE in roles and not roles & {"atlassian/user", "atlassian/admin"}

    def has_confluence_access(self, user: User) -> bool:
        """"Can use": active account, active membership, a Confluence role; a guest also needs
        a space (docs/atlassian.md §1.9: without a space they can't use Confluence at all)."""
        if not user.active or user.membership_status != "active":
            return False
        if not set(self.confluence_roles(user)) & set(CONFLUENCE_ACCESS_ROLES):
            return False
        if self.is_guest(user):
            return any(self._granted_ops(user, s) for s in self.spaces)
        return True

    # -- spaces and pages (docs/atlassian.md §1.13) ---------------------------------------------------
    def space_by_key(self, key: str) -> Space | None:
        return next((s for s in self.spaces if s.key.casefold() == key.casefold()), None)

    def space_by_id(self, space_id: str) -> Space | None:
        return next((s for s in self.spaces if s.id == space_id), None)

    def page_by_id(self, page_id: str) -> Page | None:
        return next((p for p in self.pages if p.id == page_id), None)

    def pages_in(self, space: Space) -> list[Page]:
        return [p for p in self.pages if p.space_key.casefold() == space.key.casefold()]

    def homepage_id(self, space: Space) -> str | None:
        """The first page of the space stands for its homepage."""
        pages = self.pages_in(space)
        return pages[0].id if pages else None

    def _granted_ops(self, user: User, space: Space) -> set[str]:
        group_keys = {k for g in self.groups_of(user) for k in (g.id, g.name)}
        roles = self.roles_in(user, space)
        ops: set[str] = set()
        for perm in space.permissions:
            who = perm.principal
            held = ((who.type == "user" and who.id == user.account_id) or (who.type == "group" and who.id in group_keys)
                    or (who.type == "role" and who.id in roles))
            if held and perm.grants_operation:
                ops.add(perm.operation)
        return ops

    def roles_in(self, user: User | None, space: Space) -> set[str]:
        """Space roles `user` (None = anonymous) holds in `space`; roles count only once the site
        has left PRE_ROLES (docs/atlassian.md §2.4: role-mode sites grant through role assignments)."""
        if self.site.space_role_mode == "PRE_ROLES":
            return set()
        group_keys = set() if user is None else {k for g in self.groups_of(user) for k in (g.id, g.name)}
        held = set()
        for assignment in space.role_assignments:
            kind, who = assignment.principal_type, assignment.principal_id
            if user is None:
                if kind == "ACCESS_CLASS" and who == "anonymous-users":
                    held.add(assignment.role_id)
            elif ((kind == "USER" and who == user.account_id) or (kind == "GROUP" and who in group_keys)
                  or (kind == "ACCESS_CLASS" and who in LICENSED_CLASSES)):
                held.add(assignment.role_id)
        return held

    def space_operations(self, user: User | None, space: Space) -> set[str]:
        """What `user` (None = anonymous) may do in `space`."""
        ops = set() if user is None else self._granted_ops(user, space)
        if space.anonymous_read:
            ops.add("read")
        if user is None:
            anonymous_roles = self.roles_in(None, space)
            ops |= {p.operation for p in space.permissions
                    if p.principal.type == "role" and p.principal.id in anonymous_roles and p.grants_operation}
        return ops

    def can_view_space(self, user: User | None, space: Space) -> bool:
        return "read" in self.space_operations(user, space)

    def can_read_page(self, user: User | None, page: Page) -> bool:
        space = self.space_by_key(page.space_key)
        if space is None or not self.can_view_space(user, space):
            return False
        return page.restricted_to is None or (user is not None and user.account_id in page.restricted_to)

    # -- policies (docs/atlassian.md §1.11) -----------------------------------------------------------
    def ip_blocked(self, address: str | None, resource: str = "confluence") -> bool:
        """True when an enabled IP allowlist covers `resource` and `address` is in none of its CIDRs."""
        try:
            ip = ipaddress.ip_address(address or "")
        except ValueError:
            ip = None
        for policy in self.policies:
            if policy.type != "ip-allowlist" or policy.status != "enabled" or resource not in policy.resources:
                continue
            nets = [ipaddress.ip_network(c, strict=False) for c in policy.cidrs]
            if ip is None or not any(ip in net for net in nets):
                return True
        return False

    def cloud_ari(self, product: str = "confluence") -> str:
        """Resource id of the site (docs/atlassian.md §8 A5c: `ari:cloud:confluence::site/<cloudId>`, [R])."""
        return f"ari:cloud:{product}::site/{self.site.cloud_id}"
