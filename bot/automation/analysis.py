"""Static analysis of a request as an automation rule would send it: its Authorization header, its
URL and its method — pure functions, nothing is sent.

Header faults follow docs/atlassian.md §1.2/§1.3: Atlassian wants `Authorization: Basic base64(email:api_token)`
on one line; anything else (no header, a value that is not base64, no `:` inside, whitespace or a line
break inside, the scheme word missing or misspelt, the token where the email belongs) leaves the call
unauthenticated, so Confluence answers it as for an anonymous caller (§0, §1.14). A header is shown
only through `AuthorizationCheck.shown`: the email and the kind of secret, never the value.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.atlassian.redact import MASK, Redactor
from bot.config import Secret
from bot.model import CauseCode
from bot.redact import host_only, secret_in_path
from bot.request import SECRET_QUERY_KEY

_EMAIL = re.compile(r"^[^\s@:]+@[^\s@:]+\.[^\s@:]+$")
_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
SMART_VALUE = re.compile(r"\{\{.*?\}\}", re.S)


class HeaderFault(StrEnum):
    """What is wrong with the Authorization header (None on an `AuthorizationCheck`: nothing)."""

    MISSING = "no Authorization header"
    EMPTY = "the Authorization header is empty"
    LINE_BREAK = "a line break inside the header value"
    WHITESPACE = "whitespace inside the base64"
    NO_SCHEME = "the scheme word Basic is missing"
    BAD_SCHEME = "the scheme word is not Basic"
    NOT_ENCODED = "email:token is not base64-encoded"
    NOT_BASE64 = "the value after Basic is not valid base64"
    NO_COLON = "the decoded value has no ':' between email and token"
    TOKEN_AS_EMAIL = "the token is where the email belongs (token:email)"
    NOT_EMAIL = "the decoded value does not start with an email address"
    EMPTY_TOKEN = "the decoded value has no token after the ':'"
    BEARER_API_TOKEN = "an API token sent as Bearer"

    @property
    def cause(self) -> CauseCode:
        if self is HeaderFault.MISSING:
            return CauseCode.AUTH_HEADER_MISSING
        if self is HeaderFault.BEARER_API_TOKEN:
            return CauseCode.BEARER_WITH_API_TOKEN
        return CauseCode.AUTH_HEADER_MALFORMED


class SecretKind(StrEnum):
    """What a secret looks like. Classic and scoped API tokens share one shape: only the site/gateway
    replay tells them apart (docs/atlassian.md §1.5)."""

    API_TOKEN = "API token"
    ORG_API_KEY = "organization API key"  # ATCTT…: admin APIs only, refused as a password (§1.4)
    OAUTH = "OAuth access token"
    OTHER = "not an API token (a password?)"


def secret_kind(value: str) -> SecretKind:
    if value.startswith("ATATT"):
        return SecretKind.API_TOKEN
    if value.startswith("ATCTT"):
        return SecretKind.ORG_API_KEY
    if _JWT.match(value):
        return SecretKind.OAUTH
    return SecretKind.OTHER


@dataclass(frozen=True)
class AuthorizationCheck:
    """The header as analysed. `email`/`token` are what the header carries when they can be recovered
    (also from some malformed values, so the credential itself can still be tested)."""

    fault: HeaderFault | None
    scheme: str | None = None
    email: str | None = None
    token: Secret | None = field(default=None, repr=False)
    kind: SecretKind | None = None
    chars: int = 0
    several: bool = False  # more than one Authorization header

    @property
    def shown(self) -> str:
        """e.g. `Authorization: Basic <automation@acme.com : API token, 192 chars>` — never the value."""
        if self.fault is HeaderFault.MISSING:
            return "no Authorization header"
        what = []
        if self.email:
            what.append(f"{self.email} : {self.kind.value if self.kind else 'secret'}, {self.chars} chars")
        elif self.kind:
            what.append(f"{self.kind.value}, {self.chars} chars")
        else:
            what.append(f"{self.chars} chars")
        if self.fault is not None and self.fault is not HeaderFault.BEARER_API_TOKEN:
            what.append(self.fault.value)
        scheme = f"{self.scheme} " if self.scheme else ""
        return f"Authorization: {scheme}<{'; '.join(what)}>"


def check_authorization(headers: Mapping[str, str] | list[tuple[str, str | None]]) -> AuthorizationCheck:
    """Analyse the Authorization header among `headers` (name → value, or pairs)."""
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    values = [v or "" for n, v in pairs if n.strip().casefold() == "authorization"]
    if not values:
        return AuthorizationCheck(HeaderFault.MISSING)
    found = _analyse(values[0])
    if len(values) > 1:
        return AuthorizationCheck(found.fault, found.scheme, found.email, found.token, found.kind, found.chars,
                                  several=True)
    return found


def _analyse(value: str) -> AuthorizationCheck:
    stripped = value.strip()
    if not stripped:
        return AuthorizationCheck(HeaderFault.EMPTY)
    broken = "\n" in value or "\r" in value
    head = re.match(r"^(\S+)\s+(.*)$", stripped, re.S)
    scheme, rest = (head.group(1), head.group(2)) if head else (stripped, "")
    if scheme.casefold() == "bearer":
        return _bearer(rest.strip(), broken)
    if scheme.casefold() == "basic":
        return _basic("Basic", rest, broken)
    if not rest:  # one word: the base64, email:token or a bare token, without a scheme
        found = _basic(None, scheme, broken)
        if found.email is None and found.token is None:
            found = AuthorizationCheck(None, None, token=Secret(scheme), kind=secret_kind(scheme), chars=len(scheme))
        return _with_fault(found, HeaderFault.NO_SCHEME)
    return _with_fault(_basic(scheme, rest, broken), HeaderFault.BAD_SCHEME)


def _bearer(token: str, broken: bool) -> AuthorizationCheck:
    kind = secret_kind(token) if token else None
    secret = Secret(token) if token else None
    if broken:
        return AuthorizationCheck(HeaderFault.LINE_BREAK, "Bearer", None, secret, kind, len(token))
    # docs/atlassian.md §1.3: Bearer is for OAuth 2.0 access tokens; an API token sent so is refused on the site
    fault = None if kind is SecretKind.OAUTH else HeaderFault.BEARER_API_TOKEN
    return AuthorizationCheck(fault, "Bearer", None, secret, kind, len(token))


def _basic(scheme: str | None, payload: str, broken: bool) -> AuthorizationCheck:
    inner_space = bool(re.search(r"\s", payload.strip()))
    compact = re.sub(r"\s", "", payload)
    fault: HeaderFault | None = HeaderFault.LINE_BREAK if broken else (
        HeaderFault.WHITESPACE if inner_space else None)
    try:
        decoded = base64.b64decode(compact, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        email, _, token = payload.strip().partition(":")
        if _EMAIL.match(email) and token and not re.search(r"\s", token):
            return _pair(scheme, email, token, fault or HeaderFault.NOT_ENCODED)
        return AuthorizationCheck(fault or HeaderFault.NOT_BASE64, scheme, chars=len(compact))
    left, colon, right = decoded.partition(":")
    if not colon:
        return AuthorizationCheck(fault or HeaderFault.NO_COLON, scheme, chars=len(decoded))
    if not right:
        return AuthorizationCheck(fault or HeaderFault.EMPTY_TOKEN, scheme, email=left if _EMAIL.match(left) else None)
    if not _EMAIL.match(left):
        if _EMAIL.match(right):
            return _pair(scheme, right, left, fault or HeaderFault.TOKEN_AS_EMAIL)
        return AuthorizationCheck(fault or HeaderFault.NOT_EMAIL, scheme, token=Secret(right),
                                  kind=secret_kind(right), chars=len(right))
    return _pair(scheme, left, right, fault)


def _pair(scheme: str | None, email: str, token: str, fault: HeaderFault | None) -> AuthorizationCheck:
    return AuthorizationCheck(fault, scheme, email.lower(), Secret(token), secret_kind(token), len(token))


def _with_fault(found: AuthorizationCheck, fault: HeaderFault) -> AuthorizationCheck:
    return AuthorizationCheck(fault, found.scheme, found.email, found.token, found.kind, found.chars)


WRITES = ("POST", "PUT", "PATCH", "DELETE")
_FORM = re.compile(r"(?i)multipart/|application/x-www-form-urlencoded")


@dataclass(frozen=True)
class WriteCheck:
    """XSRF protection of a write (docs/atlassian.md §1.12): form and multipart writes need `X-Atlassian-Token:
    no-check`; JSON writes do not. `needs_token`: a form/multipart write that lacks it."""

    note: str | None = None
    needs_token: bool = False


def check_write(method: str, headers: Mapping[str, str], content_type: str | None) -> WriteCheck:
    if method.upper() not in WRITES:
        return WriteCheck()
    present = any(n.strip().casefold() == "x-atlassian-token" and (v or "").strip().casefold() == "no-check"
                  for n, v in headers.items())
    if present:
        return WriteCheck(f"{method} sends X-Atlassian-Token: no-check (XSRF protection)")
    sent_type = next((v for n, v in headers.items() if n.strip().casefold() == "content-type"), None)
    form = bool(_FORM.search(sent_type or content_type or ""))
    if form:
        return WriteCheck(f"a form/multipart {method} without X-Atlassian-Token: no-check: Confluence refuses it "
                          "with 403 'XSRF check failed'", True)
    return WriteCheck(f"{method} without X-Atlassian-Token: no-check: fine for a JSON body, but a form or "
                      "multipart write would get 403 'XSRF check failed'")




# -- URL ----------------------------------------------------------------------------------------

class Target(StrEnum):
    SITE = "the site URL"
    GATEWAY = "the API gateway"
    OTHER_HOST = "another host"
    UNPARSEABLE = "an unparseable URL"


@dataclass(frozen=True)
class UrlCheck:
    """Where the URL points and what the replay may send instead. `replay_path` (path + query on
    the same base) is None when nothing may be sent there."""

    target: Target
    shown: str  # the URL with query secrets masked; smart values kept
    notes: tuple[str, ...] = ()
    smart_values: tuple[str, ...] = ()
    replay_url: str | None = None  # absolute; same base as the rule's URL
    safe_url: str | None = None  # the side-effect-free call on that base


GATEWAY_PATH = re.compile(r"^/ex/confluence/[^/]+")


# v1 routes absent from Atlassian's v1 specification since 2025-08 (deprecated 2024): 410 GoneException
# through the gateway, still 200 with Basic on the site (openapi/README.md; docs/atlassian.md §1.15). → their v2 form.
_REMOVED_V1 = (
    (re.compile(r"^/wiki/rest/api/content/\d+/?$"), "GET /wiki/api/v2/pages/{id}"),
    (re.compile(r"^/wiki/rest/api/space/?$"), "GET /wiki/api/v2/spaces"),
    (re.compile(r"^/wiki/rest/api/space/[^/]+/?$"), "GET /wiki/api/v2/spaces?keys={key}"),
)


def removed_route(url: str) -> str | None:
    """The v2 replacement when the URL is a removed v1 route, else None."""
    path = GATEWAY_PATH.sub("", urlsplit(url).path)
    return next((v2 for pattern, v2 in _REMOVED_V1 if pattern.match(path)), None)


def missing_wiki(url: str) -> str | None:
    """The path the URL meant when it lacks `/wiki` (`/rest/…` or `/api/v2/…` on the site or gateway:
    404, docs/atlassian.md §1.17), else None."""
    path = GATEWAY_PATH.sub("", urlsplit(url).path)
    return f"/wiki{path}" if path.startswith(("/rest/", "/api/v2")) else None
SAFE_CALL = "/wiki/rest/api/user/current"  # side-effect-free, needs only "Can use" (docs/atlassian.md §A.5.4)


def check_url(url: str, site_url: str, api_url: str, redact: Redactor | None = None, *,
              secret: bool = False) -> UrlCheck:
    """Classify `url` (site, gateway, other host) and choose what may be replayed (docs/atlassian.md §A.5).
    `secret`: the rule marks the URL as holding a secret (`urlSecure`): it is shown as host + masked path."""
    shown = mask_url(url, redact, secret=secret)
    smart = tuple(dict.fromkeys(SMART_VALUE.findall(url)))
    parts = urlsplit(url)
    host_part = parts.netloc
    if parts.scheme not in ("http", "https") or not parts.hostname or SMART_VALUE.search(host_part):
        why = "its host is a smart value only the rule can evaluate" if SMART_VALUE.search(host_part) else \
            "it is not an absolute http(s) URL"
        return UrlCheck(Target.UNPARSEABLE, shown, (f"the URL cannot be replayed: {why}",), smart)
    if parts.username is not None or "@" in host_part:
        return UrlCheck(Target.OTHER_HOST, shown, ("the URL hides its real host behind user-info: nothing is "
                                                   "sent there",), smart)
    origin = _origin(url)
    path = parts.path or "/"
    if GATEWAY_PATH.match(path):  # the gateway whatever its host (docs/atlassian.md §2.2)
        target = Target.GATEWAY if origin == _origin(api_url) or origin == _origin(site_url) else Target.OTHER_HOST
    elif origin == _origin(site_url):
        target = Target.SITE
    else:
        target = Target.OTHER_HOST
    if target is Target.OTHER_HOST:
        return UrlCheck(target, shown, (f"the request goes to {parts.hostname}, not to this Confluence site or its "
                                        "API gateway: nothing is sent there",), smart)
    notes: list[str] = []
    if (meant := missing_wiki(url)) is not None:
        notes.append(f"the path lacks /wiki: Confluence routes start with /wiki (did you mean {meant}?)")
    if (v2 := removed_route(url)) is not None:
        where = ("through the gateway it answers 410 GoneException" if target is Target.GATEWAY else
                 "the site still answers it with Basic auth, the gateway answers 410 GoneException")
        notes.append(f"a REST v1 route removed from Atlassian's specification: {where}; its v2 form is {v2}")
    gateway = GATEWAY_PATH.match(path)
    base = urlunsplit((parts.scheme, parts.netloc, gateway.group(0) if gateway and target is Target.GATEWAY else "",
                       "", ""))
    if smart:
        notes.append(f"{', '.join(smart)} can only be evaluated by the rule when it runs: the replay sends the "
                     f"side-effect-free GET {SAFE_CALL} to the same base with the same headers instead")
        return UrlCheck(target, shown, tuple(notes), smart, base + SAFE_CALL, base + SAFE_CALL)
    return UrlCheck(target, shown, tuple(notes), smart, url, base + SAFE_CALL)


def mask_url(url: str, redact: Redactor | None = None, *, secret: bool = False) -> str:
    """The URL with user-info and secret-looking query values masked (docs/atlassian.md §A.5: not redacted by
    the API); a URL whose path is the secret (a Slack webhook, or one the rule marks `secret`) as its
    host and a masked path."""
    if secret or secret_in_path(url):
        return host_only(url)
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1] if "@" in parts.netloc else parts.netloc
    if "@" in parts.netloc:
        netloc = f"{MASK}@{netloc}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, MASK if SECRET_QUERY_KEY.search(k) and v else v) for k, v in pairs], safe="{}*")
    shown = urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    return (redact or Redactor())(shown) or ""


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = -1
    return parts.scheme, (parts.hostname or "").lower(), port
