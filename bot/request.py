"""The input of one run: who, which failing call, what was seen, optional actor secret.

One object that the CLI, Slack and (later) an automation-rule reader all build
(DESIGN.md, Command line). Secrets and request headers stay in memory: `describe()` is what
may be stored or shown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from bot.atlassian.hosts import HostGuard
from bot.config import Secret
from bot.errors import UsageError

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
# Atlassian account ids: 24 hex chars (legacy) or "<digits>:<uuid>" (FACTS §2.3 example)
_ACCOUNT_ID = re.compile(r"^(?:[0-9a-f]{24}|\d{1,10}:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
                         r"|qm:[0-9a-f-]{36}:[0-9a-f-]{36})$", re.IGNORECASE)
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
READ_ONLY = ("GET", "HEAD")


def parse_actor(text: str) -> str:
    """An email address (lower-cased) or an Atlassian account id; raises UsageError."""
    value = (text or "").strip()
    if value.startswith("mailto:"):
        value = value[len("mailto:"):]
    if _EMAIL.match(value):
        return value.lower()
    if _ACCOUNT_ID.match(value):
        return value
    raise UsageError(
        f"{value!r} is not an email address or an Atlassian account id "
        "(e.g. automation@acme.com or 5b10ac8d82e05b22cc7d4ef5)"
    )


def is_email(actor: str) -> bool:
    return "@" in actor


@dataclass(frozen=True)
class FailingRequest:
    """The call as the user saw it fail. Headers live in memory only."""

    method: str
    url: str  # absolute, on the site or API host
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    def describe(self) -> str:
        parts = urlsplit(self.url)
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.method} {parts.scheme}://{parts.netloc}{parts.path}{query}"


def parse_endpoint(text: str, guard: HostGuard) -> FailingRequest:
    """Parse "METHOD URL-or-path"; a bare path is on the site. Raises UsageError/HostNotAllowed."""
    words = (text or "").split()
    if not words:
        raise UsageError('endpoint is empty; give "METHOD URL", e.g. "GET /wiki/rest/api/space"')
    if len(words) == 1:
        method, target = "GET", words[0]
    elif len(words) == 2:
        method, target = words[0].upper(), words[1]
    else:
        raise UsageError(f'endpoint must be "METHOD URL", got {len(words)} words')
    if method not in METHODS:
        raise UsageError(f"unknown HTTP method {method!r} (use one of {', '.join(METHODS)})")
    if target.startswith("/"):
        url = urljoin(guard.site_url + "/", target.lstrip("/"))
    elif re.match(r"^https?://", target, re.IGNORECASE):
        url = target
    else:
        raise UsageError(f"cannot parse endpoint URL {target!r}: give a path (/wiki/...) or an https:// URL")
    guard.check(url)  # refuses foreign hosts and user-info tricks before anything is sent
    return FailingRequest(method=method, url=url)


@dataclass(frozen=True)
class ActorSecret:
    """The actor's API token, optionally with the email it pairs with (`email:token`)."""

    token: Secret
    email: str | None = None

    @classmethod
    def parse(cls, text: str) -> ActorSecret:
        value = (text or "").strip()
        if not value:
            raise UsageError("no actor token was given on standard input")
        if ":" in value:
            email, _, token = value.partition(":")
            if _EMAIL.match(email) and token:
                return cls(token=Secret(token), email=email.lower())
        if any(c.isspace() for c in value):
            raise UsageError("the actor token must be one line without spaces")
        return cls(token=Secret(value))


@dataclass(frozen=True)
class CheckRequest:
    actor: str
    failing: FailingRequest | None = None
    observed_status: int | None = None
    observed_body: str | None = None
    actor_secret: ActorSecret | None = field(default=None, repr=False)
    space: str | None = None

    def __post_init__(self) -> None:
        if self.observed_status is not None and not 100 <= self.observed_status <= 599:
            raise UsageError(f"--status must be an HTTP status code, got {self.observed_status}")
        if self.space is not None and not re.match(r"^~?[A-Za-z0-9_-]{1,255}$", self.space):
            raise UsageError(f"{self.space!r} is not a Confluence space key")

    def describe(self) -> dict[str, Any]:
        """What may be stored and shown: never the secret or headers."""
        return {
            "actor": self.actor,
            "endpoint": self.failing.describe() if self.failing else None,
            "status": self.observed_status,
            "body": self.observed_body[:2000] if self.observed_body else None,
            "space": self.space,
            "actor_token_given": self.actor_secret is not None,
        }


_SPACE_IN_PATH = re.compile(r"/wiki/rest/api/space/([^/?#]+)")
_PAGE_IN_PATH = re.compile(r"/wiki/(?:rest/api/content|api/v2/pages)/(\d+)")


def space_key_of(request: CheckRequest) -> str | None:
    """The space the run is about: --space, or the one the failing endpoint names."""
    if request.space:
        return request.space
    if request.failing is None:
        return None
    parts = urlsplit(request.failing.url)
    m = _SPACE_IN_PATH.search(parts.path)
    if m:
        return m.group(1)
    m = re.search(r"(?:^|&)spaceKey=([^&]+)", parts.query)
    return m.group(1) if m else None


def page_id_of(request: CheckRequest) -> str | None:
    """The page id the failing endpoint names, if any."""
    if request.failing is None:
        return None
    m = _PAGE_IN_PATH.search(urlsplit(request.failing.url).path)
    return m.group(1) if m else None
