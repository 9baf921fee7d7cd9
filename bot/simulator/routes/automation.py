"""The Automation REST API for rules (docs/atlassian.md §A.6 checklist): served on the API listener at
`/automation/public/{product}/{cloudId}/rest/{v1|latest}/…` and on the site at
`/gateway/api/automation/public/…` (§1.1). Read operations only: rule summaries (paged and searched)
and one rule, redacted on request. Rules are stored as opaque JSON, so any component tree round-trips.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import time
import uuid as uuidlib
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.simulator import bodies
from bot.simulator.credentials import AuthKind, match_basic, parse_authorization
from bot.simulator.routes.common import mark_used, read_json
from bot.simulator.runtime import RUNTIME
from bot.simulator.state import User, World, utcnow

API_PREFIX = "/automation/public/"
SITE_PREFIX = "/gateway/api/automation/public/"
_PATH = re.compile(r"^/(?P<product>[^/]+)/(?P<cloud>[^/]+)/rest/(?:v1|latest)(?P<rest>/.*)?$")
_RULE = re.compile(r"^/rule/(?P<uuid>[^/]+)$")
REDACTED = "***"  # placeholder for hidden values on a redacted read (§5 [R])
CURSOR_TTL_S = 3600  # "for most APIs this is 1 hour" (§2.1)
SUMMARY_FIELDS = ("uuid", "name", "state", "description", "authorAccountId", "actorAccountId", "ruleScopeARIs",
                  "labels", "created", "updated")
# Spec text of every rule-management 403 (§1.3, OAS); the body itself is undocumented (§7) — sent as text.
NOT_ADMIN_TEXT = "User is not authenticated, or user is not a global admin."
ADMIN_PLATFORM_ROLES = ("atlassian/site-admin", "atlassian/org-admin")


def _errors(status: int, code: str, title: str, field: str | None = None) -> web.Response:
    """The standard Automation error body (§4): `{"errors":[{id,status,code,title[,field]}]}`."""
    error: dict[str, Any] = {"id": str(uuidlib.uuid4()), "status": status, "code": code, "title": title}
    if field:
        error["field"] = field
    return bodies.json_response({"errors": [error]}, status=status)


def _unauthorized() -> web.Response:
    return bodies.raw(bodies.GATEWAY_UNAUTHORIZED_BODY, status=401)  # gateway shape (§4)


def _scope_mismatch() -> web.Response:
    return bodies.raw(bodies.SCOPE_MISMATCH_BODY, status=401)  # §1.2, §4 [R]


def is_admin(world: World, user: User) -> bool:
    """Site admin, org admin or Confluence admin (§1.3 [I]: "global admin" for product=confluence)."""
    admin_role = "atlassian/admin" in world.confluence_roles(user)
    return admin_role or bool(set(user.platform_roles) & set(ADMIN_PLATFORM_ROLES))


def authenticate(world: World, header: str | None) -> User | web.Response:
    """API tokens via Basic only (§1.2): scoped or service-account tokens and Bearer get the
    "scope does not match" 401; unknown, expired, revoked tokens, passwords and inactive owners 401."""
    presented = parse_authorization(header)
    if presented.kind is AuthKind.BEARER:
        return _scope_mismatch()
    match = match_basic(world, presented)
    if match.is_password or match.user is None or match.token is None:
        return _unauthorized()
    user, token = match.user, match.token
    if not token.usable(utcnow()) or not user.active:
        return _unauthorized()
    if token.kind == "scoped" or user.account_type == "app":
        return _scope_mismatch()
    mark_used(token)
    return user


async def handle_automation(request: web.Request, below: str) -> web.Response:
    """`below`: the path after the base prefix (`/{product}/{cloudId}/rest/v1/…`)."""
    world = request.app[RUNTIME].world
    found = _PATH.match(below)
    if found is None:
        return bodies.raw("", status=404)
    caller = authenticate(world, request.headers.get("Authorization"))
    if isinstance(caller, web.Response):
        return caller
    product, cloud = found["product"], found["cloud"]
    if product not in ("jira", "confluence") or cloud != world.site.cloud_id or not is_admin(world, caller):
        return bodies.raw(NOT_ADMIN_TEXT, status=403, content_type="text/plain")  # §1.3, §6
    rules = world.automation_rules if product == "confluence" else []
    rest = found["rest"] or "/"
    if rest == "/rule/summary":
        if request.method == "GET":
            return _summaries_page(request, rules)
        if request.method == "POST":
            return await _search(request, rules)
    rule_match = _RULE.match(rest)
    if rule_match and rule_match["uuid"] != "summary" and request.method in ("GET", "HEAD"):
        return _get_rule(request, rules, rule_match["uuid"])
    return bodies.raw("", status=404)  # includes GET /rule without a uuid (§2 [R])


def _get_rule(request: web.Request, rules: list[dict[str, Any]], wanted: str) -> web.Response:
    stored = next((r for r in rules if r.get("rule", {}).get("uuid") == wanted), None)
    if stored is None:
        return bodies.raw("", status=404)  # §4: 404, body undocumented
    payload = copy.deepcopy(stored)
    payload.setdefault("connections", [])
    rule = payload["rule"]
    for i, component in enumerate(rule.get("components") or []):
        _fill_on_read(component, None, None, f"c{i}")
    if rule.get("trigger"):
        _fill_on_read(rule["trigger"], None, None, "t")
    if request.query.get("redactSensitiveFields", "").lower() == "true":
        _redact(rule)
    runtime = request.app[RUNTIME]
    text = bodies.dumps(payload)
    # Scenario files cannot know the loopback ports: `{site}`, `{api}`, `{gateway}` stand for them
    # (smart values are `{{…}}` and are left alone).
    gateway = f"{runtime.api_url}/ex/confluence/{runtime.world.site.cloud_id}"
    for placeholder, url in (("{site}", runtime.site_url), ("{gateway}", gateway), ("{api}", runtime.api_url)):
        text = text.replace(placeholder, json.dumps(url)[1:-1])
    return bodies.raw(text)


def _fill_on_read(component: dict[str, Any], parent: str | None, condition_parent: str | None, fallback: str) -> None:
    """`parentId`/`conditionParentId` are filled on reads (§2.5); headers carry `id: null` (§2.6)."""
    component.setdefault("id", fallback)
    component.setdefault("parentId", parent)
    component.setdefault("conditionParentId", condition_parent)
    component.setdefault("connectionId", None)
    component.setdefault("children", [])
    component.setdefault("conditions", [])
    value = component.get("value")
    if isinstance(value, dict) and isinstance(value.get("headers"), list):
        value.setdefault("urlSecure", False)
        for header in value["headers"]:
            if isinstance(header, dict):
                header.setdefault("id", None)
    for i, child in enumerate(component["children"]):
        _fill_on_read(child, component["id"], None, f"{component['id']}.{i}")
    for i, condition in enumerate(component["conditions"]):
        _fill_on_read(condition, None, component["id"], f"{component['id']}.c{i}")


def _redact(node: Any) -> None:
    """Hidden header values and the incoming-webhook token become "***" (§5 [R]); nothing else does."""
    if isinstance(node, dict):
        if isinstance(node.get("headers"), list):
            for header in node["headers"]:
                if isinstance(header, dict) and header.get("headerSecure"):
                    header["value"] = REDACTED
        if "webhookToken" in node:
            node["webhookToken"] = REDACTED
        for value in node.values():
            _redact(value)
    elif isinstance(node, list):
        for item in node:
            _redact(item)


def _summary(stored: dict[str, Any]) -> dict[str, Any]:
    rule = stored.get("rule", {})
    actor = rule.get("actor") or {}
    out = {key: rule.get(key) for key in SUMMARY_FIELDS if key in rule}
    out["actorAccountId"] = actor.get("actor") if actor.get("type") == "ACCOUNT_ID" else None
    out.setdefault("description", None)
    out.setdefault("labels", [])
    out.setdefault("ruleScopeARIs", [])
    return out


def _limit(raw: Any, default: int) -> int | web.Response:
    if raw is None:
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 100:
        return _errors(400, "api.validation.outside-range", "'limit' must be in the range [1,100]", "limit")
    return value


def _cursor(offset: int) -> str:
    data = json.dumps({"o": offset, "t": int(time.time())}).encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _offset(cursor: str | None) -> int | web.Response:
    if not cursor:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset, issued = int(data["o"]), int(data["t"])
    except (ValueError, KeyError, TypeError):
        return _errors(400, "api.validation.invalid-cursor", "The cursor is invalid", "cursor")
    if time.time() - issued > CURSOR_TTL_S:
        return _errors(400, "api.validation.expired-cursor", "The cursor has expired", "cursor")  # §2.1 TTL
    return offset


def _page(rows: list[dict[str, Any]], offset: int, limit: int) -> dict[str, Any]:
    """Since 1 Aug 2025 `links.*` hold only the query string (§2.1)."""
    chunk = rows[offset:offset + limit]
    def link(at: int) -> str:
        return "?" + urlencode({"cursor": _cursor(at), "limit": limit})
    return {
        "links": {
            "self": link(offset),
            "next": link(offset + limit) if offset + limit < len(rows) else None,
            "prev": link(max(0, offset - limit)) if offset > 0 else None,
        },
        "data": [_summary(r) for r in chunk],
    }


def _summaries_page(request: web.Request, rules: list[dict[str, Any]]) -> web.Response:
    limit = _limit(request.query.get("limit"), 100)
    if isinstance(limit, web.Response):
        return limit
    offset = _offset(request.query.get("cursor"))
    if isinstance(offset, web.Response):
        return offset
    return bodies.json_response(_page(rules, offset, limit))


async def _search(request: web.Request, rules: list[dict[str, Any]]) -> web.Response:
    ok, body = await read_json(request)
    if not ok or not isinstance(body, dict) or not any(k in body for k in ("trigger", "state", "scope", "limit")):
        return _errors(400, "api.validation.missing-field",
                       "At least one of trigger, state, scope, or limit must be present")  # §2.3
    limit = _limit(body.get("limit"), 50)
    if isinstance(limit, web.Response):
        return limit
    offset = _offset(body.get("cursor"))
    if isinstance(offset, web.Response):
        return offset

    def keep(stored: dict[str, Any]) -> bool:
        rule = stored.get("rule", {})
        trigger = (rule.get("trigger") or {}).get("type")
        return ((body.get("trigger") is None or trigger == body["trigger"])
                and (body.get("state") is None or rule.get("state") == body["state"])
                and (body.get("scope") is None or body["scope"] in (rule.get("ruleScopeARIs") or []))
                and (body.get("author") is None or rule.get("authorAccountId") == body["author"]))

    return bodies.json_response(_page([r for r in rules if keep(r)], offset, limit))
