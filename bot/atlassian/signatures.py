"""What an Atlassian response body means: the signatures of docs/atlassian.md §0.1 as one table.

`classify(status, body)` returns the first matching `Signature`. A signature may name the cause
its body is unique to; how much that weighs is the judge's (`bot.judge`): the headline 403 names
none, it proves nothing alone (docs/causes.md rule 1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.model import CauseCode


class Kind(StrEnum):
    PASSWORD = "password"
    BEARER_PARSE = "bearer_parse"
    SCOPE_MISMATCH = "scope_mismatch"
    XSRF = "xsrf"
    IP_ALLOWLIST = "ip_allowlist"
    GONE = "gone"
    UNKNOWN_PATH = "unknown_path"
    BASIC_DISABLED = "basic_disabled"
    RATE_LIMITED = "rate_limited"
    SCOPED_ON_SITE = "scoped_on_site"
    HEADLINE_403 = "headline_403"
    V2_NOT_FOUND = "v2_not_found"
    GATEWAY_UNAUTHORIZED = "gateway_unauthorized"
    PERMISSION_EXCEPTION = "permission_exception"
    SITE_UNAVAILABLE = "site_unavailable"
    SERVER_ERROR = "server_error"
    UNRECOGNISED = "unrecognised"


@dataclass(frozen=True)
class Signature:
    kind: Kind
    label: str  # what a person is told it is
    cause: CauseCode | None = None  # the cause this body is unique to, if any
    statuses: tuple[int, ...] = ()  # empty: any status
    pattern: re.Pattern[str] | None = None


def _p(text: str) -> re.Pattern[str]:
    return re.compile(text, re.IGNORECASE)


C, K = CauseCode, Kind
SIGNATURES: tuple[Signature, ...] = (
    # §1.4: passwords (and org API keys used as a Basic password) are refused with this text
    Signature(K.PASSWORD, "password instead of an API token (401 'Basic authentication with passwords "
              "is deprecated')", C.PASSWORD_USED,
              pattern=_p(r"Basic authentication with passwords is deprecated")),
    # §1.3: Bearer with a classic token on a Jira-style route
    Signature(K.BEARER_PARSE, "API token sent as Bearer ('Failed to parse Connect Session Auth Token')",
              C.BEARER_WITH_API_TOKEN, pattern=_p(r"Failed to parse Connect Session Auth Token")),
    # §1.6: gateway scope check
    Signature(K.SCOPE_MISMATCH, "token lacks a scope (401 'Unauthorized; scope does not match')",
              C.MISSING_SCOPE, pattern=_p(r"scope does not match")),
    # §1.12
    Signature(K.XSRF, "XSRF protection ('XSRF check failed')", C.XSRF_CHECK_FAILED,
              pattern=_p(r"XSRF check failed")),
    # §1.11: IP allowlist body (KB); status undocumented
    Signature(K.IP_ALLOWLIST, "IP allowlist ('The IP address has been rejected…')", C.IP_NOT_ALLOWLISTED,
              pattern=_p(r"IP address has been rejected because it is not on the allow")),
    # §1.15 and §8 A11 (the `pagesmodes` package variant)
    Signature(K.GONE, "removed endpoint (410 GoneException)", C.ENDPOINT_GONE,
              pattern=_p(r"GoneException|deprecated endpoint has been removed")),
    Signature(K.GONE, "removed endpoint (410)", C.ENDPOINT_GONE, statuses=(410,)),
    # §0.1 / §1.17: unknown Confluence path (XML) and unknown Jira path (problem+json)
    Signature(K.UNKNOWN_PATH, "unknown path (404 'null for uri')", C.ENDPOINT_NOT_FOUND,
              statuses=(404,), pattern=_p(r"null for uri")),
    Signature(K.UNKNOWN_PATH, "unknown path (404 'No endpoint …')", C.ENDPOINT_NOT_FOUND,
              statuses=(404,), pattern=_p(r"No endpoint (GET|POST|PUT|DELETE|PATCH|HEAD) ")),
    # §8 A1: the one Cloud sighting of API-token auth disabled by policy [R, single report]: an
    # authentication policy for managed users; an external-user block is not known to answer otherwise [I]
    Signature(K.BASIC_DISABLED, "API-token authentication disabled ('Basic Authentication has been "
              "disabled on this instance.')", C.API_TOKEN_AUTH_DISABLED,
              pattern=_p(r"Basic Authentication has been disabled on this instance")),
    # §1.16
    Signature(K.RATE_LIMITED, "rate limited (429)", C.RATE_LIMITED, statuses=(429,)),
    # §0.1: scoped/service-account token on the site URL → Tomcat 401 page
    Signature(K.SCOPED_ON_SITE, "401 HTML 'lacks valid authentication credentials' (scoped token on the "
              "site URL?)", statuses=(401,),
              pattern=_p(r"lacks valid authentication credentials|<html|HTTP Status 401")),
    # §0: the headline 403s — bad credential OR no product access; proves neither alone
    Signature(K.HEADLINE_403, "Confluence's usual 403 ('caller cannot access Confluence')", statuses=(403,),
              pattern=_p(r"caller cannot access Confluence|Current user not permitted to use Confluence")),
    # §1.13: authorised identity without the space permission
    Signature(K.PERMISSION_EXCEPTION, "PermissionException (identity valid, permission missing)",
              C.SPACE_PERMISSION_MISSING, statuses=(403,),
              pattern=_p(r"PermissionException: (Could not create|Not permitted|Not enough)")),
    # §0.1: v2 answers 404 with a bare title for an unresolved credential
    Signature(K.V2_NOT_FOUND, "v2 404 with a bare 'Not Found' (may be an unresolved credential)",
              statuses=(404,), pattern=_p(r'"code"\s*:\s*"NOT_FOUND".*"title"\s*:\s*"Not Found"')),
    # §8 A8: gateway envelope for a rejected credential [I]
    Signature(K.GATEWAY_UNAUTHORIZED, "gateway 401 'Unauthorized' (credential rejected)", statuses=(401,),
              pattern=_p(r'"message"\s*:\s*"Unauthorized"')),
    # §8 A8: unknown site subdomain (ambiguous with an outage)
    Signature(K.SITE_UNAVAILABLE, "'Site temporarily unavailable'", pattern=_p(r"Site temporarily unavailable")),
    Signature(K.SERVER_ERROR, "server error (5xx)", statuses=(500, 502, 503, 504)),
)


def classify(status: int | None, body: str | None) -> Signature:
    """The first signature matching the status and body (docs/atlassian.md §0.1 order). Without a
    status (a body reported alone) a signature with a body pattern matches on the body alone."""
    text = body or ""
    for sig in SIGNATURES:
        if sig.statuses and status is None and sig.pattern is None:
            continue
        if sig.statuses and status is not None and status not in sig.statuses:
            continue
        if sig.pattern is not None and not sig.pattern.search(text):
            continue
        if sig.pattern is None and not sig.statuses:
            continue
        return sig
    return Signature(Kind.UNRECOGNISED, "no known Atlassian error signature")
