"""Reading the `Authorization` header and matching it against the world's accounts.

This module only says what was presented and whose secret it is; the site and the gateway
decide what to answer (they differ: docs/atlassian.md §0.1, §1.5). Nothing here logs or returns a secret
beyond the `Presented` object that lives for one request.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from enum import StrEnum

from bot.simulator.state import Token, User, World


class AuthKind(StrEnum):
    """What the request log records instead of the credential."""

    NONE = "none"
    BASIC = "basic"
    BEARER = "bearer"
    OTHER = "other"


@dataclass(frozen=True)
class Presented:
    """The parsed header. `email`/`secret` only for a well-formed Basic pair, `bearer` for Bearer."""

    kind: AuthKind
    email: str | None = None
    secret: str | None = field(default=None, repr=False)
    bearer: str | None = field(default=None, repr=False)

    @property
    def well_formed_basic(self) -> bool:
        return self.kind is AuthKind.BASIC and bool(self.email) and bool(self.secret)


def auth_kind(header: str | None) -> AuthKind:
    scheme = (header or "").strip().split(" ", 1)[0].lower()
    if not scheme:
        return AuthKind.NONE
    return {"basic": AuthKind.BASIC, "bearer": AuthKind.BEARER}.get(scheme, AuthKind.OTHER)


def parse_authorization(header: str | None) -> Presented:
    """Non-base64, a missing colon or an empty password leave `email`/`secret` unset:
    Atlassian treats all of those as an unresolved credential (docs/atlassian.md §0.1, §1.3)."""
    kind = auth_kind(header)
    value = (header or "").strip().partition(" ")[2].strip()
    if kind is AuthKind.BEARER:
        return Presented(kind=kind, bearer=value or None)
    if kind is not AuthKind.BASIC:
        return Presented(kind=kind)
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return Presented(kind=kind)
    email, sep, secret = decoded.partition(":")
    if not sep or not email or not secret:
        return Presented(kind=kind)
    return Presented(kind=kind, email=email, secret=secret)


@dataclass(frozen=True)
class BasicMatch:
    """Whose secret a Basic pair carries. `token` is set only when the token belongs to the
    account named by the email (a valid token under another address is no match, docs/atlassian.md §1.2)."""

    user: User | None = None
    token: Token | None = None
    is_password: bool = False  # the account's password, or an org API key (docs/atlassian.md §1.4)


def match_basic(world: World, presented: Presented) -> BasicMatch:
    if not presented.well_formed_basic:
        return BasicMatch()
    assert presented.email is not None and presented.secret is not None
    user = world.user_by_email(presented.email)
    if world.is_org_key(presented.secret):
        return BasicMatch(user=user, is_password=True)
    if user is None:
        return BasicMatch()
    if user.password is not None and presented.secret == user.password:
        return BasicMatch(user=user, is_password=True)
    return BasicMatch(user=user, token=user.token_by_value(presented.secret))


def service_account_bearer(world: World, presented: Presented) -> tuple[User, Token] | None:
    """A service account's token sent as Bearer is reported to work at the gateway
    (docs/atlassian.md §1.3 Note, §2.2 [R]); any other Bearer value is not an OAuth token we know."""
    if presented.kind is not AuthKind.BEARER or not presented.bearer:
        return None
    for user in world.users:
        token = user.token_by_value(presented.bearer)
        if token is not None and user.account_type == "app":
            return user, token
    return None


def blocked_external(world: World, user: User) -> bool:
    """Guard "API token access for external users" = Block (docs/atlassian.md §1.11, §8 A1)."""
    return world.org.block_api_tokens_for_external_users and user.claim_status == "unmanaged"
