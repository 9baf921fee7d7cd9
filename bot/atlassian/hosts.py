"""Host guard: credentials only ever go to the configured site and API hosts (DESIGN.md, Security).

An endpoint naming any other host, or hiding one behind user-info (`https://site@other/`),
is refused before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.errors import HostNotAllowed, UsageError


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an absolute URL; raises UsageError when it has no host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"not an absolute http(s) URL: {url!r}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UsageError(f"bad port in URL: {url!r}") from None
    return parts.scheme, parts.hostname.lower(), port


@dataclass(frozen=True)
class HostGuard:
    """Knows the two origins that may receive credentials."""

    site_url: str
    api_url: str

    def role_of(self, url: str) -> str:
        """'site' or 'api' for an allowed URL; raises HostNotAllowed for anything else."""
        parts = urlsplit(url)
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
    """The URL without user-info or query, for an error message."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
