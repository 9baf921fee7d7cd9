"""Which Atlassian API (and so which OpenAPI file) a simulator request belongs to, or why none does."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from bot.simulator import LoggedRequest
from bot.simulator.routes.automation import API_PREFIX, SITE_PREFIX
from tests.contract.openapi import Api

_GATEWAY = re.compile(r"^/ex/confluence/[^/]+(?P<rest>/.*)$")

# openapi/README.md: "Not covered by any published OpenAPI".
TENANT_INFO = "tenant_info is a support article, not an OpenAPI operation (openapi/README.md)"
STATUSPAGE = "Statuspage's public API v2 is not among Atlassian's product OpenAPI files (openapi/README.md)"
REPLAY = "the reported request itself, replayed as the user gave it (any route, even a removed one)"
AUTOMATION = ("the Automation REST API: its OpenAPI file is not among bot/openapi "
              "(docs/atlassian.md §A reads it through a copy)")
OAUTH_TOKEN = ("the OAuth 2.0 token host's POST /oauth/token: Atlassian documents it in prose, not in an OpenAPI "
               "file (https://developer.atlassian.com/cloud/confluence/oauth-2-3lo-apps/)")
DATA_CENTER_STATUS = ("GET /status, asked only of a URL that gave no cloudId: a Data Center node's health endpoint "
                      "(https://jira.atlassian.com/browse/CONFSERVER-102144), in no Cloud OpenAPI file")
ACCESSIBLE_RESOURCES = ("GET /oauth/token/accessible-resources: documented in prose only "
                        "(https://developer.atlassian.com/cloud/oauth/getting-started/making-calls-to-api/)")


def spec_path(request: LoggedRequest) -> tuple[Api, str] | str | None:
    """(api, path below the host) for a spec'd request; a string: the documented reason it is not
    spec'd; None: no spec and no reason (a finding). The gateway prefix `/ex/confluence/{cloudId}`
    is stripped and the rest matched against the Confluence specs (openapi/README.md)."""
    if request.role == "status":
        return STATUSPAGE
    if request.role == "auth":
        return OAUTH_TOKEN
    path = request.path
    if path.startswith((API_PREFIX, SITE_PREFIX)):
        return AUTOMATION
    if request.role == "api" and path.rstrip("/") == "/oauth/token/accessible-resources":
        return ACCESSIBLE_RESOURCES
    if request.role == "api":
        gateway = _GATEWAY.match(path)
        if gateway is None:
            if path.startswith("/admin/"):
                return Api.ADMIN_ORGANIZATION, path
            if path.startswith("/users/"):
                return Api.USER_MANAGEMENT, path
            return None
        path = gateway["rest"]
    if path == "/_edge/tenant_info":
        return TENANT_INFO
    if request.role == "site" and path == "/status":
        return DATA_CENTER_STATUS
    if path.startswith("/wiki/api/v2/"):
        return Api.CONFLUENCE_V2, path
    if path.startswith("/wiki/rest/api/"):
        return Api.CONFLUENCE_V1, path
    return None


def is_replay_of(request: LoggedRequest, endpoint: str | None) -> bool:
    """True when `request` is the reported `METHOD URL` sent again (replay.endpoint)."""
    if not endpoint or " " not in endpoint:
        return False
    method, url = endpoint.split(" ", 1)
    return request.method == method.upper() and request.path == urlsplit(url.strip()).path
