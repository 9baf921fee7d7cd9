"""The API listener (`https://api.atlassian.com`): sends `/ex/confluence/...` to the gateway and
`/admin/...`, `/users/...` to the admin routes, `/automation/public/...` to the Automation
API; anything else is the gateway's 404.
"""

from __future__ import annotations

from aiohttp import web

from bot.simulator import bodies
from bot.simulator.credentials import parse_authorization
from bot.simulator.routes.admin import handle_admin
from bot.simulator.routes.automation import API_PREFIX, handle_automation
from bot.simulator.routes.gateway import PREFIX, handle_gateway
from bot.simulator.routes.oauth import RESOURCES_PATH, accessible_resources
from bot.simulator.runtime import RUNTIME


async def handle_api(request: web.Request) -> web.Response:
    path = request.path
    if path.startswith(PREFIX):
        return await handle_gateway(request)
    if path.startswith(API_PREFIX):
        return await handle_automation(request, path[len(API_PREFIX) - 1:])
    if path.startswith(("/admin/", "/users/")):
        return await handle_admin(request)
    if path.rstrip("/") == RESOURCES_PATH:
        runtime = request.app[RUNTIME]
        presented = parse_authorization(request.headers.get("Authorization"))
        return accessible_resources(request, runtime.world, presented, runtime.site_url)
    return bodies.raw(bodies.GATEWAY_NOT_FOUND_BODY, status=404)  # docs/atlassian.md §8 A8 [I]
