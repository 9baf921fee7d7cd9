"""Automation rule payloads for tests, shaped as `GET …/rule/{uuid}` returns them (docs/atlassian.md §A.2.4–§2.6)."""

from __future__ import annotations

import base64
from typing import Any

RULE_UUID = "019d0162-a338-7210-8481-960dff8f80ad"
WEB_REQUEST_TYPE = "jira.issue.outgoing.webhook"  # configurable: Confluence's own type is undocumented (§2.6)


def basic(email: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{email}:{token}".encode()).decode()


def web_request(url: str, method: str = "GET", headers: list[tuple[str, str, bool]] | None = None,
                component_id: str = "a1", body: str = "", type_: str = WEB_REQUEST_TYPE) -> dict[str, Any]:
    return {
        "id": component_id, "component": "ACTION", "type": type_, "schemaVersion": 1,
        "value": {"url": url, "method": method,
                  "headers": [{"name": n, "value": v, "headerSecure": s} for n, v, s in (headers or [])],
                  "contentType": "custom" if body else "empty", "customBody": body, "sendIssue": False,
                  "responseEnabled": False, "continueOnErrorEnabled": False},
    }


def rule(actions: list[dict[str, Any]], *, uuid: str = RULE_UUID, name: str = "Publish release notes",
         actor: str = "557058:00000000-0000-4000-8000-000000000001", state: str = "ENABLED",
         scope: str = "ari:cloud:confluence:CLOUD:space/1001", nest: bool = True) -> dict[str, Any]:
    """A rule whose first action sits inside an IF block (children) after a condition, the rest at top level."""
    components: list[dict[str, Any]] = []
    if actions and nest:
        components.append({
            "id": "if1", "component": "CONDITION_BLOCK", "type": "jira.condition.container.block", "value": None,
            "children": [{"id": "if1a", "component": "CONDITION", "type": "jira.condition.if.block", "value": {},
                          "conditions": [{"id": "c1", "component": "CONDITION", "type": "confluence.page.condition",
                                          "value": {"spaceKey": "DOCS"}}],
                          "children": [actions[0]]}],
        })
        actions = actions[1:]
    components += actions
    return {
        "rule": {
            "uuid": uuid, "name": name, "description": None, "state": state,
            "authorAccountId": actor, "actor": {"type": "ACCOUNT_ID", "actor": actor},
            "canOtherRuleTrigger": False, "notifyOnError": "FIRSTERROR", "writeAccessType": "OWNER_ONLY",
            "collaborators": [], "labels": [], "ruleScopeARIs": [scope],
            "created": 1743568964.174, "updated": 1743568964.174,
            "trigger": {"id": "t1", "component": "TRIGGER", "type": "confluence.page.published.trigger",
                        "schemaVersion": 1, "value": {}, "conditions": []},
            "components": components,
        },
        "connections": [],
    }
