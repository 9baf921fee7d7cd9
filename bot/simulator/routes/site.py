"""The site listener (`https://<name>.atlassian.net`): tenant info, Jira `/rest/api/3/myself`,
Confluence under `/wiki`, and how the site treats each kind of credential (docs/atlassian.md §0.1,
§1.1–§1.5, §1.10, §2.1, §2.5).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.simulator import bodies
from bot.simulator.credentials import AuthKind, Presented, blocked_external, match_basic, parse_authorization
from bot.simulator.routes.automation import SITE_PREFIX, handle_automation
from bot.simulator.routes.common import Caller, WikiRoute, mark_used
from bot.simulator.routes.confluence import serve_wiki
from bot.simulator.routes.data_center import data_center
from bot.simulator.runtime import RUNTIME
from bot.simulator.state import Token, User, World, utcnow

_JIRA_PATH = re.compile(r"^/rest/api/(?:2|3|latest)/")


class BasicOutcome(Enum):
    """How the site's edge judges a Basic credential."""

    NONE = "none"  # nothing usable presented, or not accepted → anonymous (docs/atlassian.md §1.1)
    PASSWORD = "password"  # account password or org API key (docs/atlassian.md §1.4)
    SCOPED = "scoped"  # scoped / service-account token: refused at the site (docs/atlassian.md §1.5, §1.7)
    BLOCKED = "blocked"  # external user, org blocks API tokens (docs/atlassian.md §8 A1)
    OK = "ok"


@dataclass(frozen=True)
class SiteAuth:
    outcome: BasicOutcome
    user: User | None = None
    token: Token | None = None


def judge_basic(world: World, presented: Presented) -> SiteAuth:
    """The site's reading of a Basic pair. Expired/revoked tokens and inactive accounts are
    simply not resolved (docs/atlassian.md §1.1; §8 A3 [I] for deactivated owners)."""
    match = match_basic(world, presented)
    if match.is_password:
        return SiteAuth(BasicOutcome.PASSWORD)
    if match.user is None or match.token is None:
        return SiteAuth(BasicOutcome.NONE)
    user, token = match.user, match.token
    if token.kind == "scoped" or user.account_type == "app":
        return SiteAuth(BasicOutcome.SCOPED, user, token)
    if not token.usable(utcnow()) or not user.active:
        return SiteAuth(BasicOutcome.NONE, user)
    if blocked_external(world, user) or world.api_tokens_off(user):
        # an external-user block (docs/atlassian.md §8 A1) or an authentication policy turning API tokens off
        # for managed users (docs/atlassian.md §8 A1): the same body [I]
        return SiteAuth(BasicOutcome.BLOCKED, user, token)
    return SiteAuth(BasicOutcome.OK, user, token)


def _password_deprecated() -> web.Response:
    return bodies.raw(bodies.PASSWORD_DEPRECATED_BODY, status=401, content_type="text/plain")


def _basic_disabled() -> web.Response:
    return bodies.raw(bodies.BASIC_AUTH_DISABLED_BODY, status=403)  # status [I] (docs/atlassian.md §8 A1)


def authenticate_confluence(world: World, presented: Presented) -> Caller | web.Response:
    """Site-side authentication for a Confluence route (docs/atlassian.md §0.1 rows)."""
    if presented.kind is AuthKind.BEARER:
        # Stackless 403 on v1, never the anonymous view (§0.1). An OAuth 2.0 access token gets the same:
        # only the gateway accepts it (https://developer.atlassian.com/cloud/confluence/oauth-2-3lo-apps/,
        # "construct the request URL"); no capture of the site's exact answer to one was found [I].
        return Caller(refused=True)
    auth = judge_basic(world, presented)
    if auth.outcome is BasicOutcome.PASSWORD:
        return _password_deprecated()
    if auth.outcome is BasicOutcome.SCOPED:
        return bodies.raw(bodies.TOMCAT_401_HTML, status=401, content_type="text/html")
    if auth.outcome is BasicOutcome.BLOCKED:
        return _basic_disabled()
    if auth.outcome is BasicOutcome.OK and auth.token is not None:
        mark_used(auth.token)
        return Caller(user=auth.user, token=auth.token)
    return Caller()


