"""Host guard: credentials only ever go to the configured site and API hosts (docs/architecture.md §Security).

An endpoint naming any other host, or hiding one behind user-info (`https://site@other/`),
is refused before anything is sent. The OAuth 2.0 token host (`ATLASSIAN_AUTH_URL`) is a host of
its own: a client secret goes there and nowhere else, and it is never a failing endpoint's host
(docs/credentials.md).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from bot.errors import HostNotAllowed, UsageError


@functools.lru_cache(maxsize=2048)  # the same few URLs come by on every request of every run
def split_url(url: str) -> SplitResult:
    """`urlsplit`, with everything it can refuse (a bad IPv6 literal, a port that is not a
    number or out of range, a host that changes under NFKC) as UsageError, checked up front."""
    try:
        parts = urlsplit(url)
        _ = parts.port, parts.hostname, parts.username, parts.password
    except ValueError as exc:
        raise UsageError(f"cannot parse URL {_shown(url)}: {exc}") from None
    return parts


@functools.lru_cache(maxsize=2048)
def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an absolute URL; raises UsageError when it has no host."""
    parts = split_url(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"not an absolute http(s) URL: {_shown(url)}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, parts.hostname.lower(), port


@dataclass(frozen=True)
class HostGuard:
    """Knows the origins that may receive credentials: site and API, plus the token host for a
    client secret alone."""

    site_url: str
    api_url: str
    auth_url: str | None = None

    def check_auth(self, url: str) -> None:
        """Raise HostNotAllowed unless `url` is on the OAuth token host (the only place a client
        secret may go)."""
        parts = split_url(url)
        if parts.username is not None or parts.password is not None or "@" in parts.netloc:
            raise HostNotAllowed(f"refusing {_safe(url)}: user-info in a URL hides the real host")
        if self.auth_url is None or origin(url) != origin(self.auth_url):
            where = self.auth_url or "the token host"
            raise HostNotAllowed(f"refusing {_safe(url)}: client secrets only go to {where}")

    def role_of(self, url: str) -> str:
        """'site' or 'api' for an allowed URL; raises HostNotAllowed for anything else."""
        parts = split_url(url)
        if parts.username is not None or parts.password is not None or "@" in parts.netloc:
            raise HostNotAllowed(f"refusing {_safe(url)}: user-info in a URL hides the real host")
        where = origin(url)
        if where == origin(self.site_url):
            return "site"
        if where == origin(self.api_url):
            return "api"
        raise HostNotAllowed(
            f"refusing {_safe(url)}: credentials only go to {self.site_url} and {self.api_url}"
        )

    def check(self, url: str) -> None:
        self.role_of(url)


def _safe(url: str) -> str:
    """The URL without user-info or query, for an error message (`url` already splits)."""
    parts = split_url(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _shown(url: str) -> str:
    """A URL that may not parse, for an error message: secrets masked, length capped."""
    from bot.redact import redact_text

    text = redact_text(url)
    return repr(text if len(text) <= 200 else text[:200] + "…")
