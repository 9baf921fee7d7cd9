"""The input of one run: who, which failing call, what was seen, optional actor secret.

One object that the CLI, Slack and (later) an automation-rule reader all build
(docs/architecture.md §Command line). Secrets and request headers stay in memory: `describe()` is what
may be stored or shown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

from bot.atlassian.hosts import HostGuard
from bot.config import Secret
from bot.errors import UsageError
from bot.facts import OwnUse
from bot.redact import redact_text

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
# Atlassian account ids: 24 hex chars (legacy) or "<digits>:<uuid>" (docs/atlassian.md §2.3 example)
_ACCOUNT_ID = re.compile(r"^(?:[0-9a-f]{24}|\d{1,10}:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
                         r"|qm:[0-9a-f-]{36}:[0-9a-f-]{36})$", re.IGNORECASE)
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
READ_ONLY = ("GET", "HEAD")
# Headers whose values are never secrets; every other header value is treated as one (docs/atlassian.md §A.5.2)
SECRET_QUERY_KEY = re.compile(r"(?i)token|key|secret|pass|auth|sig|cred")
PLAIN_HEADERS = frozenset({"accept", "content-type", "user-agent", "x-atlassian-token", "accept-language"})


def clean_text(text: str) -> str:
    """`text` as valid Unicode: undecodable bytes (which arrive from argv as lone surrogates,
    PEP 383) and any other lone surrogate become U+FFFD, so it can be stored and printed."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape" if _only_escapes(text) else "surrogatepass").decode(
            "utf-8", "replace")
    return text


def _only_escapes(text: str) -> bool:
    return all(not 0xD800 <= ord(c) <= 0xDFFF or 0xDC80 <= ord(c) <= 0xDCFF for c in text)


