"""The status listener: Confluence's Statuspage v2 JSON (`summary.json`, `status.json`,
`components.json`, `incidents/unresolved.json`, `incidents.json`; docs/atlassian.md §2.8).
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from bot.simulator import bodies
from bot.simulator.runtime import RUNTIME
from bot.simulator.state import StatusComponent, StatusIncident, World, wire_time

PAGE_ID = "4g2my7tbhjsq"  # docs/atlassian.md §2.8: Confluence's Statuspage page id
_CREATED = "2019-01-01T00:00:00.000Z"


def _stable_id(kind: str, name: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{kind}:{name}").hex[:12]


def _page(world: World, status_url: str) -> dict[str, Any]:
    updated = max([wire_time(i.created_at) or _CREATED for i in world.status.incidents] + [_CREATED])
    return {"id": PAGE_ID, "name": "Confluence", "url": status_url, "time_zone": "Etc/UTC", "updated_at": updated}


def _component(component: StatusComponent, position: int) -> dict[str, Any]:
    return {
        "id": component.id or _stable_id("component", component.name), "name": component.name,
        "status": component.status, "created_at": _CREATED, "updated_at": _CREATED, "position": position,
        "description": None, "showcase": False, "start_date": None, "group_id": None, "page_id": PAGE_ID,
        "group": False, "only_show_if_degraded": False,
    }


def _incident(world: World, incident: StatusIncident) -> dict[str, Any]:
    incident_id = incident.id or _stable_id("incident", incident.name)
    at = wire_time(incident.created_at)
    components = [_component(c, i + 1) for i, c in enumerate(world.status.components) if c.name in incident.components]
    update = {"id": _stable_id("update", incident_id), "status": incident.status, "body": incident.name,
              "incident_id": incident_id, "created_at": at, "updated_at": at, "display_at": at,
              "affected_components": [{"code": c["id"], "name": c["name"], "old_status": "operational",
                                       "new_status": c["status"]} for c in components]}
    return {
        "id": incident_id, "name": incident.name, "status": incident.status, "created_at": at, "updated_at": at,
        "monitoring_at": None, "resolved_at": None if incident.unresolved else at, "impact": incident.impact,
        "shortlink": f"https://stspg.io/{incident_id[:8]}", "started_at": at, "page_id": PAGE_ID,
        "incident_updates": [update], "components": components,
    }


def summary(world: World, status_url: str) -> dict[str, Any]:
    return {
        "page": _page(world, status_url),
        "status": {"indicator": world.status.indicator, "description": world.status.description},
        "components": [_component(c, i + 1) for i, c in enumerate(world.status.components)],
        "incidents": [_incident(world, i) for i in world.status.incidents if i.unresolved],
        "scheduled_maintenances": [],
    }


async def handle_status(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    world, url = runtime.world, runtime.status_url
    if request.method not in ("GET", "HEAD"):
        return bodies.raw("Method Not Allowed", status=405, content_type="text/plain")
    full = summary(world, url)
    documents = {
        "/api/v2/summary.json": full,
        "/api/v2/status.json": {"page": full["page"], "status": full["status"]},
        "/api/v2/components.json": {"page": full["page"], "components": full["components"]},
        "/api/v2/incidents/unresolved.json": {"page": full["page"], "incidents": full["incidents"]},
        "/api/v2/incidents.json": {"page": full["page"],
                                   "incidents": [_incident(world, i) for i in world.status.incidents]},
    }
    document = documents.get(request.path)
    if document is None:
        return bodies.raw("Not Found", status=404, content_type="text/plain")
    return bodies.json_response(document)
