"""Where the failing call went: the site URL or the API gateway (docs/atlassian.md §2.2)."""

from __future__ import annotations

from urllib.parse import urlsplit

from bot.config import Settings
from bot.request import CheckRequest

GATEWAY_PREFIX = "/ex/confluence/"  # §2.2: {api}/ex/confluence/{cloudId}/wiki/...


def caller_on_site(request: CheckRequest, settings: Settings) -> bool | None:
    """True when the failing call goes to the site URL, False when it goes to the gateway,
    None when no failing call was given. A path under /ex/confluence/ is the gateway whatever its
    host (a proxy or a test setup may serve both from one origin)."""
    failing = request.failing
    if failing is None:
        return None
    parts = urlsplit(failing.url)
    if parts.path.startswith(GATEWAY_PREFIX):
        return False
    return parts.netloc == urlsplit(settings.site_url or "").netloc