def jira_myself(request: web.Request, world: World, presented: Presented, site_url: str) -> web.Response:
    """docs/atlassian.md §2.5: 200 for a resolved account with an active membership; 401 text/html with
    `WWW-Authenticate: OAuth realm=…` otherwise; Bearer → Connect parse error (§0.1)."""
    if presented.kind is AuthKind.BEARER:
        return bodies.raw(bodies.CONNECT_PARSE_ERROR_BODY, status=403)
    auth = judge_basic(world, presented)
    if auth.outcome is BasicOutcome.PASSWORD:
        return _password_deprecated()
    if auth.outcome is BasicOutcome.BLOCKED:
        return _basic_disabled()
    user = auth.user
    # No membership = no Jira access; the status for that is unknown, 401 picked (docs/atlassian.md §8 A4 [I]).
    if auth.outcome is not BasicOutcome.OK or user is None or user.membership_status != "active":
        return _jira_unauthenticated(presented, site_url)
    assert auth.token is not None
    mark_used(auth.token)
    return bodies.json_response(_myself_json(user, site_url))


def _jira_unauthenticated(presented: Presented, site_url: str) -> web.Response:
    headers = {"WWW-Authenticate": f'OAuth realm="{quote(site_url, safe="")}"'}  # realm form [I]
    if presented.kind is not AuthKind.NONE:
        # docs/atlassian.md §8 A7: Seraph's AUTHENTICATED_FAILED accompanies rejected credentials, never none.
        headers["X-Seraph-LoginReason"] = "AUTHENTICATED_FAILED"
    return bodies.raw(bodies.JIRA_UNAUTHENTICATED_BODY, status=401, content_type="text/html", headers=headers)


def _myself_json(user: User, site_url: str) -> dict[str, Any]:
    avatar = f"https://avatar-management.services.atlassian.com/default/{user.account_id}"
    out: dict[str, Any] = {
        "self": f"{site_url}/rest/api/3/user?accountId={quote(user.account_id)}",
        "accountId": user.account_id,
        "accountType": user.account_type,
    }
    if user.account_type == "app":
        out["appType"] = "service"  # docs/atlassian.md §1.7 [D via mirror]
    out.update({
        "emailAddress": user.email,
        "avatarUrls": {size: avatar for size in ("16x16", "24x24", "32x32", "48x48")},
        "displayName": user.name,
        "active": user.active,
        "timeZone": "Etc/UTC",
        "locale": "en_US",
        "guest": False,
        "groups": {"size": 0, "items": []},
        "applicationRoles": {"size": 0, "items": []},
        "expand": "groups,applicationRoles",
    })
    return out


def tenant_info(request: web.Request, world: World) -> web.Response:
    """docs/atlassian.md §2.1: no auth, `{"cloudId": …}`."""
    if request.method not in ("GET", "HEAD"):
        return bodies.method_not_allowed(request.method)
    return bodies.json_response({"cloudId": world.site.cloud_id})


async def handle_site(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    world, path = runtime.world, request.path
    if not world.site.exists:
        return bodies.raw(bodies.SITE_UNAVAILABLE_BODY, status=404)  # docs/atlassian.md §8 A8, every site route
    if world.site.data_center:
        return data_center(request)
    if path == "/_edge/tenant_info":
        return tenant_info(request, world)
    if path.startswith(SITE_PREFIX):  # the site-side base of the Automation API (docs/atlassian.md §A.1.1)
        return await handle_automation(request, path[len(SITE_PREFIX) - 1:])
    is_jira = world.site.jira and bool(_JIRA_PATH.match(path))
    if world.ip_blocked(request.remote, "jira" if is_jira else "confluence"):
        return bodies.raw(bodies.IP_REJECTED_BODY, status=403)  # docs/atlassian.md §1.11, status [I]
    presented = parse_authorization(request.headers.get("Authorization"))
    if is_jira:
        if path == "/rest/api/3/myself" and request.method in ("GET", "HEAD"):
            return jira_myself(request, world, presented, runtime.site_url)
        return bodies.jira_not_found(request.method, path)  # docs/atlassian.md §0.1 unknown Jira path

    def authenticate(route: WikiRoute) -> Caller | web.Response:
        return authenticate_confluence(world, presented)

    # Everything else, including Confluence paths missing /wiki, falls to the 404 XML (docs/atlassian.md §1.17).
    return await serve_wiki(request, world, "site", runtime.site_url, path, authenticate)