def parse_actor(text: str) -> str:
    """An email address (lower-cased) or an Atlassian account id; raises UsageError."""
    value = clean_text(text or "").strip()
    if value.startswith("mailto:"):
        value = value[len("mailto:"):]
    if _EMAIL.match(value):
        return value.lower()
    if _ACCOUNT_ID.match(value):
        return value
    raise UsageError(
        f"{_shown(value)} is not an email address or an Atlassian account id "
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
        """What may be stored and shown: a token in the URL's user-info or query is masked."""
        parts = urlsplit(self.url)
        query = f"?{parts.query}" if parts.query else ""
        return redact_text(f"{self.method} {parts.scheme}://{parts.netloc}{parts.path}{query}")


def parse_endpoint(text: str, guard: HostGuard) -> FailingRequest:
    """Parse "METHOD URL-or-path"; a bare path is on the site. Raises UsageError/HostNotAllowed."""
    words = clean_text(text or "").split()
    if not words:
        raise UsageError('endpoint is empty; give "METHOD URL", e.g. "GET /wiki/rest/api/space"')
    if len(words) == 1:
        method, target = "GET", words[0]
    elif len(words) == 2:
        method, target = words[0].upper(), words[1]
    else:
        raise UsageError(f'endpoint must be "METHOD URL", got {len(words)} words')
    if method not in METHODS:
        raise UsageError(f"unknown HTTP method {_shown(method)} (use one of {', '.join(METHODS)})")
    if target.startswith("/"):
        try:
            url = urljoin(guard.site_url + "/", target.lstrip("/"))
        except ValueError as exc:
            raise UsageError(f"cannot parse endpoint URL {_shown(target)}: {exc}") from None
    elif re.match(r"^https?://", target, re.IGNORECASE):
        url = target
    else:
        raise UsageError(f"cannot parse endpoint URL {_shown(target)}: give a path (/wiki/...) or an https:// URL")
    if any(c.isspace() or ord(c) < 0x20 or c == "\ufffd" for c in url):
        raise UsageError(f"endpoint URL {_shown(target)} has characters a URL cannot hold")
    guard.check(url)  # refuses foreign hosts and user-info tricks before anything is sent
    return FailingRequest(method=method, url=url)


class SecretKind(StrEnum):
    """Which credential the actor's secret is (docs/credentials.md)."""

    API_TOKEN = "api_token"  # sent as Basic email:token
    ACCESS_TOKEN = "access_token"  # an OAuth 2.0 access token, sent as Bearer to the gateway
    CLIENT_CREDENTIALS = "client_credentials"  # a service account's client id and secret, exchanged first


# An OAuth 2.0 access token from Atlassian is a JWT: three base64url segments joined by dots
# (https://www.rfc-editor.org/rfc/rfc7519#section-3). API tokens hold no dot.
_JWT = re.compile(r"^[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]+={0,2}$")


def looks_like_access_token(value: str) -> bool:
    return bool(_JWT.match(value))


@dataclass(frozen=True)
class ActorSecret:
    """The actor's credential: an API token (optionally `email:token`), an OAuth 2.0 access token,
    or a service account's client credentials (`token` is then the client secret)."""

    token: Secret
    email: str | None = None
    kind: SecretKind = SecretKind.API_TOKEN
    client_id: str | None = None

    @property
    def is_oauth(self) -> bool:
        return self.kind is not SecretKind.API_TOKEN

    @classmethod
    def parse(cls, text: str) -> ActorSecret:
        """An API token, `email:token`, or an OAuth 2.0 access token (told by its shape)."""
        value = clean_text(text or "").strip()
        if not value:
            raise UsageError("no actor token was given on standard input")
        if ":" in value:
            email, _, token = value.partition(":")
            if _EMAIL.match(email) and token:
                if looks_like_access_token(token):  # an access token needs no email: it names its account
                    return cls(token=Secret(token), kind=SecretKind.ACCESS_TOKEN)
                return cls(token=Secret(token), email=email.lower())
        if any(c.isspace() for c in value):
            raise UsageError("the actor token must be one line without spaces")
        if looks_like_access_token(value):
            return cls(token=Secret(value), kind=SecretKind.ACCESS_TOKEN)
        return cls(token=Secret(value))

    @classmethod
    def parse_client(cls, text: str, secret: str | None = None) -> ActorSecret:
        """A service account's OAuth 2.0 credential: one line `CLIENT_ID:CLIENT_SECRET`, or the id
        and the secret apart (the Slack form). Raises UsageError."""
        value = clean_text(text or "").strip()
        client_id, _, rest = value.partition(":") if secret is None else (value, ":", clean_text(secret).strip())
        if not value or not client_id or not rest:
            raise UsageError("give the service account's OAuth 2.0 credential as CLIENT_ID:CLIENT_SECRET "
                             "(Atlassian Administration > Directory > Service accounts > Credentials)")
        if any(c.isspace() for c in client_id + rest):
            raise UsageError("the client id and secret must be one line without spaces")
        return cls(token=Secret(rest), kind=SecretKind.CLIENT_CREDENTIALS, client_id=client_id)


@dataclass(frozen=True)
class RuleOrigin:
    """Which automation rule and Send web request action a run diagnoses — no secret: the URL is
    shown masked and the header only as `AuthorizationCheck.shown` (docs/atlassian.md §A.5)."""

    uuid: str
    name: str
    state: str
    scope: str
    link: str
    action_index: int  # 1-based among the rule's Send web request actions
    action_count: int
    action_path: str
    action_type: str | None
    method: str
    url: str  # masked
    header: str  # e.g. "Authorization: Basic <automation@acme.com : API token, 192 chars>"
    target: str  # the site URL, the API gateway, another host...
    safe_url: str | None = None  # the side-effect-free call on the same base (docs/atlassian.md §A.5.4)
    xsrf_token_missing: bool = False  # a form/multipart write without X-Atlassian-Token: no-check
    actor_account_id: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def action_label(self) -> str:
        return f"Send web request #{self.action_index} of rule '{self.name}'"

    def describe(self) -> dict[str, Any]:
        return {"uuid": self.uuid, "name": self.name, "state": self.state, "scope": self.scope, "link": self.link,
                "action": self.action_index, "actions": self.action_count, "path": self.action_path,
                "type": self.action_type, "method": self.method, "url": self.url, "header": self.header,
                "target": self.target, "actor_account_id": self.actor_account_id, "notes": list(self.notes)}


class SentAs(StrEnum):
    """How the failing caller presents the actor's API token, as the admin describes it (`--sent-as`,
    Slack `sent:`). Outside an automation rule the product cannot read the caller's header, and on
    Confluence v1 a Bearer API token, a missing header and a wrong token all get the same 403
    (docs/atlassian.md §0.1, §1.3): only this tells them apart."""

    BASIC = "basic"  # Authorization: Basic base64(email:token)
    BEARER = "bearer"  # Authorization: Bearer <token>
    NONE = "none"  # no Authorization header

    @classmethod
    def parse(cls, text: str) -> SentAs:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise UsageError(f"--sent-as takes basic, bearer or none, not {_shown(text)}") from None


@dataclass(frozen=True)
class CheckRequest:
    actor: str
    failing: FailingRequest | None = None
    observed_status: int | None = None
    observed_body: str | None = None
    actor_secret: ActorSecret | None = field(default=None, repr=False)
    space: str | None = None
    rule: RuleOrigin | None = None  # set when the request was read from an automation rule
    # The headers exactly as the caller sends them (read from a rule), in memory only; None = unknown
    headers_as_sent: Mapping[str, str] | None = field(default=None, repr=False)
    # Secrets a rule's request holds that the run never sends (a Slack webhook's path, a URL the rule marks
    # urlSecure, another host's credential): in memory only, masked wherever they could appear
    held_secrets: tuple[str, ...] = field(default=(), repr=False)
    # this tool's own last use of the actor's credential, from earlier runs (the history): not the caller's
    own_use: OwnUse | None = field(default=None, repr=False)
    # how the failing caller sends the token, as the admin describes it (None: not said)
    sent_as: SentAs | None = None

    def __post_init__(self) -> None:
        if self.observed_body is not None:  # a body from argv or Slack may hold undecodable bytes
            object.__setattr__(self, "observed_body", clean_text(self.observed_body))
        if self.space is not None:
            object.__setattr__(self, "space", clean_text(self.space))
        if self.observed_status is not None and not 100 <= self.observed_status <= 599:
            raise UsageError(f"--status must be an HTTP status code, got {self.observed_status}")
        if self.space is not None and not re.match(r"^~?[A-Za-z0-9_-]{1,255}$", self.space):
            raise UsageError(f"{_shown(self.space)} is not a Confluence space key")

    def describe(self) -> dict[str, Any]:
        """What may be stored and shown: never the secret or headers."""
        return {
            "actor": self.actor,
            "endpoint": self.failing.describe() if self.failing else None,
            "status": self.observed_status,
            "body": self.observed_body[:2000] if self.observed_body else None,
            "space": self.space,
            "actor_token_given": self.actor_secret is not None,
            **({"credential": self.actor_secret.kind.value} if self.actor_secret else {}),
            **({"rule": self.rule.describe()} if self.rule else {}),
            **({"sent_as": self.sent_as.value} if self.sent_as else {}),
        }

    @property
    def replayed_exactly(self) -> bool:
        """False when the request a rule sends can only be stood in for: a write (never sent) or a URL
        with smart values (replaced by a side-effect-free call), so "no problem" is at most likely."""
        if self.rule is None:
            return True
        return self.rule.method in READ_ONLY and not any("{{" in note for note in self.rule.notes)

    def secrets(self) -> list[str]:
        """Every secret value this input holds in memory: the actor's token and the request's header
        values (a rule's headers are secrets like the token, docs/atlassian.md §A.5)."""
        values = [self.actor_secret.token.reveal()] if self.actor_secret else []
        values += self.held_secrets
        for headers in (self.failing.headers if self.failing else {}, self.headers_as_sent or {}):
            for name, value in headers.items():
                if value and name.strip().casefold() not in PLAIN_HEADERS:
                    # the whole value, and each word of it (the credential after "Basic ", a broken base64)
                    values += [value, *(w for w in value.split() if len(w) >= 8)]
        if self.rule is not None and self.failing is not None:  # a token in a rule's URL is not redacted (§5)
            values += [v for k, v in parse_qsl(urlsplit(self.failing.url).query) if SECRET_QUERY_KEY.search(k) and v]
        return values


def _shown(text: str) -> str:
    """Something a person typed, for an error message: secrets masked, length capped."""
    text = redact_text(text)
    return repr(text if len(text) <= 200 else text[:200] + "…")


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
